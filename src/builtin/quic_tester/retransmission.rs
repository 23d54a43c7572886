//! RFC 9002 §6.2 (and §6.1): what the link's loss did to the peer's handshake, seen from the
//! tester's side of the link. A packet number missing from the peer's Initial or Handshake
//! space is a packet the link lost; handshake data that arrives twice, or below what already
//! arrived, was sent again (after a probe timeout or a loss detected by acknowledgements).
//! A completed handshake proves the lost data got through; this says whether loss happened
//! at all, so a passing `handshakeloss` run says what it exercised.

use std::collections::BTreeMap;

use super::decoded::{Seen, from_peer};
use super::outcome::{Outcome, cut};
use crate::quic::wire::PacketType;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Retransmissions {
    /// The peer's handshake packets the link lost, as "connection 3 Handshake 1".
    pub lost: Vec<String>,
    /// The peer's packets that carried handshake data again.
    pub resent: Vec<String>,
}

/// One packet's number and its CRYPTO frames as (offset, length).
type Arrival = (u64, Vec<(u64, u64)>);

pub fn of(seen: &[Seen]) -> Retransmissions {
    // (connection, space) -> the peer's packets in arrival order.
    let mut spaces: BTreeMap<(usize, &'static str), Vec<Arrival>> = BTreeMap::new();
    for s in from_peer(seen) {
        let (Some(c), Some(pn)) = (s.p.conn, s.p.pn) else {
            continue;
        };
        if matches!(s.p.ty, PacketType::Initial | PacketType::Handshake) {
            spaces
                .entry((c, s.p.ty.label()))
                .or_default()
                .push((pn, s.p.crypto.clone()));
        }
    }
    let mut out = Retransmissions::default();
    for ((c, space), packets) in spaces {
        let name = |pn: u64| format!("connection {} {space} {pn}", c + 1);
        let got: std::collections::BTreeSet<u64> = packets.iter().map(|p| p.0).collect();
        let top = got.last().copied().unwrap_or_default();
        out.lost
            .extend((0..top).filter(|n| !got.contains(n)).map(name));
        let mut end = 0u64;
        for (pn, ranges) in &packets {
            if ranges.iter().any(|&(off, _)| off < end) {
                out.resent.push(name(*pn));
            }
            end = ranges
                .iter()
                .map(|&(off, len)| off + len)
                .fold(end, u64::max);
        }
    }
    out
}

impl Retransmissions {
    /// Adds what the loss did to a passing outcome's sentence and evidence.
    pub fn annotate(&self, o: Outcome) -> Outcome {
        let said = if self.lost.is_empty() && self.resent.is_empty() {
            "; the link lost none of the server's handshake packets, so this run did not exercise its loss recovery".to_string()
        } else {
            format!(
                "; the link lost {} of the server's Initial/Handshake packets ({}) and the server sent handshake data again in {} packet(s) ({}) (RFC 9002 §6.2)",
                self.lost.len(),
                cut(&self.lost),
                self.resent.len(),
                cut(&self.resent)
            )
        };
        Outcome {
            text: format!("{}{said}", o.text),
            ..o
        }
        .with("server_handshake_packets_lost", self.lost.len() as u64)
        .with("server_handshake_packets_resent", self.resent.len() as u64)
    }
}
