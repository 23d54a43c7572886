//! Crafted, correctly protected packets for active probes (the QUIC tester's), and the reverse
//! for reading what a peer answered: [`open_initial`].
//!
//! Everything here is deliberately permissive: a probe may carry frames that are forbidden in
//! its packet type, oversized connection IDs or a cleared fixed bit. Only what cannot be put on
//! the wire at all (a CID over 255 bytes, a payload too large for its Length) is an error.

use super::error::{Result, WireError};
use super::frame::{Frame, Frames, parse_frames};
use super::header::{PacketType, split_datagram, type_bits};
use super::keys::{PacketKey, Side};
use super::protect;
use super::retry::push_cid;
use super::varint;

/// What a packet carries: typed frames, or raw bytes (malformed on purpose, say).
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    Frames(&'a [Frame<'a>]),
    Raw(&'a [u8]),
}

impl Payload<'_> {
    fn to_bytes(self) -> Result<Vec<u8>> {
        match self {
            Payload::Raw(b) => Ok(b.to_vec()),
            Payload::Frames(fs) => {
                let mut out = Vec::new();
                fs.iter().try_for_each(|f| f.encode(&mut out))?;
                Ok(out)
            }
        }
    }
}

/// A long-header packet to protect with a given key ([`build_long`]).
#[derive(Debug, Clone, Copy)]
pub struct LongPacket<'a> {
    /// Initial, 0-RTT or Handshake.
    pub ty: PacketType,
    pub version: u32,
    pub dcid: &'a [u8],
    pub scid: &'a [u8],
    /// Initial only.
    pub token: &'a [u8],
    pub pn: u64,
    /// 1..=4 bytes on the wire.
    pub pn_len: usize,
    pub payload: Payload<'a>,
    /// Pad with PADDING inside the packet until it is this many bytes (0: no padding).
    pub pad_to: usize,
    /// Send with the fixed bit cleared (a §17.2 probe).
    pub clear_fixed_bit: bool,
}

/// An Initial packet, keyed from the client's first DCID ([`build_initial_with`]).
#[derive(Debug, Clone, Copy)]
pub struct InitialPacket<'a> {
    pub version: u32,
    pub dcid: &'a [u8],
    pub scid: &'a [u8],
    pub token: &'a [u8],
    pub pn: u64,
    pub payload: Payload<'a>,
    /// Pad the packet to this many bytes (1200 for a client's first datagram, RFC 9000 §14.1).
    pub pad_to: usize,
    /// Who sends it: Initial keys differ per direction.
    pub sender: Side,
    /// The DCID Initial keys derive from (RFC 9001 §5.2): the client's first DCID. `None`
    /// means `dcid`, which is right for the client's first flight.
    pub key_dcid: Option<&'a [u8]>,
    pub clear_fixed_bit: bool,
}

impl<'a> InitialPacket<'a> {
    /// A client's Initial with no token, packet number 0, padded to 1200 bytes.
    pub fn client(version: u32, dcid: &'a [u8], scid: &'a [u8], payload: Payload<'a>) -> Self {
        Self {
            version,
            dcid,
            scid,
            token: &[],
            pn: 0,
            payload,
            pad_to: 1200,
            sender: Side::Client,
            key_dcid: None,
            clear_fixed_bit: false,
        }
    }
}

/// A client's Initial packet (RFC 9000 §17.2.2), protected with the Initial keys derived from
/// `dcid`, padded with PADDING frames to `pad_to` bytes.
pub fn build_initial(
    version: u32,
    dcid: &[u8],
    scid: &[u8],
    token: &[u8],
    pn: u64,
    payload: Payload<'_>,
    pad_to: usize,
) -> Result<Vec<u8>> {
    build_initial_with(&InitialPacket {
        token,
        pn,
        pad_to,
        ..InitialPacket::client(version, dcid, scid, payload)
    })
}

/// An Initial packet from either side, with every field chosen.
pub fn build_initial_with(p: &InitialPacket<'_>) -> Result<Vec<u8>> {
    let key = PacketKey::initial(p.version, p.key_dcid.unwrap_or(p.dcid), p.sender)?;
    build_long(
        &LongPacket {
            ty: PacketType::Initial,
            version: p.version,
            dcid: p.dcid,
            scid: p.scid,
            token: p.token,
            pn: p.pn,
            pn_len: 4,
            payload: p.payload,
            pad_to: p.pad_to,
            clear_fixed_bit: p.clear_fixed_bit,
        },
        &key,
    )
}

/// Any protected long-header packet (Initial, 0-RTT, Handshake) with `key`.
pub fn build_long(p: &LongPacket<'_>, key: &PacketKey) -> Result<Vec<u8>> {
    let bits = type_bits(p.version, p.ty).filter(|_| p.ty.space().is_some());
    let bits = bits.ok_or(WireError::UnsupportedVersion(p.version))?;
    let pn_len = p.pn_len.clamp(1, 4);
    let mut out = vec![0xc0 | bits | (pn_len as u8 - 1)];
    if p.clear_fixed_bit {
        out[0] &= !0x40;
    }
    out.extend_from_slice(&p.version.to_be_bytes());
    push_cid(&mut out, p.dcid)?;
    push_cid(&mut out, p.scid)?;
    if p.ty == PacketType::Initial {
        varint::put(&mut out, p.token.len() as u64)?;
        out.extend_from_slice(p.token);
    }
    let mut payload = p.payload.to_bytes()?;
    // The sample needs 4 bytes after the packet number's start (RFC 9001 §5.4.2).
    let min_payload = 4usize.saturating_sub(pn_len);
    let len_field = if payload.len() + pn_len + 16 + 4 > 16_383 {
        4
    } else {
        2
    };
    let total = out.len() + len_field + pn_len + payload.len() + 16;
    let pad = p
        .pad_to
        .saturating_sub(total)
        .max(min_payload.saturating_sub(payload.len()));
    payload.resize(payload.len() + pad, 0);
    let length = (pn_len + payload.len() + 16) as u64;
    if length > varint::MAX || (len_field == 2 && length > 16_383) {
        return Err(WireError::TooLong {
            what: "packet payload",
            len: payload.len(),
            max: 16_383,
        });
    }
    varint::put_with_len(&mut out, length, len_field)?;
    let pn_offset = out.len();
    out.extend_from_slice(&p.pn.to_be_bytes()[8 - pn_len..]);
    out.extend_from_slice(&payload);
    protect::seal(&mut out, pn_offset, pn_len, p.pn, key)?;
    Ok(out)
}

/// A protected 1-RTT packet (short header, RFC 9000 §17.3).
pub fn build_short(
    dcid: &[u8],
    pn: u64,
    pn_len: usize,
    key_phase: bool,
    payload: Payload<'_>,
    key: &PacketKey,
) -> Result<Vec<u8>> {
    let pn_len = pn_len.clamp(1, 4);
    let mut out = vec![0x40 | (u8::from(key_phase) << 2) | (pn_len as u8 - 1)];
    out.extend_from_slice(dcid);
    let pn_offset = out.len();
    out.extend_from_slice(&pn.to_be_bytes()[8 - pn_len..]);
    let mut payload = payload.to_bytes()?;
    payload.resize(payload.len().max(4usize.saturating_sub(pn_len)), 0);
    out.extend_from_slice(&payload);
    protect::seal(&mut out, pn_offset, pn_len, pn, key)?;
    Ok(out)
}

/// A long-header datagram of `version` (an unknown one such as 0x1a2a3a4a provokes Version
/// Negotiation, RFC 9000 §6.1), zero-filled to `size` bytes: servers ignore shorter ones.
pub fn build_version_probe(version: u32, dcid: &[u8], scid: &[u8], size: usize) -> Result<Vec<u8>> {
    let mut out = vec![0xc0];
    out.extend_from_slice(&version.to_be_bytes());
    push_cid(&mut out, dcid)?;
    push_cid(&mut out, scid)?;
    out.resize(size.max(out.len()), 0);
    Ok(out)
}

/// A Version Negotiation packet (RFC 9000 §17.2.1): as a server answers a client whose DCID
/// and SCID were `scid` and `dcid`.
pub fn build_version_negotiation(dcid: &[u8], scid: &[u8], versions: &[u32]) -> Result<Vec<u8>> {
    let mut out = vec![0xc0, 0, 0, 0, 0];
    push_cid(&mut out, dcid)?;
    push_cid(&mut out, scid)?;
    for v in versions {
        out.extend_from_slice(&v.to_be_bytes());
    }
    Ok(out)
}

/// One packet of a datagram read by [`open_initial`]; owned, so it outlives the datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedPacket {
    pub ty: PacketType,
    pub version: u32,
    pub dcid: Vec<u8>,
    pub scid: Vec<u8>,
    pub token: Vec<u8>,
    /// The unprotected first byte (or the raw one for packets left closed).
    pub first: u8,
    /// Set for the packets that were decrypted (Initials).
    pub pn: Option<u64>,
    /// The decrypted payload; `None` for packets this function has no keys for.
    pub payload: Option<Vec<u8>>,
    /// Version Negotiation's versions.
    pub versions: Vec<u32>,
    /// The size of the packet on the wire.
    pub size: usize,
}

impl OpenedPacket {
    /// The frames of a decrypted payload (empty for packets left closed).
    pub fn frames(&self) -> Frames<'_> {
        parse_frames(self.payload.as_deref().unwrap_or(&[]))
    }

    /// Its frames as owned labels, the shape tests and verdicts quote.
    pub fn frame_labels(&self) -> Vec<String> {
        self.frames()
            .map(|f| f.map_or_else(|e| format!("error: {e}"), |f| f.label()))
            .collect()
    }
}

/// Reads a datagram sent by `sender`: Initial packets are decrypted with the Initial keys of
/// `client_dcid` (the DCID of the client's first Initial); other packets are listed with their
/// header only. Errors when the datagram is not QUIC or an Initial fails to decrypt.
pub fn open_initial(
    datagram: &[u8],
    client_dcid: &[u8],
    sender: Side,
) -> Result<Vec<OpenedPacket>> {
    let mut out = Vec::new();
    let mut buf = Vec::with_capacity(datagram.len());
    let mut key: Option<PacketKey> = None;
    for h in split_datagram(datagram, 0) {
        let h = h?;
        let mut p = OpenedPacket {
            ty: h.ty,
            version: h.version,
            dcid: h.dcid.to_vec(),
            scid: h.scid.to_vec(),
            token: h.token.to_vec(),
            first: h.first,
            pn: None,
            payload: None,
            versions: h.versions().collect(),
            size: h.packet.len(),
        };
        if h.ty == PacketType::Initial {
            if key.as_ref().is_none_or(|k| k.version() != h.version) {
                key = Some(PacketKey::initial(h.version, client_dcid, sender)?);
            }
            let k = key.as_ref().expect("set above");
            let (u, plain) = protect::open(h.packet, h.pn_offset, k, None, &mut buf)?;
            p.first = u.first;
            p.pn = Some(u.pn);
            p.payload = Some(plain.to_vec());
        }
        out.push(p);
    }
    Ok(out)
}
