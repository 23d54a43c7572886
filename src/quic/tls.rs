//! The few TLS 1.3 facts a QUIC trace decoder needs from inside CRYPTO frames: the
//! ClientHello's random (to find the connection's secrets in an NSS key log), its SNI and
//! ALPN (for labels and endpoint names), and the ServerHello's cipher suite (which AEAD
//! protects Handshake and 1-RTT packets). CRYPTO data is reassembled per epoch and direction.

use crate::quic::wire::varint::Reader;
use crate::quic::wire::{Suite, WireError};

/// How much of one CRYPTO stream is kept: a ClientHello or ServerHello fits many times over;
/// certificates beyond this are not needed.
const KEEP: usize = 16 * 1024;

/// One direction of one epoch's CRYPTO stream, reassembled as far as it is contiguous.
#[derive(Debug, Default, Clone)]
pub struct CryptoStream {
    data: Vec<u8>,
    /// Out-of-order pieces waiting for the gap before them (bounded by `KEEP`).
    pending: Vec<(u64, Vec<u8>)>,
}

impl CryptoStream {
    /// Adds a CRYPTO frame's data at `offset`; returns whether the contiguous prefix grew.
    pub fn add(&mut self, offset: u64, data: &[u8]) -> bool {
        let before = self.data.len();
        self.place(offset, data);
        while let Some(i) = self
            .pending
            .iter()
            .position(|(o, _)| *o <= self.data.len() as u64)
        {
            let (o, d) = self.pending.swap_remove(i);
            self.place(o, &d);
        }
        self.data.len() > before
    }

    fn place(&mut self, offset: u64, data: &[u8]) {
        let have = self.data.len() as u64;
        let end = offset.saturating_add(data.len() as u64);
        if offset > have {
            if offset < KEEP as u64 && self.pending.len() < 64 {
                self.pending.push((offset, data.to_vec()));
            }
            return;
        }
        if end <= have || have >= KEEP as u64 {
            return;
        }
        let skip = (have - offset) as usize;
        let room = KEEP - self.data.len();
        let take = (data.len() - skip).min(room);
        self.data.extend_from_slice(&data[skip..skip + take]);
    }

    /// The contiguous bytes received so far.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }
}

/// What a ClientHello says that the decoder uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientHello {
    pub random: [u8; 32],
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    pub suites: Vec<u16>,
}

/// What a ServerHello says that the decoder uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    pub random: [u8; 32],
    pub suite: u16,
}

impl ServerHello {
    /// The AEAD for Handshake and 1-RTT packets, when QUIC can use the suite.
    pub fn quic_suite(&self) -> Option<Suite> {
        Suite::from_tls(self.suite)
    }
}

/// The first handshake message in a reassembled stream, if it is complete: (type, body).
fn first_message(stream: &[u8]) -> Option<(u8, &[u8])> {
    let mut r = Reader::new(stream);
    let ty = r.u8("handshake type").ok()?;
    let len = r.u24("handshake length").ok()? as usize;
    let body = r.bytes(len, "handshake body").ok()?;
    Some((ty, body))
}

/// The ClientHello at the start of a client's Initial CRYPTO stream, once it is complete.
/// `Ok(None)` means "not all there yet"; an error means it is not a ClientHello.
pub fn client_hello(stream: &[u8]) -> Result<Option<ClientHello>, WireError> {
    let Some((ty, body)) = first_message(stream) else {
        return Ok(None);
    };
    if ty != 1 {
        return Err(not_hello("ClientHello", ty));
    }
    let mut r = Reader::new(body);
    r.skip(2, "ClientHello version")?;
    let random = random(&mut r)?;
    r.u8("session ID length")
        .map(usize::from)
        .and_then(|n| r.skip(n, "session ID"))?;
    let suites_raw = u16_prefixed(&mut r, "cipher suites")?;
    let suites = suites_raw
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    r.u8("compression methods length")
        .map(usize::from)
        .and_then(|n| r.skip(n, "compression methods"))?;
    let mut hello = ClientHello {
        random,
        suites,
        ..ClientHello::default()
    };
    if r.is_empty() {
        return Ok(Some(hello));
    }
    let mut ext = Reader::new(u16_prefixed(&mut r, "extensions")?);
    while !ext.is_empty() {
        let ty = ext.u16("extension type")?;
        let data = u16_prefixed(&mut ext, "extension data")?;
        match ty {
            0 => hello.sni = sni(data),
            16 => hello.alpn = alpn(data),
            _ => {}
        }
    }
    Ok(Some(hello))
}

/// The ServerHello at the start of a server's Initial CRYPTO stream, once it is complete.
pub fn server_hello(stream: &[u8]) -> Result<Option<ServerHello>, WireError> {
    let Some((ty, body)) = first_message(stream) else {
        return Ok(None);
    };
    if ty != 2 {
        return Err(not_hello("ServerHello", ty));
    }
    let mut r = Reader::new(body);
    r.skip(2, "ServerHello version")?;
    let random = random(&mut r)?;
    r.u8("session ID length")
        .map(usize::from)
        .and_then(|n| r.skip(n, "session ID"))?;
    let suite = r.u16("cipher suite")?;
    Ok(Some(ServerHello { random, suite }))
}

fn not_hello(what: &'static str, ty: u8) -> WireError {
    WireError::Malformed {
        what,
        at: 0,
        reason: format!("handshake message type {ty}"),
    }
}

fn random(r: &mut Reader<'_>) -> Result<[u8; 32], WireError> {
    let mut out = [0u8; 32];
    out.copy_from_slice(r.bytes(32, "random")?);
    Ok(out)
}

fn u16_prefixed<'a>(r: &mut Reader<'a>, what: &'static str) -> Result<&'a [u8], WireError> {
    let n = r.u16(what)?;
    r.bytes(usize::from(n), what)
}

fn sni(data: &[u8]) -> Option<String> {
    let mut r = Reader::new(data);
    let mut list = Reader::new(u16_prefixed(&mut r, "server name list").ok()?);
    while !list.is_empty() {
        let ty = list.u8("name type").ok()?;
        let name = u16_prefixed(&mut list, "host name").ok()?;
        if ty == 0 {
            return std::str::from_utf8(name).ok().map(str::to_string);
        }
    }
    None
}

fn alpn(data: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut r = Reader::new(data);
    let Ok(list) = u16_prefixed(&mut r, "ALPN list") else {
        return out;
    };
    let mut list = Reader::new(list);
    while let Ok(n) = list.u8("ALPN length") {
        let Ok(p) = list.bytes(usize::from(n), "ALPN protocol") else {
            break;
        };
        out.push(String::from_utf8_lossy(p).into_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassembles_out_of_order_and_overlapping() {
        let mut s = CryptoStream::default();
        assert!(!s.add(4, b"efgh"));
        assert!(s.add(0, b"abcd"));
        assert_eq!(s.bytes(), b"abcdefgh");
        assert!(s.add(6, b"ghij"));
        assert!(!s.add(0, b"ab"));
        assert_eq!(s.bytes(), b"abcdefghij");
    }

    #[test]
    fn incomplete_and_wrong_messages() {
        assert_eq!(client_hello(&[1, 0, 0, 10, 3]).unwrap(), None);
        assert!(client_hello(&[2, 0, 0, 1, 0]).is_err());
        assert!(
            server_hello(&[2, 0, 0, 2, 3, 3]).is_err(),
            "truncated inside a complete message"
        );
    }
}
