//! Long and short packet headers (RFC 9000 §17, RFC 9369 §3.2), read without removing header
//! protection: what is visible on the wire. The packet number and the low bits of the first
//! byte stay protected until [`super::protect`] removes them.

use super::error::{Result, WireError};
use super::varint::Reader;
use super::{DRAFT29, V1, V2};

/// The kind of a QUIC packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    Initial,
    ZeroRtt,
    Handshake,
    Retry,
    VersionNegotiation,
    OneRtt,
    /// A long header of a version this library does not know: only the invariants
    /// (RFC 8999) were read.
    UnknownVersion,
}

/// The packet number spaces of RFC 9000 §12.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Space {
    Initial,
    Handshake,
    Application,
}

impl PacketType {
    /// The name used in labels and qlog-like output ("Initial", "0-RTT", "1-RTT", …).
    pub fn label(self) -> &'static str {
        match self {
            Self::Initial => "Initial",
            Self::ZeroRtt => "0-RTT",
            Self::Handshake => "Handshake",
            Self::Retry => "Retry",
            Self::VersionNegotiation => "VersionNegotiation",
            Self::OneRtt => "1-RTT",
            Self::UnknownVersion => "UnknownVersion",
        }
    }

    /// The qlog 0.3 spelling (`initial`, `handshake`, `0RTT`, `1RTT`, …), which qvis and the
    /// qlog parser share.
    pub fn qlog_name(self) -> &'static str {
        match self {
            Self::Initial => "initial",
            Self::ZeroRtt => "0RTT",
            Self::Handshake => "handshake",
            Self::Retry => "retry",
            Self::VersionNegotiation => "version_negotiation",
            Self::OneRtt => "1RTT",
            Self::UnknownVersion => "unknown",
        }
    }

    /// The packet number space, for packets that have a packet number.
    pub fn space(self) -> Option<Space> {
        match self {
            Self::Initial => Some(Space::Initial),
            Self::Handshake => Some(Space::Handshake),
            Self::ZeroRtt | Self::OneRtt => Some(Space::Application),
            _ => None,
        }
    }

    pub fn is_long(self) -> bool {
        self != Self::OneRtt
    }
}

/// Versions whose packet protection this library implements.
pub fn is_known_version(version: u32) -> bool {
    version == V1 || version == V2 || is_draft(version)
}

/// draft-29 .. draft-34 share version 1's packet layout.
pub fn is_draft(version: u32) -> bool {
    (DRAFT29..=0xff00_0022).contains(&version)
}

/// The long-header type for the two type bits of a known version.
pub fn long_type(version: u32, bits: u8) -> PacketType {
    let bits = bits & 3;
    if version == V2 {
        return [
            PacketType::Retry,
            PacketType::Initial,
            PacketType::ZeroRtt,
            PacketType::Handshake,
        ][bits as usize];
    }
    if is_known_version(version) {
        return [
            PacketType::Initial,
            PacketType::ZeroRtt,
            PacketType::Handshake,
            PacketType::Retry,
        ][bits as usize];
    }
    PacketType::UnknownVersion
}

/// The two type bits (already shifted into place, 0x30 mask) for `ty` in `version`.
pub fn type_bits(version: u32, ty: PacketType) -> Option<u8> {
    let bits = match (version == V2, ty) {
        (false, PacketType::Initial) => 0,
        (false, PacketType::ZeroRtt) => 1,
        (false, PacketType::Handshake) => 2,
        (false, PacketType::Retry) => 3,
        (true, PacketType::Initial) => 1,
        (true, PacketType::ZeroRtt) => 2,
        (true, PacketType::Handshake) => 3,
        (true, PacketType::Retry) => 0,
        _ => return None,
    };
    Some(bits << 4)
}

/// The largest connection ID that QUIC v1 and v2 allow (RFC 9000 §17.2).
pub const MAX_CID_LEN: usize = 20;

/// One packet's header as seen on the wire, borrowing from the datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    pub ty: PacketType,
    /// The first byte as received (its low bits are header-protected).
    pub first: u8,
    /// 0 for short headers and Version Negotiation.
    pub version: u32,
    pub dcid: &'a [u8],
    /// Empty for short headers.
    pub scid: &'a [u8],
    /// An Initial's token, or a Retry's retry token.
    pub token: &'a [u8],
    /// Version Negotiation's supported versions, 4 bytes each (see [`Header::versions`]).
    pub versions_raw: &'a [u8],
    /// A Retry's integrity tag (16 bytes).
    pub retry_tag: &'a [u8],
    /// Offset of the (protected) packet number inside [`Header::packet`]; for packets without
    /// a packet number, the end of the header.
    pub pn_offset: usize,
    /// The whole packet: header, packet number, payload and tag.
    pub packet: &'a [u8],
    /// Where the packet starts in its datagram.
    pub offset: usize,
}

impl<'a> Header<'a> {
    /// The fixed bit (0x40), which QUIC v1/v2 require to be 1 (RFC 9000 §17.2, unless
    /// RFC 9287 greasing was negotiated).
    pub fn fixed_bit(&self) -> bool {
        self.first & 0x40 != 0
    }

    /// True when a connection ID exceeds 20 bytes in a version that forbids it.
    pub fn oversized_cid(&self) -> bool {
        is_known_version(self.version)
            && (self.dcid.len() > MAX_CID_LEN || self.scid.len() > MAX_CID_LEN)
    }

    /// Version Negotiation's list of versions.
    pub fn versions(&self) -> impl Iterator<Item = u32> + 'a {
        self.versions_raw
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }

    /// Whether this packet carries a packet number and protected payload.
    pub fn is_protected(&self) -> bool {
        self.ty.space().is_some()
    }
}

/// Parses the packet that starts at `offset` in `datagram`. A short header's DCID length is
/// not on the wire: `short_dcid_len` is what the connection chose (learnt from long headers).
pub fn parse(datagram: &[u8], offset: usize, short_dcid_len: usize) -> Result<Header<'_>> {
    let mut r = Reader::with_base(&datagram[offset..], offset);
    let first = r.u8("first byte")?;
    if first & 0x80 == 0 {
        return parse_short(datagram, offset, first, short_dcid_len);
    }
    let version = r.u32("version")?;
    let dcid = cid(&mut r, "destination connection ID")?;
    let scid = cid(&mut r, "source connection ID")?;
    let mut h = Header {
        ty: PacketType::UnknownVersion,
        first,
        version,
        dcid,
        scid,
        token: &[],
        versions_raw: &[],
        retry_tag: &[],
        pn_offset: r.pos(),
        packet: &datagram[offset..],
        offset,
    };
    if version == 0 {
        h.ty = PacketType::VersionNegotiation;
        h.versions_raw = r.rest();
        if !h.versions_raw.len().is_multiple_of(4) {
            return Err(malformed(
                r.at(),
                "Version Negotiation",
                "versions list is not a multiple of 4 bytes",
            ));
        }
        return Ok(h);
    }
    h.ty = long_type(version, first >> 4);
    match h.ty {
        PacketType::UnknownVersion => Ok(h),
        PacketType::Retry => {
            let rest = r.rest();
            if rest.len() < 16 {
                return Err(WireError::Truncated {
                    what: "Retry integrity tag",
                    at: r.at(),
                    needed: 16 - rest.len(),
                });
            }
            h.token = &rest[..rest.len() - 16];
            h.retry_tag = &rest[rest.len() - 16..];
            Ok(h)
        }
        _ => {
            if h.ty == PacketType::Initial {
                h.token = r.len_prefixed("Initial token")?;
            }
            let length = r.varint("Length")?;
            h.pn_offset = r.pos();
            let length = usize::try_from(length).unwrap_or(usize::MAX);
            if length > r.remaining() {
                return Err(WireError::Truncated {
                    what: "packet (its Length field)",
                    at: r.at(),
                    needed: length - r.remaining(),
                });
            }
            h.packet = &datagram[offset..offset + h.pn_offset + length];
            Ok(h)
        }
    }
}

fn parse_short(datagram: &[u8], offset: usize, first: u8, dcid_len: usize) -> Result<Header<'_>> {
    let packet = &datagram[offset..];
    if packet.len() < 1 + dcid_len {
        return Err(WireError::Truncated {
            what: "short header DCID",
            at: datagram.len(),
            needed: 1 + dcid_len - packet.len(),
        });
    }
    Ok(Header {
        ty: PacketType::OneRtt,
        first,
        version: 0,
        dcid: &packet[1..1 + dcid_len],
        scid: &[],
        token: &[],
        versions_raw: &[],
        retry_tag: &[],
        pn_offset: 1 + dcid_len,
        packet,
        offset,
    })
}

fn cid<'a>(r: &mut Reader<'a>, what: &'static str) -> Result<&'a [u8]> {
    let n = r.u8(what)?;
    r.bytes(usize::from(n), what)
}

fn malformed(at: usize, what: &'static str, reason: &str) -> WireError {
    WireError::Malformed {
        what,
        at,
        reason: reason.into(),
    }
}

/// Iterates over the packets coalesced in one datagram (RFC 9000 §12.2). It stops at the
/// first error (yielding it) and ignores trailing zero bytes, which some stacks send as
/// datagram padding after the last long-header packet.
pub fn split_datagram(datagram: &[u8], short_dcid_len: usize) -> Packets<'_> {
    Packets {
        datagram,
        offset: 0,
        short_dcid_len,
        done: false,
    }
}

/// The iterator from [`split_datagram`].
pub struct Packets<'a> {
    datagram: &'a [u8],
    offset: usize,
    short_dcid_len: usize,
    done: bool,
}

impl<'a> Iterator for Packets<'a> {
    type Item = Result<Header<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.offset >= self.datagram.len() {
            return None;
        }
        if self.offset > 0 && self.datagram[self.offset..].iter().all(|&b| b == 0) {
            return None;
        }
        match parse(self.datagram, self.offset, self.short_dcid_len) {
            Ok(h) => {
                self.offset += h.packet.len();
                if !h.is_protected() || h.ty == PacketType::OneRtt {
                    self.done = true;
                }
                Some(Ok(h))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
