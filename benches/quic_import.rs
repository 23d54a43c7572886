//! QUIC import throughput, side by side with tshark when both are at hand.
//!
//! * With `PANTHER_QUIC_CAPTURE=FILE` and `PANTHER_QUIC_KEYS=FILE` (what
//!   `scripts/bench-quic-import` makes, `KEEP=1`): `panther::import::decode` of that capture
//!   and `tshark -r FILE -o tls.keylog_file:KEYS -T ek > /dev/null`, timed in one run.
//! * Otherwise a synthetic trace: a client Initial with a ClientHello, a server Initial with
//!   a ServerHello, then 1-RTT packets of 1200 bytes protected with keys the generated key
//!   log names; the decoder's packets and MiB per second.
//!
//! `cargo bench --bench quic_import` prints the figures; without `--bench` (as `cargo test
//! --all-targets` runs it) it does a small smoke run.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use panther::import::{Options, decode};
use panther::quic::keylog::KeyLog;
use panther::quic::trace::{Decoder, PacketStatus};
use panther::quic::wire::builder::build_short;
use panther::quic::wire::{
    Frame, InitialPacket, PacketKey, Payload, Side, Suite, V1, build_initial_with,
};

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    match (
        std::env::var_os("PANTHER_QUIC_CAPTURE"),
        std::env::var_os("PANTHER_QUIC_KEYS"),
    ) {
        (Some(c), Some(k)) => real(PathBuf::from(c), PathBuf::from(k)),
        _ => synthetic(if full { 200_000 } else { 2_000 }),
    }
}

fn real(capture: PathBuf, keys: PathBuf) {
    let mb = std::fs::metadata(&capture).map(|m| m.len()).unwrap_or(0) as f64 / (1 << 20) as f64;
    let t = Instant::now();
    let opts = Options {
        inputs: vec![capture.clone()],
        keylogs: vec![keys.clone()],
        output: std::env::temp_dir(),
        name: None,
    };
    let d = decode(&opts).expect("the capture decodes");
    let ours = t.elapsed();
    println!(
        "panther decode: {} packets, {:.1} MiB in {:.2} s ({:.0} MiB/s)",
        d.report.packets,
        mb,
        ours.as_secs_f64(),
        mb / ours.as_secs_f64()
    );
    let t = Instant::now();
    let st = std::process::Command::new("tshark")
        .arg("-r")
        .arg(&capture)
        .arg("-o")
        .arg(format!("tls.keylog_file:{}", keys.display()))
        .args(["-T", "ek"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    let theirs = t.elapsed();
    match st {
        Ok(s) if s.success() => println!(
            "tshark -T ek:   {:.2} s ({:.0} MiB/s); panther is {:.1}x faster",
            theirs.as_secs_f64(),
            mb / theirs.as_secs_f64(),
            theirs.as_secs_f64() / ours.as_secs_f64()
        ),
        _ => println!("tshark: not run (not installed or failed)"),
    }
}

/// A minimal TLS ClientHello (type 1) or ServerHello (type 2) with `random` and, for the
/// server, `suite`: enough for the decoder to find the key log entry and the AEAD.
fn hello(ty: u8, random: [u8; 32], suite: u16) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&random);
    body.push(0);
    if ty == 1 {
        body.extend_from_slice(&[0, 2]);
    }
    body.extend_from_slice(&suite.to_be_bytes());
    if ty == 1 {
        body.extend_from_slice(&[1, 0]);
    } else {
        body.push(0);
    }
    let mut m = vec![ty];
    m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    m.extend_from_slice(&body);
    m
}

fn synthetic(packets: usize) {
    let (c, s): (SocketAddr, SocketAddr) = (
        "10.0.0.1:50000".parse().unwrap(),
        "10.0.0.2:4433".parse().unwrap(),
    );
    let (odcid, ccid, scid) = ([1u8; 8], [2u8; 8], [3u8; 8]);
    let random = [0x5a; 32];
    let (cs, ss) = ([0x11u8; 32], [0x22u8; 32]);
    let keylog = format!(
        "CLIENT_TRAFFIC_SECRET_0 {r} {a}\nSERVER_TRAFFIC_SECRET_0 {r} {b}\n",
        r = hex(&random),
        a = hex(&cs),
        b = hex(&ss)
    );
    let ch = hello(1, random, 0x1301);
    let sh = hello(2, [0x6b; 32], 0x1301);
    let mut trace: Vec<(SocketAddr, SocketAddr, Vec<u8>)> = Vec::new();
    let cf = [Frame::Crypto {
        offset: 0,
        data: &ch,
    }];
    trace.push((
        c,
        s,
        build_initial_with(&InitialPacket::client(
            V1,
            &odcid,
            &ccid,
            Payload::Frames(&cf),
        ))
        .unwrap(),
    ));
    let sf = [Frame::Crypto {
        offset: 0,
        data: &sh,
    }];
    let server_initial = InitialPacket {
        sender: Side::Server,
        key_dcid: Some(&odcid),
        pad_to: 0,
        ..InitialPacket::client(V1, &ccid, &scid, Payload::Frames(&sf))
    };
    trace.push((s, c, build_initial_with(&server_initial).unwrap()));
    let key = PacketKey::from_secret(Suite::Aes128Gcm, V1, &ss).unwrap();
    let data = vec![0xab; 1150];
    for pn in 0..packets as u64 {
        let f = [Frame::Stream {
            stream: 0,
            offset: pn * 1150,
            fin: false,
            explicit_len: true,
            data: &data,
        }];
        trace.push((
            s,
            c,
            build_short(&ccid, pn, 2, false, Payload::Frames(&f), &key).unwrap(),
        ));
    }
    let bytes: usize = trace.iter().map(|t| t.2.len()).sum();
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let mut d = Decoder::new(KeyLog::parse(&keylog));
        let t = Instant::now();
        let mut decrypted = 0;
        for (i, (src, dst, dg)) in trace.iter().enumerate() {
            for p in d.feed(Duration::from_micros(i as u64), *src, *dst, dg) {
                decrypted += usize::from(p.status == PacketStatus::Decrypted);
                std::hint::black_box(p.summary());
            }
        }
        best = best.min(t.elapsed());
        assert_eq!(decrypted, trace.len(), "every synthetic packet decrypts");
    }
    let secs = best.as_secs_f64();
    println!(
        "decoder, synthetic: {} packets, {:.1} MiB in {:.3} s: {:.0} packets/s, {:.0} MiB/s",
        trace.len(),
        bytes as f64 / (1 << 20) as f64,
        secs,
        trace.len() as f64 / secs,
        bytes as f64 / (1 << 20) as f64 / secs
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
