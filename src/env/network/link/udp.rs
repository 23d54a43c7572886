//! The UDP relay: one listening socket for the clients, one connected upstream socket per
//! client address, a task per upstream socket for the replies, and (when the link delays or
//! reorders) a delivery task per direction of each flow that holds datagrams until they are
//! due.

use std::cmp::Ordering as CmpOrdering;
use std::collections::hash_map::Entry as MapEntry;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::impair::Shaper;
use super::{Ctx, Dir, Discard, InFlight, QUEUE_LIMIT, REORDER_HOLD, Tasks};

/// The largest UDP payload.
const MAX_DATAGRAM: usize = 65_536;

pub(super) async fn start(
    ctx: Arc<Ctx>,
    listen: SocketAddr,
    tasks: &Tasks,
) -> io::Result<SocketAddr> {
    let sock = UdpSocket::bind(listen).await?;
    let local = sock.local_addr()?;
    tasks.spawn(client_side(ctx, Arc::new(sock), tasks.clone()));
    Ok(local)
}

/// Receives from every client and forwards to each client's upstream socket.
async fn client_side(ctx: Arc<Ctx>, listen: Arc<UdpSocket>, tasks: Tasks) {
    let mut flows: HashMap<SocketAddr, Way> = HashMap::new();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut warned = false;
    loop {
        let (n, peer) = match listen.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                if !warned {
                    ctx.warn(format!("link: receiving from clients: {e}"));
                    warned = true;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
                continue;
            }
        };
        let now = Instant::now();
        let way = match flows.entry(peer) {
            MapEntry::Occupied(o) => o.into_mut(),
            MapEntry::Vacant(v) => match open_flow(&ctx, &listen, peer, &tasks).await {
                Ok(way) => v.insert(way),
                Err(e) => {
                    ctx.warn(format!(
                        "link {}→{}: no upstream socket for {peer}: {e}",
                        ctx.client, ctx.server
                    ));
                    ctx.received(Dir::ClientToServer, n);
                    ctx.sent(Dir::ClientToServer, &buf[..n], now, None, None);
                    ctx.send_error(Dir::ClientToServer);
                    continue;
                }
            },
        };
        way.forward(&ctx, &buf[..n], now).await;
    }
}

/// Opens the upstream socket of a new client, starts its reply task; returns the client to
/// server way.
async fn open_flow(
    ctx: &Arc<Ctx>,
    listen: &Arc<UdpSocket>,
    peer: SocketAddr,
    tasks: &Tasks,
) -> io::Result<Way> {
    let any: SocketAddr = if ctx.target.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let upstream = UdpSocket::bind(any).await?;
    upstream.connect(ctx.target).await?;
    let upstream = Arc::new(upstream);
    let flow = ctx.next_flow();
    let c2s = Way::new(
        ctx,
        Dir::ClientToServer,
        flow,
        Sink::Connected(upstream.clone()),
        tasks,
    );
    let s2c = Way::new(
        ctx,
        Dir::ServerToClient,
        flow,
        Sink::To(listen.clone(), peer),
        tasks,
    );
    tasks.spawn(server_side(ctx.clone(), upstream, s2c));
    Ok(c2s)
}

/// Receives the target's replies to one client and forwards them.
async fn server_side(ctx: Arc<Ctx>, upstream: Arc<UdpSocket>, mut way: Way) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut warned = false;
    loop {
        match upstream.recv(&mut buf).await {
            Ok(n) => {
                let now = Instant::now();
                way.forward(&ctx, &buf[..n], now).await;
            }
            // An ICMP error for an earlier datagram (the target was not listening yet).
            Err(e) if refused(&e) => {}
            Err(e) => {
                if !warned {
                    ctx.warn(format!("link: receiving from {}: {e}", ctx.target));
                    warned = true;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }
}

fn refused(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset
    )
}

/// Where one direction's datagrams go.
#[derive(Clone)]
enum Sink {
    /// The upstream socket, connected to the target.
    Connected(Arc<UdpSocket>),
    /// The listening socket, to a client.
    To(Arc<UdpSocket>, SocketAddr),
}

impl Sink {
    async fn send(&self, buf: &[u8]) -> io::Result<()> {
        match self {
            Sink::Connected(s) => match s.send(buf).await {
                // Linux reports a pending ICMP error on the next send, which then sends
                // nothing: try once more.
                Err(e) if refused(&e) => s.send(buf).await.map(drop),
                r => r.map(drop),
            },
            Sink::To(s, to) => s.send_to(buf, *to).await.map(drop),
        }
    }
}

/// A datagram waiting to be delivered.
struct Item {
    due: Instant,
    hold: bool,
    payload: Vec<u8>,
    flight: InFlight,
}

/// How one direction delivers.
enum Out {
    /// No delay, jitter, rate or reordering: deliver from the receiving task at once.
    Now(Sink),
    /// Hand to the direction's delivery task.
    Queue {
        tx: mpsc::UnboundedSender<Item>,
        queued: Arc<AtomicUsize>,
    },
}

/// One direction of one flow.
struct Way {
    dir: Dir,
    shaper: Shaper,
    out: Out,
}

impl Way {
    fn new(ctx: &Arc<Ctx>, dir: Dir, flow: u64, sink: Sink, tasks: &Tasks) -> Way {
        let p = ctx.params;
        let shaper = Shaper::new(p, flow, dir as u64, false);
        let out = if p.timeless() && p.reorder == 0.0 {
            Out::Now(sink)
        } else {
            let (tx, rx) = mpsc::unbounded_channel();
            let queued = Arc::new(AtomicUsize::new(0));
            tasks.spawn(deliver_when_due(ctx.clone(), dir, sink, rx, queued.clone()));
            Out::Queue { tx, queued }
        };
        Way { dir, shaper, out }
    }

    /// Impairs and forwards one datagram that arrived at `now`.
    async fn forward(&mut self, ctx: &Ctx, payload: &[u8], now: Instant) {
        let dir = self.dir;
        ctx.received(dir, payload.len());
        let plan = self.shaper.plan(now, payload.len());
        if plan.lost {
            ctx.sent(dir, payload, now, Some(Discard::Loss), None);
            return;
        }
        match &self.out {
            Out::Now(sink) => {
                let f = ctx.sent(dir, payload, now, None, None);
                let dup = plan
                    .duplicate
                    .then(|| ctx.sent(dir, payload, now, None, f.msg.id));
                deliver(ctx, dir, sink, payload, f, false).await;
                if let Some(d) = dup {
                    deliver(ctx, dir, sink, payload, d, false).await;
                }
            }
            Out::Queue { tx, queued } => {
                if queued.load(Ordering::Relaxed) >= QUEUE_LIMIT {
                    ctx.sent(dir, payload, now, Some(Discard::Queue), None);
                    return;
                }
                let flight = ctx.sent(dir, payload, now, None, None);
                let dup = plan
                    .duplicate
                    .then(|| ctx.sent(dir, payload, now, None, flight.msg.id));
                queued.fetch_add(1, Ordering::Relaxed);
                let _ = tx.send(Item {
                    due: plan.due,
                    hold: plan.hold,
                    payload: payload.to_vec(),
                    flight,
                });
                if let Some(flight) = dup {
                    queued.fetch_add(1, Ordering::Relaxed);
                    let _ = tx.send(Item {
                        due: plan.due,
                        hold: false,
                        payload: payload.to_vec(),
                        flight,
                    });
                }
            }
        }
    }
}

async fn deliver(ctx: &Ctx, dir: Dir, sink: &Sink, payload: &[u8], f: InFlight, reordered: bool) {
    match sink.send(payload).await {
        Ok(()) => ctx.delivered(dir, f, reordered),
        Err(_) => ctx.send_error(dir),
    }
}

/// A queued datagram, ordered by due time then arrival (a min-heap through reversed `Ord`).
struct Queued {
    due: Instant,
    seq: u64,
    reordered: bool,
    item: Item,
}

impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == CmpOrdering::Equal
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    fn cmp(&self, o: &Self) -> CmpOrdering {
        (o.due, o.seq).cmp(&(self.due, self.seq))
    }
}

/// Holds one direction's datagrams until they are due (earliest first) and delivers them; a
/// datagram marked `hold` waits for the next datagram and goes right after it.
async fn deliver_when_due(
    ctx: Arc<Ctx>,
    dir: Dir,
    sink: Sink,
    mut rx: mpsc::UnboundedReceiver<Item>,
    queued: Arc<AtomicUsize>,
) {
    let mut heap: BinaryHeap<Queued> = BinaryHeap::new();
    let mut held: Option<Item> = None;
    let mut seq = 0u64;
    let mut open = true;
    let mut push = |heap: &mut BinaryHeap<Queued>, item: Item, due: Instant, reordered: bool| {
        seq += 1;
        heap.push(Queued {
            due,
            seq,
            reordered,
            item,
        });
    };
    loop {
        let next = heap
            .peek()
            .map(|q| q.due)
            .into_iter()
            .chain(held.as_ref().map(|h| h.due + REORDER_HOLD))
            .min();
        if !open && next.is_none() {
            return;
        }
        tokio::select! {
            biased;
            r = rx.recv(), if open => match r {
                Some(item) if item.hold && held.is_none() => held = Some(item),
                Some(item) => {
                    let due = item.due;
                    push(&mut heap, item, due, false);
                    if let Some(h) = held.take() {
                        let due = h.due.max(due);
                        push(&mut heap, h, due, true);
                    }
                }
                None => open = false,
            },
            _ = sleep_until(next), if next.is_some() => {}
        }
        let now = Instant::now();
        while heap.peek().is_some_and(|q| q.due <= now) {
            let q = heap.pop().expect("peeked");
            deliver(
                &ctx,
                dir,
                &sink,
                &q.item.payload,
                q.item.flight,
                q.reordered,
            )
            .await;
            queued.fetch_sub(1, Ordering::Relaxed);
        }
        if held.as_ref().is_some_and(|h| h.due + REORDER_HOLD <= now) {
            let h = held.take().expect("checked");
            deliver(&ctx, dir, &sink, &h.payload, h.flight, false).await;
            queued.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

async fn sleep_until(t: Option<Instant>) {
    if let Some(t) = t {
        tokio::time::sleep_until(t.into()).await;
    }
}
