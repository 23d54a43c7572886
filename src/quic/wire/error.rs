//! Why a packet or frame could not be read, with the byte offset where that became clear.

/// Everything that can go wrong on the wire. Offsets are from the start of the buffer that
/// was being parsed (the datagram for headers, the decrypted payload for frames).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("truncated {what} at byte {at}: {needed} more byte(s) needed")]
    Truncated {
        what: &'static str,
        at: usize,
        needed: usize,
    },
    #[error("malformed {what} at byte {at}: {reason}")]
    Malformed {
        what: &'static str,
        at: usize,
        reason: String,
    },
    #[error("unknown frame type 0x{ty:x} at byte {at}")]
    UnknownFrame { ty: u64, at: usize },
    #[error("version 0x{0:08x} has no known packet protection")]
    UnsupportedVersion(u32),
    #[error("packet failed authentication (wrong keys, or the packet was altered)")]
    Decrypt,
    #[error(
        "packet too short for header protection: {len} byte(s) after the packet number offset, 20 needed"
    )]
    TooShortForSample { len: usize },
    #[error("value {value} does not fit a QUIC variable-length integer")]
    VarintTooLarge { value: u64 },
    #[error("{what} is {len} bytes, more than the {max} a packet can carry")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
}

pub type Result<T> = std::result::Result<T, WireError>;
