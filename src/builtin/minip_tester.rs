//! `panther builtin minip-tester`: checks the five `minip` properties against a server.
//!
//! 1. Sends `--count` well-formed PINGs (seq 1..=count, distinct payloads), one at a time,
//!    waiting up to `--reply-timeout-ms` for each reply, `--interval-ms` apart.
//! 2. With `--malformed true`: a truncated header, an unknown type, then (last) a PING whose
//!    length field lies (bigger than its payload); each may get ERROR or silence.
//! 3. Then well-formed PINGs again until one is answered (a few tries, more if the server
//!    dropped PINGs in step 1), to see whether the server survived.
//!
//! One `verdict` record per property, a `metric` record (counts, round-trip times) and the
//! summary record. Exit code: 0 all pass, 1 a check failed or was inconclusive, 2 the server
//! could not be reached at all or bad arguments.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::minip::{self, Message, Type};
use super::{Summary, check_record};
use crate::events::{Kind, Level, Record};
use crate::verdict::Verdict;

pub const PROPERTIES: [&str; 5] = [
    "pong_matches_ping_seq",
    "pong_echoes_payload",
    "answers_every_ping",
    "survives_malformed_datagrams",
    "no_garbage_replies",
];

const REF_SEQ: &str =
    "MinIP: a correct server answers a PING with a PONG of the same sequence number";
const REF_PAYLOAD: &str = "MinIP: a PONG has the same payload as its PING";
const REF_EVERY: &str = "MinIP: a correct server answers every well-formed PING";
const REF_SURVIVE: &str = "MinIP: a malformed datagram gets ERROR or silence, never a crash";
const REF_GARBAGE: &str =
    "MinIP: message format (type u8, sequence number u32 BE, payload length u16 BE, payload)";

/// Examples kept per finding (evidence) and anomaly log lines printed at most.
const EXAMPLES: usize = 5;
const MAX_ANOMALY_LOGS: usize = 50;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The server, `HOST:PORT` (`[::1]:8080` and `::1:8080` both work for IPv6).
    #[arg(long)]
    pub target: String,
    /// Number of well-formed PINGs to send.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub count: u32,
    /// Pause between two PINGs, in milliseconds.
    #[arg(long = "interval-ms", default_value_t = 50)]
    pub interval_ms: u64,
    /// Also send malformed datagrams, then check the server survived (`true` or `false`).
    #[arg(long, action = clap::ArgAction::Set, default_value_t = true)]
    pub malformed: bool,
    /// How long to wait for each reply, in milliseconds.
    #[arg(long = "reply-timeout-ms", default_value_t = 500,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub reply_timeout_ms: u64,
}

/// The payload of PING `seq`: distinct per PING, of varying length (0 to 24 bytes of tail).
pub fn payload_for(seq: u32) -> Vec<u8> {
    let mut p = format!("panther ping {seq}").into_bytes();
    p.extend((0..(seq % 25)).map(|i| b'a' + ((seq + i) % 26) as u8));
    p
}

/// The malformed datagrams of step 2, the lying one last.
pub fn malformed_datagrams() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("truncated header", vec![minip::PING, 0, 0]),
        (
            "unknown type",
            minip::encode_raw(9, 0xFFFF_0001, 4, b"oops"),
        ),
        (
            "length field that lies",
            minip::encode_raw(minip::PING, 0xFFFF_0002, 200, b"lies"),
        ),
    ]
}

struct PingState {
    payload: Vec<u8>,
    sent: Instant,
    /// Got a PONG with its sequence number (in time or late).
    answered: bool,
}

/// How the wait for one reply ended.
enum Outcome {
    /// A PONG (its seq may be wrong: it is the answer we got), and the round-trip time.
    Pong(Message, Duration),
    Error(Message),
    Garbage(Vec<u8>),
    Timeout,
    Refused,
}

#[derive(Default)]
struct Tally {
    sent: u64,
    received: u64,
    pongs: u64,
    errors: u64,
    refused: u64,
    pongs_checked: u64,
    seq_mismatches: Vec<String>,
    seq_mismatch_count: u64,
    payload_mismatches: Vec<String>,
    payload_mismatch_count: u64,
    garbage: Vec<String>,
    garbage_count: u64,
    late: u64,
    duplicates: u64,
    rtts_us: Vec<u64>,
    anomaly_logs: usize,
}

impl Tally {
    fn anomaly(&mut self, text: String) {
        self.anomaly_logs += 1;
        if self.anomaly_logs <= MAX_ANOMALY_LOGS {
            super::log(Level::Warn, text);
        } else if self.anomaly_logs == MAX_ANOMALY_LOGS + 1 {
            super::log(Level::Warn, "more anomalies; not logging them one by one");
        }
    }

    fn garbage(&mut self, bytes: &[u8], context: &str) {
        self.garbage_count += 1;
        let line = format!(
            "{context}: got {} bytes {} ({})",
            bytes.len(),
            minip::hex(bytes, 16),
            minip::summary(bytes)
        );
        if self.garbage.len() < EXAMPLES {
            self.garbage.push(line.clone());
        }
        self.anomaly(line);
    }
}

struct Tester {
    sock: UdpSocket,
    timeout: Duration,
    pings: HashMap<u32, PingState>,
    t: Tally,
}

impl Tester {
    fn send(&mut self, bytes: &[u8]) -> Result<(), Outcome> {
        self.t.sent += 1;
        match self.sock.send(bytes) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                self.t.refused += 1;
                Err(Outcome::Refused)
            }
            Err(e) => {
                self.t.anomaly(format!("send failed: {e}"));
                Err(Outcome::Timeout)
            }
        }
    }

    fn ping(&mut self, seq: u32) -> Outcome {
        let payload = payload_for(seq);
        let bytes = Message::ping(seq, payload.clone()).encode();
        self.pings.insert(
            seq,
            PingState {
                payload,
                sent: Instant::now(),
                answered: false,
            },
        );
        if let Err(o) = self.send(&bytes) {
            return o;
        }
        let outcome = self.wait(Some(seq));
        if let Outcome::Pong(m, _) = &outcome {
            self.judge_pong(seq, m);
        }
        outcome
    }

    /// Checks the PONG received in answer to PING `seq`.
    fn judge_pong(&mut self, seq: u32, m: &Message) {
        self.t.pongs_checked += 1;
        if m.seq != seq {
            self.t.seq_mismatch_count += 1;
            let line = format!("PING seq={seq} got PONG seq={}", m.seq);
            if self.t.seq_mismatches.len() < EXAMPLES {
                self.t.seq_mismatches.push(line.clone());
            }
            self.t.anomaly(line);
        }
        let want = &self.pings[&seq].payload;
        if &m.payload != want {
            self.t.payload_mismatch_count += 1;
            let line = format!(
                "PING seq={seq} payload {} ({} bytes) got PONG payload {} ({} bytes)",
                minip::hex(want, 12),
                want.len(),
                minip::hex(&m.payload, 12),
                m.payload.len()
            );
            if self.t.payload_mismatches.len() < EXAMPLES {
                self.t.payload_mismatches.push(line.clone());
            }
            self.t.anomaly(line);
        }
    }

    /// Waits for the reply to PING `expect` (or, with None, to a malformed datagram).
    /// Late PONGs for earlier PINGs are noted and the wait goes on.
    fn wait(&mut self, expect: Option<u32>) -> Outcome {
        let deadline = Instant::now() + self.timeout;
        let mut buf = vec![0u8; 65_536];
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Outcome::Timeout;
            }
            let _ = self.sock.set_read_timeout(Some(deadline - now));
            let n = match self.sock.recv(&mut buf) {
                Ok(n) => n,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Outcome::Timeout;
                }
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                    self.t.refused += 1;
                    return Outcome::Refused;
                }
                Err(e) => {
                    self.t.anomaly(format!("receive failed: {e}"));
                    return Outcome::Timeout;
                }
            };
            let arrived = Instant::now();
            self.t.received += 1;
            let d = &buf[..n];
            let context = match expect {
                Some(seq) => format!("waiting for the PONG to PING seq={seq}"),
                None => "after a malformed datagram".to_string(),
            };
            match minip::decode(d) {
                Ok(m) if m.kind == Type::Pong => {
                    self.t.pongs += 1;
                    if Some(m.seq) == expect {
                        let rtt = arrived - self.pings[&m.seq].sent;
                        self.pings.get_mut(&m.seq).expect("sent").answered = true;
                        return Outcome::Pong(m, rtt);
                    }
                    if let Some(p) = self.pings.get_mut(&m.seq) {
                        if p.answered {
                            self.t.duplicates += 1;
                            self.t
                                .anomaly(format!("duplicate PONG seq={} ({context})", m.seq));
                        } else {
                            p.answered = true;
                            self.t.late += 1;
                            self.t
                                .anomaly(format!("late PONG seq={} ({context})", m.seq));
                        }
                        continue;
                    }
                    match expect {
                        // A PONG for a PING never sent: the answer, with a wrong seq.
                        Some(seq) => {
                            let rtt = arrived - self.pings[&seq].sent;
                            return Outcome::Pong(m, rtt);
                        }
                        // A malformed datagram is answered by ERROR or silence, not PONG.
                        None => {
                            self.t.garbage(d, &context);
                            return Outcome::Garbage(d.to_vec());
                        }
                    }
                }
                Ok(m) if m.kind == Type::Error => {
                    self.t.errors += 1;
                    if expect.is_some() {
                        self.t
                            .anomaly(format!("{context}: got {}", minip::summary(d)));
                    }
                    return Outcome::Error(m);
                }
                // A PING from the server, or bytes that are no MinIP message.
                _ => {
                    self.t.garbage(d, &context);
                    return Outcome::Garbage(d.to_vec());
                }
            }
        }
    }
}

pub fn run(args: &Args) -> i32 {
    let target = match super::resolve_target(&args.target) {
        Ok(t) => t,
        Err(e) => return super::give_up(&format!("bad target: {e}")),
    };
    let local: SocketAddr = if target.is_ipv6() {
        "[::]:0".parse().expect("address")
    } else {
        "0.0.0.0:0".parse().expect("address")
    };
    let sock = match UdpSocket::bind(local).and_then(|s| s.connect(target).map(|()| s)) {
        Ok(s) => s,
        Err(e) => return super::give_up(&format!("cannot open a UDP socket to {target}: {e}")),
    };
    let timeout = Duration::from_millis(args.reply_timeout_ms);
    let interval = Duration::from_millis(args.interval_ms);
    super::lifecycle(
        format!(
            "testing the minip server at {target}: {} PINGs{}",
            args.count,
            if args.malformed {
                ", then malformed datagrams"
            } else {
                ""
            }
        ),
        json!({
            "target": target.to_string(),
            "count": args.count,
            "interval_ms": args.interval_ms,
            "malformed": args.malformed,
            "reply_timeout_ms": args.reply_timeout_ms,
        }),
    );
    let mut t = Tester {
        sock,
        timeout,
        pings: HashMap::new(),
        t: Tally::default(),
    };

    // Step 1: well-formed PINGs.
    let mut answered_in_time: u64 = 0;
    let mut unanswered: Vec<u32> = Vec::new();
    let mut refused_at: Option<u32> = None;
    for seq in 1..=args.count {
        if seq > 1 && !interval.is_zero() {
            std::thread::sleep(interval);
        }
        match t.ping(seq) {
            Outcome::Pong(_, rtt) => {
                answered_in_time += 1;
                t.t.rtts_us.push(rtt.as_micros() as u64);
            }
            Outcome::Refused => {
                if t.t.received == 0 {
                    return super::give_up(&format!(
                        "nothing listens on udp {target} (ICMP port unreachable)"
                    ));
                }
                refused_at.get_or_insert(seq);
                unanswered.push(seq);
            }
            Outcome::Error(_) | Outcome::Garbage(_) | Outcome::Timeout => unanswered.push(seq),
        }
    }
    let replies_before = t.t.received;
    if let Some(seq) = refused_at {
        t.t.anomaly(format!(
            "the server's port closed at PING seq={seq} (ICMP port unreachable)"
        ));
    }

    // Steps 2 and 3: malformed datagrams, then is it still there?
    let survival = if args.malformed {
        Some(survival_check(
            &mut t,
            args,
            answered_in_time,
            replies_before,
            refused_at,
        ))
    } else {
        super::log(
            Level::Info,
            "survives_malformed_datagrams: not checked (--malformed false)",
        );
        None
    };

    let mut summary = Summary::new();
    let mut emit = |property: &str, verdict: Verdict, reference: &str, text: String, ev: Value| {
        let ev = match ev {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        check_record(property, verdict, reference, &text, ev).print();
        summary.add(property, verdict);
    };
    let tl = &t.t;

    // pong_matches_ping_seq
    let (v, text) = if tl.pongs_checked == 0 {
        (
            Verdict::Inconclusive,
            "no PONG arrived, so no sequence number to compare".to_string(),
        )
    } else if tl.seq_mismatch_count > 0 {
        (
            Verdict::Fail,
            format!(
                "{} of {} PONGs carried a wrong sequence number ({})",
                tl.seq_mismatch_count,
                tl.pongs_checked,
                tl.seq_mismatches.join("; ")
            ),
        )
    } else {
        (
            Verdict::Pass,
            format!(
                "all {} PONGs carried the sequence number of their PING",
                tl.pongs_checked
            ),
        )
    };
    emit(
        "pong_matches_ping_seq",
        v,
        REF_SEQ,
        text.clone(),
        json!({"evidence": evidence_or(&tl.seq_mismatches, &text), "pongs": tl.pongs_checked,
               "mismatches": tl.seq_mismatch_count}),
    );

    // pong_echoes_payload
    let (v, text) = if tl.pongs_checked == 0 {
        (
            Verdict::Inconclusive,
            "no PONG arrived, so no payload to compare".to_string(),
        )
    } else if tl.payload_mismatch_count > 0 {
        (
            Verdict::Fail,
            format!(
                "{} of {} PONGs did not echo their PING's payload ({})",
                tl.payload_mismatch_count,
                tl.pongs_checked,
                tl.payload_mismatches.join("; ")
            ),
        )
    } else {
        (
            Verdict::Pass,
            format!("all {} PONGs echoed their PING's payload", tl.pongs_checked),
        )
    };
    emit(
        "pong_echoes_payload",
        v,
        REF_PAYLOAD,
        text.clone(),
        json!({"evidence": evidence_or(&tl.payload_mismatches, &text), "pongs": tl.pongs_checked,
               "mismatches": tl.payload_mismatch_count}),
    );

    // answers_every_ping
    let shown: Vec<String> = unanswered.iter().take(20).map(u32::to_string).collect();
    let more = if unanswered.len() > 20 { ", …" } else { "" };
    let (v, text) = if unanswered.is_empty() {
        (
            Verdict::Pass,
            format!(
                "answered {}/{} PINGs with a PONG within {} ms",
                answered_in_time, args.count, args.reply_timeout_ms
            ),
        )
    } else {
        let mut extra = String::new();
        if tl.late > 0 {
            extra.push_str(&format!("; {} PONGs came late", tl.late));
        }
        if let Some(seq) = refused_at {
            extra.push_str(&format!("; the port closed at PING seq={seq}"));
        }
        (
            Verdict::Fail,
            format!(
                "answered {}/{} PINGs with a PONG within {} ms; none for seq {}{}{}",
                answered_in_time,
                args.count,
                args.reply_timeout_ms,
                shown.join(", "),
                more,
                extra
            ),
        )
    };
    emit(
        "answers_every_ping",
        v,
        REF_EVERY,
        text.clone(),
        json!({"evidence": if unanswered.is_empty() { text.clone() } else { format!("no PONG for seq {}{more}", shown.join(", ")) },
               "answered": answered_in_time, "sent": args.count, "unanswered": unanswered,
               "late": tl.late}),
    );

    // survives_malformed_datagrams
    if let Some((v, text, ev)) = survival {
        emit("survives_malformed_datagrams", v, REF_SURVIVE, text, ev);
    }

    // no_garbage_replies
    let (v, text) = if tl.garbage_count > 0 {
        (
            Verdict::Fail,
            format!(
                "{} of {} datagrams from the server were not well-formed PONG or ERROR ({})",
                tl.garbage_count,
                tl.received,
                tl.garbage.join("; ")
            ),
        )
    } else if tl.received == 0 {
        (
            Verdict::Inconclusive,
            "the server sent nothing to judge".to_string(),
        )
    } else {
        (
            Verdict::Pass,
            format!(
                "all {} datagrams from the server were well formed ({} PONG, {} ERROR)",
                tl.received, tl.pongs, tl.errors
            ),
        )
    };
    emit(
        "no_garbage_replies",
        v,
        REF_GARBAGE,
        text.clone(),
        json!({"evidence": evidence_or(&tl.garbage, &text), "received": tl.received,
               "garbage": tl.garbage_count}),
    );

    let mut rtts = tl.rtts_us.clone();
    rtts.sort_unstable();
    let pct = |p: f64| -> Value {
        if rtts.is_empty() {
            Value::Null
        } else {
            let i = ((rtts.len() - 1) as f64 * p).round() as usize;
            json!(rtts[i])
        }
    };
    Record::new(Kind::Metric, "minip tester totals")
        .data(json!({
            "sent": tl.sent,
            "received": tl.received,
            "pings": args.count,
            "answered": answered_in_time,
            "pongs": tl.pongs,
            "errors": tl.errors,
            "garbage": tl.garbage_count,
            "late": tl.late,
            "duplicates": tl.duplicates,
            "rtt_us_min": pct(0.0),
            "rtt_us_p50": pct(0.5),
            "rtt_us_p90": pct(0.9),
            "rtt_us_max": pct(1.0),
        }))
        .print();
    summary.finish()
}

/// The examples found, or (when none) the verdict's reason.
fn evidence_or(examples: &[String], text: &str) -> String {
    if examples.is_empty() {
        text.to_string()
    } else {
        examples.join("; ")
    }
}

/// Steps 2 and 3; the verdict of `survives_malformed_datagrams`, its reason and evidence.
fn survival_check(
    t: &mut Tester,
    args: &Args,
    answered_before: u64,
    replies_before: u64,
    refused_before: Option<u32>,
) -> (Verdict, String, Value) {
    let mut sent_labels = Vec::new();
    let mut answers = Vec::new();
    for (label, bytes) in malformed_datagrams() {
        sent_labels.push(label);
        let outcome = match t.send(&bytes) {
            Ok(()) => t.wait(None),
            Err(o) => o,
        };
        let answer = match &outcome {
            Outcome::Error(m) => minip::summary(&m.encode()),
            Outcome::Pong(m, _) => minip::summary(&m.encode()),
            Outcome::Garbage(b) => format!("garbage {}", minip::hex(b, 16)),
            Outcome::Timeout => "silence".to_string(),
            Outcome::Refused => "port closed".to_string(),
        };
        super::log(
            Level::Info,
            format!(
                "sent a malformed datagram ({label}): {} → {answer}",
                minip::summary(&bytes)
            ),
        );
        answers.push(format!("{label} → {answer}"));
    }
    if refused_before.is_some() || replies_before == 0 {
        let why = if refused_before.is_some() {
            "the server's port had already closed before the malformed datagrams"
        } else {
            "the server never answered a PING, so whether it survives cannot be told"
        };
        return (
            Verdict::Inconclusive,
            why.to_string(),
            json!({"evidence": answers.join("; ")}),
        );
    }
    // Enough tries that a server dropping PINGs as often as in step 1 still answers one
    // with 99.9% probability (3 to 50 tries).
    let answered_share = answered_before as f64 / f64::from(args.count);
    let tries = if answered_share >= 0.999 {
        3
    } else if answered_share <= 0.0 {
        50
    } else {
        ((0.001f64).ln() / (1.0 - answered_share).ln()).ceil() as u32
    }
    .clamp(3, 50);
    let after = format!("after the malformed datagrams ({})", sent_labels.join(", "));
    for i in 0..tries {
        if i > 0 && args.interval_ms > 0 {
            std::thread::sleep(Duration::from_millis(args.interval_ms));
        }
        let seq = args.count + 1 + i;
        match t.ping(seq) {
            Outcome::Refused => {
                return (
                    Verdict::Fail,
                    format!(
                        "the server's port closed {after} (ICMP port unreachable at PING seq={seq}): it crashed"
                    ),
                    json!({"evidence": format!("{}; PING seq={seq} → port unreachable", answers.join("; ")),
                           "tries": i + 1}),
                );
            }
            Outcome::Timeout => continue,
            o => {
                let got = match o {
                    Outcome::Pong(m, _) => m.summary(),
                    Outcome::Error(m) => m.summary(),
                    Outcome::Garbage(b) => format!("{} bytes of garbage", b.len()),
                    _ => unreachable!("handled above"),
                };
                return (
                    Verdict::Pass,
                    format!("still running {after}: PING seq={seq} got {got}"),
                    json!({"evidence": format!("{}; PING seq={seq} → {got}", answers.join("; ")),
                           "tries": i + 1}),
                );
            }
        }
    }
    (
        Verdict::Fail,
        format!(
            "no answer to {tries} PINGs {after}, where it had answered {answered_before}/{} before: it died or hangs",
            args.count
        ),
        json!({"evidence": format!("{}; {tries} PINGs (seq {}..={}) unanswered",
                                   answers.join("; "), args.count + 1, args.count + tries),
               "tries": tries}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_distinct() {
        let all: std::collections::HashSet<Vec<u8>> = (1..=1000).map(payload_for).collect();
        assert_eq!(all.len(), 1000);
    }

    #[test]
    fn the_lying_datagram_is_last() {
        let m = malformed_datagrams();
        let last = &m.last().unwrap().1;
        let h = minip::header(last).unwrap();
        assert!(usize::from(h.length) > last.len() - minip::HEADER_LEN);
        assert!(m.iter().all(|(_, d)| minip::decode(d).is_err()));
    }
}
