//! The link emulator: an unprivileged UDP or TCP relay that the `localhost` network
//! environment puts between a client and its target. It applies the experiment's link
//! impairments and reports every datagram or stream chunk it carries as a message event, which
//! gives a sequence diagram for any implementation without root or packet capture.
//!
//! ```text
//!   client ──► Relay::local_addr() ──[impair c→s]──► target (server)
//!   client ◄── Relay::local_addr() ◄─[impair s→c]─── target
//! ```
//!
//! # Transports
//! * **UDP**: one upstream socket per client address (so replies route back to the right
//!   client); each datagram is one message. Flows live until the relay stops (no idle
//!   expiry), like a NAT binding that never times out.
//! * **TCP**: each accepted connection gets its own upstream connection; each `read()` chunk is
//!   one message ("segment"). A half-close (FIN) is passed on after every chunk before it.
//!   Without delay or rate, Linux moves each chunk with `splice(2)` (zero copy, up to 1 MiB a
//!   chunk) and the relay only peeks at its first 512 bytes for the event: `summary` and `hex`
//!   then describe the chunk's start (an HTTP request or status line is still found), `bytes`
//!   its full size.
//!
//! # Impairments (per direction, per flow)
//! * `delay_ms ± jitter_ms` (uniform): the packet is due `delay ± jitter` after it leaves the
//!   rate limiter. For UDP, jitter can reorder datagrams, as on a real path. Delivery uses
//!   `tokio::time::sleep_until`, so a packet arrives at most ~1 ms (the timer's resolution)
//!   after it is due.
//! * `rate`: a token bucket (burst of one 1514-byte frame, or 1 ms worth at high rates).
//! * `loss`, `duplicate`, `reorder`: **UDP only.** A lost datagram is dropped on arrival; a
//!   duplicate is delivered right after its original; a reordered datagram is held and sent
//!   right after the next datagram of the same direction (or [`REORDER_HOLD`] after it was due
//!   when no other datagram follows).
//! * **TCP applies only delay, jitter and rate**, and never reorders: each chunk is due no
//!   earlier than the chunk before it. Dropping, duplicating or reordering bytes inside a byte
//!   stream would corrupt it (the relay terminates TCP on both sides, so there is no
//!   retransmission to repair it). The relay emits one warning event when a TCP link asks for
//!   them.
//! * Choices are drawn from a seeded random stream per direction per flow (`Link.seed`, else
//!   [`DEFAULT_SEED`]), flows numbered in the order they appear: the same traffic with the same
//!   seed gets the same drops.
//! * At most [`QUEUE_LIMIT`] datagrams wait per direction of a UDP flow (netem's default);
//!   more are dropped (`reason: "queue"`). A TCP direction holds at most [`TCP_QUEUE`] chunks
//!   and then stops reading, which pushes back on the sender.
//!
//! # Events: two per message, paired by id
//! Every message gets an `id` from a per-relay counter (shared by both directions and every
//! flow, so `(from/to pair, id)` names one message in a run). The relay emits, with
//! `source: "link"` and `kind: message`:
//! * **`text: "sent"`** at `t` = the instant the relay received it from the sender. A dropped
//!   message has `message.lost: true`, `data.reason` (`"loss"` or `"queue"`) and no delivery.
//!   A duplicate is a message of its own (new id, `data.duplicate_of`), sent at the same `t`.
//! * **`text: "delivered"`** at `t` = the instant the relay handed it to the receiver's
//!   socket, with the same `message` (same id) and `data: {"sent_us", "delay_us"}` (plus
//!   `"reordered": true` when it was held), so the delivery event alone is enough to draw the
//!   arrow with its real slope, from `(from, sent_us)` to `(to, t)`.
//!
//! Every id has exactly one "sent" event and at most one "delivered" event; a "sent" without a
//! delivery is lost (by the link, because the receiver's socket refused it, or because the
//! relay stopped while it was in flight). [`LinkStats`] counts each case.

pub(crate) mod impair;
#[cfg(target_os = "linux")]
mod splice;
mod tcp;
mod udp;

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use crate::events::decode;
use crate::events::model::{Event, Kind, Level, Message};
use crate::events::tx::EventTx;
use crate::experiment::model::Link;
pub use crate::plugin::manifest::Transport;

pub use impair::{DEFAULT_SEED, Params};

/// The `source` of every event the relay emits.
pub const SOURCE: &str = "link";
/// `text` of the event emitted when the relay receives a message from its sender.
pub const SENT: &str = "sent";
/// `text` of the event emitted when the relay delivers a message to its receiver.
pub const DELIVERED: &str = "delivered";
/// How many bytes of each message the events carry as hex.
pub const HEX_BYTES: usize = 32;
/// Datagrams that may wait in one direction of a UDP flow before the relay drops more.
pub const QUEUE_LIMIT: usize = 1000;
/// Chunks that may wait in one direction of a delayed TCP connection before the relay stops
/// reading.
pub const TCP_QUEUE: usize = 64;
/// How long after it was due a held (reordered) datagram waits for a datagram to overtake it.
pub const REORDER_HOLD: Duration = Duration::from_millis(20);

/// What to relay: who talks to whom, over what, and how the path is impaired.
#[derive(Debug, Clone)]
pub struct LinkSpec {
    /// "minip", "http", "quic" or anything else (decoded as a size).
    pub protocol: String,
    pub transport: Transport,
    /// The client service's name (the `from` of client-to-server messages).
    pub client: String,
    /// The server service's name.
    pub server: String,
    /// Where the server listens.
    pub target: SocketAddr,
    /// Impairments; `Link::default()` is none.
    pub link: Link,
    /// The two services' TLS key logs, read as they grow to label QUIC packets past Initial.
    pub key_logs: Vec<std::path::PathBuf>,
}

/// Counters of one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirStats {
    /// Datagrams or chunks received from the sender.
    pub received: u64,
    pub received_bytes: u64,
    /// Datagrams or chunks delivered to the receiver (duplicates included).
    pub delivered: u64,
    pub delivered_bytes: u64,
    /// Dropped by the `loss` impairment.
    pub lost: u64,
    /// Dropped because the queue was full.
    pub queue_drops: u64,
    pub duplicated: u64,
    /// Delivered after a datagram that arrived later (`reorder` holds).
    pub reordered: u64,
    /// Could not be handed to the receiver (socket error).
    pub send_errors: u64,
}

/// What a relay carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStats {
    pub client_to_server: DirStats,
    pub server_to_client: DirStats,
    /// UDP client addresses seen, or TCP connections accepted.
    pub flows: u64,
}

/// A running relay. Dropping it aborts its tasks; [`Relay::stop`] also waits for them.
pub struct Relay {
    local: SocketAddr,
    tasks: Tasks,
    ctx: Arc<Ctx>,
}

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay")
            .field("local", &self.local)
            .field("target", &self.ctx.target)
            .field("transport", &self.ctx.transport)
            .finish()
    }
}

impl Relay {
    /// Binds `listen` (usually `127.0.0.1:0`) and starts relaying to `spec.target`. Fails on
    /// invalid impairments (`InvalidInput`) or when the address cannot be bound.
    pub async fn start(spec: LinkSpec, listen: SocketAddr, events: EventTx) -> io::Result<Relay> {
        let params = Params::from_link(&spec.link)?;
        let ctx = Arc::new(Ctx {
            quic: crate::quic::trace::live::LiveLabeler::for_protocol(&spec.protocol)
                .map(|l| l.with_key_logs(spec.key_logs)),
            protocol: spec.protocol,
            client: spec.client,
            server: spec.server,
            target: spec.target,
            transport: spec.transport,
            params,
            events,
            ids: AtomicU64::new(1),
            flows: AtomicU64::new(0),
            stats: [Counters::default(), Counters::default()],
        });
        let tasks = Tasks::default();
        let local = match spec.transport {
            Transport::Udp => udp::start(ctx.clone(), listen, &tasks).await?,
            Transport::Tcp => {
                if params.datagram_only() {
                    let mut e = Event::new(
                        SOURCE,
                        Kind::Log,
                        format!(
                            "link {}→{}: loss, duplicate and reorder apply to UDP only; this TCP \
                             link applies delay, jitter and rate",
                            ctx.client, ctx.server
                        ),
                    );
                    e.level = Some(Level::Warn);
                    ctx.events.emit(e);
                }
                tcp::start(ctx.clone(), listen, &tasks).await?
            }
        };
        Ok(Relay { local, tasks, ctx })
    }

    /// Where the client should send instead of the target.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Where the relay forwards to.
    pub fn target(&self) -> SocketAddr {
        self.ctx.target
    }

    /// The counters so far.
    pub fn stats(&self) -> LinkStats {
        self.ctx.snapshot()
    }

    /// Stops every task and closes every socket (the listening port can be bound again when
    /// this returns). Messages still in flight are discarded. Returns the final counters.
    pub async fn stop(self) -> LinkStats {
        self.tasks.shutdown().await;
        self.ctx.snapshot()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.tasks.close();
    }
}

/// Which way a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    ClientToServer = 0,
    ServerToClient = 1,
}

/// What every task of a relay shares.
struct Ctx {
    protocol: String,
    client: String,
    server: String,
    target: SocketAddr,
    transport: Transport,
    params: Params,
    events: EventTx,
    ids: AtomicU64,
    flows: AtomicU64,
    stats: [Counters; 2],
    /// Decodes QUIC Initials for the labels (when the protocol is QUIC).
    quic: Option<crate::quic::trace::live::LiveLabeler>,
}

#[derive(Default)]
struct Counters {
    received: AtomicU64,
    received_bytes: AtomicU64,
    delivered: AtomicU64,
    delivered_bytes: AtomicU64,
    lost: AtomicU64,
    queue_drops: AtomicU64,
    duplicated: AtomicU64,
    reordered: AtomicU64,
    send_errors: AtomicU64,
}

fn inc(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

impl Counters {
    fn snapshot(&self) -> DirStats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        DirStats {
            received: g(&self.received),
            received_bytes: g(&self.received_bytes),
            delivered: g(&self.delivered),
            delivered_bytes: g(&self.delivered_bytes),
            lost: g(&self.lost),
            queue_drops: g(&self.queue_drops),
            duplicated: g(&self.duplicated),
            reordered: g(&self.reordered),
            send_errors: g(&self.send_errors),
        }
    }
}

/// Why a message was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Discard {
    Loss,
    Queue,
}

/// A message on its way: what the delivery event needs.
#[derive(Debug)]
struct InFlight {
    msg: Message,
    sent_us: u64,
}

impl Ctx {
    fn snapshot(&self) -> LinkStats {
        LinkStats {
            client_to_server: self.stats[0].snapshot(),
            server_to_client: self.stats[1].snapshot(),
            flows: self.flows.load(Ordering::Relaxed),
        }
    }

    fn counters(&self, dir: Dir) -> &Counters {
        &self.stats[dir as usize]
    }

    fn next_flow(&self) -> u64 {
        self.flows.fetch_add(1, Ordering::Relaxed)
    }

    fn received(&self, dir: Dir, len: usize) {
        let c = self.counters(dir);
        inc(&c.received, 1);
        inc(&c.received_bytes, len as u64);
    }

    /// Emits the "sent" event of a message that arrived at `at`; returns what its delivery
    /// needs (nothing when it was dropped).
    fn sent(
        &self,
        dir: Dir,
        payload: &[u8],
        at: Instant,
        dropped: Option<Discard>,
        duplicate_of: Option<u64>,
    ) -> InFlight {
        self.sent_head(dir, payload, payload.len(), at, dropped, duplicate_of)
    }

    /// [`Ctx::sent`] for a `total`-byte message of which only the first bytes, `head`, are at
    /// hand.
    fn sent_head(
        &self,
        dir: Dir,
        head: &[u8],
        total: usize,
        at: Instant,
        dropped: Option<Discard>,
        duplicate_of: Option<u64>,
    ) -> InFlight {
        let (from, to) = match dir {
            Dir::ClientToServer => (&self.client, &self.server),
            Dir::ServerToClient => (&self.server, &self.client),
        };
        let from_client = dir == Dir::ClientToServer;
        // The relay's datagrams carry no client address here: one stand-in per side.
        let (client_at, server_at) = (SocketAddr::from(([0, 0, 0, 1], 1)), self.target);
        let (src, dst) = if from_client {
            (client_at, server_at)
        } else {
            (server_at, client_at)
        };
        let quic = self.quic.as_ref().filter(|_| head.len() == total);
        let summary = if let Some(l) = quic.and_then(|q| q.label(src, dst, head)) {
            l
        } else if head.len() == total {
            decode::summary(&self.protocol, head, from_client)
        } else {
            decode::summary_head(&self.protocol, head, total, from_client)
        };
        let msg = Message {
            from: from.clone(),
            to: to.clone(),
            protocol: self.protocol.clone(),
            summary,
            bytes: u32::try_from(total).unwrap_or(u32::MAX),
            id: Some(self.ids.fetch_add(1, Ordering::Relaxed)),
            lost: dropped.is_some(),
            hex: Some(decode::hex_prefix(head, HEX_BYTES)),
        };
        let mut data = serde_json::Map::new();
        if let Some(d) = dropped {
            let c = self.counters(dir);
            let reason = match d {
                Discard::Loss => {
                    inc(&c.lost, 1);
                    "loss"
                }
                Discard::Queue => {
                    inc(&c.queue_drops, 1);
                    "queue"
                }
            };
            data.insert("reason".into(), reason.into());
        }
        if let Some(orig) = duplicate_of {
            inc(&self.counters(dir).duplicated, 1);
            data.insert("duplicate_of".into(), orig.into());
        }
        let sent_us = emit_sent(&self.events, &msg, at, data);
        InFlight { msg, sent_us }
    }

    /// Emits the "delivered" event of a message handed to its receiver just now.
    fn delivered(&self, dir: Dir, f: InFlight, reordered: bool) {
        let c = self.counters(dir);
        inc(&c.delivered, 1);
        inc(&c.delivered_bytes, u64::from(f.msg.bytes));
        let mut data = serde_json::Map::new();
        if reordered {
            inc(&c.reordered, 1);
            data.insert("reordered".into(), true.into());
        }
        emit_delivered(&self.events, f.msg, f.sent_us, data);
    }

    fn send_error(&self, dir: Dir) {
        inc(&self.counters(dir).send_errors, 1);
    }

    fn warn(&self, text: String) {
        let mut e = Event::new(SOURCE, Kind::Log, text);
        e.level = Some(Level::Warn);
        self.events.emit(e);
    }
}

/// Emits the "sent" event of `msg`, which the link received from its sender at `at`, with
/// `data` (the drop reason, the original of a duplicate…). Returns its time on the run's
/// clock, which the delivery event carries as `sent_us`.
pub(crate) fn emit_sent(
    events: &EventTx,
    msg: &Message,
    at: Instant,
    data: serde_json::Map<String, serde_json::Value>,
) -> u64 {
    let sent_us = events.clock().at_us(at).max(1);
    let mut e = Event::new(SOURCE, Kind::Message, SENT);
    e.t = sent_us;
    if !data.is_empty() {
        e.data = serde_json::Value::Object(data);
    }
    e.message = Some(msg.clone());
    events.emit(e);
    sent_us
}

/// Emits the "delivered" event of `msg`, handed to its receiver just now; `data` gains
/// `sent_us` and `delay_us`, so the event alone draws the arrow with its real slope.
pub(crate) fn emit_delivered(
    events: &EventTx,
    msg: Message,
    sent_us: u64,
    mut data: serde_json::Map<String, serde_json::Value>,
) {
    let now = events.clock().now_us().max(1);
    let mut e = Event::new(SOURCE, Kind::Message, DELIVERED);
    e.t = now;
    data.insert("sent_us".into(), sent_us.into());
    data.insert("delay_us".into(), now.saturating_sub(sent_us).into());
    e.data = serde_json::Value::Object(data);
    e.message = Some(msg);
    events.emit(e);
}

/// Every task of a relay, so `stop` can abort them and wait until their sockets are closed.
/// Tasks spawn more tasks (a connection per accepted client), hence the shared set.
#[derive(Clone, Default)]
struct Tasks(Arc<Mutex<TaskSet>>);

#[derive(Default)]
struct TaskSet {
    set: JoinSet<()>,
    closed: bool,
}

impl Tasks {
    fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if s.closed {
            return;
        }
        // Reap finished tasks so a long run with many connections does not grow the set.
        while s.set.try_join_next().is_some() {}
        s.set.spawn(fut);
    }

    /// Aborts every task (without waiting).
    fn close(&self) {
        let set = {
            let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
            s.closed = true;
            std::mem::take(&mut s.set)
        };
        drop(set); // dropping a JoinSet aborts its tasks
    }

    /// Aborts every task and waits until all have ended (their sockets are closed then).
    async fn shutdown(&self) {
        loop {
            let mut set = {
                let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
                s.closed = true;
                std::mem::take(&mut s.set)
            };
            if set.is_empty() {
                return;
            }
            set.abort_all();
            while set.join_next().await.is_some() {}
        }
    }
}
