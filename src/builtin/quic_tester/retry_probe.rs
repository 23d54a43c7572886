//! The altered-Retry-token probe. A server that validates addresses with Retry must
//! recognise its own tokens: an Initial that echoes a Retry token with one byte changed is
//! either closed with INVALID_TOKEN (RFC 9000 §8.1.2: it SHOULD) or dropped (it may); a
//! server that completes a handshake on it accepts a token it never issued, which §8.1.4's
//! integrity requirement exists to prevent.

use std::time::Duration;

use super::client::Client;
use super::outcome::{CaseError, Outcome};
use super::probes::{client_hello, collect, random_cid, socket};
use crate::quic::wire::builder::{InitialPacket, Payload, build_initial_with};
use crate::quic::wire::frame::{Frame, transport_error_name};
use crate::quic::wire::header::{PacketType, split_datagram};
use crate::quic::wire::keys::Side;
use crate::quic::wire::retry::verify_retry;
use crate::quic::wire::{V1, open_initial};

/// INVALID_TOKEN (RFC 9000 §20.1).
const INVALID_TOKEN: u64 = 0x0b;

/// What a Retry told the client: the new DCID and the token.
struct Retried {
    scid: Vec<u8>,
    token: Vec<u8>,
    tag_ok: bool,
}

pub async fn altered_token(c: &Client) -> Result<Outcome, CaseError> {
    let window = (c.timeout / 2).min(Duration::from_secs(3));
    let (odcid, scid) = (random_cid(8), random_cid(8));
    let s = socket(c.target).await?;
    let first = initial(c, &odcid, &scid, &[], 0)?;
    s.send(&first).await?;
    let got = collect(&s, window, |d| retry_of(d, &odcid).is_some()).await;
    let Some(r) = got.iter().find_map(|d| retry_of(d, &odcid)) else {
        return Ok(Outcome::inconclusive(if got.is_empty() {
            "the server answered nothing to a correct Initial"
        } else {
            "the server sent no Retry (this probe needs a server that validates addresses with Retry)"
        }));
    };
    if !r.tag_ok {
        return Ok(Outcome::fail(
            "the server's Retry failed its integrity tag check (RFC 9001 §5.8)",
        ));
    }
    let mut token = r.token.clone();
    if let Some(last) = token.last_mut() {
        *last ^= 0x5a;
    }
    // After Retry the client's DCID, and the Initial keys, come from the Retry's SCID
    // (RFC 9001 §5.2); packet numbers go on (RFC 9000 §17.2.5.3).
    let second = initial(c, &r.scid, &scid, &token, 1)?;
    s.send(&second).await?;
    let reply = collect(&s, window, |_| false).await;
    Ok(judge(&reply, &r.scid).with("token_bytes", r.token.len() as u64))
}

fn initial(
    c: &Client,
    dcid: &[u8],
    scid: &[u8],
    token: &[u8],
    pn: u64,
) -> Result<Vec<u8>, CaseError> {
    let wire = |e: crate::quic::wire::WireError| CaseError::Stream(e.to_string());
    let raw = super::probes::crypto_frame(&client_hello(c, scid)?)?;
    let p = InitialPacket {
        token,
        pn,
        ..InitialPacket::client(V1, dcid, scid, Payload::Raw(&raw))
    };
    build_initial_with(&p).map_err(wire)
}

/// The Retry in a datagram, if it is one, with its integrity tag checked against `odcid`.
fn retry_of(d: &[u8], odcid: &[u8]) -> Option<Retried> {
    let h = split_datagram(d, 0).next()?.ok()?;
    (h.ty == PacketType::Retry).then(|| Retried {
        scid: h.scid.to_vec(),
        token: h.token.to_vec(),
        tag_ok: verify_retry(V1, odcid, h.packet).unwrap_or(false),
    })
}

/// The verdict on what came back after the altered token.
fn judge(reply: &[Vec<u8>], key_dcid: &[u8]) -> Outcome {
    let (mut closes, mut crypto, mut retries) = (Vec::new(), false, 0);
    for d in reply {
        for p in open_initial(d, key_dcid, Side::Server).unwrap_or_default() {
            retries += usize::from(p.ty == PacketType::Retry);
            for f in p.frames().flatten() {
                match f {
                    Frame::ConnectionClose { code, .. } => closes.push(code),
                    Frame::Crypto { .. } => crypto = true,
                    _ => {}
                }
            }
        }
    }
    let names: Vec<String> = closes.iter().map(|c| transport_error_name(*c)).collect();
    let o = if crypto {
        Outcome::fail(
            "an Initial echoing the Retry token with its last byte altered was accepted: the server answered with its handshake (RFC 9000 §8.1.4: a token must be one the server can validate)",
        )
    } else if closes.first() == Some(&INVALID_TOKEN) {
        Outcome::pass("the altered Retry token was refused with CONNECTION_CLOSE INVALID_TOKEN")
    } else if let Some(n) = names.first() {
        Outcome::inconclusive(format!(
            "the altered Retry token was refused with CONNECTION_CLOSE {n}; RFC 9000 §8.1.2 says INVALID_TOKEN"
        ))
    } else if retries > 0 {
        Outcome::inconclusive(
            "the server answered the altered Retry token with another Retry, as for a token it cannot tell from a NEW_TOKEN one; RFC 9000 §8.1.2 says it SHOULD close with INVALID_TOKEN",
        )
    } else if reply.is_empty() {
        Outcome::inconclusive(
            "the altered Retry token got no answer: the server dropped it, which RFC 9000 §8.1.2 allows (it SHOULD close with INVALID_TOKEN)",
        )
    } else {
        Outcome::inconclusive(format!(
            "{} datagram(s) came back that neither closed nor continued the handshake",
            reply.len()
        ))
    };
    o.with("close_codes", names)
        .with("reply_datagrams", reply.len() as u64)
}
