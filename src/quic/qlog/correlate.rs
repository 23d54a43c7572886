//! The same packet seen by both endpoints: one side's `packet_sent` matched to the other's
//! `packet_received` on packet number space, packet number and (when both files name it)
//! the destination connection ID, as qvis does. A sent packet the peer never received is
//! lost.

use std::collections::HashMap;

use super::{Direction, Packet, QlogTrace};

/// Matches of one direction: for each `packet_sent` of the sender (its event index), the
/// receiver's `packet_received` event index, or `None` when it never arrived.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Correlation {
    pub a_to_b: Vec<(usize, Option<usize>)>,
    pub b_to_a: Vec<(usize, Option<usize>)>,
}

impl Correlation {
    /// Sent packets (event indices in the sender's trace) the peer never received.
    pub fn lost(&self) -> (Vec<usize>, Vec<usize>) {
        let pick = |v: &[(usize, Option<usize>)]| {
            v.iter()
                .filter(|(_, r)| r.is_none())
                .map(|(s, _)| *s)
                .collect()
        };
        (pick(&self.a_to_b), pick(&self.b_to_a))
    }
}

/// Initial, Handshake and application data have their own packet numbers (RFC 9000 §12.3);
/// 0-RTT and 1-RTT share one.
pub fn number_space(packet_type: &str) -> &'static str {
    match packet_type.to_ascii_lowercase().as_str() {
        "initial" => "initial",
        "handshake" => "handshake",
        "0rtt" | "1rtt" | "onertt" | "zerortt" | "short" => "application",
        "retry" => "retry",
        "version_negotiation" => "version_negotiation",
        _ => "other",
    }
}

type Key = (&'static str, u64);

fn key(p: &Packet) -> Option<Key> {
    Some((number_space(&p.packet_type), p.number?))
}

/// Correlates endpoint `a`'s trace with endpoint `b`'s.
pub fn correlate(a: &QlogTrace, b: &QlogTrace) -> Correlation {
    Correlation {
        a_to_b: one_way(a, b),
        b_to_a: one_way(b, a),
    }
}

fn one_way(from: &QlogTrace, to: &QlogTrace) -> Vec<(usize, Option<usize>)> {
    let mut received: HashMap<Key, Vec<(usize, &Packet)>> = HashMap::new();
    for (i, e) in to.events.iter().enumerate() {
        if let Some(p) = &e.packet
            && p.direction == Direction::Received
            && let Some(k) = key(p)
        {
            received.entry(k).or_default().push((i, p));
        }
    }
    let mut out = Vec::new();
    for (i, e) in from.events.iter().enumerate() {
        let Some(p) = &e.packet else { continue };
        if p.direction != Direction::Sent {
            continue;
        }
        let Some(k) = key(p) else { continue };
        let hit = received.get(&k).and_then(|cands| {
            cands
                .iter()
                .find(|(_, r)| match (&p.dcid, &r.dcid) {
                    (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
                    _ => true,
                })
                .map(|(j, _)| *j)
        });
        out.push((i, hit));
    }
    out
}
