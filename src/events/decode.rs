//! One-line protocol decoders: what a datagram or a stream chunk says, for message events
//! ("PING seq=3 len=8", "GET / HTTP/1.1", "Initial v1 dcid=… scid=…").
//!
//! The decoders never fail: anything they do not recognise becomes a size ("malformed (5
//! bytes)", "1234 bytes of body", "N bytes"). They never allocate more than one short line,
//! whatever the payload, so the link relay can call them on every packet.

use std::fmt::Write as _;

/// The longest summary we build; longer lines are cut with `…`.
const MAX_SUMMARY: usize = 160;

/// A one-line summary of `payload` as `protocol` ("minip", "http", "quic"; anything else
/// gives "N bytes"). `from_client` tells which side sent it (HTTP uses it to prefer a request
/// or a status line; the others decode the bytes alone).
pub fn summary(protocol: &str, payload: &[u8], from_client: bool) -> String {
    let s = match family(protocol) {
        Family::Minip => minip(payload),
        Family::Http => http(payload, from_client),
        Family::Quic => quic(payload),
        Family::Other => format!("{} bytes", payload.len()),
    };
    cut(s)
}

/// The summary of a `total`-byte stream chunk of which only the first bytes, `head`, are at
/// hand (the relay's zero-copy path peeks at the start of each chunk). HTTP still finds a
/// request or status line that fits in `head`; anything else reads as a size.
pub fn summary_head(protocol: &str, head: &[u8], total: usize, from_client: bool) -> String {
    if head.len() >= total {
        return summary(protocol, &head[..total], from_client);
    }
    let s = match family(protocol) {
        Family::Http => match http_line(head, from_client) {
            Some(l) => l.to_string(),
            None => format!("{total} bytes of body"),
        },
        _ => format!("{total} bytes"),
    };
    cut(s)
}

enum Family {
    Minip,
    Http,
    Quic,
    Other,
}

fn family(protocol: &str) -> Family {
    match protocol.trim().to_ascii_lowercase().as_str() {
        "minip" => Family::Minip,
        "http" | "http1" | "http/1.0" | "http/1.1" | "https" => Family::Http,
        "quic" | "http3" | "h3" => Family::Quic,
        _ => Family::Other,
    }
}

fn cut(mut s: String) -> String {
    if s.len() > MAX_SUMMARY {
        let mut cut = MAX_SUMMARY;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// The first `max` bytes of `payload` as lowercase hex without separators.
pub fn hex_prefix(payload: &[u8], max: usize) -> String {
    hex(&payload[..payload.len().min(max)])
}

/// Lower-case hex by table lookup: the relay formats every datagram's first bytes, and
/// `write!("{:02x}")` per byte went through the formatting machinery once per byte.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 0xf)]);
    }
    // Only ASCII digits were pushed.
    String::from_utf8(out).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// MinIP: type (u8: 1 PING, 2 PONG, 3 ERROR), sequence number (u32 BE), payload length (u16 BE),
// payload.

/// Header size of a MinIP datagram.
const MINIP_HEADER: usize = 7;

/// `PING seq=3 len=8`, `PONG seq=3 len=8`, `ERROR seq=3 len=0`, `malformed (5 bytes)`; a
/// length field that disagrees with the datagram reads `len=9 (lies: 4 bytes follow)`; an
/// unknown type reads `type=7? seq=3 len=8`.
pub fn minip(d: &[u8]) -> String {
    if d.len() < MINIP_HEADER {
        return format!("malformed ({} bytes)", d.len());
    }
    let seq = u32::from_be_bytes([d[1], d[2], d[3], d[4]]);
    let len = u16::from_be_bytes([d[5], d[6]]) as usize;
    let follow = d.len() - MINIP_HEADER;
    let mut s = match d[0] {
        1 => format!("PING seq={seq} len={len}"),
        2 => format!("PONG seq={seq} len={len}"),
        3 => format!("ERROR seq={seq} len={len}"),
        t => format!("type={t}? seq={seq} len={len}"),
    };
    if len != follow {
        let _ = write!(
            s,
            " (lies: {follow} byte{} follow)",
            if follow == 1 { "" } else { "s" }
        );
    }
    s
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.x: the request or status line when a chunk starts with one.

/// `GET / HTTP/1.1`, `HTTP/1.1 200 OK`, else `1234 bytes of body`.
pub fn http(chunk: &[u8], from_client: bool) -> String {
    match http_line(chunk, from_client) {
        Some(l) => l.to_string(),
        None => format!("{} bytes of body", chunk.len()),
    }
}

/// The request or status line a chunk starts with.
fn http_line(chunk: &[u8], from_client: bool) -> Option<&str> {
    let line = first_line(chunk);
    if from_client {
        request_line(line).or_else(|| status_line(line))
    } else {
        status_line(line).or_else(|| request_line(line))
    }
}

/// The first line of a chunk (without CR LF), or the whole chunk when it has no line end.
fn first_line(chunk: &[u8]) -> &[u8] {
    let end = chunk
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(chunk.len());
    let line = &chunk[..end];
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `METHOD SP target SP HTTP/x.y` with an upper-case token method.
fn request_line(line: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(line).ok()?;
    let mut parts = s.split(' ');
    let method = parts.next()?;
    let target = parts.next()?;
    let version = parts.next()?;
    let ok = parts.next().is_none()
        && (1..=20).contains(&method.len())
        && method
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b == b'-' || b == b'_')
        && !target.is_empty()
        && !target.bytes().any(|b| b.is_ascii_control())
        && is_http_version(version);
    ok.then_some(s)
}

/// `HTTP/x.y SP 3DIGIT [SP reason]`.
fn status_line(line: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(line).ok()?;
    let (version, rest) = s.split_once(' ')?;
    let code = rest.get(..3)?;
    let ok = is_http_version(version)
        && code.bytes().all(|b| b.is_ascii_digit())
        && (rest.len() == 3 || rest.as_bytes()[3] == b' ')
        && !rest.bytes().any(|b| b.is_ascii_control());
    ok.then_some(s)
}

fn is_http_version(v: &str) -> bool {
    let Some(num) = v.strip_prefix("HTTP/") else {
        return false;
    };
    let b = num.as_bytes();
    match b.len() {
        1 => b[0].is_ascii_digit(),
        3 => b[0].is_ascii_digit() && b[1] == b'.' && b[2].is_ascii_digit(),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// QUIC (RFC 8999 invariants, RFC 9000 v1, RFC 9369 v2, drafts).

const QUIC_V1: u32 = 0x0000_0001;
const QUIC_V2: u32 = 0x6b33_43cf;

/// `Initial v1 dcid=… scid=…` (with `+ Handshake + 1-RTT` for coalesced packets),
/// `1-RTT dcid=…` (the first 8 bytes: a short header does not say the DCID length),
/// `VersionNegotiation dcid=… scid=…`, `malformed (N bytes)`.
pub fn quic(d: &[u8]) -> String {
    let Some(&b0) = d.first() else {
        return "malformed (0 bytes)".to_string();
    };
    if b0 & 0x80 == 0 {
        return short_header(d);
    }
    let Some(first) = long_header(d) else {
        return format!("malformed ({} bytes)", d.len());
    };
    let mut s = first.line;
    // Coalesced packets (RFC 9000 §12.2): follow the Length fields.
    let mut next = first.next;
    let mut extra = 0;
    while let Some(off) = next {
        if off >= d.len() || extra >= 4 {
            break;
        }
        extra += 1;
        let rest = &d[off..];
        if rest[0] & 0x80 == 0 {
            s.push_str(" + 1-RTT");
            break;
        }
        match long_header(rest) {
            Some(h) => {
                s.push_str(" + ");
                s.push_str(h.kind);
                next = h.next.map(|n| off + n);
            }
            None => {
                s.push_str(" + ?");
                break;
            }
        }
    }
    s
}

fn short_header(d: &[u8]) -> String {
    let dcid = &d[1..d.len().min(9)];
    format!("1-RTT dcid={}", hex(dcid))
}

struct LongHeader {
    kind: &'static str,
    line: String,
    /// Where the next coalesced packet starts, when this packet carries a Length field.
    next: Option<usize>,
}

fn long_header(d: &[u8]) -> Option<LongHeader> {
    let b0 = d[0];
    let version = u32::from_be_bytes(d.get(1..5)?.try_into().ok()?);
    let dcid_len = *d.get(5)? as usize;
    let dcid = d.get(6..6 + dcid_len)?;
    let scid_len = *d.get(6 + dcid_len)? as usize;
    let scid_start = 7 + dcid_len;
    let scid = d.get(scid_start..scid_start + scid_len)?;
    let after_cids = scid_start + scid_len;
    let cids = format!("dcid={} scid={}", hex(dcid), hex(scid));
    if version == 0 {
        return Some(LongHeader {
            kind: "VersionNegotiation",
            line: format!("VersionNegotiation {cids}"),
            next: None,
        });
    }
    let bits = (b0 & 0x30) >> 4;
    // v2 permutes the long packet types (RFC 9369 §3.2).
    let kind = match (version == QUIC_V2, bits) {
        (false, 0) | (true, 1) => "Initial",
        (false, 1) | (true, 2) => "0-RTT",
        (false, 2) | (true, 3) => "Handshake",
        _ => "Retry",
    };
    let next = match kind {
        "Retry" => None,
        _ => {
            let mut off = after_cids;
            if kind == "Initial" {
                let (token_len, n) = varint(d.get(off..)?)?;
                off = off
                    .checked_add(n)?
                    .checked_add(usize::try_from(token_len).ok()?)?;
            }
            varint(d.get(off..)?)
                .and_then(|(len, n)| off.checked_add(n)?.checked_add(usize::try_from(len).ok()?))
        }
    };
    Some(LongHeader {
        kind,
        line: format!("{kind} {} {cids}", version_name(version)),
        next,
    })
}

fn version_name(v: u32) -> String {
    match v {
        QUIC_V1 => "v1".to_string(),
        QUIC_V2 => "v2".to_string(),
        v if v >> 8 == 0x00ff_0000 => format!("draft-{}", v & 0xff),
        v => format!("0x{v:08x}"),
    }
}

/// A QUIC variable-length integer: (value, bytes used).
fn varint(d: &[u8]) -> Option<(u64, usize)> {
    let b0 = *d.first()?;
    let n = 1usize << (b0 >> 6);
    let bytes = d.get(..n)?;
    let mut v = u64::from(b0 & 0x3f);
    for &b in &bytes[1..] {
        v = (v << 8) | u64::from(b);
    }
    Some((v, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minip_dgram(t: u8, seq: u32, len: u16, payload: &[u8]) -> Vec<u8> {
        let mut d = vec![t];
        d.extend_from_slice(&seq.to_be_bytes());
        d.extend_from_slice(&len.to_be_bytes());
        d.extend_from_slice(payload);
        d
    }

    #[test]
    fn minip_well_formed() {
        let ping = minip_dgram(1, 3, 8, b"abcdefgh");
        assert_eq!(summary("minip", &ping, true), "PING seq=3 len=8");
        let pong = minip_dgram(2, 3, 8, b"abcdefgh");
        assert_eq!(summary("minip", &pong, false), "PONG seq=3 len=8");
        let err = minip_dgram(3, 70000, 0, b"");
        assert_eq!(summary("MinIP", &err, false), "ERROR seq=70000 len=0");
        assert_eq!(
            minip(&[0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00]),
            "PING seq=256 len=0"
        );
    }

    #[test]
    fn minip_malformed() {
        assert_eq!(minip(&[1, 0, 0, 0, 3]), "malformed (5 bytes)");
        assert_eq!(minip(&[]), "malformed (0 bytes)");
        let lie = minip_dgram(1, 4, 9, b"abcd");
        assert_eq!(minip(&lie), "PING seq=4 len=9 (lies: 4 bytes follow)");
        let short = minip_dgram(1, 4, 0, b"x");
        assert_eq!(minip(&short), "PING seq=4 len=0 (lies: 1 byte follow)");
        let unknown = minip_dgram(7, 1, 2, b"hi");
        assert_eq!(minip(&unknown), "type=7? seq=1 len=2");
    }

    #[test]
    fn http_lines() {
        let req = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        assert_eq!(summary("http", req, true), "GET / HTTP/1.1");
        let post = b"POST /upload?x=1 HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc";
        assert_eq!(summary("http", post, true), "POST /upload?x=1 HTTP/1.0");
        let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
        assert_eq!(summary("http", resp, false), "HTTP/1.1 200 OK");
        let no_reason = b"HTTP/1.1 404\r\n\r\n";
        assert_eq!(summary("http", no_reason, false), "HTTP/1.1 404");
        let body = vec![b'x'; 1234];
        assert_eq!(summary("http", &body, false), "1234 bytes of body");
        // A request line cut by the chunk boundary still reads as one.
        assert_eq!(
            summary("http", b"GET /index.html HTTP/1.1", true),
            "GET /index.html HTTP/1.1"
        );
        // Not a request line: lower-case method, missing version, binary.
        assert_eq!(
            summary("http", b"get / HTTP/1.1\r\n", true),
            "16 bytes of body"
        );
        assert_eq!(summary("http", b"GET /\r\n", true), "7 bytes of body");
        assert_eq!(
            summary("http", &[0xff, 0xfe, 0x00], false),
            "3 bytes of body"
        );
        // A status line sent by a client is still recognised.
        assert_eq!(
            summary("http", b"HTTP/1.0 500 Oops\r\n", true),
            "HTTP/1.0 500 Oops"
        );
    }

    /// A client Initial as real stacks send it: type 0 long header, v1, 8-byte DCID, 0-byte
    /// SCID, empty token, Length, packet number, payload.
    fn initial(version: u32, type_bits: u8, dcid: &[u8], scid: &[u8], body: usize) -> Vec<u8> {
        let mut d = vec![0xc0 | (type_bits << 4) | 0x03];
        d.extend_from_slice(&version.to_be_bytes());
        d.push(dcid.len() as u8);
        d.extend_from_slice(dcid);
        d.push(scid.len() as u8);
        d.extend_from_slice(scid);
        d.push(0x00); // token length (varint 0)
        let len = body as u16 | 0x4000; // 2-byte varint
        d.extend_from_slice(&len.to_be_bytes());
        d.extend(std::iter::repeat_n(0xaa, body));
        d
    }

    #[test]
    fn quic_long_headers() {
        let dcid = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
        let d = initial(QUIC_V1, 0, &dcid, &[], 1162);
        assert_eq!(quic(&d), "Initial v1 dcid=8394c8f03e515708 scid=");
        let hs = initial(QUIC_V1, 2, &[1, 2], &[3, 4, 5], 40);
        // A Handshake has no token field; build it by hand.
        let mut hs2 = hs[..1 + 4 + 1 + 2 + 1 + 3].to_vec();
        hs2.extend_from_slice(&[0x40, 0x05, 1, 2, 3, 4, 5]);
        assert_eq!(quic(&hs2), "Handshake v1 dcid=0102 scid=030405");
        // v2 permutes types: bits 01 are Initial.
        let v2 = initial(QUIC_V2, 1, &[9], &[8], 20);
        assert_eq!(quic(&v2), "Initial v2 dcid=09 scid=08");
        let d29 = initial(0xff00_001d, 0, &[7; 4], &[6; 4], 20);
        assert_eq!(quic(&d29), "Initial draft-29 dcid=07070707 scid=06060606");
        let retry = initial(QUIC_V1, 3, &[1], &[2], 0);
        assert_eq!(quic(&retry), "Retry v1 dcid=01 scid=02");
    }

    #[test]
    fn quic_coalesced_and_short() {
        let mut d = initial(QUIC_V1, 0, &[1; 8], &[2; 8], 50);
        let mut hs = vec![0xe0];
        hs.extend_from_slice(&QUIC_V1.to_be_bytes());
        hs.extend_from_slice(&[1, 0x11, 1, 0x22, 0x40, 0x03, 0, 0, 0]);
        d.extend_from_slice(&hs);
        d.extend_from_slice(&[0x41, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9]);
        assert_eq!(
            quic(&d),
            "Initial v1 dcid=0101010101010101 scid=0202020202020202 + Handshake + 1-RTT"
        );
        let short = [0x43, 0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 4, 5, 6];
        assert_eq!(quic(&short), "1-RTT dcid=deadbeef00010203");
        assert_eq!(quic(&[0x40, 0xaa]), "1-RTT dcid=aa");
    }

    #[test]
    fn quic_version_negotiation_and_malformed() {
        let mut vn = vec![0x80, 0, 0, 0, 0, 2, 0xab, 0xcd, 1, 0xef];
        vn.extend_from_slice(&QUIC_V1.to_be_bytes());
        vn.extend_from_slice(&0xff00_001du32.to_be_bytes());
        assert_eq!(quic(&vn), "VersionNegotiation dcid=abcd scid=ef");
        assert_eq!(quic(&[0xc0, 0, 0]), "malformed (3 bytes)");
        assert_eq!(quic(&[0xc0, 0, 0, 0, 1, 20, 1]), "malformed (7 bytes)");
        assert_eq!(quic(&[]), "malformed (0 bytes)");
    }

    #[test]
    fn heads_of_larger_chunks() {
        let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n";
        assert_eq!(
            summary_head("http", resp, 100_050, false),
            "HTTP/1.1 200 OK"
        );
        assert_eq!(
            summary_head("http", &[b'x'; 64], 5000, false),
            "5000 bytes of body"
        );
        assert_eq!(summary_head("quic", &[0xc0; 64], 5000, false), "5000 bytes");
        let ping = minip_dgram(1, 3, 2, b"hi");
        assert_eq!(
            summary_head("minip", &ping, ping.len(), true),
            "PING seq=3 len=2"
        );
        assert_eq!(summary_head("minip", &ping, 4, true), "malformed (4 bytes)");
    }

    #[test]
    fn other_protocols_and_hex() {
        assert_eq!(summary("dns", &[1, 2, 3], true), "3 bytes");
        assert_eq!(hex_prefix(&[0x00, 0xff, 0x10], 32), "00ff10");
        assert_eq!(hex_prefix(&[0xab; 40], 32).len(), 64);
        let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(400));
        let s = summary("http", long.as_bytes(), true);
        assert!(s.ends_with('…') && s.len() <= MAX_SUMMARY + 3, "{s}");
    }
}
