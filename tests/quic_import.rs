//! `panther import` on real QUIC traffic: ngtcp2's gtlsserver and gtlsclient exchange a file
//! on a loopback, dumpcap captures it, and the import must agree with tshark (same packets:
//! count, types, numbers) — in a namespace whose loopback does not offload UDP segmentation,
//! and on the host's loopback, where GSO super-frames must be split. Bad input (garbage, a
//! truncated capture, an undecryptable one, a key log for other connections, a qlog that is
//! not JSON) exits 2 and leaves no folder.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{needs, panther, root_or_skip, tool_or_skip};

/// A process started for the test, stopped (SIGINT, then SIGKILL) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.0.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A network namespace for the test, deleted when dropped.
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn cmd(ns: Option<&str>, prog: &str) -> Command {
    match ns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, prog]);
            c
        }
        None => Command::new(prog),
    }
}

fn ok(c: &mut Command) {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tools(test: &str) -> bool {
    root_or_skip(test)
        && [
            "dumpcap",
            "tshark",
            "gtlsserver",
            "gtlsclient",
            "ip",
            "ethtool",
            "openssl",
        ]
        .iter()
        .all(|t| tool_or_skip(test, t))
}

/// A free UDP port on 127.0.0.1 (the namespace's loopback is empty anyway).
fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Exchange {
    pcap: PathBuf,
    /// The same traffic captured on `any` (Linux cooked headers), in a namespace only.
    pcap_any: Option<PathBuf>,
    keys: PathBuf,
    qlog_client: PathBuf,
    qlog_server: PathBuf,
}

/// ngtcp2 client downloads a 300 kB file from ngtcp2 server over 127.0.0.1 while dumpcap
/// captures; in `ns` when given (created with UDP segmentation offload off on its loopback).
fn exchange(dir: &Path, ns: Option<&str>) -> Exchange {
    let www = dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    let blob: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(www.join("blob.bin"), &blob).unwrap();
    let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
    ok(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    let (qc, qs, dl) = (
        dir.join("qlog-client"),
        dir.join("qlog-server"),
        dir.join("dl"),
    );
    for d in [&qc, &qs, &dl] {
        std::fs::create_dir_all(d).unwrap();
    }
    let port = free_port().to_string();
    let pcap = dir.join("trace.pcapng");
    let keys = dir.join("keys.log");
    let cap_err = dir.join("dumpcap.err");
    let dumpcap = Proc(
        cmd(ns, "dumpcap")
            .args(["-q", "-i", "lo", "-f", &format!("udp port {port}"), "-w"])
            .arg(&pcap)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&cap_err).unwrap())
            .spawn()
            .unwrap(),
    );
    let pcap_any = ns.map(|_| dir.join("trace-any.pcapng"));
    let any_err = dir.join("dumpcap-any.err");
    let dumpcap_any = pcap_any.as_ref().map(|p| {
        Proc(
            cmd(ns, "dumpcap")
                .args(["-q", "-i", "any", "-f", &format!("udp port {port}"), "-w"])
                .arg(p)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&any_err).unwrap())
                .spawn()
                .unwrap(),
        )
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let started = |f: &Path| {
        std::fs::read_to_string(f)
            .unwrap_or_default()
            .contains("Capturing on")
    };
    while !started(&cap_err) || (dumpcap_any.is_some() && !started(&any_err)) {
        assert!(
            Instant::now() < deadline,
            "dumpcap did not start: {}",
            std::fs::read_to_string(&cap_err).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let server = Proc(
        cmd(ns, "gtlsserver")
            .env("SSLKEYLOGFILE", &keys)
            .arg("-q")
            .arg("-d")
            .arg(&www)
            .arg(format!("--qlog-dir={}", qs.display()))
            .args(["127.0.0.1", &port])
            .arg(&key)
            .arg(&cert)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Ready when a client gets the file (gtlsclient fails fast while the port is closed).
    let url = format!("https://localhost:{port}/blob.bin");
    let mut done = false;
    for _ in 0..20 {
        let st = cmd(ns, "gtlsclient")
            .env("SSLKEYLOGFILE", &keys)
            .args(["-q", "--exit-on-all-streams-close", "--timeout=5s"])
            .arg(format!("--qlog-dir={}", qc.display()))
            .arg(format!("--download={}", dl.display()))
            .args(["127.0.0.1", &port, &url])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        if st.success() && std::fs::read(dl.join("blob.bin")).is_ok_and(|b| b == blob) {
            done = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(done, "gtlsclient never downloaded the file");
    std::thread::sleep(Duration::from_millis(300));
    drop(server);
    std::thread::sleep(Duration::from_millis(300));
    drop(dumpcap);
    drop(dumpcap_any);
    let qlog = |d: &Path| {
        std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "sqlog"))
    };
    Exchange {
        pcap,
        pcap_any,
        keys,
        qlog_client: qlog(&qc).expect("client qlog"),
        qlog_server: qlog(&qs).expect("server qlog"),
    }
}

/// tshark's packets, in capture order: (type, packet number) per QUIC packet.
fn tshark_packets(pcap: &Path, keys: &Path) -> Vec<(String, Option<u64>)> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .arg("-o")
        .arg(format!("tls.keylog_file:{}", keys.display()))
        .args([
            "-T",
            "ek",
            "-e",
            "quic.header_form",
            "-e",
            "quic.long.packet_type",
            "-e",
            "quic.packet_number",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut got = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let Some(layers) = v.get("layers") else {
            continue;
        };
        let list = |k: &str| -> Vec<String> {
            layers
                .get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let (forms, longs, pns) = (
            list("quic_header_form"),
            list("quic_long_packet_type"),
            list("quic_packet_number"),
        );
        let (mut l, mut n) = (longs.iter(), pns.iter());
        for f in forms {
            let ty = if f == "1" || f == "True" {
                match l.next().map(String::as_str) {
                    Some("0") => "Initial",
                    Some("1") => "0-RTT",
                    Some("2") => "Handshake",
                    Some("3") => "Retry",
                    other => panic!("long packet type {other:?}"),
                }
            } else {
                "1-RTT"
            };
            got.push((ty.to_string(), n.next().and_then(|x| x.parse().ok())));
        }
    }
    got
}

fn import(args: &[&std::ffi::OsStr], out: &Path) -> std::process::Output {
    panther()
        .arg("import")
        .args(args)
        .arg("--output")
        .arg(out)
        .output()
        .unwrap()
}

fn one_folder(root: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

fn messages(dir: &Path) -> Vec<Value> {
    support::events(dir)
        .into_iter()
        .filter(|e| e["kind"] == "message")
        .collect()
}

fn ours(dir: &Path) -> Vec<(String, Option<u64>)> {
    messages(dir)
        .iter()
        .filter(|e| e["source"] == "capture")
        .map(|e| {
            (
                e["data"]["packet_type"].as_str().unwrap().to_string(),
                e["data"]["packet_number"].as_u64(),
            )
        })
        .collect()
}

#[test]
fn import_matches_tshark_without_gso_and_reads_qlog() {
    const T: &str = "import_matches_tshark_without_gso_and_reads_qlog";
    if !tools(T) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let ns = Netns(format!("pqwire-{}", std::process::id()));
    ok(Command::new("ip").args(["netns", "add", &ns.0]));
    ok(Command::new("ip").args(["netns", "exec", &ns.0, "ip", "link", "set", "lo", "up"]));
    ok(Command::new("ip").args([
        "netns",
        "exec",
        &ns.0,
        "ethtool",
        "-K",
        "lo",
        "tx-udp-segmentation",
        "off",
    ]));
    let x = exchange(tmp.path(), Some(&ns.0));
    drop(ns);

    let out_root = tmp.path().join("out");
    let o = import(
        &[
            x.pcap.as_os_str(),
            "--keylog".as_ref(),
            x.keys.as_os_str(),
            "--name".as_ref(),
            "ngtcp2".as_ref(),
        ],
        &out_root,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = one_folder(&out_root);
    let mine = ours(&dir);
    let theirs = tshark_packets(&x.pcap, &x.keys);
    assert!(
        theirs.len() > 200,
        "a 300 kB transfer is hundreds of packets, tshark saw {}",
        theirs.len()
    );
    assert!(
        theirs.iter().all(|(_, pn)| pn.is_some()),
        "tshark decrypted everything"
    );
    assert_eq!(mine, theirs, "same packets, types and numbers as tshark");
    let msgs = messages(&dir);
    assert!(msgs.iter().all(|e| e["data"]["status"] == "decrypted"));
    let first = &msgs[0];
    assert_eq!(
        first["message"]["to"], "localhost",
        "the server is named by its SNI"
    );
    assert!(
        first["message"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("Initial 0: CRYPTO"),
        "{first}"
    );
    let stream = msgs
        .iter()
        .filter(|e| {
            e["data"]["frame_types"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k == "STREAM")
        })
        .count();
    assert!(
        stream > 100,
        "the download's STREAM frames were decoded ({stream})"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("import.json")).unwrap()).unwrap();
    let conn = &report["connection_list"][0];
    assert_eq!(
        (conn["sni"].as_str(), conn["alpn"][0].as_str()),
        (Some("localhost"), Some("h3")),
        "{conn}"
    );
    assert!(
        conn["cipher_suite"].as_str().unwrap().starts_with("TLS_"),
        "{conn}"
    );
    assert_eq!(conn["in_keylog"], true);
    let rendered = std::fs::read_to_string(dir.join("sequence.mmd")).unwrap();
    assert!(
        rendered.contains("Handshake 0"),
        "sequence.mmd has the packets"
    );
    // panther export reads the folder back.
    let e = panther()
        .args(["export", "--format", "mermaid"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(e.status.success(), "{}", String::from_utf8_lossy(&e.stderr));

    // The same traffic with Linux cooked (SLL) headers, from `-i any`: the same packets.
    let any = x.pcap_any.as_ref().unwrap();
    let out_any = tmp.path().join("out-any");
    let o = import(
        &[any.as_os_str(), "--keylog".as_ref(), x.keys.as_os_str()],
        &out_any,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(ours(&one_folder(&out_any)), tshark_packets(any, &x.keys));

    // A quic-interop-runner log folder: sim/trace_node_left.pcap and keys.log; endpoints are
    // named client and server.
    let qir = tmp.path().join("qir");
    std::fs::create_dir_all(qir.join("sim")).unwrap();
    std::fs::copy(&x.pcap, qir.join("sim/trace_node_left.pcap")).unwrap();
    std::fs::copy(&x.keys, qir.join("keys.log")).unwrap();
    let out_qir = tmp.path().join("out-qir");
    let o = import(&[qir.as_os_str()], &out_qir);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m = messages(&one_folder(&out_qir));
    assert_eq!(m.len(), theirs.len());
    assert_eq!(
        (
            m[0]["message"]["from"].as_str(),
            m[0]["message"]["to"].as_str()
        ),
        (Some("client"), Some("server"))
    );
    assert!(m.iter().all(|e| e["data"]["status"] == "decrypted"));

    // Without a key log (none beside the capture): Initial frames still decode.
    let alone = tmp.path().join("alone");
    std::fs::create_dir(&alone).unwrap();
    let pcap2 = alone.join("trace.pcapng");
    std::fs::copy(&x.pcap, &pcap2).unwrap();
    let out2 = tmp.path().join("out2");
    let o = import(&[pcap2.as_os_str()], &out2);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no key log"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let msgs = messages(&one_folder(&out2));
    assert_eq!(msgs.len(), theirs.len());
    let initials: Vec<&Value> = msgs
        .iter()
        .filter(|e| e["data"]["packet_type"] == "Initial")
        .collect();
    assert!(initials.len() >= 2 && initials.iter().all(|e| e["data"]["status"] == "decrypted"));
    assert!(initials.iter().any(|e| {
        e["data"]["frames"][0]
            .as_str()
            .unwrap()
            .starts_with("CRYPTO 0+")
    }));
    let hs = msgs
        .iter()
        .find(|e| e["data"]["packet_type"] == "Handshake")
        .unwrap();
    assert_eq!(hs["data"]["status"], "undecryptable: no keys");
    assert_eq!(
        hs["message"]["summary"],
        "Handshake: undecryptable: no keys"
    );

    // A key log of other connections: exit 2, nothing written.
    let other = tmp.path().join("other.keys");
    let fake: String = std::fs::read_to_string(&x.keys)
        .unwrap()
        .lines()
        .map(|l| {
            let mut p: Vec<String> = l.split_whitespace().map(str::to_string).collect();
            if p.len() >= 3 {
                p[1] = "00".repeat(32);
            }
            p.join(" ") + "\n"
        })
        .collect();
    std::fs::write(&other, fake).unwrap();
    let out3 = tmp.path().join("out3");
    let o = import(
        &[pcap2.as_os_str(), "--keylog".as_ref(), other.as_os_str()],
        &out3,
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("matches none of the 1 QUIC connection"),
        "{err}"
    );
    assert!(
        std::fs::read_dir(&out3).map_or(true, |mut d| d.next().is_none()),
        "nothing left behind"
    );

    // Both endpoints' qlogs: correlated, every packet arrived.
    let out4 = tmp.path().join("out4");
    let o = import(
        &[x.qlog_client.as_os_str(), x.qlog_server.as_os_str()],
        &out4,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let q = messages(&one_folder(&out4));
    assert!(q.len() > 200, "{}", q.len());
    assert!(q.iter().any(|e| {
        e["message"]["from"] == "client"
            && e["message"]["summary"]
                .as_str()
                .unwrap()
                .starts_with("Initial 0")
    }));
    assert!(q.iter().any(|e| e["message"]["from"] == "server"));
}

#[test]
fn gso_super_frames_on_the_host_loopback_are_split() {
    const T: &str = "gso_super_frames_on_the_host_loopback_are_split";
    if !tools(T) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let x = exchange(tmp.path(), None);
    let frames = Command::new("tshark")
        .arg("-r")
        .arg(&x.pcap)
        .args(["-T", "fields", "-e", "udp.length"])
        .output()
        .unwrap();
    let big = String::from_utf8_lossy(&frames.stdout)
        .lines()
        .filter(|l| l.parse::<u32>().is_ok_and(|n| n > 2000))
        .count();
    if !needs(
        T,
        big > 0,
        "this kernel's loopback did not coalesce UDP segments (no GSO super-frames to split)",
    ) {
        return;
    }
    let out = tmp.path().join("out");
    let o = import(&[x.pcap.as_os_str()], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mine = ours(&one_folder(&out));
    let theirs = tshark_packets(&x.pcap, &x.keys);
    assert!(
        mine.len() > theirs.len(),
        "super-frames became their packets: {} vs tshark's {}",
        mine.len(),
        theirs.len()
    );
    for t in theirs.iter().filter(|(_, pn)| pn.is_some()) {
        assert!(mine.contains(t), "tshark's {t:?} is among ours");
    }
    let msgs = messages(&one_folder(&out));
    assert!(
        msgs.iter().all(|e| e["data"]["status"] == "decrypted"),
        "every segment decrypted"
    );
}

/// A pcap of UDP datagrams over Ethernet on 127.0.0.1 (for inputs no peer made).
fn write_pcap(path: &Path, datagrams: &[(u16, u16, Vec<u8>)]) {
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    let f = std::fs::File::create(path).unwrap();
    let mut w = PcapWriter::with_header(
        f,
        PcapHeader {
            datalink: pcap_file::DataLink::ETHERNET,
            ..Default::default()
        },
    )
    .unwrap();
    for (i, (sport, dport, payload)) in datagrams.iter().enumerate() {
        let b = etherparse::PacketBuilder::ethernet2([0; 6], [0; 6])
            .ipv4([127, 0, 0, 1], [127, 0, 0, 1], 64)
            .udp(*sport, *dport);
        let mut frame = Vec::new();
        b.write(&mut frame, payload).unwrap();
        w.write_packet(&PcapPacket::new(
            Duration::from_millis(i as u64),
            frame.len() as u32,
            &frame,
        ))
        .unwrap();
    }
}

fn refused(inputs: &[&Path], expect: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = panther()
        .arg("import")
        .args(inputs)
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(expect), "{expect:?} not in {err}");
    assert!(
        std::fs::read_dir(&out).map_or(true, |mut d| d.next().is_none()),
        "nothing written"
    );
}

#[test]
fn bad_inputs_exit_2_and_write_nothing() {
    use panther::quic::wire::builder::{LongPacket, build_long};
    use panther::quic::wire::{Frame, PacketKey, PacketType, Payload, Suite, V1, build_initial};
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n);

    std::fs::write(p("garbage.bin"), b"\x00\x01 definitely not a capture").unwrap();
    refused(
        &[&p("garbage.bin")],
        "not a pcap/pcapng capture, a qlog file or an NSS key log",
    );
    std::fs::write(p("empty.pcap"), b"").unwrap();
    refused(&[&p("empty.pcap")], "the file is empty");
    std::fs::write(p("bad.sqlog"), b"this is no JSON").unwrap();
    refused(&[&p("bad.sqlog")], "not a qlog file");
    refused(&[&p("missing.pcap")], "missing.pcap");

    // A capture of UDP that is not QUIC.
    write_pcap(
        &p("dns.pcap"),
        &[(5353, 53, b"\x12\x34\x01\x00\x00\x01".to_vec())],
    );
    refused(
        &[&p("dns.pcap")],
        "no QUIC packets among its 1 UDP datagram",
    );

    // Handshake packets without the Initials before them (a capture that starts late), and
    // no key log: recognisably QUIC, but nothing decrypts.
    let key = PacketKey::from_secret(Suite::Aes128Gcm, V1, &[9; 32]).unwrap();
    let hs = |pn| {
        let lp = LongPacket {
            ty: PacketType::Handshake,
            version: V1,
            dcid: &[7; 8],
            scid: &[8; 8],
            token: &[],
            pn,
            pn_len: 2,
            payload: Payload::Frames(&[Frame::Ping]),
            pad_to: 0,
            clear_fixed_bit: false,
        };
        build_long(&lp, &key).unwrap()
    };
    write_pcap(
        &p("late.pcap"),
        &[(4433, 50000, hs(3)), (50000, 4433, hs(4))],
    );
    refused(
        &[&p("late.pcap")],
        "undecryptable capture: none of its 2 QUIC packet(s)",
    );

    // A real protected Initial, then the file cut mid-record.
    let frames = [Frame::Crypto {
        offset: 0,
        data: b"\x01\x00\x00\x00",
    }];
    let initial =
        build_initial(V1, &[1; 8], &[2; 8], &[], 0, Payload::Frames(&frames), 1200).unwrap();
    write_pcap(&p("good.pcap"), &[(50000, 4433, initial)]);
    let bytes = std::fs::read(p("good.pcap")).unwrap();
    std::fs::write(p("cut.pcap"), &bytes[..bytes.len() - 300]).unwrap();
    refused(&[&p("cut.pcap")], "damaged capture");

    // The uncut file imports, its Initial decoded without any key log.
    let out = p("out");
    let o = panther()
        .arg("import")
        .arg(p("good.pcap"))
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let msgs = messages(&one_folder(&out));
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["message"]["summary"], "Initial 0: CRYPTO, PADDING");
    assert_eq!(msgs[0]["data"]["frames"][0], "CRYPTO 0+4");

    // A key log alone has nothing to decrypt.
    std::fs::write(
        p("k.log"),
        format!(
            "CLIENT_TRAFFIC_SECRET_0 {} {}\n",
            "ab".repeat(32),
            "cd".repeat(32)
        ),
    )
    .unwrap();
    refused(&[&p("k.log")], "a key log alone has nothing to decrypt");
}

#[test]
fn sequence_view_labels_details_and_frame_filters() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use panther::quic::wire::{Frame, InitialPacket, Payload, Side, V1, build_initial_with};
    use panther::tui::app::SequenceScreen;
    let tmp = tempfile::tempdir().unwrap();
    let (odcid, cscid, sscid) = ([1u8; 8], [2u8; 8], [3u8; 8]);
    let hello = [Frame::Crypto {
        offset: 0,
        data: b"\x01\x00\x00\x00",
    }];
    let client = build_initial_with(&InitialPacket::client(
        V1,
        &odcid,
        &cscid,
        Payload::Frames(&hello),
    ))
    .unwrap();
    let reply = [
        Frame::Ack {
            largest: 0,
            delay: 0,
            first_range: 0,
            ranges: vec![],
            ecn: None,
        },
        Frame::Crypto {
            offset: 0,
            data: b"\x02\x00\x00\x00",
        },
    ];
    let server = build_initial_with(&InitialPacket {
        sender: Side::Server,
        key_dcid: Some(&odcid),
        pad_to: 0,
        ..InitialPacket::client(V1, &cscid, &sscid, Payload::Frames(&reply))
    })
    .unwrap();
    let ping = [
        Frame::Ack {
            largest: 0,
            delay: 0,
            first_range: 0,
            ranges: vec![],
            ecn: None,
        },
        Frame::Ping,
    ];
    // The client's second Initial goes to the server's CID, keyed by the first DCID still.
    let client2 = build_initial_with(&InitialPacket {
        pn: 1,
        key_dcid: Some(&odcid),
        ..InitialPacket::client(V1, &sscid, &cscid, Payload::Frames(&ping))
    })
    .unwrap();
    let pcap = tmp.path().join("three.pcap");
    write_pcap(
        &pcap,
        &[
            (50000, 4433, client),
            (4433, 50000, server),
            (50000, 4433, client2),
        ],
    );
    let out = tmp.path().join("out");
    let o = panther()
        .arg("import")
        .arg(&pcap)
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = one_folder(&out);
    let summaries: Vec<String> = messages(&dir)
        .iter()
        .map(|e| e["message"]["summary"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        summaries,
        [
            "Initial 0: CRYPTO, PADDING",
            "Initial 0: ACK, CRYPTO",
            "Initial 1: ACK, PING, PADDING"
        ]
    );

    let mut s = SequenceScreen::open(&dir).unwrap();
    let key = |s: &mut SequenceScreen, c: KeyCode| {
        s.key(KeyEvent::new(c, KeyModifiers::NONE), 40);
    };
    let filter = |s: &mut SequenceScreen, pattern: &str| {
        key(s, KeyCode::Char('F'));
        key(s, KeyCode::Char('/'));
        for c in pattern.chars() {
            key(s, KeyCode::Char(c));
        }
        key(s, KeyCode::Enter);
        key(s, KeyCode::Char('f'));
        s.state.len()
    };
    assert_eq!(filter(&mut s, "kind:ACK"), 2, "{:?}", s.note);
    assert_eq!(filter(&mut s, "kind:crypto"), 2);
    assert_eq!(filter(&mut s, "kind:PING"), 1);
    assert_eq!(filter(&mut s, "kind:STREAM"), 0);
    assert_eq!(filter(&mut s, "kind:message"), 3);
    assert!(filter(&mut s, "kind:nonsense") > 0);
    assert!(
        s.note.as_deref().unwrap_or("").contains("QUIC frame type"),
        "{:?}",
        s.note
    );
    // The detail pane of an imported packet lists its frames (the screen reads the event back).
    let e = panther::tui::sequence_screen::event_at(&dir, 2).unwrap();
    assert_eq!(e.data["frames"], serde_json::json!(["ACK 0", "CRYPTO 0+4"]));
    let detail = panther::tui::screens::sequence::packet_detail(&e.data);
    assert!(detail.contains("status: decrypted"), "{detail}");
    assert!(
        detail.contains("2 frame(s):\n  ACK 0\n  CRYPTO 0+4"),
        "{detail}"
    );
}

#[test]
fn import_is_in_help() {
    let top = panther().arg("--help").output().unwrap();
    let top = String::from_utf8_lossy(&top.stdout);
    assert!(
        top.contains("import") && top.contains("quic-interop-runner"),
        "{top}"
    );
    let h = panther().args(["import", "--help"]).output().unwrap();
    let h = String::from_utf8_lossy(&h.stdout);
    for w in [
        "--keylog",
        "--output",
        "--name",
        "pcapng",
        "qlog",
        "keys.log",
        "Exit codes",
    ] {
        assert!(h.contains(w), "{w} in import --help:\n{h}");
    }
}

/// During a run, the localhost relay labels real QUIC datagrams (ngtcp2 server and client)
/// with the Initial frames it decrypts without keys.
#[test]
fn live_relay_labels_real_ngtcp2_initials() {
    const T: &str = "live_relay_labels_real_ngtcp2_initials";
    if !(tool_or_skip(T, "gtlsserver") && tool_or_skip(T, "gtlsclient")) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let exp = tmp.path().join("live.yaml");
    std::fs::write(
        &exp,
        "metadata: {name: quic_live_labels}\ntests:\n  - name: handshake\n    network_environment:\n      type: localhost\n      link: {delay_ms: 2, seed: 1}\n    services:\n      server:\n        implementation: {name: ngtcp2, type: iut}\n        protocol: {name: quic, version: rfc9000, role: server}\n      client:\n        implementation: {name: ngtcp2, type: iut}\n        protocol: {name: quic, version: rfc9000, role: client, target: server}\n        plugin_config: {path: /index.html}\n    timeout: 30\n",
    )
    .unwrap();
    let (out, dir, _root) = support::run(&exp);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let delivered: Vec<(String, String)> = messages(&dir)
        .iter()
        .filter(|e| e["source"] == "link" && e["text"] == "delivered")
        .map(|e| {
            (
                e["message"]["from"].as_str().unwrap().to_string(),
                e["message"]["summary"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        delivered
            .iter()
            .any(|(f, s)| f == "client" && s.starts_with("Initial 0: CRYPTO")),
        "{delivered:?}"
    );
    assert!(
        delivered
            .iter()
            .any(|(f, s)| f == "server" && s.starts_with("Initial 0: ACK, CRYPTO")),
        "{delivered:?}"
    );
    // Past Initial, with the key logs ngtcp2 writes as it goes: the server's Handshake
    // flight and 1-RTT on both sides are opened during the run.
    let seen =
        |from: &str, what: &str| delivered.iter().any(|(f, s)| f == from && s.contains(what));
    assert!(seen("server", "Handshake 0: CRYPTO"), "{delivered:?}");
    assert!(
        seen("server", "1-RTT") && seen("client", "1-RTT"),
        "{delivered:?}"
    );
    assert!(
        delivered
            .iter()
            .any(|(_, s)| s.starts_with("1-RTT") && s.contains("STREAM")),
        "{delivered:?}"
    );
}
