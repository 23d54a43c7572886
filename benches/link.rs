//! Link relay overhead: the same traffic directly over loopback and through a relay with no
//! impairment, in one run.
//!
//! * UDP request/response: median round-trip latency added by the relay (target ≤ 50 µs),
//!   beside socat as the relay in the same run when socat is installed (issue 12: panther's
//!   relay ≤ socat's median).
//! * TCP bulk: throughput through the relay relative to direct (target ≥ 80 %).
//!
//! Each is measured twice: with threads free to run anywhere (what a run sees), and with
//! every thread (client, server, relay) pinned to one CPU. On a VM, waking a thread on an idle
//! vCPU costs tens of µs, and the direct path pays it or not depending on where the scheduler
//! happens to put its two threads; pinned, both paths are on one CPU and the difference is the
//! relay's own cost.
//!
//! `cargo bench --bench link` prints the figures; without `--bench` (as `cargo test
//! --all-targets` runs it) it does a small smoke run.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use panther::env::network::link::{LinkSpec, Relay, Transport};
use panther::events::{Clock, tx};
use panther::experiment::model::Link;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (rounds, per_round) = if full { (20, 1000) } else { (2, 100) };
    let (runs, bytes) = if full {
        (5, 1usize << 30)
    } else {
        (1, 8 << 20)
    };
    for pinned in [None, Some(0)] {
        match pinned {
            None => println!("== threads unpinned"),
            Some(cpu) => {
                println!("== every thread pinned to CPU {cpu}");
                pin(cpu);
            }
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .on_thread_start(move || {
                if let Some(cpu) = pinned {
                    pin(cpu);
                }
            })
            .build()
            .expect("runtime");
        udp_latency(&rt, pinned, rounds, per_round);
        tcp_throughput(&rt, pinned, runs, bytes);
    }
}

/// Pins the calling thread to one CPU.
fn pin(cpu: usize) {
    use nix::libc;
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET and sched_setaffinity only
    // touch that local set.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn spawn_pinned<F: FnOnce() + Send + 'static>(cpu: Option<usize>, f: F) {
    thread::spawn(move || {
        if let Some(c) = cpu {
            pin(c);
        }
        f()
    });
}

/// Starts a relay whose events are drained (and counted) as the orchestrator would.
fn start_relay(
    rt: &tokio::runtime::Runtime,
    transport: Transport,
    target: SocketAddr,
) -> (Relay, tokio::task::JoinHandle<u64>) {
    let (events, mut rx) = tx::channel(Clock::start());
    let drain = rt.spawn(async move {
        let mut n = 0;
        while rx.recv().await.is_some() {
            n += 1;
        }
        n
    });
    let spec = LinkSpec {
        protocol: "minip".into(),
        transport,
        client: "client".into(),
        server: "server".into(),
        target,
        link: Link::default(),
        key_logs: vec![],
    };
    let relay = rt
        .block_on(Relay::start(spec, "127.0.0.1:0".parse().unwrap(), events))
        .expect("relay");
    (relay, drain)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn udp_latency(rt: &tokio::runtime::Runtime, cpu: Option<usize>, rounds: usize, n: usize) {
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = server.local_addr().unwrap();
    spawn_pinned(cpu, move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = server.recv_from(&mut buf) {
            let _ = server.send_to(&buf[..n], from);
        }
    });
    let (relay, drain) = start_relay(rt, Transport::Udp, target);
    let direct = UdpSocket::bind("127.0.0.1:0").unwrap();
    direct.connect(target).unwrap();
    let relayed = UdpSocket::bind("127.0.0.1:0").unwrap();
    relayed.connect(relay.local_addr()).unwrap();
    let socat = Socat::start(target);
    let via_socat = socat.as_ref().map(|s| {
        let u = UdpSocket::bind("127.0.0.1:0").unwrap();
        u.connect(s.listen).unwrap();
        u
    });
    for s in [&direct, &relayed].into_iter().chain(via_socat.as_ref()) {
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    }
    // A MinIP PING with 8 bytes of payload.
    let ping = [1u8, 0, 0, 0, 1, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8];
    let round_trip = |s: &UdpSocket| {
        let mut buf = [0u8; 64];
        let t = Instant::now();
        s.send(&ping).unwrap();
        s.recv(&mut buf).expect("echo");
        t.elapsed()
    };
    // socat's first datagram opens its path to the server; give it time to answer.
    if let Some(u) = &via_socat {
        u.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        round_trip(u);
        u.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    }
    for _ in 0..200 {
        round_trip(&direct);
        round_trip(&relayed);
        via_socat.as_ref().map(round_trip);
    }
    let (mut d, mut r, mut so) = (Vec::new(), Vec::new(), Vec::new());
    // Alternate blocks so all see the same machine conditions.
    for _ in 0..rounds {
        d.extend((0..n).map(|_| round_trip(&direct)));
        r.extend((0..n).map(|_| round_trip(&relayed)));
        if let Some(u) = &via_socat {
            so.extend((0..n).map(|_| round_trip(u)));
        }
    }
    drop(socat);
    d.sort();
    r.sort();
    so.sort();
    let stats = rt.block_on(relay.stop());
    let events = rt.block_on(drain).unwrap();
    let us = |x: Duration| x.as_secs_f64() * 1e6;
    println!("UDP request/response, {} round trips each", d.len());
    for (name, v) in [("direct", &d), ("relay", &r), ("socat", &so)] {
        if v.is_empty() {
            println!("  socat   not installed: no peer relay measured");
            continue;
        }
        println!(
            "  {name:<7} median {:7.1} µs   p90 {:7.1} µs   p99 {:7.1} µs",
            us(percentile(v, 0.5)),
            us(percentile(v, 0.9)),
            us(percentile(v, 0.99))
        );
    }
    println!(
        "  added   median {:7.1} µs   (target ≤ 50 µs)   [{} datagrams relayed, {events} events]",
        us(percentile(&r, 0.5)) - us(percentile(&d, 0.5)),
        stats.client_to_server.delivered + stats.server_to_client.delivered,
    );
}

/// socat as a UDP relay to `target`, the peer the relay is measured against; killed on drop.
struct Socat {
    child: std::process::Child,
    listen: SocketAddr,
}

impl Socat {
    fn start(target: SocketAddr) -> Option<Socat> {
        let port = UdpSocket::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = std::process::Command::new("socat")
            .arg(format!("UDP4-LISTEN:{port},bind=127.0.0.1,reuseaddr"))
            .arg(format!("UDP4:{target}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        // Until it listens.
        thread::sleep(Duration::from_millis(200));
        Some(Socat {
            child,
            listen: SocketAddr::from(([127, 0, 0, 1], port)),
        })
    }
}

impl Drop for Socat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time used by this process so far (user + system), in seconds.
fn cpu_seconds() -> f64 {
    use nix::libc;
    // SAFETY: getrusage fills the zeroed struct we pass.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Sends `bytes` to `to` and waits for the server's byte count: (bytes per second, CPU
/// seconds per GB).
fn bulk(to: SocketAddr, bytes: usize) -> (f64, f64) {
    let chunk = vec![0x5au8; 256 * 1024];
    let mut s = TcpStream::connect(to).unwrap();
    let cpu = cpu_seconds();
    let t = Instant::now();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len());
        s.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    s.shutdown(Shutdown::Write).unwrap();
    let mut count = [0u8; 8];
    s.read_exact(&mut count).unwrap();
    let took = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    assert_eq!(u64::from_be_bytes(count), bytes as u64);
    (bytes as f64 / took, cpu / (bytes as f64 / 1e9))
}

fn tcp_throughput(rt: &tokio::runtime::Runtime, cpu: Option<usize>, runs: usize, bytes: usize) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap();
    spawn_pinned(cpu, move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            spawn_pinned(cpu, move || {
                let mut buf = vec![0u8; 256 * 1024];
                let mut total = 0u64;
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    total += n as u64;
                }
                let _ = s.write_all(&total.to_be_bytes());
            });
        }
    });
    let (relay, drain) = start_relay(rt, Transport::Tcp, target);
    bulk(target, bytes / 8);
    bulk(relay.local_addr(), bytes / 8);
    let (mut d, mut r) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        d.push(bulk(target, bytes));
        r.push(bulk(relay.local_addr(), bytes));
    }
    d.sort_by(|a, b| a.0.total_cmp(&b.0));
    r.sort_by(|a, b| a.0.total_cmp(&b.0));
    let stats = rt.block_on(relay.stop());
    let events = rt.block_on(drain).unwrap();
    let (dm, rm) = (d[d.len() / 2], r[r.len() / 2]);
    println!(
        "TCP bulk, {runs} × {} MB each way (median)",
        bytes / 1_000_000
    );
    println!("  direct  {:8.0} MB/s   {:5.2} CPU-s/GB", dm.0 / 1e6, dm.1);
    println!("  relay   {:8.0} MB/s   {:5.2} CPU-s/GB", rm.0 / 1e6, rm.1);
    println!(
        "  ratio   {:8.1} %   (target ≥ 80 %)   [{} segments relayed, {events} events]",
        rm.0 / dm.0 * 100.0,
        stats.client_to_server.delivered
    );
}
