//! `panther builtin minip-server`: the reference MinIP server (the `ping_pong` IUT) in
//! PANTHER's five versions. `functional` is correct; the others are broken on purpose so a
//! tester's verdicts can be checked against a known answer:
//!
//! | version | behaviour |
//! |---|---|
//! | functional | every well-formed PING gets a PONG with its seq and payload; malformed → ERROR |
//! | fail | PONGs carry the wrong sequence number (seq + 1) |
//! | flaky | drops about `--drop-rate` of the PINGs (seeded, so repeatable) |
//! | random | answers every datagram with random bytes (seeded) |
//! | vulnerable | trusts the length field: a datagram whose length field is bigger than its payload makes it slice past the datagram and panic (exit 101) |
//!
//! It runs until SIGTERM or SIGINT (exit 0). Records on stdout: `lifecycle` "listening on
//! ADDR" once the socket is bound, a `log` (debug) per datagram, a `metric` and a
//! `lifecycle` "stopped" record at the end.

use std::net::SocketAddr;

use clap::ValueEnum;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::minip::{self, DecodeError, HEADER_LEN, Message, Type};
use crate::events::{Kind, Level, Record};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Version {
    Functional,
    Fail,
    Flaky,
    Random,
    Vulnerable,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Functional => "functional",
            Version::Fail => "fail",
            Version::Flaky => "flaky",
            Version::Random => "random",
            Version::Vulnerable => "vulnerable",
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Server behaviour: functional (correct), fail (wrong sequence numbers), flaky (drops
    /// PINGs), random (answers random bytes), vulnerable (crashes on a lying length field).
    #[arg(long, value_enum, default_value = "functional")]
    pub version: Version,
    /// Address to listen on (IPv4, IPv6 or a name).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// UDP port to listen on; 0 picks a free one (the "listening" record names it).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Share of PINGs the flaky version drops, from 0 to 1.
    #[arg(long = "drop-rate", default_value_t = 0.33, value_parser = parse_rate)]
    pub drop_rate: f64,
    /// Seed of the flaky and random versions' choices; the same seed repeats the same run.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let r: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    if !(0.0..=1.0).contains(&r) {
        return Err(format!("{r} is not between 0 and 1"));
    }
    Ok(r)
}

/// What the server does with one datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub datagram: Option<Vec<u8>>,
    /// Why (for the log): "dropped (flaky)", "random bytes", …
    pub note: Option<&'static str>,
}

impl Reply {
    fn send(bytes: Vec<u8>) -> Reply {
        Reply {
            datagram: Some(bytes),
            note: None,
        }
    }

    fn silence(note: &'static str) -> Reply {
        Reply {
            datagram: None,
            note: Some(note),
        }
    }
}

/// The protocol logic of one server version, without the socket.
pub struct Server {
    version: Version,
    drop_rate: f64,
    rng: StdRng,
    pub received: u64,
    pub answered: u64,
    pub dropped: u64,
    pub errors: u64,
}

impl Server {
    pub fn new(version: Version, drop_rate: f64, seed: u64) -> Server {
        Server {
            version,
            drop_rate: drop_rate.clamp(0.0, 1.0),
            rng: StdRng::seed_from_u64(seed),
            received: 0,
            answered: 0,
            dropped: 0,
            errors: 0,
        }
    }

    pub fn handle(&mut self, datagram: &[u8]) -> Reply {
        self.received += 1;
        let reply = match self.version {
            Version::Functional | Version::Fail | Version::Flaky => self.handle_correctly(datagram),
            Version::Random => Reply {
                datagram: Some(self.random_bytes()),
                note: Some("random bytes"),
            },
            Version::Vulnerable => handle_trusting_length(datagram),
        };
        match &reply.datagram {
            Some(d) if d.first() == Some(&minip::ERROR) => self.errors += 1,
            Some(_) => self.answered += 1,
            None => {}
        }
        reply
    }

    fn handle_correctly(&mut self, datagram: &[u8]) -> Reply {
        match minip::decode(datagram) {
            Ok(m) => match m.kind {
                Type::Ping => {
                    if self.version == Version::Flaky && self.rng.random_bool(self.drop_rate) {
                        self.dropped += 1;
                        return Reply::silence("dropped (flaky)");
                    }
                    let seq = if self.version == Version::Fail {
                        m.seq.wrapping_add(1)
                    } else {
                        m.seq
                    };
                    Reply::send(Message::pong(seq, m.payload).encode())
                }
                // A client has no business sending these; answering an ERROR could loop.
                Type::Pong | Type::Error => Reply::silence("ignored (not a PING)"),
            },
            Err(e) => Reply::send(error_for(&e).encode()),
        }
    }

    /// Bytes that are not a well-formed MinIP message (redrawn in the unlikely case they are).
    fn random_bytes(&mut self) -> Vec<u8> {
        loop {
            let n = self.rng.random_range(1..=48);
            let bytes: Vec<u8> = (0..n).map(|_| self.rng.random()).collect();
            if minip::decode(&bytes).is_err() {
                return bytes;
            }
        }
    }
}

fn error_for(e: &DecodeError) -> Message {
    let reason = match e {
        DecodeError::Truncated { .. } => "truncated header",
        DecodeError::UnknownType { .. } => "unknown type",
        DecodeError::LengthMismatch { .. } => "length mismatch",
    };
    Message::error(e.seq().unwrap_or(0), reason)
}

/// The `vulnerable` version's parser. It believes the length field, like a C server that
/// copies `length` bytes out of its receive buffer: when a datagram announces more payload
/// than it carries, the slice below runs past the end of the datagram and the server
/// panics ("range end index … out of range"), which kills it with exit code 101.
fn handle_trusting_length(datagram: &[u8]) -> Reply {
    if datagram.len() < HEADER_LEN {
        return Reply::send(Message::error(0, "truncated header").encode());
    }
    let kind = datagram[0];
    let seq = u32::from_be_bytes([datagram[1], datagram[2], datagram[3], datagram[4]]);
    let length = usize::from(u16::from_be_bytes([datagram[5], datagram[6]]));
    // The bug: no check that HEADER_LEN + length <= datagram.len().
    let payload = &datagram[HEADER_LEN..HEADER_LEN + length];
    match Type::from_byte(kind) {
        Some(Type::Ping) => Reply::send(Message::pong(seq, payload.to_vec()).encode()),
        Some(_) => Reply::silence("ignored (not a PING)"),
        None => Reply::send(Message::error(seq, "unknown type").encode()),
    }
}

pub fn run(args: &Args) -> i32 {
    let addr = match super::resolve(&args.host, args.port) {
        Ok(a) => a,
        Err(e) => {
            super::log(Level::Error, format!("cannot listen: {e}"));
            return 2;
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            super::log(Level::Error, format!("cannot start the runtime: {e}"));
            return 2;
        }
    };
    // The server loop runs on this thread (not a spawned task), so the vulnerable
    // version's panic unwinds out of `main` and the process exits with 101, as a crash.
    rt.block_on(serve(args, addr))
}

async fn serve(args: &Args, addr: SocketAddr) -> i32 {
    use tokio::signal::unix::{SignalKind, signal};

    let sock = match tokio::net::UdpSocket::bind(addr).await {
        Ok(s) => s,
        Err(e) => {
            super::log(Level::Error, format!("cannot listen on udp {addr}: {e}"));
            return 2;
        }
    };
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => (t, i),
        (Err(e), _) | (_, Err(e)) => {
            super::log(Level::Error, format!("cannot watch signals: {e}"));
            return 2;
        }
    };
    let local = sock.local_addr().unwrap_or(addr);
    super::lifecycle(
        format!("listening on {local}"),
        json!({
            "protocol": "minip",
            "transport": "udp",
            "address": local.to_string(),
            "port": local.port(),
            "version": args.version.as_str(),
            "drop_rate": args.drop_rate,
            "seed": args.seed,
        }),
    );
    let mut server = Server::new(args.version, args.drop_rate, args.seed);
    let mut buf = vec![0u8; 65_536];
    let signal_name = loop {
        tokio::select! {
            r = sock.recv_from(&mut buf) => match r {
                Ok((n, peer)) => {
                    let datagram = &buf[..n];
                    let got = minip::summary(datagram);
                    let reply = server.handle(datagram);
                    let sent = match &reply.datagram {
                        Some(d) => match sock.send_to(d, peer).await {
                            Ok(_) => Some(minip::summary(d)),
                            Err(e) => {
                                super::log(Level::Warn, format!("cannot answer {peer}: {e}"));
                                None
                            }
                        },
                        None => None,
                    };
                    let text = match (&sent, reply.note) {
                        (Some(s), Some(note)) => format!("{got} from {peer} → {s} ({note})"),
                        (Some(s), None) => format!("{got} from {peer} → {s}"),
                        (None, Some(note)) => format!("{got} from {peer} → {note}"),
                        (None, None) => format!("{got} from {peer} → no answer"),
                    };
                    Record::new(Kind::Log, text)
                        .level(Level::Debug)
                        .data(json!({
                            "peer": peer.to_string(),
                            "received": got,
                            "received_bytes": n,
                            "sent": sent,
                            "sent_bytes": reply.datagram.as_ref().map(Vec::len),
                        }))
                        .print();
                }
                // Linux reports an ICMP error from an earlier send on the next receive.
                Err(e) => super::log(Level::Debug, format!("receive error: {e}")),
            },
            _ = term.recv() => break "SIGTERM",
            _ = int.recv() => break "SIGINT",
        }
    };
    Record::new(Kind::Metric, "minip server totals")
        .data(json!({
            "received": server.received,
            "answered": server.answered,
            "dropped": server.dropped,
            "errors_sent": server.errors,
        }))
        .print();
    super::lifecycle(
        format!("stopped on {signal_name}"),
        json!({"signal": signal_name}),
    );
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ping(seq: u32, payload: &[u8]) -> Vec<u8> {
        Message::ping(seq, payload.to_vec()).encode()
    }

    #[test]
    fn functional_echoes() {
        let mut s = Server::new(Version::Functional, 0.0, 0);
        let r = s.handle(&ping(4, b"abc"));
        assert_eq!(
            r.datagram.unwrap(),
            Message::pong(4, b"abc".to_vec()).encode()
        );
        let e = s.handle(&[1, 2]).datagram.unwrap();
        assert_eq!(minip::decode(&e).unwrap().kind, Type::Error);
        let lie = minip::encode_raw(minip::PING, 9, 300, b"abcd");
        let e = minip::decode(&s.handle(&lie).datagram.unwrap()).unwrap();
        assert_eq!((e.kind, e.seq), (Type::Error, 9));
        assert!(
            s.handle(&Message::pong(1, vec![]).encode())
                .datagram
                .is_none()
        );
    }

    #[test]
    fn fail_shifts_seq() {
        let mut s = Server::new(Version::Fail, 0.0, 0);
        let m = minip::decode(&s.handle(&ping(4, b"abc")).datagram.unwrap()).unwrap();
        assert_eq!(
            (m.kind, m.seq, m.payload.as_slice()),
            (Type::Pong, 5, &b"abc"[..])
        );
    }

    #[test]
    fn flaky_is_seeded() {
        let drops = |seed| {
            let mut s = Server::new(Version::Flaky, 0.33, seed);
            (0..200)
                .map(|i| s.handle(&ping(i, b"x")).datagram.is_none())
                .collect::<Vec<_>>()
        };
        assert_eq!(drops(7), drops(7));
        assert_ne!(drops(7), drops(8));
        let n = drops(7).iter().filter(|d| **d).count();
        assert!((30..=110).contains(&n), "{n} drops of 200");
    }

    #[test]
    fn random_is_never_well_formed() {
        let mut s = Server::new(Version::Random, 0.0, 1);
        for i in 0..500 {
            let d = s.handle(&ping(i, b"x")).datagram.unwrap();
            assert!(minip::decode(&d).is_err());
        }
    }

    #[test]
    fn vulnerable_panics_on_a_lying_length() {
        let mut s = Server::new(Version::Vulnerable, 0.0, 0);
        let r = s.handle(&ping(2, b"ok"));
        assert_eq!(
            r.datagram.unwrap(),
            Message::pong(2, b"ok".to_vec()).encode()
        );
        let lie = minip::encode_raw(minip::PING, 9, 300, b"abcd");
        let crashed = std::panic::catch_unwind(move || s.handle(&lie)).is_err();
        assert!(crashed);
    }
}
