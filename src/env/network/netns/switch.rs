//! panther's userspace link for network namespaces: one Ethernet switch per test whose ports
//! are the TAP devices of the test's namespaces. Every frame passes through panther, which
//! makes the switch the place to impair (delay, jitter, loss, duplication, reordering, rate;
//! seeded, per direction between two services), to capture (`capture.pcap`) and to turn
//! traffic into message events for the sequence view, whatever the implementation.
//!
//! ```text
//!  ns A: eth0 (TAP) ─fd─► reader A ─┬─ impair A→B ─► [delivery queue B] ─► write fd B ─► ns B
//!                                   └─ impair A→C ─► [delivery queue C] ─► …
//! ```
//! A frame with no delay, jitter or rate on its path is written by the reader itself, with no
//! queue and no task switch. Frames go to the port that owns their destination MAC (MACs are
//! assigned by panther, and neighbours are static, so there is no learning and almost no
//! ARP); broadcast, multicast and unknown destinations are flooded.
//!
//! Events: a frame that carries something (UDP, TCP with data or SYN/FIN/RST, ICMP) gets a
//! "sent" event when the switch receives it and a "delivered" event when it writes it, in the
//! same shape as the localhost relay's (same `source`, ids, `lost`, `delay_us`), plus
//! `data.frame`, its number in `capture.pcap`. Frames that carry nothing (pure TCP ACKs,
//! neighbour discovery) are captured but not shown.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

use serde::Serialize;
use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::env::network::capture::Capture;
use crate::env::network::link::impair::Shaper;
use crate::env::network::link::{self, HEX_BYTES, Params, REORDER_HOLD, emit_delivered, emit_sent};
use crate::events::decode;
use crate::events::model::{Event, Kind, Message};
use crate::events::tx::EventTx;

use super::fold::{FlowKey, Folds, Report};
use super::frame::{self, Datagram, L4, Mac};

/// Frames that may wait for delivery at one port before more are dropped.
pub const PORT_QUEUE: usize = 8192;
/// The largest frame read from a TAP device (its MTU plus the Ethernet header, with room).
const MAX_FRAME: usize = 65_550;

/// One port: a service's TAP device.
pub struct PortSpec {
    pub service: String,
    pub fd: OwnedFd,
    pub mac: Mac,
    pub addrs: Vec<IpAddr>,
    /// The protocol the service speaks (names the decoder of its messages).
    pub protocol: String,
    /// Whether it is a client (decoders tell requests from responses by it).
    pub client: bool,
}

pub struct SwitchSpec {
    pub ports: Vec<PortSpec>,
    /// `impair[src][dst]`: the impairment of frames from port `src` to port `dst`.
    pub impair: Vec<Vec<Option<Params>>>,
    pub capture: Option<Arc<Capture>>,
    pub events: EventTx,
    /// The QUIC services' TLS key logs, read as they grow to label packets past Initial.
    pub key_logs: Vec<std::path::PathBuf>,
}

/// What the switch carried.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct SwitchStats {
    pub frames_in: u64,
    pub frames_out: u64,
    pub bytes_out: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub queue_drops: u64,
    pub write_errors: u64,
}

#[derive(Default)]
struct Counters {
    frames_in: AtomicU64,
    frames_out: AtomicU64,
    bytes_out: AtomicU64,
    lost: AtomicU64,
    duplicated: AtomicU64,
    queue_drops: AtomicU64,
    write_errors: AtomicU64,
}

fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// A running switch; [`Switch::stop`] ends it and closes its TAP devices.
pub struct Switch {
    tasks: JoinSet<()>,
    shared: Arc<Shared>,
}

struct Port {
    service: String,
    fd: AsyncFd<OwnedFd>,
    protocol: String,
    client: bool,
    /// TCP bulk counted instead of shown, for the frames this port sends.
    folds: std::sync::Mutex<Folds>,
}

struct Shared {
    ports: Vec<Port>,
    by_mac: HashMap<Mac, usize>,
    by_ip: HashMap<IpAddr, usize>,
    capture: Option<Arc<Capture>>,
    events: EventTx,
    ids: AtomicU64,
    stats: Counters,
    /// Decodes QUIC Initials for the labels of QUIC services' datagrams.
    quic: crate::quic::trace::live::LiveLabeler,
}

/// A frame waiting for its due time at a port.
struct Pending {
    due: Instant,
    seq: u64,
    frame: Vec<u8>,
    shown: Option<(Message, u64)>,
}

impl PartialEq for Pending {
    fn eq(&self, o: &Self) -> bool {
        (self.due, self.seq) == (o.due, o.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Pending {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.due, self.seq).cmp(&(o.due, o.seq))
    }
}

impl Switch {
    /// Starts forwarding. Must be called inside a tokio runtime.
    pub fn start(spec: SwitchSpec) -> io::Result<Switch> {
        let mut ports = Vec::new();
        let mut by_mac = HashMap::new();
        let mut by_ip = HashMap::new();
        for (i, p) in spec.ports.into_iter().enumerate() {
            by_mac.insert(p.mac, i);
            for a in &p.addrs {
                by_ip.insert(*a, i);
            }
            // SAFETY: an OwnedFd keeps its descriptor open and unchanged until it is dropped,
            // which happens only when the AsyncFd that owns it is dropped.
            let fd = unsafe { AsyncFd::register(p.fd) }.map_err(io::Error::from)?;
            ports.push(Port {
                service: p.service,
                fd,
                protocol: p.protocol,
                client: p.client,
                folds: Default::default(),
            });
        }
        let shared = Arc::new(Shared {
            ports,
            by_mac,
            by_ip,
            capture: spec.capture,
            events: spec.events,
            ids: AtomicU64::new(1),
            stats: Counters::default(),
            quic: crate::quic::trace::live::LiveLabeler::for_protocol("quic")
                .unwrap_or_default()
                .with_key_logs(spec.key_logs),
        });
        let mut tasks = JoinSet::new();
        let n = shared.ports.len();
        // A delivery queue for each port that some impaired path leads to.
        let mut queues: Vec<Option<mpsc::Sender<Pending>>> = (0..n).map(|_| None).collect();
        for (dst, q) in queues.iter_mut().enumerate() {
            let timed = (0..n).any(|src| spec.impair[src][dst].is_some_and(|p| !p.timeless()));
            if timed {
                let (tx, rx) = mpsc::channel(PORT_QUEUE);
                tasks.spawn(deliver(shared.clone(), dst, rx));
                *q = Some(tx);
            }
        }
        for (src, row) in spec.impair.into_iter().enumerate() {
            tasks.spawn(forward(shared.clone(), src, row, queues.clone()));
        }
        Ok(Switch { tasks, shared })
    }

    /// Stops every task (frames in flight are discarded) and closes the TAP devices, which
    /// removes them. Returns the counters.
    pub async fn stop(mut self) -> SwitchStats {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
        for p in &self.shared.ports {
            let left = p.folds.lock().unwrap_or_else(|e| e.into_inner()).drain();
            self.shared.report(left);
        }
        let s = &self.shared.stats;
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SwitchStats {
            frames_in: g(&s.frames_in),
            frames_out: g(&s.frames_out),
            bytes_out: g(&s.bytes_out),
            lost: g(&s.lost),
            duplicated: g(&s.duplicated),
            queue_drops: g(&s.queue_drops),
            write_errors: g(&s.write_errors),
        }
    }
}

/// Reads the frames of port `src` and sends each where it goes.
async fn forward(
    sh: Arc<Shared>,
    src: usize,
    impair: Vec<Option<Params>>,
    queues: Vec<Option<mpsc::Sender<Pending>>>,
) {
    let mut shapers: Vec<Option<Shaper>> = impair
        .iter()
        .enumerate()
        .map(|(dst, p)| p.map(|p| Shaper::new(p, (src * 1024 + dst) as u64, 0, false)))
        .collect();
    let mut buf = vec![0u8; MAX_FRAME];
    let mut seq = 0u64;
    loop {
        let n = match read_frame(&sh.ports[src].fd, &mut buf).await {
            Ok(0) => continue,
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(port = src, "TAP read failed: {e}");
                return;
            }
        };
        let now = Instant::now();
        inc(&sh.stats.frames_in);
        let f = &buf[..n];
        let mac = frame::dst_mac(f);
        let dsts: Vec<usize> = match sh.by_mac.get(&mac) {
            Some(&d) if !frame::is_group(&mac) => vec![d],
            _ => (0..sh.ports.len()).filter(|&d| d != src).collect(),
        };
        let parsed = frame::parse(f);
        for dst in dsts {
            if dst == src {
                continue;
            }
            seq += 1;
            let plan = shapers[dst].as_mut().map(|s| s.plan(now, n));
            let lost = plan.is_some_and(|p| p.lost);
            let shown = parsed
                .as_ref()
                .filter(|d| lost || sh.shows(src, dst, d, now))
                .and_then(|d| sh.message(src, dst, d))
                .map(|msg| {
                    let mut data = serde_json::Map::new();
                    if lost {
                        data.insert("reason".into(), "loss".into());
                    }
                    let msg = Message { lost, ..msg };
                    let sent_us = emit_sent(&sh.events, &msg, now, data);
                    (msg, sent_us)
                });
            if lost {
                inc(&sh.stats.lost);
                continue;
            }
            let copies = if plan.is_some_and(|p| p.duplicate) {
                inc(&sh.stats.duplicated);
                2
            } else {
                1
            };
            for _ in 0..copies {
                match (&queues[dst], plan) {
                    (Some(q), Some(p)) => {
                        let due = if p.hold { p.due + REORDER_HOLD } else { p.due };
                        let item = Pending {
                            due,
                            seq,
                            frame: f.to_vec(),
                            shown: shown.clone(),
                        };
                        if q.try_send(item).is_err() {
                            inc(&sh.stats.queue_drops);
                        }
                    }
                    _ => sh.write(dst, f, shown.clone()).await,
                }
            }
        }
    }
}

/// Holds the frames bound for port `dst` until they are due, then writes them.
async fn deliver(sh: Arc<Shared>, dst: usize, mut rx: mpsc::Receiver<Pending>) {
    let mut heap: BinaryHeap<Reverse<Pending>> = BinaryHeap::new();
    loop {
        let next_due = heap.peek().map(|Reverse(p)| p.due);
        tokio::select! {
            item = rx.recv() => match item {
                Some(p) => heap.push(Reverse(p)),
                None if heap.is_empty() => return,
                None => {}
            },
            _ = sleep_until(next_due) => {
                let now = Instant::now();
                while heap.peek().is_some_and(|Reverse(p)| p.due <= now) {
                    let Reverse(p) = heap.pop().expect("peeked");
                    sh.write(dst, &p.frame, p.shown).await;
                }
            }
        }
    }
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

async fn read_frame(fd: &AsyncFd<OwnedFd>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        let mut guard = fd.readable().await?;
        match guard.try_io(|inner| nix::unistd::read(inner.get_ref(), buf).map_err(io::Error::from))
        {
            Ok(r) => return r,
            Err(_would_block) => continue,
        }
    }
}

async fn write_frame(fd: &AsyncFd<OwnedFd>, frame: &[u8]) -> io::Result<()> {
    loop {
        let mut guard = fd.writable().await?;
        match guard
            .try_io(|inner| nix::unistd::write(inner.get_ref(), frame).map_err(io::Error::from))
        {
            Ok(r) => return r.map(|_| ()),
            Err(_would_block) => continue,
        }
    }
}

impl Shared {
    /// Writes a frame to port `dst`, captures it and emits its delivery.
    async fn write(&self, dst: usize, f: &[u8], shown: Option<(Message, u64)>) {
        if let Err(e) = write_frame(&self.ports[dst].fd, f).await {
            inc(&self.stats.write_errors);
            tracing::debug!(
                port = dst,
                fd = self.ports[dst].fd.as_raw_fd(),
                "TAP write failed: {e}"
            );
            return;
        }
        inc(&self.stats.frames_out);
        self.stats
            .bytes_out
            .fetch_add(f.len() as u64, Ordering::Relaxed);
        let number = self
            .capture
            .as_ref()
            .and_then(|c| c.write(SystemTime::now(), f));
        if let Some((msg, sent_us)) = shown {
            let mut data = serde_json::Map::new();
            if let Some(n) = number {
                data.insert("frame".into(), n.into());
            }
            emit_delivered(&self.events, msg, sent_us, data);
        }
    }

    /// Whether a frame is shown one by one: everything but TCP bulk past its first segments
    /// ([`super::fold`]), which is counted and reported from time to time instead.
    fn shows(&self, src: usize, dst: usize, d: &Datagram, now: Instant) -> bool {
        let L4::Tcp {
            sport,
            dport,
            flags,
            payload,
        } = &d.l4
        else {
            return true;
        };
        let key = FlowKey {
            src: d.src,
            sport: *sport,
            dst: d.dst,
            dport: *dport,
        };
        let ended = flags.fin || flags.rst;
        let mut folds = self.ports[src]
            .folds
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let show = ended || payload.is_empty() || folds.show(key, (src, dst), payload.len(), now);
        let due = folds.due(now, ended.then_some(key));
        drop(folds);
        self.report(due);
        show
    }

    /// Metric events for folded TCP segments.
    fn report(&self, reports: Vec<Report>) {
        for r in reports {
            let (from, to) = (
                &self.ports[r.ports.0].service,
                &self.ports[r.ports.1].service,
            );
            let mut e = Event::new(
                SOURCE,
                Kind::Metric,
                format!(
                    "{from} → {to}: {} more TCP segments, {} bytes (folded; each is in capture.pcap)",
                    r.frames, r.bytes
                ),
            );
            e.data = serde_json::json!({
                "folded": true, "from": from, "to": to, "frames": r.frames, "bytes": r.bytes,
                "sport": r.key.sport, "dport": r.key.dport,
            });
            self.events.emit(e);
        }
    }

    /// The message a frame from `src` to `dst` shows on the timeline, if it carries one.
    fn message(&self, src: usize, dst: usize, d: &Datagram) -> Option<Message> {
        // Name the ends by address when they are ours (a flooded frame names its real target).
        let from = self.by_ip.get(&d.src).copied().unwrap_or(src);
        let to = self.by_ip.get(&d.dst).copied().unwrap_or(dst);
        let (sp, tp) = (&self.ports[from], &self.ports[to]);
        let protocol = if sp.client {
            &tp.protocol
        } else {
            &sp.protocol
        };
        let (summary, payload) = match &d.l4 {
            L4::Udp {
                sport,
                dport,
                payload,
            } => {
                let quic = crate::quic::trace::live::is_quic(protocol)
                    .then(|| {
                        let (s, t) = ((d.src, *sport).into(), (d.dst, *dport).into());
                        self.quic.label(s, t, payload)
                    })
                    .flatten();
                let s = quic.unwrap_or_else(|| decode::summary(protocol, payload, sp.client));
                (s, *payload)
            }
            L4::Tcp { flags, payload, .. } => {
                let control = flags.syn || flags.fin || flags.rst;
                if payload.is_empty() && !control {
                    return None;
                }
                let mut s = if payload.is_empty() {
                    String::new()
                } else {
                    decode::summary(protocol, payload, sp.client)
                };
                if control {
                    let tag = format!("[{}]", flags.label());
                    s = if s.is_empty() {
                        tag
                    } else {
                        format!("{tag} {s}")
                    };
                }
                (s, *payload)
            }
            L4::Icmp { v6, payload } => (
                format!(
                    "ICMP{} {} bytes",
                    if *v6 { "v6" } else { "" },
                    payload.len()
                ),
                *payload,
            ),
            L4::Other(_) => return None,
        };
        // IPv6 neighbour discovery and MLD are plumbing, not messages.
        if matches!(d.l4, L4::Icmp { v6: true, .. }) && d.dst.is_multicast() {
            return None;
        }
        Some(Message {
            from: sp.service.clone(),
            to: tp.service.clone(),
            protocol: protocol.clone(),
            summary,
            bytes: u32::try_from(payload.len()).unwrap_or(u32::MAX),
            id: Some(self.ids.fetch_add(1, Ordering::Relaxed)),
            lost: false,
            hex: Some(decode::hex_prefix(payload, HEX_BYTES)),
        })
    }
}

/// The source name the switch's events carry (the same as the localhost relay's).
pub const SOURCE: &str = link::SOURCE;
