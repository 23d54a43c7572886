//! The MinIP wire format (DESIGN.md, "The MinIP protocol"): one UDP datagram is
//! `type u8 | seq u32 BE | payload length u16 BE | payload`. Types: 1 PING, 2 PONG, 3 ERROR.
//! A datagram is well formed when its header is complete, its type is known and its length
//! field equals the number of payload bytes that follow.

use std::fmt;

pub const PING: u8 = 1;
pub const PONG: u8 = 2;
pub const ERROR: u8 = 3;

/// Bytes before the payload: type (1), sequence number (4), payload length (2).
pub const HEADER_LEN: usize = 7;

/// The largest payload a length field can announce.
pub const MAX_PAYLOAD: usize = u16::MAX as usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Ping,
    Pong,
    Error,
}

impl Type {
    pub fn from_byte(b: u8) -> Option<Type> {
        match b {
            PING => Some(Type::Ping),
            PONG => Some(Type::Pong),
            ERROR => Some(Type::Error),
            _ => None,
        }
    }

    pub fn byte(self) -> u8 {
        match self {
            Type::Ping => PING,
            Type::Pong => PONG,
            Type::Error => ERROR,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Type::Ping => "PING",
            Type::Pong => "PONG",
            Type::Error => "ERROR",
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A well-formed MinIP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: Type,
    pub seq: u32,
    pub payload: Vec<u8>,
}

impl Message {
    pub fn ping(seq: u32, payload: impl Into<Vec<u8>>) -> Message {
        Message {
            kind: Type::Ping,
            seq,
            payload: payload.into(),
        }
    }

    pub fn pong(seq: u32, payload: impl Into<Vec<u8>>) -> Message {
        Message {
            kind: Type::Pong,
            seq,
            payload: payload.into(),
        }
    }

    /// An ERROR carries the sequence number of the datagram it answers (0 when unreadable)
    /// and a short reason as its payload.
    pub fn error(seq: u32, reason: &str) -> Message {
        Message {
            kind: Type::Error,
            seq,
            payload: reason.as_bytes().to_vec(),
        }
    }

    /// The datagram. Payloads longer than a length field can announce are cut to fit.
    pub fn encode(&self) -> Vec<u8> {
        let payload = &self.payload[..self.payload.len().min(MAX_PAYLOAD)];
        encode_raw(self.kind.byte(), self.seq, payload.len() as u16, payload)
    }

    /// The same one line as [`summary`] gives for the encoded datagram.
    pub fn summary(&self) -> String {
        format!(
            "{} seq={} len={}",
            self.kind,
            self.seq,
            self.payload.len().min(MAX_PAYLOAD)
        )
    }
}

/// A datagram with any type byte and any length field, so testers can write malformed ones.
pub fn encode_raw(kind: u8, seq: u32, length_field: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.push(kind);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&length_field.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Why a datagram is not a well-formed MinIP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("truncated header: {len} of {HEADER_LEN} bytes")]
    Truncated { len: usize },
    #[error("unknown type {kind}")]
    UnknownType { kind: u8, seq: u32 },
    #[error("length field says {declared} bytes but {actual} follow")]
    LengthMismatch {
        kind: u8,
        seq: u32,
        declared: usize,
        actual: usize,
    },
}

impl DecodeError {
    /// The sequence number, when the header was complete enough to carry one.
    pub fn seq(&self) -> Option<u32> {
        match *self {
            DecodeError::Truncated { .. } => None,
            DecodeError::UnknownType { seq, .. } | DecodeError::LengthMismatch { seq, .. } => {
                Some(seq)
            }
        }
    }
}

/// The header fields, read without judging them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub kind: u8,
    pub seq: u32,
    pub length: u16,
}

pub fn header(bytes: &[u8]) -> Option<Header> {
    if bytes.len() < HEADER_LEN {
        return None;
    }
    Some(Header {
        kind: bytes[0],
        seq: u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]),
        length: u16::from_be_bytes([bytes[5], bytes[6]]),
    })
}

/// Parses one datagram strictly: complete header, known type, length field equal to the
/// payload size.
pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    let h = header(bytes).ok_or(DecodeError::Truncated { len: bytes.len() })?;
    let kind = Type::from_byte(h.kind).ok_or(DecodeError::UnknownType {
        kind: h.kind,
        seq: h.seq,
    })?;
    let actual = bytes.len() - HEADER_LEN;
    if usize::from(h.length) != actual {
        return Err(DecodeError::LengthMismatch {
            kind: h.kind,
            seq: h.seq,
            declared: usize::from(h.length),
            actual,
        });
    }
    Ok(Message {
        kind,
        seq: h.seq,
        payload: bytes[HEADER_LEN..].to_vec(),
    })
}

/// One line for a datagram, for sequence diagrams and logs: `PING seq=3 len=8`,
/// `PONG seq=3 len=8`, `ERROR seq=0 len=16 "truncated header"`; malformed ones say so:
/// `malformed: 3 bytes (truncated header)`, `malformed: type 9 seq=1 len=4`,
/// `malformed: PING seq=7 len=200 (4 bytes follow)`.
pub fn summary(bytes: &[u8]) -> String {
    match decode(bytes) {
        Ok(m) if m.kind == Type::Error => {
            let reason = String::from_utf8_lossy(&m.payload);
            let reason: String = reason.chars().take(60).collect();
            format!("{} {:?}", m.summary(), reason)
        }
        Ok(m) => m.summary(),
        Err(DecodeError::Truncated { len }) => {
            format!("malformed: {len} bytes (truncated header)")
        }
        Err(DecodeError::UnknownType { kind, seq }) => {
            let len = header(bytes).map_or(0, |h| h.length);
            format!("malformed: type {kind} seq={seq} len={len}")
        }
        Err(DecodeError::LengthMismatch {
            kind,
            seq,
            declared,
            actual,
        }) => {
            let name =
                Type::from_byte(kind).map_or_else(|| format!("type {kind}"), |t| t.to_string());
            format!("malformed: {name} seq={seq} len={declared} ({actual} bytes follow)")
        }
    }
}

/// The first `max` bytes as lowercase hex, with `…` when cut.
pub fn hex(bytes: &[u8], max: usize) -> String {
    let mut s: String = bytes.iter().take(max).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > max {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let m = Message::ping(3, b"abcdefgh".to_vec());
        let bytes = m.encode();
        assert_eq!(bytes.len(), HEADER_LEN + 8);
        assert_eq!(&bytes[..7], &[1, 0, 0, 0, 3, 0, 8]);
        assert_eq!(decode(&bytes).unwrap(), m);
        assert_eq!(summary(&bytes), "PING seq=3 len=8");
        let p = Message::pong(0xdead_beef, Vec::new());
        assert_eq!(decode(&p.encode()).unwrap(), p);
        assert_eq!(
            summary(&p.encode()),
            format!("PONG seq={} len=0", 0xdead_beefu32)
        );
    }

    #[test]
    fn malformed() {
        assert_eq!(decode(&[1, 0, 0]), Err(DecodeError::Truncated { len: 3 }));
        assert_eq!(summary(&[1, 0, 0]), "malformed: 3 bytes (truncated header)");
        assert_eq!(summary(&[]), "malformed: 0 bytes (truncated header)");
        let unknown = encode_raw(9, 1, 4, b"oops");
        assert_eq!(
            decode(&unknown),
            Err(DecodeError::UnknownType { kind: 9, seq: 1 })
        );
        assert_eq!(summary(&unknown), "malformed: type 9 seq=1 len=4");
        let lie = encode_raw(PING, 7, 200, b"abcd");
        assert_eq!(
            decode(&lie),
            Err(DecodeError::LengthMismatch {
                kind: PING,
                seq: 7,
                declared: 200,
                actual: 4
            })
        );
        assert_eq!(
            summary(&lie),
            "malformed: PING seq=7 len=200 (4 bytes follow)"
        );
        let short = encode_raw(PONG, 7, 1, b"abcd");
        assert!(decode(&short).is_err());
    }

    #[test]
    fn error_summary_shows_reason() {
        let e = Message::error(0, "truncated header").encode();
        assert_eq!(summary(&e), "ERROR seq=0 len=16 \"truncated header\"");
        assert_eq!(hex(&e, 4), "03000000…");
    }
}
