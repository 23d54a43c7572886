//! Header protection and payload protection (RFC 9001 §5.3, §5.4), both directions. Opening
//! copies one packet into a caller-owned buffer once and works there in place, so a decoder
//! that reuses its buffer allocates nothing per packet.

use super::error::{Result, WireError};
use super::keys::PacketKey;
use super::pn;

/// What header protection hid, and where the decrypted payload will be in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unprotected {
    /// The full packet number.
    pub pn: u64,
    /// Its length on the wire (1..=4).
    pub pn_len: usize,
    /// The unprotected first byte.
    pub first: u8,
    /// Short headers' key phase bit (RFC 9001 §6); false for long headers.
    pub key_phase: bool,
    /// The reserved bits (0x0c long, 0x18 short), which must be zero (RFC 9000 §17.2).
    pub reserved_bits: u8,
    /// Header length including the packet number; the payload starts here in the buffer.
    pub header_len: usize,
    /// Ciphertext length (payload + tag); after decryption the plaintext length.
    pub payload_len: usize,
}

const SAMPLE_LEN: usize = 16;

/// Copies `packet` into `buf` and removes its header protection there (RFC 9001 §5.4.2).
/// `largest` is the largest packet number received in this space so far.
pub fn unprotect_header(
    packet: &[u8],
    pn_offset: usize,
    key: &PacketKey,
    largest: Option<u64>,
    buf: &mut Vec<u8>,
) -> Result<Unprotected> {
    let sample_at = pn_offset + 4;
    if packet.len() < sample_at + SAMPLE_LEN {
        return Err(WireError::TooShortForSample {
            len: packet.len().saturating_sub(pn_offset),
        });
    }
    let mask = key.hp_mask(&packet[sample_at..sample_at + SAMPLE_LEN])?;
    buf.clear();
    buf.extend_from_slice(packet);
    let long = buf[0] & 0x80 != 0;
    buf[0] ^= mask[0] & if long { 0x0f } else { 0x1f };
    let first = buf[0];
    let pn_len = usize::from(first & 3) + 1;
    let mut truncated = 0u64;
    for i in 0..pn_len {
        buf[pn_offset + i] ^= mask[1 + i];
        truncated = (truncated << 8) | u64::from(buf[pn_offset + i]);
    }
    let header_len = pn_offset + pn_len;
    Ok(Unprotected {
        pn: pn::decode(largest, truncated, pn_len),
        pn_len,
        first,
        key_phase: !long && first & 0x04 != 0,
        reserved_bits: first & if long { 0x0c } else { 0x18 },
        header_len,
        payload_len: buf.len() - header_len,
    })
}

/// Decrypts the payload that [`unprotect_header`] left in `buf`; returns the plaintext. On
/// failure `buf` is spoilt: call [`unprotect_header`] again before trying other keys.
pub fn decrypt_payload<'b>(
    buf: &'b mut [u8],
    u: &mut Unprotected,
    key: &PacketKey,
) -> Result<&'b [u8]> {
    let (aad, payload) = buf.split_at_mut(u.header_len);
    let n = key.open_in_place(u.pn, aad, &mut payload[..u.payload_len])?;
    u.payload_len = n;
    Ok(&buf[u.header_len..u.header_len + n])
}

/// Opens one packet with one key: header protection, then the payload.
pub fn open<'b>(
    packet: &[u8],
    pn_offset: usize,
    key: &PacketKey,
    largest: Option<u64>,
    buf: &'b mut Vec<u8>,
) -> Result<(Unprotected, &'b [u8])> {
    let mut u = unprotect_header(packet, pn_offset, key, largest, buf)?;
    let plain = decrypt_payload(buf, &mut u, key)?;
    Ok((u, plain))
}

/// Protects a packet built in `buf`: the header with its packet number written in clear at
/// `pn_offset` (`pn_len` bytes, the low bits of the first byte saying so), followed by the
/// plaintext payload. Encrypts, appends the tag, then applies header protection.
pub fn seal(
    buf: &mut Vec<u8>,
    pn_offset: usize,
    pn_len: usize,
    pn: u64,
    key: &PacketKey,
) -> Result<()> {
    let header_len = pn_offset + pn_len;
    let sample_at = pn_offset + 4;
    if buf.len() + 16 < sample_at + SAMPLE_LEN {
        return Err(WireError::TooShortForSample {
            len: buf.len() + 16 - pn_offset,
        });
    }
    key.seal_in_place(pn, buf, header_len)?;
    let mask = key.hp_mask(&buf[sample_at..sample_at + SAMPLE_LEN])?;
    let long = buf[0] & 0x80 != 0;
    buf[0] ^= mask[0] & if long { 0x0f } else { 0x1f };
    for i in 0..pn_len {
        buf[pn_offset + i] ^= mask[1 + i];
    }
    Ok(())
}
