//! Retry packets and their integrity tag (RFC 9001 §5.8, RFC 9369 §3.3.3): AES-128-GCM with a
//! fixed key over the Retry pseudo-packet (the original DCID, then the Retry without its tag).

use ring::aead;

use super::error::{Result, WireError};
use super::header::{PacketType, is_draft, type_bits};
use super::keys::unhex;
use super::{V1, V2};

fn retry_key(version: u32) -> Result<([u8; 16], [u8; 12])> {
    match version {
        V1 => Ok((
            unhex(b"be0c690b9f66575a1d766b54e368c84e"),
            unhex(b"461599d35d632bf2239825bb"),
        )),
        V2 => Ok((
            unhex(b"8fb4b01b56ac48e260fbcbcead7ccc92"),
            unhex(b"d86969bc2d7c6d9990efb04a"),
        )),
        v if is_draft(v) => Ok((
            unhex(b"ccce187ed09a09d05728155a6cb96be1"),
            unhex(b"e54930f97f2136f0530a8c1c"),
        )),
        v => Err(WireError::UnsupportedVersion(v)),
    }
}

/// The integrity tag of a Retry packet (`retry` without its last 16 bytes) answering a client
/// whose original Destination Connection ID was `odcid`.
pub fn retry_integrity_tag(
    version: u32,
    odcid: &[u8],
    retry_without_tag: &[u8],
) -> Result<[u8; 16]> {
    let (key, nonce) = retry_key(version)?;
    let key = aead::LessSafeKey::new(
        aead::UnboundKey::new(&aead::AES_128_GCM, &key).map_err(|_| WireError::Decrypt)?,
    );
    let mut pseudo = Vec::with_capacity(1 + odcid.len() + retry_without_tag.len());
    pseudo.push(odcid.len() as u8);
    pseudo.extend_from_slice(odcid);
    pseudo.extend_from_slice(retry_without_tag);
    let tag = key
        .seal_in_place_separate_tag(
            aead::Nonce::assume_unique_for_key(nonce),
            aead::Aad::from(&pseudo),
            &mut [],
        )
        .map_err(|_| WireError::Decrypt)?;
    let mut out = [0u8; 16];
    out.copy_from_slice(tag.as_ref());
    Ok(out)
}

/// Whether a whole Retry packet's tag is right for `odcid`.
pub fn verify_retry(version: u32, odcid: &[u8], packet: &[u8]) -> Result<bool> {
    if packet.len() < 16 {
        return Err(WireError::Truncated {
            what: "Retry integrity tag",
            at: packet.len(),
            needed: 16 - packet.len(),
        });
    }
    let (body, tag) = packet.split_at(packet.len() - 16);
    Ok(retry_integrity_tag(version, odcid, body)? == tag)
}

/// A Retry packet from a server (DCID = the client's SCID, SCID = the server's new CID).
pub fn build_retry(
    version: u32,
    dcid: &[u8],
    scid: &[u8],
    odcid: &[u8],
    token: &[u8],
) -> Result<Vec<u8>> {
    let bits =
        type_bits(version, PacketType::Retry).ok_or(WireError::UnsupportedVersion(version))?;
    // The four unused bits are arbitrary; RFC 9001 §A.4 and RFC 9369 §A.4 set them all.
    let mut out = vec![0xc0 | bits | 0x0f];
    out.extend_from_slice(&version.to_be_bytes());
    push_cid(&mut out, dcid)?;
    push_cid(&mut out, scid)?;
    out.extend_from_slice(token);
    let tag = retry_integrity_tag(version, odcid, &out)?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Appends a length-prefixed connection ID (up to 255 bytes, which the invariants allow;
/// oversized IDs are what some probes want to send).
pub(crate) fn push_cid(out: &mut Vec<u8>, cid: &[u8]) -> Result<()> {
    let n = u8::try_from(cid.len()).map_err(|_| WireError::TooLong {
        what: "connection ID",
        len: cid.len(),
        max: 255,
    })?;
    out.push(n);
    out.extend_from_slice(cid);
    Ok(())
}
