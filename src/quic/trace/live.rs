//! QUIC labels for the live link (the localhost relay and the netns switch): a [`Decoder`]
//! shared by the link's tasks decodes what needs no keys — Initial packets, from the client's
//! DCID — so an arrow reads "Initial 0: CRYPTO, PADDING" while the run is going. Given the
//! services' key logs (`SSLKEYLOGFILE`, which the services write as their handshakes go), it
//! also opens Handshake, 0-RTT and 1-RTT packets: a datagram it has no keys for makes it read
//! what the key logs gained since its last look, and try that datagram again.

use std::io::{Read, Seek, SeekFrom};
use std::net::SocketAddr;
use std::path::PathBuf;
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
pub struct LiveLabeler(Mutex<State>);

#[derive(Debug, Default)]
struct State {
    decoder: Decoder,
    /// Key log files and how much of each was read (whole lines only).
    key_logs: Vec<(PathBuf, u64)>,
    /// When a look found nothing new: packets a service never logs keys for (or a peer's
    /// stray) cost one look per few milliseconds, not one per datagram.
    empty_look: Option<std::time::Instant>,
}

/// How long after a look that found nothing the key logs are not read again.
const QUIET: Duration = Duration::from_millis(5);

/// The most read from one key log at a look (a real one is a few hundred bytes a connection).
const KEY_LOG_LIMIT: u64 = 16 << 20;

impl State {
    /// Adds what the key logs gained since the last look; whether there was anything.
    fn read_key_logs(&mut self) -> bool {
        if self.key_logs.is_empty() || self.empty_look.is_some_and(|t| t.elapsed() < QUIET) {
            return false;
        }
        let mut text = String::new();
        for (path, done) in &mut self.key_logs {
            let Ok(mut f) = std::fs::File::open(&*path) else {
                continue;
            };
            let mut buf = Vec::new();
            if f.seek(SeekFrom::Start(*done)).is_err()
                || f.take(KEY_LOG_LIMIT).read_to_end(&mut buf).is_err()
            {
                continue;
            }
            // A line still being written waits for the next look.
            let whole = buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            *done += whole as u64;
            text.push_str(&String::from_utf8_lossy(&buf[..whole]));
        }
        if text.is_empty() {
            self.empty_look = Some(std::time::Instant::now());
            return false;
        }
        self.empty_look = None;
        self.decoder.add_keylog(&text);
        true
    }
}

impl LiveLabeler {
    /// A labeler when `protocol` is QUIC.
    pub fn for_protocol(protocol: &str) -> Option<Self> {
        is_quic(protocol).then(|| {
            LiveLabeler(Mutex::new(State {
                decoder: Decoder::new(KeyLog::default()),
                ..State::default()
            }))
        })
    }

    /// Key log files the services write (NSS format), read as they grow.
    pub fn with_key_logs(self, files: impl IntoIterator<Item = PathBuf>) -> Self {
        let mut st = self.0.into_inner().unwrap_or_else(|e| e.into_inner());
        st.key_logs.extend(files.into_iter().map(|f| (f, 0)));
        LiveLabeler(Mutex::new(st))
    }

    /// The label of one datagram when some packet in it was decrypted ("Initial 0: CRYPTO,
    /// PADDING + Handshake 0: CRYPTO"); `None` leaves the link's header-only summary.
    pub fn label(&self, src: SocketAddr, dst: SocketAddr, datagram: &[u8]) -> Option<String> {
        let mut st = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut packets = st.decoder.feed(Duration::ZERO, src, dst, datagram);
        if packets.iter().any(|p| p.status == PacketStatus::NoKeys) && st.read_key_logs() {
            packets = st.decoder.feed(Duration::ZERO, src, dst, datagram);
        }
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
