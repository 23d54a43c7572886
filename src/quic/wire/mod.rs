//! The QUIC wire format (RFC 9000, RFC 9001, RFC 9369), pure and allocation-light: parsing
//! borrows from the datagram, decryption works in one caller-owned buffer.
//!
//! The pieces, in the order a packet meets them:
//! - [`varint`]: variable-length integers and a bounds-checked [`varint::Reader`];
//! - [`header`]: long and short headers, versions, coalesced packets ([`header::split_datagram`]);
//! - [`keys`]: Initial secrets from the client's DCID, keys from TLS secrets, key update;
//! - [`protect`]: header protection and AEAD, both ways;
//! - [`pn`]: packet number recovery (RFC 9000 §A.3);
//! - [`frame`]: every RFC 9000 §19 frame, decoded, labelled and encoded;
//! - [`builder`]: crafted, correctly protected packets for active probes, and [`builder::open_initial`].

pub mod builder;
pub mod error;
pub mod frame;
pub mod header;
pub mod keys;
pub mod pn;
pub mod protect;
pub mod retry;
pub mod varint;

pub use builder::{
    InitialPacket, OpenedPacket, Payload, build_initial, build_initial_with,
    build_version_negotiation, build_version_probe, open_initial,
};
pub use error::WireError;
pub use frame::{Frame, Frames};
pub use header::{Header, PacketType, split_datagram};
pub use keys::{PacketKey, Side, Suite};
pub use retry::{build_retry, retry_integrity_tag, verify_retry};

/// QUIC version 1 (RFC 9000).
pub const V1: u32 = 0x0000_0001;
/// QUIC version 2 (RFC 9369).
pub const V2: u32 = 0x6b33_43cf;
/// draft-29, still spoken by PANTHER's older experiments.
pub const DRAFT29: u32 = 0xff00_001d;
