//! RFC 9001 §5.4: header protection. Removing it must give back the packet number length
//! and number that make the payload authenticate (the unprotected header is the AEAD's
//! associated data), and the reserved bits it covers must then be zero (RFC 9000 §17.2,
//! §17.3.1). Judged over every peer packet the tester holds keys for: Initial, Handshake
//! and 1-RTT.

use super::decoded::{Seen, from_peer, is_undecryptable};
use super::outcome::{Outcome, cut};
use crate::quic::trace::PacketStatus;

pub fn judge(seen: &[Seen]) -> Outcome {
    let (mut opened, mut closed, mut reserved) = (0u64, Vec::new(), Vec::new());
    for s in from_peer(seen) {
        let p = &s.p;
        if is_undecryptable(p) {
            closed.push(format!("datagram {}: {}", s.datagram, p.ty.label()));
        } else if matches!(p.status, PacketStatus::Decrypted)
            || matches!(&p.status, PacketStatus::Failed(e) if e.starts_with("malformed"))
        {
            opened += 1;
            if p.notes.iter().any(|n| n.starts_with("reserved bits")) {
                reserved.push(format!("{} {}", p.ty.label(), p.pn.unwrap_or_default()));
            }
        }
    }
    let o = if !reserved.is_empty() {
        Outcome::fail(format!(
            "{} packet(s) have reserved bits set once header protection is removed: {}",
            reserved.len(),
            cut(&reserved)
        ))
    } else if opened == 0 && !closed.is_empty() {
        Outcome::fail(format!(
            "none of the peer's {} protected packet(s) opened with the connection's keys: {}",
            closed.len(),
            cut(&closed)
        ))
    } else if opened == 0 {
        Outcome::inconclusive("no protected packet from the peer was seen")
    } else if closed.is_empty() {
        Outcome::pass(format!(
            "{opened} packet(s) in Initial, Handshake and 1-RTT: header protection removed, payload authenticated, reserved bits zero"
        ))
    } else {
        Outcome::pass(format!(
            "{opened} packet(s) had header protection removed and authenticated with reserved bits zero; {} did not open with the keys the tester held ({})",
            closed.len(),
            cut(&closed)
        ))
    };
    o.with("opened", opened)
        .with("not_opened", closed.len() as u64)
}
