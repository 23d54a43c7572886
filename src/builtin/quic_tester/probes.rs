//! Active probes: crafted, correctly protected packets (Initial keys derive from the DCID we
//! choose, RFC 9001 §5.2) that a conforming server must answer in one exact way. Each probe
//! runs on its own UDP socket, outside quinn, so nothing smooths over what the server does.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

use super::cases::Case;
use super::client::Client;
use super::outcome::{CaseError, Outcome};
use super::tls::{self, Suites};
use crate::quic::wire::builder::{InitialPacket, Payload, build_initial_with, build_version_probe};
use crate::quic::wire::frame::{Frame, transport_error_name};
use crate::quic::wire::header::{PacketType, split_datagram};
use crate::quic::wire::keys::Side;
use crate::quic::wire::{V1, open_initial};

/// A version no one speaks, of the reserved 0x?a?a?a?a pattern (RFC 9000 §15).
const UNKNOWN_VERSION: u32 = 0x1a2a_3a4a;
/// PROTOCOL_VIOLATION and FRAME_ENCODING_ERROR (RFC 9000 §20.1).
const PROTOCOL_VIOLATION: u64 = 0x0a;
const FRAME_ENCODING_ERROR: u64 = 0x07;

pub async fn run(c: &Client, case: &Case) -> Outcome {
    let r = match case.name {
        "versionnegotiation" => version_negotiation(c).await,
        "amplificationlimit" => amplification(c).await,
        "smallinitial" => must_drop(c, Probe::Small).await,
        "longcid" => must_drop(c, Probe::LongCid).await,
        "forbiddenframe" => must_close(c, Probe::StreamInInitial, PROTOCOL_VIOLATION).await,
        "malformedframe" => must_close(c, Probe::UnknownFrame, FRAME_ENCODING_ERROR).await,
        "retrytoken" => super::retry_probe::altered_token(c).await,
        "v2" => super::v2_probe::version_2(c).await,
        other => Ok(Outcome::inconclusive(format!("`{other}` is not a probe"))),
    };
    r.unwrap_or_else(CaseError::into_outcome)
}

pub(super) fn random_cid(n: usize) -> Vec<u8> {
    (0..n).map(|_| rand::random::<u8>()).collect()
}

pub(super) async fn socket(target: SocketAddr) -> Result<UdpSocket, CaseError> {
    let local: SocketAddr = if target.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let s = UdpSocket::bind(local).await?;
    s.connect(target).await?;
    Ok(s)
}

/// Every datagram that arrives within `window` (or until `stop` says enough).
pub(super) async fn collect(
    s: &UdpSocket,
    window: Duration,
    mut stop: impl FnMut(&[u8]) -> bool,
) -> Vec<Vec<u8>> {
    let end = Instant::now() + window;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65536];
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match tokio::time::timeout(left, s.recv(&mut buf)).await {
            Ok(Ok(n)) => {
                out.push(buf[..n].to_vec());
                if stop(&buf[..n]) {
                    break;
                }
            }
            _ => break,
        }
    }
    out
}

async fn version_negotiation(c: &Client) -> Result<Outcome, CaseError> {
    let s = socket(c.target).await?;
    let (dcid, scid) = (random_cid(8), random_cid(8));
    let probe = build_version_probe(UNKNOWN_VERSION, &dcid, &scid, 1200)
        .map_err(|e| CaseError::Stream(e.to_string()))?;
    // Three tries: one lost datagram must not fail a server.
    for _ in 0..3 {
        s.send(&probe).await?;
        let got = collect(&s, c.timeout / 3, |d| d.len() >= 5 && d[1..5] == [0; 4]).await;
        let Some(vn) = got.iter().find(|d| d.len() >= 5 && d[1..5] == [0; 4]) else {
            continue;
        };
        let Some(Ok(h)) = split_datagram(vn, 0).next() else {
            return Ok(Outcome::fail(
                "the server's Version Negotiation packet does not parse",
            ));
        };
        let versions: Vec<u32> = h.versions().collect();
        let listed: Vec<String> = versions.iter().map(|v| format!("0x{v:08x}")).collect();
        let o = if h.dcid != scid.as_slice() || h.scid != dcid.as_slice() {
            Outcome::fail(
                "Version Negotiation does not echo the connection IDs (its DCID must be our SCID and its SCID our DCID, RFC 9000 §17.2.1)",
            )
        } else if versions.contains(&UNKNOWN_VERSION) {
            Outcome::fail("Version Negotiation lists the very version it refused")
        } else if versions.is_empty() {
            Outcome::fail("Version Negotiation lists no version")
        } else {
            Outcome::pass(format!(
                "Version Negotiation for 0x{UNKNOWN_VERSION:08x}, echoing both connection IDs, offering {}",
                listed.join(", ")
            ))
        };
        return Ok(o
            .with("probe_version", format!("0x{UNKNOWN_VERSION:08x}"))
            .with("offered_versions", listed));
    }
    Ok(Outcome::fail(format!(
        "no Version Negotiation within {} ms for a 1200-byte Initial of version 0x{UNKNOWN_VERSION:08x}, sent three times (RFC 9000 §6.1: a server SHOULD answer one)",
        c.timeout.as_millis()
    )))
}

/// A real ClientHello (from rustls, for the target's name and ALPNs), with the transport
/// parameters a server insists on (RFC 9000 §7.3: initial_source_connection_id).
pub(super) fn client_hello(c: &Client, scid: &[u8]) -> Result<Vec<u8>, CaseError> {
    client_hello_for(c, scid, rustls::quic::Version::V1, &[])
}

/// The same for `version`, with `extra` transport parameters (RFC 9368's
/// version_information for a version 2 Initial).
pub(super) fn client_hello_for(
    c: &Client,
    scid: &[u8],
    version: rustls::quic::Version,
    extra: &[(u64, Vec<u8>)],
) -> Result<Vec<u8>, CaseError> {
    let cfg = tls::rustls_client(&tls::Trust::Any, &c.alpn, Suites::Default, c.keys.clone())?;
    let mut tp = Vec::new();
    let mut param = |id: u64, v: &[u8]| {
        super::h3::varint(id, &mut tp);
        super::h3::varint(v.len() as u64, &mut tp);
        tp.extend_from_slice(v);
    };
    param(0x0f, scid); // initial_source_connection_id
    param(0x01, &[0x80, 0x00, 0x75, 0x30]); // max_idle_timeout 30 s
    param(0x04, &[0x80, 0x10, 0x00, 0x00]); // initial_max_data 1 MiB
    param(0x05, &[0x80, 0x10, 0x00, 0x00]); // initial_max_stream_data_bidi_local
    param(0x06, &[0x80, 0x10, 0x00, 0x00]); // initial_max_stream_data_bidi_remote
    param(0x07, &[0x80, 0x10, 0x00, 0x00]); // initial_max_stream_data_uni
    // Stream credit: an HTTP/3 server refuses a peer that allows fewer than 3 unidirectional
    // streams (RFC 9114 §6.2), and would close before the probe's point is reached.
    param(0x08, &[0x40, 0x64]); // initial_max_streams_bidi 100
    param(0x09, &[0x40, 0x64]); // initial_max_streams_uni 100
    for (id, v) in extra {
        param(*id, v);
    }
    let name = rustls::pki_types::ServerName::try_from(c.sni.clone())
        .map_err(|e| CaseError::Stream(format!("server name `{}`: {e}", c.sni)))?;
    let mut conn = rustls::quic::ClientConnection::new(Arc::new((*cfg).clone()), version, name, tp)
        .map_err(|e| CaseError::Stream(format!("TLS: {e}")))?;
    let mut ch = Vec::new();
    let _ = conn.write_hs(&mut ch);
    Ok(ch)
}

/// The probes that carry a ClientHello in a crafted Initial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// A correct first Initial in a 1200-byte datagram (the baseline).
    Good,
    /// The same in a datagram of 1100 bytes (RFC 9000 §14.1).
    Small,
    /// A 21-byte DCID (RFC 9000 §17.2).
    LongCid,
    /// A STREAM frame after the CRYPTO frame (RFC 9000 §12.4: not allowed in Initial).
    StreamInInitial,
    /// A frame of a type no extension defined or negotiated (0x3f) after the CRYPTO frame.
    UnknownFrame,
}

struct Crafted {
    datagram: Vec<u8>,
    dcid: Vec<u8>,
}

/// A ClientHello as the CRYPTO frame that opens an Initial's payload (offset 0).
pub fn crypto_frame(client_hello: &[u8]) -> Result<Vec<u8>, CaseError> {
    let mut raw = Vec::new();
    Frame::Crypto {
        offset: 0,
        data: client_hello,
    }
    .encode(&mut raw)
    .map_err(|e| CaseError::Stream(e.to_string()))?;
    Ok(raw)
}

fn craft(c: &Client, probe: Probe) -> Result<Crafted, CaseError> {
    let dcid = random_cid(if probe == Probe::LongCid { 21 } else { 8 });
    let scid = random_cid(8);
    let wire = |e: crate::quic::wire::WireError| CaseError::Stream(e.to_string());
    let mut raw = crypto_frame(&client_hello(c, &scid)?)?;
    match probe {
        Probe::StreamInInitial => Frame::Stream {
            stream: 0,
            offset: 0,
            fin: true,
            explicit_len: true,
            data: b"GET /\r\n",
        }
        .encode(&mut raw)
        .map_err(wire)?,
        // Type 0x3f, then bytes the server cannot know how to skip.
        Probe::UnknownFrame => raw.extend_from_slice(&[0x3f, 0x01, 0x02, 0x03]),
        _ => {}
    }
    let pad_to = match probe {
        Probe::Small => 1100,
        _ => 1200,
    };
    let p = InitialPacket {
        pad_to,
        ..InitialPacket::client(V1, &dcid, &scid, Payload::Raw(&raw))
    };
    let datagram = build_initial_with(&p).map_err(wire)?;
    Ok(Crafted { datagram, dcid })
}

/// What the server sent back to one crafted Initial, decrypted where it could be.
struct Reply {
    bytes: usize,
    datagrams: usize,
    closes: Vec<(u64, String)>,
    retry: bool,
}

async fn send_and_read(c: &Client, probe: Probe, window: Duration) -> Result<Reply, CaseError> {
    let crafted = craft(c, probe)?;
    let s = socket(c.target).await?;
    s.send(&crafted.datagram).await?;
    let got = collect(&s, window, |_| false).await;
    let mut r = Reply {
        bytes: got.iter().map(Vec::len).sum(),
        datagrams: got.len(),
        closes: Vec::new(),
        retry: false,
    };
    for d in &got {
        for p in open_initial(d, &crafted.dcid, Side::Server).unwrap_or_default() {
            r.retry |= p.ty == PacketType::Retry;
            for f in p.frames().flatten() {
                if let Frame::ConnectionClose { code, reason, .. } = f {
                    r.closes
                        .push((code, String::from_utf8_lossy(reason).into_owned()));
                }
            }
        }
    }
    Ok(r)
}

/// The server must stay silent; a correct Initial right after must get an answer, or the
/// silence proves nothing.
async fn must_drop(c: &Client, probe: Probe) -> Result<Outcome, CaseError> {
    let window = (c.timeout / 3).min(Duration::from_secs(2));
    let bad = send_and_read(c, probe, window).await?;
    let good = send_and_read(c, Probe::Good, window).await?;
    let what = match probe {
        Probe::Small => "an Initial in a 1100-byte datagram",
        _ => "a version 1 Initial with a 21-byte DCID",
    };
    let o = if good.datagrams == 0 {
        Outcome::inconclusive(format!(
            "the server answered neither {what} nor a correct 1200-byte Initial: its silence proves nothing"
        ))
    } else if bad.datagrams == 0 {
        Outcome::pass(format!(
            "{what} was dropped; a correct Initial right after got {} datagram(s)",
            good.datagrams
        ))
    } else {
        Outcome::fail(format!(
            "{what} got {} datagram(s), {} bytes, back: it must be dropped",
            bad.datagrams, bad.bytes
        ))
    };
    Ok(o.with("reply_datagrams", bad.datagrams as u64)
        .with("baseline_datagrams", good.datagrams as u64))
}

/// The server must close the connection with `want`.
async fn must_close(c: &Client, probe: Probe, want: u64) -> Result<Outcome, CaseError> {
    let window = (c.timeout / 2).min(Duration::from_secs(3));
    let r = send_and_read(c, probe, window).await?;
    let what = match probe {
        Probe::StreamInInitial => "a STREAM frame in an Initial packet",
        _ => "a frame of unknown type 0x3f in an Initial packet",
    };
    let want_name = transport_error_name(want);
    let codes: Vec<String> = r
        .closes
        .iter()
        .map(|(code, reason)| {
            let n = transport_error_name(*code);
            if reason.is_empty() {
                n
            } else {
                format!("{n} \"{reason}\"")
            }
        })
        .collect();
    let o = match r.closes.first() {
        Some((code, _)) if *code == want => Outcome::pass(format!(
            "{what} was answered with CONNECTION_CLOSE {}",
            codes[0]
        )),
        Some(_) => Outcome::fail(format!(
            "{what} was answered with CONNECTION_CLOSE {}, not {want_name}",
            codes[0]
        )),
        None if r.retry => Outcome::inconclusive(format!(
            "the server answered {what} with Retry, before reading any frame"
        )),
        // No reply while a correct Initial gets one: the server did treat the frame as an
        // error, but dropped the connection without saying so.
        None if r.datagrams == 0 => Outcome::inconclusive(format!(
            "{what} got no answer: the server dropped the connection silently instead of closing it with {want_name} (RFC 9000 §11.1: it SHOULD send CONNECTION_CLOSE)"
        )),
        None => Outcome::fail(format!(
            "{what} was accepted: {} datagram(s) came back and none closed the connection with {want_name}",
            r.datagrams
        )),
    };
    Ok(o.with("close_codes", codes)
        .with("reply_datagrams", r.datagrams as u64))
}

/// One ClientHello, never acknowledged: whatever the server sends (retransmissions
/// included) before it can validate our address must stay within 3× what we sent.
async fn amplification(c: &Client) -> Result<Outcome, CaseError> {
    let crafted = craft(c, Probe::Good)?;
    let s = socket(c.target).await?;
    s.send(&crafted.datagram).await?;
    let sent = crafted.datagram.len();
    let got = collect(&s, c.timeout.min(Duration::from_secs(3)), |_| false).await;
    let received: usize = got.iter().map(Vec::len).sum();
    let sizes: Vec<u64> = got.iter().map(|d| d.len() as u64).collect();
    let retry = got
        .iter()
        .any(|d| matches!(split_datagram(d, 0).next(), Some(Ok(h)) if h.ty == PacketType::Retry));
    let limit = 3 * sent;
    let o = if got.is_empty() {
        Outcome::inconclusive("the server sent nothing to a correct Initial")
    } else if retry {
        Outcome::inconclusive(
            "the server validated the address with Retry (RFC 9000 §8.1.2), so the limit was not reached",
        )
    } else if received <= limit {
        Outcome::pass(format!(
            "{received} bytes in {} datagram(s) for our {sent}, within the limit of {limit}",
            got.len()
        ))
    } else {
        Outcome::fail(format!(
            "{received} bytes in {} datagram(s) for our {sent} before any address validation: more than 3× ({limit})",
            got.len()
        ))
    };
    Ok(o.with("sent_bytes", sent as u64)
        .with("received_bytes", received as u64)
        .with("received_datagrams", got.len() as u64)
        .with("received_sizes", sizes))
}
