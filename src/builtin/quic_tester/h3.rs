//! Just enough HTTP/3 (RFC 9114) and QPACK (RFC 9204) for a GET: a control stream with an
//! empty SETTINGS frame, a request whose field section uses only the static table and plain
//! literals (we advertise a zero-capacity dynamic table, so the server cannot use one), and
//! the response's DATA frames. Huffman-coded response fields are skipped, not decoded: the
//! status is read when the server indexes it statically (as every stack here does).

use super::outcome::CaseError;

const FRAME_DATA: u64 = 0x00;
const FRAME_HEADERS: u64 = 0x01;
const FRAME_SETTINGS: u64 = 0x04;
const STREAM_CONTROL: u64 = 0x00;

/// A QUIC variable-length integer (RFC 9000 §16), as HTTP/3 frames and QUIC transport
/// parameters use it: `quic::wire::varint`'s writer (every value here is far below 2^62).
pub fn varint(v: u64, out: &mut Vec<u8>) {
    let _ = crate::quic::wire::varint::put(out, v);
}

fn frame(kind: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 4);
    varint(kind, &mut out);
    varint(payload.len() as u64, &mut out);
    out.extend_from_slice(payload);
    out
}

/// A QPACK string literal without Huffman coding, after a `prefix`-bit length.
fn literal(prefix_bits: u8, flags: u8, s: &[u8], out: &mut Vec<u8>) {
    integer(prefix_bits, flags, s.len() as u64, out);
    out.extend_from_slice(s);
}

/// A QPACK/HPACK prefixed integer (RFC 7541 §5.1).
fn integer(prefix_bits: u8, flags: u8, v: u64, out: &mut Vec<u8>) {
    let max = (1u64 << prefix_bits) - 1;
    if v < max {
        out.push(flags | v as u8);
        return;
    }
    out.push(flags | max as u8);
    let mut rest = v - max;
    while rest >= 128 {
        out.push((rest % 128) as u8 | 0x80);
        rest /= 128;
    }
    out.push(rest as u8);
}

/// The HEADERS frame of `GET path` to `authority`.
pub fn request(authority: &str, path: &str) -> Vec<u8> {
    let mut fs = vec![0x00, 0x00]; // Required Insert Count 0, Delta Base 0
    fs.push(0xc0 | 17); // :method GET (static 17)
    fs.push(0xc0 | 23); // :scheme https (static 23)
    // Literal with a static name reference: 01 N=0 T=1 index(4 bits).
    integer(4, 0x50, 0, &mut fs); // :authority (static 0)
    literal(7, 0x00, authority.as_bytes(), &mut fs);
    integer(4, 0x50, 1, &mut fs); // :path (static 1)
    literal(7, 0x00, path.as_bytes(), &mut fs);
    frame(FRAME_HEADERS, &fs)
}

/// The client's control stream: its type, then an empty SETTINGS frame.
pub fn control_stream() -> Vec<u8> {
    let mut out = Vec::new();
    varint(STREAM_CONTROL, &mut out);
    out.extend(frame(FRAME_SETTINGS, &[]));
    out
}

/// A response: its status when the server indexed it statically, and its body.
#[derive(Debug, Default)]
pub struct Response {
    pub status: Option<u16>,
    pub body: Vec<u8>,
}

/// QPACK static table entries for `:status` (RFC 9204 Appendix A).
fn static_status(index: u64) -> Option<u16> {
    Some(match index {
        24 => 103,
        25 => 200,
        26 => 304,
        27 => 404,
        28 => 503,
        63 => 100,
        64 => 204,
        65 => 206,
        66 => 302,
        67 => 400,
        68 => 403,
        69 => 421,
        70 => 425,
        71 => 500,
        _ => return None,
    })
}

fn status_of(section: &[u8]) -> Option<u16> {
    // Skip the two prefix integers (both small here); the first field line follows.
    let line = *section.get(2)?;
    if line & 0xc0 == 0xc0 {
        let idx = u64::from(line & 0x3f);
        return static_status(idx);
    }
    None
}

/// Splits a response stream into frames: DATA payloads make the body.
pub fn parse_response(stream: &[u8]) -> Result<Response, CaseError> {
    let mut r = Response::default();
    let mut rd = crate::quic::wire::varint::Reader::new(stream);
    let bad = |_| CaseError::Stream("a truncated HTTP/3 frame".into());
    while !rd.is_empty() {
        let kind = rd.varint("HTTP/3 frame type").map_err(bad)?;
        let len = rd.varint("HTTP/3 frame length").map_err(bad)?;
        let body = rd
            .bytes(usize::try_from(len).unwrap_or(usize::MAX), "HTTP/3 frame")
            .map_err(bad)?;
        match kind {
            FRAME_HEADERS if r.status.is_none() => r.status = status_of(body),
            FRAME_DATA => r.body.extend_from_slice(body),
            _ => {}
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_round_trips_through_the_frame_parser() {
        let mut s = frame(FRAME_HEADERS, &[0, 0, 0xc0 | 25]);
        s.extend(frame(FRAME_DATA, b"hello "));
        s.extend(frame(0x21, b"reserved"));
        s.extend(frame(FRAME_DATA, b"world"));
        let r = parse_response(&s).unwrap();
        assert_eq!(r.status, Some(200));
        assert_eq!(r.body, b"hello world");
        assert!(parse_response(&s[..s.len() - 1]).is_err());
        let req = request("example.org", "/index.html");
        assert_eq!(req[0], 0x01);
        let mut long = Vec::new();
        integer(4, 0x50, 300, &mut long);
        assert_eq!(long, [0x5f, 0x9d, 0x02]);
    }
}
