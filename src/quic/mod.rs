//! QUIC support that panther needs without any QUIC stack: the wire format (`wire`: headers,
//! packet protection, frames, a builder for crafted probes).

pub mod wire;
