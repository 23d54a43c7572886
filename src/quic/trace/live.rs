//! QUIC labels for the live link (the localhost relay and the netns switch): a [`Decoder`]
//! shared by the link's tasks decodes what needs no keys — Initial packets, from the client's
//! DCID — so an arrow reads "Initial 0: CRYPTO, PADDING" while the run is going.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use super::{Decoder, PacketStatus};
use crate::quic::keylog::KeyLog;

/// Whether a protocol name is carried over QUIC (the link's decoders use the same names).
pub fn is_quic(protocol: &str) -> bool {
    matches!(
        protocol.trim().to_ascii_lowercase().as_str(),
        "quic" | "http3" | "h3" | "hq-interop"
    )
}

/// A live link's QUIC decoder.
#[derive(Debug, Default)]
pub struct LiveLabeler(Mutex<Decoder>);

impl LiveLabeler {
    /// A labeler when `protocol` is QUIC.
    pub fn for_protocol(protocol: &str) -> Option<Self> {
        is_quic(protocol).then(|| LiveLabeler(Mutex::new(Decoder::new(KeyLog::default()))))
    }

    /// The label of one datagram when some packet in it was decrypted ("Initial 0: CRYPTO,
    /// PADDING + Handshake"); `None` leaves the link's header-only summary.
    pub fn label(&self, src: SocketAddr, dst: SocketAddr, datagram: &[u8]) -> Option<String> {
        let mut d = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let packets = d.feed(Duration::ZERO, src, dst, datagram);
        if !packets.iter().any(|p| p.status == PacketStatus::Decrypted) {
            return None;
        }
        let parts: Vec<String> = packets
            .iter()
            .map(|p| {
                if p.status == PacketStatus::Decrypted {
                    p.summary()
                } else {
                    p.ty.label().to_string()
                }
            })
            .collect();
        Some(parts.join(" + "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quic::wire::{Frame, InitialPacket, Payload, Side, V1, build_initial_with};

    #[test]
    fn labels_both_sides_initials_without_keys() {
        let l = LiveLabeler::for_protocol("quic").unwrap();
        let (c, s): (SocketAddr, SocketAddr) = (
            "10.0.0.1:5000".parse().unwrap(),
            "10.0.0.2:4433".parse().unwrap(),
        );
        let hello = [Frame::Crypto {
            offset: 0,
            data: b"\x01\x00\x00\x00",
        }];
        let first = build_initial_with(&InitialPacket::client(
            V1,
            &[1; 8],
            &[2; 8],
            Payload::Frames(&hello),
        ))
        .unwrap();
        assert_eq!(
            l.label(c, s, &first).as_deref(),
            Some("Initial 0: CRYPTO, PADDING")
        );
        let reply = build_initial_with(&InitialPacket {
            sender: Side::Server,
            key_dcid: Some(&[1; 8]),
            pad_to: 0,
            ..InitialPacket::client(V1, &[2; 8], &[3; 8], Payload::Frames(&[Frame::Ping]))
        })
        .unwrap();
        assert_eq!(l.label(s, c, &reply).as_deref(), Some("Initial 0: PING"));
        assert_eq!(
            l.label(c, s, b"\x40\x01\x02"),
            None,
            "a short header without keys keeps the link's label"
        );
        assert!(LiveLabeler::for_protocol("http").is_none());
    }
}
