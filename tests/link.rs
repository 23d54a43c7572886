//! The link emulator over real loopback sockets: forwarding, delay, loss, duplication,
//! reordering, rate, TCP stream integrity, message events and a clean stop.
//!
//! Timing assertions use lower bounds from the configured delays and generous upper bounds, so
//! a loaded 2-core machine does not make them flaky.

use std::collections::{BTreeSet, HashMap};
use std::hash::{DefaultHasher, Hasher};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use panther::env::network::link::{DELIVERED, LinkSpec, LinkStats, Relay, SENT, Transport};
use panther::events::model::{Event, Kind};
use panther::events::{Clock, tx};
use panther::experiment::model::Link;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::timeout;

const LOCAL: &str = "127.0.0.1:0";

fn local() -> SocketAddr {
    LOCAL.parse().unwrap()
}

fn spec(transport: Transport, protocol: &str, target: SocketAddr, link: Link) -> LinkSpec {
    LinkSpec {
        protocol: protocol.into(),
        transport,
        client: "client".into(),
        server: "server".into(),
        target,
        link,
        key_logs: vec![],
    }
}

/// A relay plus the receiving end of its events.
async fn relay(spec: LinkSpec) -> (Relay, tx::EventRx) {
    let (events, rx) = tx::event_channel(Clock::start());
    let r = Relay::start(spec, local(), events)
        .await
        .expect("relay starts");
    (r, rx)
}

fn drain(rx: &mut tx::EventRx) -> Vec<Event> {
    let mut v = Vec::new();
    while let Ok(e) = rx.try_recv() {
        v.push(e);
    }
    v
}

fn messages<'a>(events: &'a [Event], text: &str) -> Vec<&'a Event> {
    events
        .iter()
        .filter(|e| e.kind == Kind::Message && e.text == text)
        .collect()
}

fn id(e: &Event) -> u64 {
    e.message.as_ref().unwrap().id.unwrap()
}

fn data_u64(e: &Event, key: &str) -> u64 {
    e.data[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} in {e:?}"))
}

fn minip(t: u8, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut d = vec![t];
    d.extend_from_slice(&seq.to_be_bytes());
    d.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    d.extend_from_slice(payload);
    d
}

fn seq_of(d: &[u8]) -> u32 {
    u32::from_be_bytes(d[1..5].try_into().unwrap())
}

/// A UDP server that echoes every datagram.
async fn udp_echo() -> (SocketAddr, JoinHandle<()>) {
    let s = UdpSocket::bind(local()).await.unwrap();
    let addr = s.local_addr().unwrap();
    let h = tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        while let Ok((n, from)) = s.recv_from(&mut buf).await {
            let _ = s.send_to(&buf[..n], from).await;
        }
    });
    (addr, h)
}

/// A UDP server that records every datagram with its arrival time.
async fn udp_sink() -> (
    SocketAddr,
    mpsc::UnboundedReceiver<(Instant, Vec<u8>)>,
    JoinHandle<()>,
) {
    let s = UdpSocket::bind(local()).await.unwrap();
    let addr = s.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let h = tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = s.recv(&mut buf).await {
            let _ = tx.send((Instant::now(), buf[..n].to_vec()));
        }
    });
    (addr, rx, h)
}

/// Collects what arrives until nothing has come for `quiet`.
async fn collect<T>(rx: &mut mpsc::UnboundedReceiver<T>, quiet: Duration) -> Vec<T> {
    let mut v = Vec::new();
    while let Ok(Some(x)) = timeout(quiet, rx.recv()).await {
        v.push(x);
    }
    v
}

async fn client_for(relay: &Relay) -> UdpSocket {
    let c = UdpSocket::bind(local()).await.unwrap();
    c.connect(relay.local_addr()).await.unwrap();
    c
}

/// Every id has exactly one "sent" event and at most one "delivered" one, never for a lost one.
fn check_pairs(events: &[Event]) {
    let mut sent = HashMap::new();
    for e in messages(events, SENT) {
        assert!(sent.insert(id(e), e).is_none(), "two sent events for {e:?}");
    }
    let mut delivered = BTreeSet::new();
    for e in messages(events, DELIVERED) {
        assert!(delivered.insert(id(e)), "two deliveries of {e:?}");
        let s = sent.get(&id(e)).expect("delivered without sent");
        let (sm, dm) = (s.message.as_ref().unwrap(), e.message.as_ref().unwrap());
        assert!(!sm.lost && !dm.lost);
        assert_eq!(
            (&sm.from, &sm.to, &sm.summary),
            (&dm.from, &dm.to, &dm.summary)
        );
        assert_eq!(data_u64(e, "sent_us"), s.t);
        assert_eq!(data_u64(e, "delay_us"), e.t - s.t);
        assert!(e.t >= s.t);
        assert_eq!(e.source, "link");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_without_impairment_delivers_everything() {
    let (target, echo) = udp_echo().await;
    let (r, mut rx) = relay(spec(Transport::Udp, "minip", target, Link::default())).await;
    let c = client_for(&r).await;
    let mut buf = [0u8; 2048];
    for i in 0..200u32 {
        let d = minip(1, i, &i.to_be_bytes());
        c.send(&d).await.unwrap();
        let n = timeout(Duration::from_secs(5), c.recv(&mut buf))
            .await
            .expect("reply in time")
            .unwrap();
        assert_eq!(&buf[..n], &d[..]);
    }
    let stats = r.stop().await;
    echo.abort();
    for d in [stats.client_to_server, stats.server_to_client] {
        assert_eq!((d.received, d.delivered, d.lost), (200, 200, 0));
        assert_eq!(d.delivered_bytes, 200 * 11);
    }
    assert_eq!(stats.flows, 1);
    let events = drain(&mut rx);
    assert_eq!(messages(&events, SENT).len(), 400);
    assert_eq!(messages(&events, DELIVERED).len(), 400);
    check_pairs(&events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_delay_is_measured() {
    let (target, echo) = udp_echo().await;
    let link = Link {
        delay_ms: 20.0,
        ..Link::default()
    };
    let (r, mut rx) = relay(spec(Transport::Udp, "minip", target, link)).await;
    let c = client_for(&r).await;
    let mut buf = [0u8; 2048];
    let mut rtts = Vec::new();
    for i in 0..10u32 {
        let t0 = Instant::now();
        c.send(&minip(1, i, b"abcdefgh")).await.unwrap();
        timeout(Duration::from_secs(5), c.recv(&mut buf))
            .await
            .expect("reply in time")
            .unwrap();
        rtts.push(t0.elapsed());
    }
    r.stop().await;
    echo.abort();
    rtts.sort();
    assert!(rtts[0] >= Duration::from_millis(40), "{rtts:?}");
    assert!(rtts[5] < Duration::from_millis(150), "{rtts:?}");
    let events = drain(&mut rx);
    check_pairs(&events);
    let mut one_way: Vec<u64> = messages(&events, DELIVERED)
        .iter()
        .map(|e| data_u64(e, "delay_us"))
        .collect();
    assert_eq!(one_way.len(), 20);
    one_way.sort();
    assert!(one_way[0] >= 20_000, "{one_way:?}");
    assert!(one_way[10] < 40_000, "{one_way:?}");
}

/// Sends `n` MinIP PINGs through a lossy relay to an echo server; returns the sequence
/// numbers that came back, the events and the counters.
async fn lossy_run(seed: u64, n: u32) -> (BTreeSet<u32>, Vec<Event>, LinkStats) {
    let (target, echo) = udp_echo().await;
    let link = Link {
        loss: 0.3,
        seed: Some(seed),
        ..Link::default()
    };
    let (r, mut rx) = relay(spec(Transport::Udp, "minip", target, link)).await;
    let c = std::sync::Arc::new(client_for(&r).await);
    let (tx, mut replies) = mpsc::unbounded_channel();
    let reader = {
        let c = c.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            while let Ok(n) = c.recv(&mut buf).await {
                let _ = tx.send(seq_of(&buf[..n]));
            }
        })
    };
    for i in 0..n {
        c.send(&minip(1, i, b"lossy")).await.unwrap();
        if i % 10 == 9 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let got: BTreeSet<u32> = collect(&mut replies, Duration::from_millis(300))
        .await
        .into_iter()
        .collect();
    reader.abort();
    let stats = r.stop().await;
    echo.abort();
    (got, drain(&mut rx), stats)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_loss_is_repeatable_and_reported() {
    let n = 200;
    let (a, events, stats) = lossy_run(7, n).await;
    let (b, _, stats_b) = lossy_run(7, n).await;
    let (c, _, _) = lossy_run(8, n).await;
    assert_eq!(a, b, "same seed, same drops");
    assert_eq!(stats, stats_b);
    assert_ne!(a, c, "another seed drops others");

    let (c2s, s2c) = (stats.client_to_server, stats.server_to_client);
    assert_eq!(c2s.received, u64::from(n));
    assert!((30..=90).contains(&c2s.lost), "{c2s:?}");
    assert_eq!(c2s.delivered, c2s.received - c2s.lost);
    assert_eq!(s2c.received, c2s.delivered);
    assert_eq!(s2c.delivered, s2c.received - s2c.lost);
    assert_eq!(a.len() as u64, s2c.delivered);

    check_pairs(&events);
    let lost: Vec<&Event> = messages(&events, SENT)
        .into_iter()
        .filter(|e| e.message.as_ref().unwrap().lost)
        .collect();
    assert_eq!(lost.len() as u64, c2s.lost + s2c.lost);
    for e in &lost {
        assert_eq!(e.data["reason"], "loss");
    }
    // A PING lost on the way out never comes back.
    for e in lost
        .iter()
        .filter(|e| e.message.as_ref().unwrap().from == "client")
    {
        let seq: u32 = e.message.as_ref().unwrap().summary["PING seq=".len()..]
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(!a.contains(&seq));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_duplicate() {
    let (target, mut got, sink) = udp_sink().await;
    let link = Link {
        duplicate: 0.5,
        seed: Some(3),
        ..Link::default()
    };
    let (r, mut rx) = relay(spec(Transport::Udp, "minip", target, link)).await;
    let c = client_for(&r).await;
    for i in 0..100u32 {
        c.send(&minip(1, i, b"dup")).await.unwrap();
        if i % 10 == 9 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let got = collect(&mut got, Duration::from_millis(300)).await;
    let stats = r.stop().await;
    sink.abort();
    let dups = stats.client_to_server.duplicated;
    assert!((20..=80).contains(&dups), "{stats:?}");
    assert_eq!(got.len() as u64, 100 + dups);
    let distinct: BTreeSet<u32> = got.iter().map(|(_, d)| seq_of(d)).collect();
    assert_eq!(distinct.len(), 100);
    let events = drain(&mut rx);
    check_pairs(&events);
    let copies: Vec<&Event> = messages(&events, SENT)
        .into_iter()
        .filter(|e| e.data.get("duplicate_of").is_some())
        .collect();
    assert_eq!(copies.len() as u64, dups);
    for e in copies {
        let orig = data_u64(e, "duplicate_of");
        assert_ne!(orig, id(e));
        let o = events
            .iter()
            .find(|x| x.text == SENT && id(x) == orig)
            .unwrap();
        assert_eq!(o.t, e.t);
        assert_eq!(
            o.message.as_ref().unwrap().summary,
            e.message.as_ref().unwrap().summary
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_reorder() {
    let (target, mut got, sink) = udp_sink().await;
    let link = Link {
        reorder: 0.25,
        seed: Some(11),
        ..Link::default()
    };
    let (r, mut rx) = relay(spec(Transport::Udp, "minip", target, link)).await;
    let c = client_for(&r).await;
    for i in 0..100u32 {
        c.send(&minip(1, i, b"order")).await.unwrap();
        if i % 10 == 9 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let got = collect(&mut got, Duration::from_millis(300)).await;
    let stats = r.stop().await;
    sink.abort();
    let order: Vec<u32> = got.iter().map(|(_, d)| seq_of(d)).collect();
    assert_eq!(order.len(), 100, "every datagram arrives");
    let distinct: BTreeSet<u32> = order.iter().copied().collect();
    assert_eq!(distinct.len(), 100);
    let inversions = order.windows(2).filter(|w| w[0] > w[1]).count();
    let reordered = stats.client_to_server.reordered;
    assert!((10..=40).contains(&reordered), "{stats:?}");
    assert!(
        inversions > 0 && inversions as u64 <= reordered,
        "{order:?}"
    );
    // A held datagram goes right after the one that overtook it.
    for w in order.windows(2).filter(|w| w[0] > w[1]) {
        assert_eq!(w[0], w[1] + 1, "{order:?}");
    }
    let events = drain(&mut rx);
    check_pairs(&events);
    let flagged = messages(&events, DELIVERED)
        .into_iter()
        .filter(|e| e.data.get("reordered").is_some())
        .count();
    assert_eq!(flagged as u64, reordered);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_rate_limits_throughput() {
    let (target, mut got, sink) = udp_sink().await;
    let link = Link {
        rate: Some("2mbit".into()),
        ..Link::default()
    };
    let (r, _rx) = relay(spec(Transport::Udp, "other", target, link)).await;
    let c = client_for(&r).await;
    let start = Instant::now();
    for _ in 0..60 {
        c.send(&[0x5a; 1000]).await.unwrap();
    }
    let got = collect(&mut got, Duration::from_millis(500)).await;
    r.stop().await;
    sink.abort();
    assert_eq!(got.len(), 60);
    // 60 000 bytes at 250 000 bytes/s, minus a 1514-byte burst: 0.234 s.
    let took = got.last().unwrap().0 - start;
    assert!(took >= Duration::from_millis(220), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_target_listening_late() {
    // A port with nobody behind it yet: the first datagram draws an ICMP error.
    let probe = UdpSocket::bind(local()).await.unwrap();
    let target = probe.local_addr().unwrap();
    drop(probe);
    let (r, _rx) = relay(spec(Transport::Udp, "minip", target, Link::default())).await;
    let c = client_for(&r).await;
    c.send(&minip(1, 0, b"early")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let server = UdpSocket::bind(target).await.unwrap();
    c.send(&minip(1, 1, b"late")).await.unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = timeout(Duration::from_secs(5), server.recv_from(&mut buf))
        .await
        .expect("the second datagram arrives")
        .unwrap();
    assert_eq!(seq_of(&buf[..n]), 1);
    server.send_to(&buf[..n], from).await.unwrap();
    let n = timeout(Duration::from_secs(5), c.recv(&mut buf))
        .await
        .expect("the reply comes back")
        .unwrap();
    assert_eq!(seq_of(&buf[..n]), 1);
    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minip_events_name_the_services_and_decode() {
    // A MinIP server: PONG for every well-formed PING, silence otherwise.
    let s = UdpSocket::bind(local()).await.unwrap();
    let target = s.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = s.recv_from(&mut buf).await {
            let d = &buf[..n];
            if n >= 7 && d[0] == 1 {
                let mut pong = d.to_vec();
                pong[0] = 2;
                let _ = s.send_to(&pong, from).await;
            }
        }
    });
    let (r, mut rx) = relay(LinkSpec {
        protocol: "minip".into(),
        transport: Transport::Udp,
        client: "minip_tester".into(),
        server: "ping_pong".into(),
        target,
        link: Link::default(),
        key_logs: vec![],
    })
    .await;
    let c = client_for(&r).await;
    let ping = minip(1, 3, b"abcdefgh");
    c.send(&ping).await.unwrap();
    let mut buf = [0u8; 64];
    timeout(Duration::from_secs(5), c.recv(&mut buf))
        .await
        .unwrap()
        .unwrap();
    c.send(&[1, 0, 0, 0, 4]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    r.stop().await;
    server.abort();

    let events = drain(&mut rx);
    check_pairs(&events);
    let sent = messages(&events, SENT);
    assert_eq!(sent.len(), 3);
    let m: Vec<_> = sent.iter().map(|e| e.message.clone().unwrap()).collect();
    assert_eq!(
        (m[0].from.as_str(), m[0].to.as_str(), m[0].summary.as_str()),
        ("minip_tester", "ping_pong", "PING seq=3 len=8")
    );
    assert_eq!(m[0].protocol, "minip");
    assert_eq!(m[0].bytes, 15);
    assert_eq!(m[0].hex.as_deref(), Some("010000000300086162636465666768"));
    assert_eq!(
        (m[1].from.as_str(), m[1].to.as_str(), m[1].summary.as_str()),
        ("ping_pong", "minip_tester", "PONG seq=3 len=8")
    );
    assert_eq!(m[2].summary, "malformed (5 bytes)");
    assert_eq!((m[0].id, m[1].id, m[2].id), (Some(1), Some(2), Some(3)));
    let delivered = messages(&events, DELIVERED);
    assert_eq!(
        delivered.len(),
        3,
        "the malformed datagram is delivered too"
    );
    for e in events.iter().filter(|e| e.kind == Kind::Message) {
        assert_eq!(e.source, "link");
    }
}

/// Deterministic pseudo-random bytes.
fn stream_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn hash(b: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    h.write(b);
    h.finish()
}

/// A TCP server that echoes each connection until the client half-closes, then closes.
async fn tcp_echo() -> (SocketAddr, JoinHandle<()>) {
    let l = TcpListener::bind(local()).await.unwrap();
    let addr = l.local_addr().unwrap();
    let h = tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
                let _ = w.shutdown().await;
            });
        }
    });
    (addr, h)
}

/// Writes `data` through the relay to an echo server and reads back until end of stream.
async fn tcp_round_trip(relay: SocketAddr, data: &[u8]) -> Vec<u8> {
    let s = TcpStream::connect(relay).await.unwrap();
    let (mut r, mut w) = s.into_split();
    let out = data.to_vec();
    let writer = tokio::spawn(async move {
        for chunk in out.chunks(100_000) {
            w.write_all(chunk).await.unwrap();
        }
        w.shutdown().await.unwrap();
        w
    });
    let mut back = Vec::with_capacity(data.len());
    timeout(Duration::from_secs(60), r.read_to_end(&mut back))
        .await
        .expect("the echo ends")
        .unwrap();
    drop(writer.await.unwrap());
    back
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_stream_is_exact_with_delay() {
    let (target, echo) = tcp_echo().await;
    let link = Link {
        delay_ms: 10.0,
        jitter_ms: 5.0,
        // Ignored for TCP (a warning says so): the stream must stay intact.
        loss: 0.2,
        duplicate: 0.2,
        reorder: 0.2,
        ..Link::default()
    };
    let (r, mut rx) = relay(spec(Transport::Tcp, "http", target, link)).await;
    let data = stream_bytes(6 << 20, 42);
    let back = tcp_round_trip(r.local_addr(), &data).await;
    let stats = r.stop().await;
    echo.abort();
    assert_eq!(back.len(), data.len());
    assert_eq!(hash(&back), hash(&data));
    let (c2s, s2c) = (stats.client_to_server, stats.server_to_client);
    assert_eq!(c2s.received_bytes, data.len() as u64);
    assert_eq!(c2s.delivered_bytes, data.len() as u64);
    assert_eq!(s2c.delivered_bytes, data.len() as u64);
    assert_eq!(c2s.lost + c2s.duplicated + c2s.reordered, 0);

    let events = drain(&mut rx);
    check_pairs(&events);
    assert!(
        events
            .iter()
            .any(|e| e.kind == Kind::Log && e.text.contains("UDP only"))
    );
    for dir in ["client", "server"] {
        let delivered: Vec<&Event> = messages(&events, DELIVERED)
            .into_iter()
            .filter(|e| e.message.as_ref().unwrap().from == dir)
            .collect();
        let bytes: u64 = delivered
            .iter()
            .map(|e| u64::from(e.message.as_ref().unwrap().bytes))
            .sum();
        assert_eq!(bytes, data.len() as u64);
        // Chunks are delivered in the order they were read, each at least 5 ms late.
        let sent: Vec<u64> = delivered.iter().map(|e| data_u64(e, "sent_us")).collect();
        assert!(sent.windows(2).all(|w| w[0] <= w[1]));
        assert!(delivered.iter().all(|e| data_u64(e, "delay_us") >= 5_000));
        assert!(delivered.iter().all(|e| {
            e.message
                .as_ref()
                .unwrap()
                .summary
                .ends_with("bytes of body")
        }));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_stream_is_exact_without_impairment() {
    let (target, echo) = tcp_echo().await;
    let (r, _rx) = relay(spec(Transport::Tcp, "other", target, Link::default())).await;
    let data = stream_bytes(8 << 20, 7);
    let back = tcp_round_trip(r.local_addr(), &data).await;
    let stats = r.stop().await;
    echo.abort();
    assert_eq!(hash(&back), hash(&data));
    assert_eq!(back.len(), data.len());
    assert_eq!(stats.flows, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_concurrent_connections_stay_separate() {
    let (target, echo) = tcp_echo().await;
    let (r, _rx) = relay(spec(Transport::Tcp, "other", target, Link::default())).await;
    let addr = r.local_addr();
    let clients: Vec<_> = (0..6u64)
        .map(|i| {
            tokio::spawn(async move {
                let data = stream_bytes(1 << 20, 100 + i);
                let back = tcp_round_trip(addr, &data).await;
                (hash(&back), hash(&data), back.len())
            })
        })
        .collect();
    for c in clients {
        let (got, want, len) = c.await.unwrap();
        assert_eq!(len, 1 << 20);
        assert_eq!(got, want);
    }
    let stats = r.stop().await;
    echo.abort();
    assert_eq!(stats.flows, 6);
    assert_eq!(stats.client_to_server.delivered_bytes, 6 << 20);
    assert_eq!(stats.server_to_client.delivered_bytes, 6 << 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_http_summaries_and_rate() {
    // An HTTP server answering one request with 300 kB.
    let l = TcpListener::bind(local()).await.unwrap();
    let target = l.local_addr().unwrap();
    let body = 300_000usize;
    let server = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut req = [0u8; 1024];
        let _ = s.read(&mut req).await.unwrap();
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {body}\r\n\r\n");
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(&vec![b'x'; body]).await.unwrap();
        s.shutdown().await.unwrap();
    });
    let link = Link {
        rate: Some("8mbit".into()),
        ..Link::default()
    };
    let (r, mut rx) = relay(LinkSpec {
        protocol: "http".into(),
        transport: Transport::Tcp,
        client: "http_conformance".into(),
        server: "nginx".into(),
        target,
        link,
        key_logs: vec![],
    })
    .await;
    let mut s = TcpStream::connect(r.local_addr()).await.unwrap();
    let start = Instant::now();
    s.write_all(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut resp = Vec::new();
    timeout(Duration::from_secs(30), s.read_to_end(&mut resp))
        .await
        .unwrap()
        .unwrap();
    let took = start.elapsed();
    r.stop().await;
    server.await.unwrap();
    assert!(resp.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert!(resp.len() > body);
    // 300 kB at 1 MB/s.
    assert!(took >= Duration::from_millis(280), "{took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    let events = drain(&mut rx);
    check_pairs(&events);
    let sent = messages(&events, SENT);
    let first = sent[0].message.as_ref().unwrap();
    assert_eq!(
        (first.from.as_str(), first.to.as_str()),
        ("http_conformance", "nginx")
    );
    assert_eq!(first.summary, "GET /index.html HTTP/1.1");
    let reply = sent
        .iter()
        .find(|e| e.message.as_ref().unwrap().from == "nginx")
        .unwrap();
    assert_eq!(reply.message.as_ref().unwrap().summary, "HTTP/1.1 200 OK");
    // With a rate, chunks are about 10 ms worth (10 kB at 1 MB/s).
    assert!(
        sent.iter()
            .all(|e| e.message.as_ref().unwrap().bytes <= 10_000)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_zero_copy_path_summarises_each_chunk() {
    // Without delay or rate, Linux relays with splice(2) and peeks at each chunk's start.
    let l = TcpListener::bind(local()).await.unwrap();
    let target = l.local_addr().unwrap();
    let body = 200_000usize;
    let server = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut req = Vec::new();
        while !req.ends_with(b"\r\n\r\n") {
            let mut b = [0u8; 1];
            s.read_exact(&mut b).await.unwrap();
            req.push(b[0]);
        }
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {body}\r\n\r\n");
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(&vec![b'y'; body]).await.unwrap();
        s.shutdown().await.unwrap();
        req
    });
    let (r, mut rx) = relay(spec(Transport::Tcp, "http", target, Link::default())).await;
    let mut s = TcpStream::connect(r.local_addr()).await.unwrap();
    let request = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "p".repeat(100));
    s.write_all(request.as_bytes()).await.unwrap();
    let mut resp = Vec::new();
    timeout(Duration::from_secs(30), s.read_to_end(&mut resp))
        .await
        .unwrap()
        .unwrap();
    let stats = r.stop().await;
    assert_eq!(server.await.unwrap(), request.as_bytes());
    assert!(resp.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert!(resp.ends_with(&[b'y'; 100]));
    let events = drain(&mut rx);
    check_pairs(&events);
    let sent = messages(&events, SENT);
    let m = sent[0].message.as_ref().unwrap();
    assert_eq!(m.summary, format!("GET /{} HTTP/1.1", "p".repeat(100)));
    assert_eq!(m.bytes as usize, request.len());
    assert_eq!(
        m.hex.as_deref(),
        Some("474554202f707070707070707070707070707070707070707070707070707070")
    );
    let replies: Vec<_> = sent
        .iter()
        .map(|e| e.message.as_ref().unwrap())
        .filter(|m| m.from == "server")
        .collect();
    assert_eq!(replies[0].summary, "HTTP/1.1 200 OK");
    let total: usize = replies.iter().map(|m| m.bytes as usize).sum();
    assert_eq!(total, resp.len());
    assert_eq!(stats.server_to_client.delivered_bytes as usize, resp.len());
    for m in &replies[1..] {
        assert_eq!(m.summary, format!("{} bytes of body", m.bytes));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_target_down_closes_the_client() {
    let probe = TcpListener::bind(local()).await.unwrap();
    let target = probe.local_addr().unwrap();
    drop(probe);
    let (r, mut rx) = relay(spec(Transport::Tcp, "http", target, Link::default())).await;
    let mut s = TcpStream::connect(r.local_addr()).await.unwrap();
    let mut buf = [0u8; 16];
    let n = timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("the relay closes the connection")
        .unwrap_or(0);
    assert_eq!(n, 0);
    r.stop().await;
    let events = drain(&mut rx);
    assert!(
        events
            .iter()
            .any(|e| e.kind == Kind::Log && e.text.contains("cannot connect")),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_impairments_are_refused() {
    let (events, _rx) = tx::channel(Clock::start());
    let link = Link {
        loss: 2.0,
        ..Link::default()
    };
    let target: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let e = Relay::start(spec(Transport::Udp, "minip", target, link), local(), events)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
}

async fn alive_tasks_settle(expected: usize) -> usize {
    let m = tokio::runtime::Handle::current().metrics();
    for _ in 0..100 {
        if m.num_alive_tasks() == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    m.num_alive_tasks()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_leaves_no_task_or_socket() {
    let (udp_target, udp_srv) = udp_echo().await;
    let (tcp_target, tcp_srv) = tcp_echo().await;
    let before = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();

    // UDP with a delay (delivery tasks) and two clients (two upstream sockets).
    let link = Link {
        delay_ms: 5.0,
        ..Link::default()
    };
    let (r, _rx) = relay(spec(Transport::Udp, "minip", udp_target, link.clone())).await;
    let addr = r.local_addr();
    for i in 0..2u32 {
        let c = client_for(&r).await;
        c.send(&minip(1, i, b"x")).await.unwrap();
        let mut buf = [0u8; 64];
        timeout(Duration::from_secs(5), c.recv(&mut buf))
            .await
            .unwrap()
            .unwrap();
    }
    let during = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    assert!(
        during > before,
        "{during} tasks while relaying, {before} before"
    );
    let stats = r.stop().await;
    assert_eq!(stats.flows, 2);
    assert_eq!(alive_tasks_settle(before).await, before);
    UdpSocket::bind(addr)
        .await
        .expect("the UDP port is free again");

    // TCP with a connection still open.
    let (r, _rx) = relay(spec(Transport::Tcp, "http", tcp_target, link)).await;
    let addr = r.local_addr();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"hello").await.unwrap();
    let mut buf = [0u8; 5];
    timeout(Duration::from_secs(5), s.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    r.stop().await;
    assert_eq!(alive_tasks_settle(before).await, before);
    let n = timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("the relay closed the connection")
        .unwrap_or(0);
    assert_eq!(n, 0);
    TcpListener::bind(addr)
        .await
        .expect("the TCP port is free again");

    // TCP without impairment (the zero-copy path), a connection still open.
    let (r, _rx) = relay(spec(Transport::Tcp, "http", tcp_target, Link::default())).await;
    let mut s = TcpStream::connect(r.local_addr()).await.unwrap();
    s.write_all(b"hello").await.unwrap();
    timeout(Duration::from_secs(5), s.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    r.stop().await;
    assert_eq!(alive_tasks_settle(before).await, before);
    let n = timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("the relay closed the connection")
        .unwrap_or(0);
    assert_eq!(n, 0);

    // Dropping a relay without stop also ends its tasks.
    let (r, _rx) = relay(spec(Transport::Udp, "minip", udp_target, Link::default())).await;
    drop(r);
    assert_eq!(alive_tasks_settle(before).await, before);
    udp_srv.abort();
    tcp_srv.abort();
}
