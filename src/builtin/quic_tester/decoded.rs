//! The tester's recording read the way `panther import` reads a capture: every packet of
//! every space opened with the secrets the tester's own TLS logged, so rules about Handshake
//! and 1-RTT packets (header protection, closing, retransmission) are judged on the bytes
//! that crossed the wire, not on what quinn reported.

use std::net::SocketAddr;

use super::socket::{Datagram, Dir};
use super::tls::KeyCollector;
use crate::quic::keylog::KeyLog;
use crate::quic::trace::{DecodedPacket, Decoder, PacketStatus};

/// One decoded packet and the datagram it came in (its index in the recording).
pub struct Seen {
    pub datagram: usize,
    pub dir: Dir,
    pub p: DecodedPacket,
}

/// Decodes every datagram of a recording. The tester's own address is a placeholder: one
/// socket is one path, and connections on it are told apart by their connection IDs.
pub fn decode(rec: &[Datagram], keys: &KeyCollector) -> Vec<Seen> {
    let mut d = Decoder::new(KeyLog::parse(&keys.nss_text()));
    let local = SocketAddr::from(([0, 0, 0, 0], 0));
    let mut out = Vec::new();
    for (i, x) in rec.iter().enumerate() {
        let (src, dst) = match x.dir {
            Dir::Sent => (local, x.peer),
            Dir::Received => (x.peer, local),
        };
        for p in d.feed(x.at, src, dst, &x.bytes) {
            out.push(Seen {
                datagram: i,
                dir: x.dir,
                p,
            });
        }
    }
    out
}

/// The packets the peer sent (they arrived at the tester).
pub fn from_peer(seen: &[Seen]) -> impl Iterator<Item = &Seen> {
    seen.iter().filter(|s| s.dir == Dir::Received)
}

pub fn is_undecryptable(p: &DecodedPacket) -> bool {
    matches!(&p.status, PacketStatus::Failed(e) if e.starts_with("undecryptable"))
}

pub fn has_frame(p: &DecodedPacket, kind: &str) -> bool {
    p.frames.iter().any(|f| f.kind == kind)
}
