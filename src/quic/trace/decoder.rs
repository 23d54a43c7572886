//! The streaming QUIC decoder: one datagram in (time, addresses, bytes), its packets out with
//! their frames, or with the reason they stay closed ("undecryptable: no keys"). The import
//! feeds it a whole capture; the link can feed it live.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use super::conn::Conn;
use crate::quic::keylog::KeyLog;
use crate::quic::wire::frame::{hex, parse_frames};
use crate::quic::wire::header::{self, Header, Space};
use crate::quic::wire::{Frame, PacketType, Side, WireError, protect, verify_retry};

/// One frame, as the timeline keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameInfo {
    /// RFC 9000's name of the frame type ("ACK", "CRYPTO").
    pub kind: &'static str,
    /// The frame with its fields ("ACK 0-3", "CRYPTO 0+264").
    pub label: String,
}

/// Whether a packet could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacketStatus {
    /// Decrypted and its frames decoded.
    Decrypted,
    /// Version Negotiation and Retry carry no protected payload.
    Clear,
    /// No keys for its space: no key log, or the key log lacks this connection.
    NoKeys,
    /// Keys were there but the packet did not authenticate, or its frames were malformed.
    Failed(String),
}

impl PacketStatus {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Decrypted => "decrypted",
            Self::Clear => "clear",
            Self::NoKeys => "undecryptable: no keys",
            Self::Failed(e) => e,
        }
    }
}

/// One QUIC packet out of a datagram.
#[derive(Debug, Clone)]
pub struct DecodedPacket {
    pub time: Duration,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// Index of its connection in [`Decoder::connections`], when one was found.
    pub conn: Option<usize>,
    pub sender: Side,
    pub ty: PacketType,
    pub version: u32,
    pub dcid: String,
    pub scid: String,
    pub pn: Option<u64>,
    pub key_phase: Option<bool>,
    /// Bytes on the wire.
    pub size: usize,
    pub frames: Vec<FrameInfo>,
    pub status: PacketStatus,
    /// What a checker may want to know: oversized CIDs, fixed bit 0, a bad Retry tag.
    pub notes: Vec<String>,
    /// Version Negotiation's versions.
    pub versions: Vec<u32>,
    /// The packet numbers its ACK frames acknowledge, as inclusive (low, high) ranges in the
    /// packet's own number space: what a checker needs to prove the sender had read a packet.
    pub acked: Vec<(u64, u64)>,
    /// Its CRYPTO frames as (offset, length): retransmitted handshake data shows as ranges
    /// that arrive twice or out of order.
    pub crypto: Vec<(u64, u64)>,
}

impl DecodedPacket {
    /// The arrow label: "Initial 0: CRYPTO, PADDING", "1-RTT 7: ACK, STREAM",
    /// "Handshake: undecryptable: no keys".
    pub fn summary(&self) -> String {
        let mut s = self.ty.label().to_string();
        if let Some(pn) = self.pn {
            s.push_str(&format!(" {pn}"));
        }
        match &self.status {
            PacketStatus::Decrypted => {
                let mut kinds: Vec<&str> = Vec::new();
                for f in &self.frames {
                    if !kinds.contains(&f.kind) {
                        kinds.push(f.kind);
                    }
                }
                s.push_str(": ");
                s.push_str(&kinds.join(", "));
            }
            PacketStatus::Clear if self.ty == PacketType::VersionNegotiation => {
                let v: Vec<String> = self.versions.iter().map(|v| format!("0x{v:08x}")).collect();
                s.push_str(&format!(": {}", v.join(", ")));
            }
            PacketStatus::Clear => {}
            other => {
                s.push_str(": ");
                s.push_str(other.as_str());
            }
        }
        s
    }
}

/// The decoder's state across datagrams.
#[derive(Debug, Default)]
pub struct Decoder {
    conns: Vec<Conn>,
    by_cid: HashMap<Vec<u8>, usize>,
    /// The lengths of the connection IDs in `by_cid`, so a short header (whose DCID length
    /// is not on the wire) is looked up once per length, not by scanning every CID.
    cid_lens: std::collections::BTreeSet<usize>,
    by_path: HashMap<(SocketAddr, SocketAddr), usize>,
    keylog: KeyLog,
    buf: Vec<u8>,
}

impl Decoder {
    pub fn new(keylog: KeyLog) -> Self {
        Decoder {
            keylog,
            ..Default::default()
        }
    }

    /// More key log lines (a live service's key log grows during the handshake).
    pub fn add_keylog(&mut self, text: &str) {
        self.keylog.add(text);
        self.conns.iter_mut().for_each(Conn::retry_keylog);
    }

    pub fn keylog(&self) -> &KeyLog {
        &self.keylog
    }

    pub fn connections(&self) -> &[Conn] {
        &self.conns
    }

    /// Decodes one UDP datagram. Datagrams that are not QUIC give one packet with a
    /// `Failed` status (the caller decides whether to show it).
    pub fn feed(
        &mut self,
        time: Duration,
        src: SocketAddr,
        dst: SocketAddr,
        datagram: &[u8],
    ) -> Vec<DecodedPacket> {
        let mut out = Vec::new();
        let mut offset = 0;
        while offset < datagram.len() {
            if offset > 0 && datagram[offset..].iter().all(|&b| b == 0) {
                break;
            }
            let conn = self.find_conn(src, dst, datagram, offset);
            let dcid_len = conn.map_or(0, |c| self.short_dcid_len(c, src, &datagram[offset..]));
            let h = match header::parse(datagram, offset, dcid_len) {
                Ok(h) => h,
                Err(e) => {
                    out.push(self.broken(time, src, dst, conn, datagram.len() - offset, &e));
                    break;
                }
            };
            let last = !h.is_protected() || h.ty == PacketType::OneRtt;
            let len = h.packet.len();
            let p = self.packet(time, src, dst, &h);
            // A GSO super-frame: several datagrams of `seg` bytes captured as one.
            if h.ty == PacketType::OneRtt
                && matches!(p.status, PacketStatus::Failed(_))
                && let Some(seg) = self.gso_segment(src, dst, datagram, offset, &h)
            {
                // Segments are equal from the datagram's start: the first holds the packets
                // already read plus this one.
                out.extend(self.feed(time, src, dst, &datagram[offset..offset + seg]));
                for chunk in datagram[offset + seg..].chunks(offset + seg) {
                    out.extend(self.feed(time, src, dst, chunk));
                }
                return out;
            }
            out.push(p);
            if last {
                break;
            }
            offset += len;
        }
        out
    }

    fn short_dcid_len(&self, c: usize, src: SocketAddr, packet: &[u8]) -> usize {
        let conn = &self.conns[c];
        conn.short_dcid_len(conn.sender(src).peer(), packet)
            .unwrap_or(0)
    }

    fn find_conn(
        &self,
        src: SocketAddr,
        dst: SocketAddr,
        datagram: &[u8],
        offset: usize,
    ) -> Option<usize> {
        let first = datagram[offset];
        if first & 0x80 != 0 {
            let dcid = datagram
                .get(offset + 6..)
                .and_then(|r| r.get(..usize::from(datagram[offset + 5])));
            if let Some(&c) = dcid.and_then(|d| self.by_cid.get(d)) {
                return Some(c);
            }
        } else {
            // Several connections can share one path (a client reusing its port): the
            // short header's DCID says which one, the path only which was last.
            let rest = datagram.get(offset + 1..).unwrap_or_default();
            let by_dcid = self
                .cid_lens
                .iter()
                .filter(|&&n| n > 0)
                .find_map(|&n| rest.get(..n).and_then(|d| self.by_cid.get(d)));
            if let Some(&c) = by_dcid {
                return Some(c);
            }
        }
        self.by_path
            .get(&(src, dst))
            .or_else(|| self.by_path.get(&(dst, src)))
            .copied()
    }

    fn remember_cid(&mut self, cid: &[u8], c: usize) {
        self.cid_lens.insert(cid.len());
        self.by_cid.insert(cid.to_vec(), c);
    }

    fn conn_for(&mut self, src: SocketAddr, dst: SocketAddr, h: &Header<'_>) -> Option<usize> {
        if let Some(c) = self.find_conn(src, dst, h.packet, 0) {
            // Same path, but a client Initial to a DCID nobody chose (a new ODCID: the next
            // connection, or a retry after Version Negotiation) starts a new connection.
            let fresh = h.ty == PacketType::Initial
                && self.conns[c].sender(src) == Side::Client
                && !h.dcid.is_empty()
                && !self.by_cid.contains_key(h.dcid);
            if !fresh {
                return Some(c);
            }
        }
        if h.ty != PacketType::Initial {
            return None;
        }
        let c = self.conns.len();
        self.conns.push(Conn::new(src, dst, h.version, h.dcid));
        self.remember_cid(h.dcid, c);
        self.by_path.insert((src, dst), c);
        Some(c)
    }

    fn broken(
        &self,
        time: Duration,
        src: SocketAddr,
        dst: SocketAddr,
        conn: Option<usize>,
        size: usize,
        e: &WireError,
    ) -> DecodedPacket {
        let sender = conn.map_or(Side::Client, |c| self.conns[c].sender(src));
        DecodedPacket {
            time,
            src,
            dst,
            conn,
            sender,
            ty: PacketType::UnknownVersion,
            version: 0,
            dcid: String::new(),
            scid: String::new(),
            pn: None,
            key_phase: None,
            size,
            frames: Vec::new(),
            status: PacketStatus::Failed(format!("not QUIC: {e}")),
            notes: Vec::new(),
            versions: Vec::new(),
            acked: Vec::new(),
            crypto: Vec::new(),
        }
    }

    fn packet(
        &mut self,
        time: Duration,
        src: SocketAddr,
        dst: SocketAddr,
        h: &Header<'_>,
    ) -> DecodedPacket {
        let conn = self.conn_for(src, dst, h);
        let sender = conn.map_or(Side::Client, |c| self.conns[c].sender(src));
        let mut p = DecodedPacket {
            time,
            src,
            dst,
            conn,
            sender,
            ty: h.ty,
            version: h.version,
            dcid: hex(h.dcid),
            scid: hex(h.scid),
            pn: None,
            key_phase: None,
            size: h.packet.len(),
            frames: Vec::new(),
            status: PacketStatus::NoKeys,
            notes: notes(h),
            versions: h.versions().collect(),
            acked: Vec::new(),
            crypto: Vec::new(),
        };
        let Some(c) = conn else { return p };
        if h.ty.is_long() && !h.scid.is_empty() && self.conns[c].add_cid(sender, h.scid) {
            self.remember_cid(h.scid, c);
        }
        match h.ty {
            PacketType::VersionNegotiation | PacketType::UnknownVersion => {
                p.status = PacketStatus::Clear
            }
            PacketType::Retry => {
                p.status = PacketStatus::Clear;
                let odcid = self.conns[c].initial_dcid.clone();
                if verify_retry(h.version, &odcid, h.packet) != Ok(true) {
                    p.notes.push(
                        "Retry integrity tag does not match the client's DCID (RFC 9001 §5.8)"
                            .into(),
                    );
                }
                self.conns[c].retry(h.scid);
            }
            _ => self.open(c, h, &mut p),
        }
        p
    }

    fn open(&mut self, c: usize, h: &Header<'_>, p: &mut DecodedPacket) {
        let space = h.ty.space().unwrap_or(Space::Application);
        let keylog = &self.keylog;
        let conn = &mut self.conns[c];
        let largest = conn.largest(space, p.sender);
        if let Err(e) = conn.prepare_key(h.ty, h.version, p.sender, keylog) {
            p.status = PacketStatus::Failed(e.to_string());
            return;
        }
        let Some(key) = conn.key_ref(h.ty, p.sender) else {
            return;
        };
        let mut u =
            match protect::unprotect_header(h.packet, h.pn_offset, key, largest, &mut self.buf) {
                Ok(u) => u,
                Err(e) => {
                    p.status = PacketStatus::Failed(format!("undecryptable: {e}"));
                    return;
                }
            };
        let next = if h.ty == PacketType::OneRtt {
            conn.app_key_for_phase(p.sender, u.key_phase)
        } else {
            None
        };
        let result = match &next {
            Some((k, _)) => protect::decrypt_payload(&mut self.buf, &mut u, k).map(|_| ()),
            None => protect::decrypt_payload(&mut self.buf, &mut u, key).map(|_| ()),
        };
        if let Err(e) = result {
            p.pn = Some(u.pn);
            p.status = PacketStatus::Failed(format!("undecryptable: {e}"));
            return;
        }
        if let Some((k, _)) = next {
            conn.advance_app(p.sender, k, u.key_phase);
        }
        conn.saw_pn(space, p.sender, u.pn);
        p.pn = Some(u.pn);
        if h.ty == PacketType::OneRtt {
            p.key_phase = Some(u.key_phase);
        }
        if u.reserved_bits != 0 {
            p.notes
                .push("reserved bits are not zero (RFC 9000 §17.2)".into());
        }
        p.status = PacketStatus::Decrypted;
        let plain = &self.buf[u.header_len..u.header_len + u.payload_len];
        let mut new_cids = Vec::new();
        for f in parse_frames(plain) {
            match f {
                Ok(f) => {
                    match &f {
                        Frame::Crypto { offset, data } => {
                            p.crypto.push((*offset, data.len() as u64));
                            if h.ty == PacketType::Initial {
                                conn.crypto(p.sender, *offset, data)
                            }
                        }
                        Frame::Ack { .. } => p.acked.extend(f.acked_ranges()),
                        Frame::NewConnectionId { cid, .. } => new_cids.push(cid.to_vec()),
                        _ => {}
                    }
                    p.frames.push(FrameInfo {
                        kind: f.kind(),
                        label: f.label(),
                    });
                }
                Err(e) => {
                    p.status = PacketStatus::Failed(format!("malformed frames: {e}"));
                    break;
                }
            }
        }
        for cid in new_cids {
            if self.conns[c].add_cid(p.sender, &cid) {
                self.remember_cid(&cid, c);
            }
        }
    }

    /// The segment size of a GSO super-frame starting with a short-header packet at `offset`:
    /// the first later position that starts another short header with the same DCID, if the
    /// packet before it authenticates on its own.
    fn gso_segment(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        datagram: &[u8],
        offset: usize,
        h: &Header<'_>,
    ) -> Option<usize> {
        let dcid = h.dcid;
        if dcid.len() < 4 {
            return None;
        }
        let rest = &datagram[offset..];
        let c = self.find_conn(src, dst, datagram, offset)?;
        let conn = &mut self.conns[c];
        let sender = conn.sender(src);
        let largest = conn.largest(Space::Application, sender);
        let key = conn
            .key(PacketType::OneRtt, h.version, sender, &self.keylog)
            .ok()??;
        // The fixed bit may be greased (RFC 9287): only the header form and the DCID count.
        let mut candidates = (1 + dcid.len() + 20..rest.len())
            .filter(|&s| rest[s] & 0x80 == 0 && rest[s + 1..].starts_with(dcid));
        candidates
            .find(|&s| protect::open(&rest[..s], h.pn_offset, key, largest, &mut self.buf).is_ok())
    }
}

fn notes(h: &Header<'_>) -> Vec<String> {
    let mut n = Vec::new();
    if h.oversized_cid() {
        n.push(format!(
            "connection ID longer than 20 bytes (DCID {}, SCID {}; RFC 9000 §17.2)",
            h.dcid.len(),
            h.scid.len()
        ));
    }
    if header::is_known_version(h.version)
        && !h.fixed_bit()
        && h.ty != PacketType::VersionNegotiation
    {
        n.push(
            "fixed bit is 0 (RFC 9000 §17.2; allowed only after grease_quic_bit, RFC 9287)".into(),
        );
    }
    n
}
