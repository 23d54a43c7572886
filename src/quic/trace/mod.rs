//! Decoding QUIC out of traces: datagrams from pcap/pcapng files ([`capture`]), connections
//! tracked by connection ID and path, packets decrypted with Initial keys (no key log needed)
//! and with an NSS key log for Handshake and 1-RTT ([`decoder::Decoder`], which the link can
//! also feed live, one datagram at a time).

pub mod capture;
pub mod conn;
pub mod decoder;
pub mod live;

pub use decoder::{DecodedPacket, Decoder, FrameInfo, PacketStatus};
