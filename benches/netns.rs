//! The netns link against the physical limit, in one run: the same two-namespace traffic over
//! a direct veth pair and through panther's userspace switch (TAP devices, capture on, events
//! written to events.jsonl as in a run).
//!
//! * TCP bulk: iperf3 (a real peer) for a few seconds each way; targets ≥ 1 Gbit/s and
//!   ≥ 50 % of veth.
//! * UDP request/response: round trips of a 64-byte datagram, p50 and p99; target ≤ 30 µs
//!   added at p50.
//!
//! The veth pair is measured twice: with its default offloads (TSO/GSO: 64 KB "frames") and
//! with them off (wire-sized frames, which is what the link forwards and captures).
//!
//! Needs root and iperf3; `cargo bench --bench netns` prints the figures. Without `--bench`
//! it does a short smoke run.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use panther::env::network::{self, Node, Runner, Topology};
use panther::events::{Bus, Clock};
use panther::plugin::Role;
use panther::plugin::manifest::Transport;
use panther::run::owner::Owner;

fn main() {
    if !nix::unistd::geteuid().is_root() {
        println!("netns bench: skipped (needs root)");
        return;
    }
    if which::which("iperf3").is_err() {
        println!("netns bench: skipped (needs iperf3: apt-get install -y iperf3)");
        return;
    }
    let full = std::env::args().any(|a| a == "--bench");
    let (secs, rounds) = if full { (5, 20_000) } else { (1, 500) };
    println!("== netns link vs veth ({secs} s of TCP, {rounds} UDP round trips each)");

    let veth = Veth::new();
    let a = Path::new("/run/netns").join(&veth.a);
    let b = Path::new("/run/netns").join(&veth.b);
    let direct_tcp = iperf(&veth.a, &veth.b, "10.212.0.1", secs);
    let direct_rr = round_trips(&a, &b, "10.212.0.1".parse().unwrap(), rounds);
    veth.offloads(false);
    let plain_tcp = iperf(&veth.a, &veth.b, "10.212.0.1", secs);
    let plain_rr = round_trips(&a, &b, "10.212.0.1".parse().unwrap(), rounds);
    drop(veth);

    let rt = tokio::runtime::Runtime::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (link_tcp, link_rr, frames, events) = rt.block_on(async {
        let bus = Bus::start(&tmp.path().join("events.jsonl"), Clock::start()).unwrap();
        let mut env = network::open("netns", bus.tx.clone()).unwrap();
        let topo = topology(tmp.path());
        env.up(&topo).await.unwrap();
        let ns = |s: &str| match env.place(s).unwrap().runner {
            Runner::Netns { ns, .. } => ns,
            _ => unreachable!("netns places in namespaces"),
        };
        let (sa, cb) = (ns("server"), ns("client"));
        let server = env.listen("server").unwrap().host.to_string();
        let name = |p: &PathBuf| p.file_name().unwrap().to_str().unwrap().to_string();
        let (sn, cn) = (name(&sa), name(&cb));
        let tcp = tokio::task::spawn_blocking({
            let server = server.clone();
            move || iperf(&sn, &cn, &server, secs)
        })
        .await
        .unwrap();
        let rr = tokio::task::spawn_blocking(move || {
            round_trips(&sa, &cb, server.parse().unwrap(), rounds)
        })
        .await
        .unwrap();
        env.down().await;
        let store = bus.finish().await.unwrap();
        let pcap = std::fs::metadata(tmp.path().join("capture.pcap"))
            .map(|m| m.len())
            .unwrap_or(0);
        (tcp, rr, pcap, store.len())
    });

    println!("| path | TCP Gbit/s | UDP RTT p50 µs | p99 µs |");
    println!("|---|---|---|---|");
    for (what, tcp, rr) in [
        ("veth pair, default offloads", direct_tcp, direct_rr),
        ("veth pair, offloads off", plain_tcp, plain_rr),
        ("panther netns link, capture on", link_tcp, link_rr),
    ] {
        println!(
            "| {what} | {:.2} | {:.1} | {:.1} |",
            tcp / 1e9,
            rr.0.as_secs_f64() * 1e6,
            rr.1.as_secs_f64() * 1e6
        );
    }
    println!(
        "link / veth: TCP {:.0} % (of offloads-off veth: {:.0} %); UDP p50 added {:.1} µs; \
         capture {:.1} MB, {events} events",
        100.0 * link_tcp / direct_tcp,
        100.0 * link_tcp / plain_tcp,
        (link_rr.0.as_secs_f64() - direct_rr.0.as_secs_f64()) * 1e6,
        frames as f64 / 1e6
    );
}

fn topology(dir: &Path) -> Topology {
    let node = |name: &str, role, target: Option<&str>| Node {
        name: name.into(),
        role,
        protocol: "bench".into(),
        transport: Transport::Tcp,
        target: target.map(String::from),
        port: Some(5201),
        publish: Vec::new(),
        plugin: None,
    };
    Topology {
        owner: Owner::current(),
        index: 1,
        label: "bench".into(),
        dir: dir.to_path_buf(),
        services: vec![
            node("server", Role::Server, None),
            node("client", Role::Client, Some("server")),
        ],
        link: None,
        links: Default::default(),
        capture: true,
        config: Default::default(),
    }
}

/// iperf3 from namespace `client` to a server in namespace `server`; bits per second.
fn iperf(server: &str, client: &str, addr: &str, secs: u32) -> f64 {
    let mut s = Command::new("ip")
        .args(["netns", "exec", server, "iperf3", "-s", "-1", "-B", addr])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let out = Command::new("ip")
        .args(["netns", "exec", client, "iperf3", "-c", addr, "-J"])
        .args(["-t", &secs.to_string()])
        .output()
        .unwrap();
    let _ = s.wait();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    j["end"]["sum_received"]["bits_per_second"]
        .as_f64()
        .unwrap_or(0.0)
}

/// Round trips of a 64-byte datagram between a thread in `a` (echo) and one in `b`; p50, p99.
fn round_trips(a: &Path, b: &Path, server: IpAddr, n: usize) -> (Duration, Duration) {
    let addr = SocketAddr::new(server, 7007);
    let a = a.to_path_buf();
    let echo = std::thread::spawn(move || {
        enter(&a);
        let s = UdpSocket::bind(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut buf = [0u8; 2048];
        while let Ok((len, peer)) = s.recv_from(&mut buf) {
            if len == 1 {
                break;
            }
            let _ = s.send_to(&buf[..len], peer);
        }
    });
    std::thread::sleep(Duration::from_millis(100));
    let b = b.to_path_buf();
    let times = std::thread::spawn(move || {
        enter(&b);
        let c = UdpSocket::bind("0.0.0.0:0").unwrap();
        c.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let mut buf = [0u8; 2048];
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            c.send_to(&[7u8; 64], addr).unwrap();
            if c.recv_from(&mut buf).is_ok() {
                times.push(t.elapsed());
            }
        }
        let _ = c.send_to(&[0], addr);
        times
    })
    .join()
    .unwrap();
    echo.join().unwrap();
    let mut t = times;
    t.sort();
    let p = |q: f64| t[((t.len() as f64 * q) as usize).min(t.len() - 1)];
    (p(0.5), p(0.99))
}

fn enter(ns: &Path) {
    let f = std::fs::File::open(ns).unwrap();
    nix::sched::setns(f.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
}

/// Two namespaces joined by a veth pair: the direct path.
struct Veth {
    a: String,
    b: String,
}

impl Veth {
    fn new() -> Veth {
        let id = std::process::id();
        let v = Veth {
            a: format!("pbench-a-{id}"),
            b: format!("pbench-b-{id}"),
        };
        ip(&["netns", "add", &v.a]);
        ip(&["netns", "add", &v.b]);
        ip(&[
            "link", "add", "pbva", "netns", &v.a, "type", "veth", "peer", "pbvb", "netns", &v.b,
        ]);
        for (ns, dev, addr) in [
            (&v.a, "pbva", "10.212.0.1/24"),
            (&v.b, "pbvb", "10.212.0.2/24"),
        ] {
            ip(&["-n", ns, "addr", "add", addr, "dev", dev]);
            ip(&["-n", ns, "link", "set", dev, "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        v
    }

    fn offloads(&self, on: bool) {
        let state = if on { "on" } else { "off" };
        for (ns, dev) in [(&self.a, "pbva"), (&self.b, "pbvb")] {
            for feature in ["tso", "gso", "gro", "tx-udp-segmentation"] {
                let _ = Command::new("ip")
                    .args(["netns", "exec", ns, "ethtool", "-K", dev, feature, state])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.a])
            .status();
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.b])
            .status();
    }
}

fn ip(args: &[&str]) {
    let ok = Command::new("ip").args(args).status().unwrap().success();
    assert!(ok, "ip {args:?}");
}
