//! RFC checks over what an observed socket recorded, decoded with the wire library: packet
//! headers need no keys, Initial packets derive theirs from the client's DCID, and 1-RTT
//! header protection uses the secrets the tester's own TLS logged.

use super::cases::{self, Case};
use super::outcome::Outcome;
use super::socket::{Datagram, Dir, Recording};
use super::tls::KeyCollector;
use crate::quic::wire::frame::Frame;
use crate::quic::wire::header::{Header, MAX_CID_LEN, PacketType, split_datagram};
use crate::quic::wire::keys::{PacketKey, Side, Suite};
use crate::quic::wire::protect;
use crate::quic::wire::{V1, open_initial};

pub struct Summary {
    pub datagrams: usize,
    pub received_bytes: usize,
}

pub fn summary(r: &Recording) -> Summary {
    let d = r.datagrams();
    Summary {
        datagrams: d.len(),
        received_bytes: d
            .iter()
            .filter(|x| x.dir == Dir::Received)
            .map(|x| x.bytes.len())
            .sum(),
    }
}

/// The long headers of one datagram (a short header ends it; its DCID length is unknown
/// here and not needed).
fn long_headers(d: &Datagram) -> Vec<Header<'_>> {
    split_datagram(&d.bytes, 0)
        .map_while(Result::ok)
        .filter(|h| h.ty.is_long())
        .collect()
}

/// The DCID of the first Initial sent by `client` (what Initial keys derive from).
fn first_initial_dcid(rec: &[Datagram], client: Dir) -> Option<Vec<u8>> {
    initial_dcids(rec, client).into_iter().next()
}

/// Every DCID the client's Initials used, first ones first: the original DCID of each
/// connection and the one a Retry gave it. Initial keys derive from one of them, so a packet
/// is opened with each in turn (authentication tells the right one).
fn initial_dcids(rec: &[Datagram], client: Dir) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for d in rec.iter().filter(|d| d.dir == client) {
        for h in long_headers(d) {
            if h.ty == PacketType::Initial && !out.iter().any(|x| x == h.dcid) {
                out.push(h.dcid.to_vec());
            }
        }
    }
    out
}

/// Opens a datagram's Initial packets with whichever candidate DCID's keys fit.
fn open_any(d: &Datagram, dcids: &[Vec<u8>], sender: Side) -> Vec<crate::quic::wire::OpenedPacket> {
    dcids
        .iter()
        .find_map(|k| open_initial(&d.bytes, k, sender).ok())
        .unwrap_or_default()
}

pub struct Phases {
    pub sent_flips: usize,
    pub received_flips: usize,
    pub received_after_update: bool,
}

/// 1-RTT header protection keys for (client, server) from the last connection's secrets.
fn one_rtt_hp(keys: &KeyCollector) -> Option<(Vec<PacketKey>, Vec<PacketKey>)> {
    let secrets = keys.secrets();
    let last = |label: &str| {
        secrets
            .iter()
            .rev()
            .find(|s| s.label == label)
            .map(|s| s.secret.clone())
    };
    let (c, s) = (
        last("CLIENT_TRAFFIC_SECRET_0")?,
        last("SERVER_TRAFFIC_SECRET_0")?,
    );
    let suites: &[Suite] = if c.len() == 48 {
        &[Suite::Aes256Gcm]
    } else {
        &[Suite::Aes128Gcm, Suite::ChaCha20Poly1305]
    };
    let mk = |secret: &[u8]| -> Vec<PacketKey> {
        suites
            .iter()
            .filter_map(|&suite| PacketKey::from_secret(suite, V1, secret).ok())
            .collect()
    };
    Some((mk(&c), mk(&s)))
}

/// Reads the key phase bit of every 1-RTT packet in one direction; the suite is the one
/// whose generation-0 or -1 keys authenticate the packets.
fn phases_of(rec: &[Datagram], dir: Dir, dcid_len: usize, keys: &[PacketKey]) -> Vec<bool> {
    let mut buf = Vec::new();
    for k in keys {
        let next = k.next_generation().ok();
        let mut out = Vec::new();
        for d in rec.iter().filter(|d| d.dir == dir) {
            let Some(Ok(h)) = split_datagram(&d.bytes, dcid_len)
                .find(|h| h.as_ref().is_ok_and(|h| h.ty == PacketType::OneRtt))
            else {
                continue;
            };
            let Ok(mut u) = protect::unprotect_header(h.packet, h.pn_offset, k, None, &mut buf)
            else {
                continue;
            };
            let key = if u.key_phase { next.as_ref() } else { Some(k) };
            if key.is_some_and(|key| protect::decrypt_payload(&mut buf, &mut u, key).is_ok()) {
                out.push(u.key_phase);
            }
        }
        if !out.is_empty() {
            return out;
        }
    }
    Vec::new()
}

fn flips(v: &[bool]) -> usize {
    v.windows(2).filter(|w| w[0] != w[1]).count()
}

pub fn key_phases(rec: &Recording, keys: &KeyCollector) -> Phases {
    let d = rec.datagrams();
    let Some((ck, sk)) = one_rtt_hp(keys) else {
        return Phases {
            sent_flips: 0,
            received_flips: 0,
            received_after_update: false,
        };
    };
    // Our own CIDs are quinn's 8 bytes; the server's come from its long headers.
    let server_cid_len = d
        .iter()
        .filter(|x| x.dir == Dir::Received)
        .flat_map(|x| long_headers(x).into_iter().map(|h| h.scid.len()))
        .next()
        .unwrap_or(8);
    let sent = phases_of(&d, Dir::Sent, server_cid_len, &ck);
    let received = phases_of(&d, Dir::Received, 8, &sk);
    Phases {
        sent_flips: flips(&sent),
        received_flips: flips(&received),
        received_after_update: sent.contains(&true) && received.contains(&true),
    }
}

/// The TLS handshake messages the server sent in its Initial packets, in order.
fn server_initial_crypto(rec: &[Datagram]) -> Vec<u8> {
    let Some(dcid) = first_initial_dcid(rec, Dir::Sent) else {
        return Vec::new();
    };
    let mut parts: Vec<(u64, Vec<u8>)> = Vec::new();
    for d in rec.iter().filter(|d| d.dir == Dir::Received) {
        for p in open_initial(&d.bytes, &dcid, Side::Server).unwrap_or_default() {
            for f in p.frames().flatten() {
                if let Frame::Crypto { offset, data } = f {
                    parts.push((offset, data.to_vec()));
                }
            }
        }
    }
    parts.sort_by_key(|p| p.0);
    let mut out = Vec::new();
    for (off, data) in parts {
        let off = off as usize;
        if off <= out.len() && off + data.len() > out.len() {
            out.extend_from_slice(&data[out.len() - off..]);
        }
    }
    out
}

/// Whether a ServerHello accepted a pre-shared key (extension 41, RFC 8446 §4.2.11).
fn server_hello_psk(msg: &[u8]) -> Option<bool> {
    if *msg.first()? != 2 {
        return None;
    }
    // type(1) len(3) version(2) random(32) session_id(1+n) suite(2) compression(1)
    let sid = usize::from(*msg.get(38)?);
    let mut at = 39 + sid + 3;
    let ext_len = usize::from(u16::from_be_bytes([*msg.get(at)?, *msg.get(at + 1)?]));
    at += 2;
    let end = (at + ext_len).min(msg.len());
    while at + 4 <= end {
        let ty = u16::from_be_bytes([msg[at], msg[at + 1]]);
        let len = usize::from(u16::from_be_bytes([msg[at + 2], msg[at + 3]]));
        if ty == 41 {
            return Some(true);
        }
        at += 4 + len;
    }
    Some(false)
}

pub fn resumed(rec: &Recording) -> Outcome {
    match server_hello_psk(&server_initial_crypto(&rec.datagrams())) {
        Some(true) => Outcome::pass(
            "the second connection's ServerHello accepted the ticket (pre_shared_key) and the file arrived intact",
        ),
        Some(false) => Outcome::fail(
            "the second connection's ServerHello has no pre_shared_key: the server did a full handshake instead of resuming",
        ),
        None => {
            Outcome::inconclusive("no ServerHello could be read from the server's Initial packets")
        }
    }
}

pub fn retry(rec: &Recording) -> Outcome {
    let d = rec.datagrams();
    let mut retry: Option<(Vec<u8>, Vec<u8>)> = None;
    for x in &d {
        for h in long_headers(x) {
            match (x.dir, h.ty, &retry) {
                (Dir::Received, PacketType::Retry, None) => {
                    // RFC 9001 §5.8: the tag binds the Retry to the client's first DCID.
                    let odcid = first_initial_dcid(&d, Dir::Sent).unwrap_or_default();
                    if !crate::quic::wire::verify_retry(V1, &odcid, h.packet).unwrap_or(false) {
                        return Outcome::fail(
                            "the server's Retry failed its integrity tag check (RFC 9001 §5.8)",
                        );
                    }
                    retry = Some((h.token.to_vec(), h.scid.to_vec()));
                }
                (Dir::Sent, PacketType::Initial, Some((token, scid))) => {
                    let o = if h.token != token.as_slice() {
                        Outcome::fail(
                            "after Retry the client's Initial did not carry the Retry token",
                        )
                    } else if h.dcid != scid.as_slice() {
                        Outcome::fail(
                            "after Retry the client did not switch its DCID to the Retry's SCID",
                        )
                    } else {
                        Outcome::pass(
                            "the server sent Retry with a valid integrity tag; the next Initial carried its token to the Retry's SCID and the handshake completed",
                        )
                    };
                    return o.with("token_bytes", token.len() as u64);
                }
                _ => {}
            }
        }
    }
    match retry {
        Some(_) => Outcome::fail("the server sent Retry but no Initial followed it"),
        None => Outcome::fail(
            "the server sent no Retry (the retry case needs a server that validates addresses with Retry)",
        ),
    }
}

/// Checks on the peer's packets (`from`), which need no keys or only Initial keys.
/// The peer's datagrams are always the received ones; `peer_is_server` says which side
/// that is (Initial keys differ per direction).
fn peer_checks(d: &[Datagram], peer_is_server: bool) -> Vec<(&'static Case, Outcome)> {
    let from = Dir::Received;
    let mut out = Vec::new();
    let heads: Vec<(usize, Header<'_>)> = d
        .iter()
        .enumerate()
        .filter(|(_, x)| x.dir == from)
        .flat_map(|(i, x)| long_headers(x).into_iter().map(move |h| (i, h)))
        .collect();
    let unfixed: Vec<usize> = heads
        .iter()
        .filter(|(_, h)| h.ty != PacketType::VersionNegotiation && !h.fixed_bit())
        .map(|(i, _)| *i)
        .collect();
    out.push((
        cases::wire("wire_fixed_bit"),
        if heads.is_empty() {
            Outcome::inconclusive("no long-header packet from the peer was seen")
        } else if unfixed.is_empty() {
            Outcome::pass(format!(
                "{} long-header packets, all with the fixed bit",
                heads.len()
            ))
        } else {
            Outcome::fail(format!("{} packet(s) without the fixed bit", unfixed.len())).with(
                "datagrams",
                unfixed.iter().map(|&i| i as u64).collect::<Vec<_>>(),
            )
        },
    ));
    let long: Vec<usize> = heads
        .iter()
        .filter(|(_, h)| h.dcid.len() > MAX_CID_LEN || h.scid.len() > MAX_CID_LEN)
        .map(|(i, _)| *i)
        .collect();
    out.push((
        cases::wire("wire_cid_length"),
        if long.is_empty() {
            Outcome::pass("every connection ID is at most 20 bytes")
        } else {
            Outcome::fail(format!(
                "{} packet(s) with a connection ID over 20 bytes",
                long.len()
            ))
        },
    ));
    out.push((
        cases::wire("wire_frames_allowed"),
        frames_allowed(d, peer_is_server),
    ));
    out
}

/// Frames in the peer's Initial packets must be ones RFC 9000 §12.4 allows there.
fn frames_allowed(d: &[Datagram], peer_is_server: bool) -> Outcome {
    let (client, sender) = if peer_is_server {
        (Dir::Sent, Side::Server)
    } else {
        (Dir::Received, Side::Client)
    };
    let dcids = initial_dcids(d, client);
    if dcids.is_empty() {
        return Outcome::inconclusive("no client Initial was seen, so no Initial keys");
    }
    let mut seen = 0;
    let mut bad = Vec::new();
    for (i, x) in d.iter().enumerate().filter(|(_, x)| x.dir == Dir::Received) {
        for p in open_any(x, &dcids, sender) {
            if p.ty != PacketType::Initial {
                continue;
            }
            seen += 1;
            for f in p.frames().flatten() {
                if !f.allowed_in(PacketType::Initial) {
                    bad.push(format!("datagram {i}: {}", f.label()));
                }
            }
        }
    }
    if seen == 0 {
        Outcome::inconclusive("no Initial packet from the peer could be opened")
    } else if bad.is_empty() {
        Outcome::pass(format!(
            "{seen} Initial packet(s), every frame allowed in Initial"
        ))
    } else {
        Outcome::fail(format!("frames not allowed in Initial: {}", bad.join("; ")))
    }
}

/// Rules that need the connection's own secrets: every packet of every space decoded as a
/// capture would be, with the tester's key log.
pub fn keyed_checks(rec: &Recording, keys: &KeyCollector) -> Vec<(&'static Case, Outcome)> {
    let seen = super::decoded::decode(&rec.datagrams(), keys);
    vec![
        (
            cases::wire("wire_header_protection"),
            super::header_protection::judge(&seen),
        ),
        (cases::wire("wire_close"), super::closing::judge(&seen)),
    ]
}

/// Server-side rules, from the client's recording of its first connection.
pub fn server_checks(rec: &Recording) -> Vec<(&'static Case, Outcome)> {
    let d = rec.datagrams();
    let mut out = peer_checks(&d, true);
    out.push((cases::wire("wire_amplification"), amplification(&d)));
    out.push((
        cases::wire("wire_server_initial_size"),
        server_initial_size(&d),
    ));
    out
}

fn amplification(d: &[Datagram]) -> Outcome {
    let first_handshake = d.iter().position(|x| {
        x.dir == Dir::Sent
            && long_headers(x)
                .iter()
                .any(|h| h.ty == PacketType::Handshake)
    });
    let mut until = first_handshake.unwrap_or(d.len());
    let mut phase = "before the client's first Handshake packet";
    let token_at = d.iter().position(|x| {
        x.dir == Dir::Sent
            && long_headers(x)
                .iter()
                .any(|h| h.ty == PacketType::Initial && !h.token.is_empty())
    });
    if let Some(at) = token_at {
        // A Retry token validates the address (RFC 9000 §8.1.2): the limit binds what the
        // server sent before it, the Retry included. A token from an earlier connection's
        // NEW_TOKEN validated the address before this trace began.
        let retried = d[..at].iter().any(|x| {
            x.dir == Dir::Received && long_headers(x).iter().any(|h| h.ty == PacketType::Retry)
        });
        if !retried {
            return Outcome::inconclusive(
                "the client's Initial carried a token: the address counts as validated",
            );
        }
        until = until.min(at);
        phase = "before the client's Initial with the Retry token";
    }
    let sum = |dir| -> usize {
        d[..until]
            .iter()
            .filter(|x| x.dir == dir)
            .map(|x| x.bytes.len())
            .sum()
    };
    let (sent, received) = (sum(Dir::Sent), sum(Dir::Received));
    let o = if received <= 3 * sent {
        Outcome::pass(format!(
            "{phase} the server sent {received} bytes for {sent} received"
        ))
    } else {
        Outcome::fail(format!(
            "{phase} the server sent {received} bytes for only {sent} received (limit {})",
            3 * sent
        ))
    };
    o.with("client_bytes", sent as u64)
        .with("server_bytes", received as u64)
}

fn server_initial_size(d: &[Datagram]) -> Outcome {
    let dcids = initial_dcids(d, Dir::Sent);
    let mut small = Vec::new();
    let mut seen = 0;
    for (i, x) in d.iter().enumerate().filter(|(_, x)| x.dir == Dir::Received) {
        let eliciting = open_any(x, &dcids, Side::Server)
            .iter()
            .filter(|p| p.ty == PacketType::Initial)
            .any(|p| {
                p.frames().flatten().any(|f| {
                    !matches!(
                        f,
                        Frame::Ack { .. } | Frame::Padding { .. } | Frame::ConnectionClose { .. }
                    )
                })
            });
        if eliciting {
            seen += 1;
            if x.bytes.len() < 1200 {
                small.push(format!("datagram {i}: {} bytes", x.bytes.len()));
            }
        }
    }
    if seen == 0 {
        Outcome::inconclusive("no ack-eliciting server Initial could be opened")
    } else if small.is_empty() {
        Outcome::pass(format!(
            "{seen} datagram(s) with ack-eliciting Initials, all ≥ 1200 bytes"
        ))
    } else {
        Outcome::fail(format!("under 1200 bytes: {}", small.join("; ")))
    }
}

/// Client-side rules, from the server's recording (the tester as a server).
pub fn client_checks(rec: &Recording) -> Vec<(&'static Case, Outcome)> {
    let d = rec.datagrams();
    let mut out = peer_checks(&d, false);
    let initials: Vec<(usize, usize)> = d
        .iter()
        .enumerate()
        .filter(|(_, x)| x.dir == Dir::Received)
        .filter(|(_, x)| long_headers(x).iter().any(|h| h.ty == PacketType::Initial))
        .map(|(i, x)| (i, x.bytes.len()))
        .collect();
    let small: Vec<String> = initials
        .iter()
        .filter(|(_, n)| *n < 1200)
        .map(|(i, n)| format!("datagram {i}: {n} bytes"))
        .collect();
    out.push((
        cases::wire("wire_client_initial_size"),
        if initials.is_empty() {
            Outcome::inconclusive("no client Initial was seen")
        } else if small.is_empty() {
            Outcome::pass(format!(
                "{} datagram(s) with Initials, all ≥ 1200 bytes",
                initials.len()
            ))
        } else {
            Outcome::fail(format!("under 1200 bytes: {}", small.join("; ")))
        },
    ));
    out.push((cases::wire("wire_client_dcid_switch"), dcid_switch(&d)));
    out
}

fn dcid_switch(d: &[Datagram]) -> Outcome {
    // Our SCID for each client connection, keyed by the client's SCID (our Initial's DCID).
    let mut ours: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for x in d.iter().filter(|x| x.dir == Dir::Sent) {
        for h in long_headers(x) {
            if h.ty == PacketType::Initial && !ours.iter().any(|(c, _)| c == h.dcid) {
                ours.push((h.dcid.to_vec(), h.scid.to_vec()));
            }
        }
    }
    if ours.is_empty() {
        return Outcome::inconclusive("the tester sent no Initial");
    }
    // The client can send a Handshake packet only after it read our Initial: from its first
    // one on, every long header of that connection must carry our SCID.
    let mut switched: Vec<Vec<u8>> = Vec::new();
    let (mut checked, mut wrong) = (0, Vec::new());
    for (i, x) in d.iter().enumerate().filter(|(_, x)| x.dir == Dir::Received) {
        for h in long_headers(x) {
            let Some((_, our_scid)) = ours.iter().find(|(c, _)| c == h.scid) else {
                continue;
            };
            if h.ty == PacketType::Handshake && !switched.iter().any(|s| s == h.scid) {
                switched.push(h.scid.to_vec());
            }
            if switched.iter().any(|s| s == h.scid) {
                checked += 1;
                if h.dcid != our_scid.as_slice() {
                    wrong.push(i as u64);
                }
            }
        }
    }
    if checked == 0 {
        Outcome::inconclusive("the client sent no Handshake packet")
    } else if wrong.is_empty() {
        Outcome::pass(format!(
            "{checked} long-header packet(s) from the client's first Handshake packet on all use the server's SCID as DCID"
        ))
    } else {
        Outcome::fail(format!(
            "{} of {checked} long-header packet(s) after the client's first Handshake packet use another DCID",
            wrong.len()
        ))
        .with("datagrams", wrong)
    }
}
