//! QUIC support that panther needs without any QUIC stack: the wire format (`wire`: headers,
//! packet protection, frames, a builder for crafted probes), the TLS facts inside CRYPTO
//! frames (`tls`), NSS key logs (`keylog`), decoding whole traces or live datagrams
//! (`trace`), and qlog files (`qlog`).

pub mod keylog;
pub mod qlog;
pub mod tls;
pub mod trace;
pub mod wire;
