//! RFC 9000 §10.2: after an immediate close. The side that sends CONNECTION_CLOSE first is
//! closing (§10.2.1): from then on every packet it sends carries CONNECTION_CLOSE. The side
//! that receives it is draining (§10.2.2): it may answer with one CONNECTION_CLOSE, then sends
//! nothing. A packet the peer sent before it read the tester's close can still arrive after
//! it, so the draining rule only counts what provably came later: a packet acknowledging the
//! tester's close, or one carrying the peer's own CONNECTION_CLOSE. Datagrams, not packets,
//! are counted there: one answer may coalesce a CONNECTION_CLOSE per number space.

use std::collections::BTreeMap;

use super::decoded::{Seen, has_frame};
use super::outcome::{Outcome, cut};
use super::socket::Dir;
use crate::quic::trace::PacketStatus;
use crate::quic::wire::header::Space;

const CLOSE: &str = "CONNECTION_CLOSE";

pub fn judge(seen: &[Seen]) -> Outcome {
    let mut by_conn: BTreeMap<usize, Vec<&Seen>> = BTreeMap::new();
    for s in seen {
        if let Some(c) = s.p.conn {
            by_conn.entry(c).or_default().push(s);
        }
    }
    let judged: Vec<Outcome> = by_conn.values().map(|c| one(c)).collect();
    if let Some(bad) = judged
        .iter()
        .find(|o| o.verdict == crate::verdict::Verdict::Fail)
    {
        return bad.clone();
    }
    let passed: Vec<&Outcome> = judged
        .iter()
        .filter(|o| o.verdict == crate::verdict::Verdict::Pass)
        .collect();
    match passed.as_slice() {
        [] => judged
            .into_iter()
            .next()
            .unwrap_or_else(|| Outcome::inconclusive("no connection was seen on the wire")),
        [one] => (*one).clone(),
        [first, ..] => {
            let mut o = (*first).clone();
            o.text = format!(
                "{} connections closed by the rules; the first: {}",
                passed.len(),
                o.text
            );
            o
        }
    }
}

/// One connection's packets, in the order the tester saw them. Only packets that opened
/// count: an undecryptable one's frames (and packet number) are unknown.
fn one(conn: &[&Seen]) -> Outcome {
    let conn: Vec<&Seen> = conn
        .iter()
        .copied()
        .filter(|s| s.p.status == PacketStatus::Decrypted)
        .collect();
    let conn = conn.as_slice();
    let first_close = |dir: Dir| {
        conn.iter()
            .position(|s| s.dir == dir && has_frame(&s.p, CLOSE))
    };
    match (first_close(Dir::Sent), first_close(Dir::Received)) {
        (None, None) => Outcome::inconclusive("neither side sent CONNECTION_CLOSE"),
        (Some(t), None) => draining(conn, t),
        (Some(t), Some(p)) if t < p => draining(conn, t),
        (_, Some(p)) => closing(conn, p),
    }
}

/// The peer closed first: each packet it sent after that one in the same number space (a
/// higher packet number: sent later, whatever the link reordered) carries CONNECTION_CLOSE.
fn closing(conn: &[&Seen], at: usize) -> Outcome {
    let first = &conn[at].p;
    let (space, pn) = (first.ty.space(), first.pn.unwrap_or_default());
    let later: Vec<&Seen> = conn
        .iter()
        .copied()
        .filter(|s| s.dir == Dir::Received && s.p.ty.space() == space)
        .filter(|s| s.p.pn.is_some_and(|n| n > pn))
        .collect();
    let bare: Vec<String> = later
        .iter()
        .filter(|s| !has_frame(&s.p, CLOSE))
        .map(|s| format!("datagram {}: {}", s.datagram, s.p.summary()))
        .collect();
    let o = if bare.is_empty() {
        Outcome::pass(format!(
            "the peer closed first ({}); its {} later packet(s) all carried CONNECTION_CLOSE (closing state, RFC 9000 §10.2.1)",
            first.summary(),
            later.len()
        ))
    } else {
        Outcome::fail(format!(
            "after its own CONNECTION_CLOSE the peer sent {} packet(s) without one (RFC 9000 §10.2.1): {}",
            bare.len(),
            cut(&bare)
        ))
    };
    o.with("closed_by", "peer")
        .with("later_packets", later.len() as u64)
}

/// The tester closed first: the peer may answer with one CONNECTION_CLOSE, then nothing.
fn draining(conn: &[&Seen], at: usize) -> Outcome {
    let ours: Vec<(Space, u64)> = conn
        .iter()
        .filter(|s| s.dir == Dir::Sent && has_frame(&s.p, CLOSE))
        .filter_map(|s| Some((s.p.ty.space()?, s.p.pn?)))
        .collect();
    let acks_our_close = |s: &Seen| {
        let space = s.p.ty.space();
        ours.iter().any(|&(sp, pn)| {
            Some(sp) == space && s.p.acked.iter().any(|&(lo, hi)| (lo..=hi).contains(&pn))
        })
    };
    let later = datagrams(
        conn[at + 1..]
            .iter()
            .copied()
            .filter(|s| s.dir == Dir::Received),
    );
    let after: Vec<&(usize, Vec<&Seen>)> = later
        .iter()
        .filter(|(_, ps)| {
            ps.iter()
                .any(|s| acks_our_close(s) || has_frame(&s.p, CLOSE))
        })
        .collect();
    let closes = after
        .iter()
        .filter(|(_, ps)| ps.iter().any(|s| has_frame(&s.p, CLOSE)))
        .count();
    let bare: Vec<String> = after
        .iter()
        .filter(|(_, ps)| !ps.iter().any(|s| has_frame(&s.p, CLOSE)))
        .map(|(d, ps)| format!("datagram {d}: {}", labels(ps)))
        .collect();
    let o = if !bare.is_empty() {
        Outcome::fail(format!(
            "after reading the tester's CONNECTION_CLOSE the peer went on sending (draining, RFC 9000 §10.2.2): {}",
            cut(&bare)
        ))
    } else if closes > 1 {
        Outcome::fail(format!(
            "after reading the tester's CONNECTION_CLOSE the peer sent {closes} datagrams with CONNECTION_CLOSE; a draining endpoint may send one (RFC 9000 §10.2.2)"
        ))
    } else {
        Outcome::pass(format!(
            "the tester closed first ({}); after reading it the peer sent {} (draining, RFC 9000 §10.2.2); {} later datagram(s) were sent before it read the close",
            conn[at].p.summary(),
            if closes == 1 {
                "one CONNECTION_CLOSE and nothing else"
            } else {
                "nothing"
            },
            later.len() - after.len()
        ))
    };
    o.with("closed_by", "tester")
        .with("later_datagrams", later.len() as u64)
        .with("after_close_read", after.len() as u64)
}

/// Packets grouped by the datagram that carried them, in order.
fn datagrams<'a>(ps: impl Iterator<Item = &'a Seen>) -> Vec<(usize, Vec<&'a Seen>)> {
    let mut out: Vec<(usize, Vec<&Seen>)> = Vec::new();
    for s in ps {
        match out.last_mut() {
            Some((d, v)) if *d == s.datagram => v.push(s),
            _ => out.push((s.datagram, vec![s])),
        }
    }
    out
}

fn labels(ps: &[&Seen]) -> String {
    ps.iter()
        .map(|s| s.p.summary())
        .collect::<Vec<_>>()
        .join(" + ")
}
