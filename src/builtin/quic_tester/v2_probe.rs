//! The `v2` case: a QUIC version 2 Initial (RFC 9369: its own salt, HKDF labels and
//! long-header type bits), with a real ClientHello that offers v2 and v1 in
//! version_information (RFC 9368). A server that speaks v2 answers with its first flight
//! protected with the version 2 Initial keys; quinn 0.11 has no v2, so the tester checks
//! that first flight on its own socket and does not drive the rest of the handshake.

use std::time::Duration;

use super::client::Client;
use super::outcome::{CaseError, Outcome};
use super::probes::{client_hello_for, collect, random_cid, socket};
use crate::quic::wire::builder::{InitialPacket, Payload, build_initial_with};
use crate::quic::wire::frame::Frame;
use crate::quic::wire::header::{PacketType, split_datagram};
use crate::quic::wire::keys::Side;
use crate::quic::wire::{V1, V2, open_initial, verify_retry};

/// version_information (RFC 9368 §3): the chosen version, then the versions we could use.
const VERSION_INFORMATION: u64 = 0x11;

pub async fn version_2(c: &Client) -> Result<Outcome, CaseError> {
    let (dcid, scid) = (random_cid(8), random_cid(8));
    let info: Vec<u8> = [V2, V2, V1].iter().flat_map(|v| v.to_be_bytes()).collect();
    let ch = client_hello_for(
        c,
        &scid,
        rustls::quic::Version::V2,
        &[(VERSION_INFORMATION, info)],
    )?;
    let wire = |e: crate::quic::wire::WireError| CaseError::Stream(e.to_string());
    let raw = super::probes::crypto_frame(&ch)?;
    let initial = build_initial_with(&InitialPacket::client(V2, &dcid, &scid, Payload::Raw(&raw)))
        .map_err(wire)?;
    let s = socket(c.target).await?;
    // Three tries: one lost datagram must not fail a server.
    for _ in 0..3 {
        s.send(&initial).await?;
        let got = collect(&s, (c.timeout / 3).min(Duration::from_secs(2)), |_| true).await;
        if let Some(d) = got.first() {
            return Ok(judge(d, &dcid).with("offered_versions", ["0x6b3343cf", "0x00000001"]));
        }
    }
    Ok(Outcome::fail(
        "a version 2 Initial, sent three times, got no answer: neither a version 2 reply nor Version Negotiation (RFC 9000 §6.1)",
    ))
}

/// The verdict on the server's first datagram.
fn judge(d: &[u8], dcid: &[u8]) -> Outcome {
    let Some(Ok(h)) = split_datagram(d, 0).next() else {
        return Outcome::fail("the server's answer to a version 2 Initial does not parse as QUIC");
    };
    match (h.version, h.ty) {
        (0, _) => {
            let versions: Vec<u32> = h.versions().collect();
            let listed: Vec<String> = versions.iter().map(|v| format!("0x{v:08x}")).collect();
            let o = if versions.contains(&V2) {
                Outcome::fail(format!(
                    "Version Negotiation for a version 2 Initial, yet it lists version 2 ({})",
                    listed.join(", ")
                ))
            } else {
                Outcome::inconclusive(format!(
                    "the server does not speak QUIC version 2: its Version Negotiation offers {}",
                    listed.join(", ")
                ))
            };
            o.with("server_versions", listed)
        }
        (V2, PacketType::Retry) => {
            if verify_retry(V2, dcid, h.packet).unwrap_or(false) {
                Outcome::pass(
                    "the server answered a version 2 Initial with a version 2 Retry whose integrity tag (RFC 9369 §3.3.3) is valid",
                )
            } else {
                Outcome::fail("the server's version 2 Retry fails its integrity tag check")
            }
        }
        (V2, _) => first_flight(d, dcid),
        (V1, _) => Outcome::inconclusive(
            "the server answered in version 1: compatible version negotiation (RFC 9368 §2.3) chose v1 over the v2 we started with",
        ),
        (v, _) => Outcome::fail(format!(
            "the server answered a version 2 Initial in version 0x{v:08x}"
        )),
    }
}

/// A version 2 reply: its Initial must open with the v2 Initial keys and carry the
/// ServerHello (a CRYPTO frame).
fn first_flight(d: &[u8], dcid: &[u8]) -> Outcome {
    let packets = match open_initial(d, dcid, Side::Server) {
        Ok(p) => p,
        Err(e) => {
            return Outcome::fail(format!(
                "the server's version 2 Initial does not open with the version 2 Initial keys (RFC 9369 §3.3.1): {e}"
            ));
        }
    };
    let types: Vec<String> = packets.iter().map(|p| p.ty.label().to_string()).collect();
    let crypto = packets
        .iter()
        .filter(|p| p.ty == PacketType::Initial && p.version == V2)
        .any(|p| {
            p.frames()
                .flatten()
                .any(|f| matches!(f, Frame::Crypto { .. }))
        });
    let o = if crypto {
        Outcome::pass(format!(
            "the server answered a version 2 Initial in version 2 ({}), its ServerHello protected with the version 2 Initial keys",
            types.join(" + ")
        ))
    } else {
        Outcome::fail(format!(
            "the server's version 2 reply ({}) carries no ServerHello in an Initial",
            types.join(" + ")
        ))
    };
    o.with("packet_types", types)
}
