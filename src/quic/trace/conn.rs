//! One QUIC connection as seen from outside: its endpoints, connection IDs, the keys known so
//! far per packet number space and direction, and the TLS facts that unlock more keys.

use std::net::SocketAddr;

use crate::quic::keylog::KeyLog;
use crate::quic::tls::{self, ClientHello, CryptoStream, ServerHello};
use crate::quic::wire::header::Space;
use crate::quic::wire::{PacketKey, PacketType, Side, Suite, WireError};

fn side_ix(s: Side) -> usize {
    match s {
        Side::Client => 0,
        Side::Server => 1,
    }
}

fn space_ix(s: Space) -> usize {
    match s {
        Space::Initial => 0,
        Space::Handshake => 1,
        Space::Application => 2,
    }
}

/// The 1-RTT keys of one direction, with the key phase they belong to (RFC 9001 §6).
#[derive(Debug)]
struct AppKeys {
    key: PacketKey,
    phase: bool,
}

/// A connection, created by the first client Initial the decoder sees.
#[derive(Debug)]
pub struct Conn {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub version: u32,
    /// The DCID of the client's first Initial.
    pub odcid: Vec<u8>,
    /// Where Initial keys come from: the first DCID, or a Retry's SCID (RFC 9001 §5.2).
    pub initial_dcid: Vec<u8>,
    /// Connection IDs each side chose for itself (the other side's DCIDs).
    pub cids: [Vec<Vec<u8>>; 2],
    pub client_hello: Option<ClientHello>,
    pub server_hello: Option<ServerHello>,
    initial: [Option<PacketKey>; 2],
    handshake: [Option<PacketKey>; 2],
    early: Option<PacketKey>,
    app: [Option<AppKeys>; 2],
    largest: [[Option<u64>; 2]; 3],
    crypto: [CryptoStream; 2],
    /// Whether the key log had this connection's client random.
    pub in_keylog: bool,
}

impl Conn {
    pub fn new(client: SocketAddr, server: SocketAddr, version: u32, odcid: &[u8]) -> Self {
        Conn {
            client,
            server,
            version,
            odcid: odcid.to_vec(),
            initial_dcid: odcid.to_vec(),
            cids: [Vec::new(), Vec::new()],
            client_hello: None,
            server_hello: None,
            initial: [None, None],
            handshake: [None, None],
            early: None,
            app: [None, None],
            largest: [[None; 2]; 3],
            crypto: [CryptoStream::default(), CryptoStream::default()],
            in_keylog: false,
        }
    }

    /// Which side sent a datagram from `src`.
    pub fn sender(&self, src: SocketAddr) -> Side {
        if src == self.client {
            Side::Client
        } else {
            Side::Server
        }
    }

    /// Records a connection ID that `side` chose; returns whether it is new.
    pub fn add_cid(&mut self, side: Side, cid: &[u8]) -> bool {
        let list = &mut self.cids[side_ix(side)];
        if list.iter().any(|c| c == cid) {
            return false;
        }
        list.push(cid.to_vec());
        true
    }

    /// The CID among `side`'s that `packet` (a short header) starts with after its first byte.
    pub fn short_dcid_len(&self, receiver: Side, packet: &[u8]) -> Option<usize> {
        let body = packet.get(1..)?;
        self.cids[side_ix(receiver)]
            .iter()
            .filter(|c| body.starts_with(c))
            .map(Vec::len)
            .max()
    }

    /// A Retry moves the Initial keys to its SCID.
    pub fn retry(&mut self, scid: &[u8]) {
        self.initial_dcid = scid.to_vec();
        self.initial = [None, None];
        self.largest[0] = [None; 2];
    }

    pub fn largest(&self, space: Space, sender: Side) -> Option<u64> {
        self.largest[space_ix(space)][side_ix(sender)]
    }

    pub fn saw_pn(&mut self, space: Space, sender: Side, pn: u64) {
        let l = &mut self.largest[space_ix(space)][side_ix(sender)];
        *l = Some(l.map_or(pn, |x| x.max(pn)));
    }

    /// The header protection key (and the packet key for the current phase) of a space,
    /// derived on first use.
    pub fn key(
        &mut self,
        ty: PacketType,
        version: u32,
        sender: Side,
        keylog: &KeyLog,
    ) -> Result<Option<&PacketKey>, WireError> {
        self.prepare_key(ty, version, sender, keylog)?;
        Ok(self.key_ref(ty, sender))
    }

    /// A key [`Conn::prepare_key`] derived.
    pub fn key_ref(&self, ty: PacketType, sender: Side) -> Option<&PacketKey> {
        let s = side_ix(sender);
        match ty {
            PacketType::Initial => self.initial[s].as_ref(),
            PacketType::Handshake => self.handshake[s].as_ref(),
            PacketType::ZeroRtt => self.early.as_ref(),
            PacketType::OneRtt => self.app[s].as_ref().map(|a| &a.key),
            _ => None,
        }
    }

    /// Derives the key of a space and direction if it can be and is not there yet.
    pub fn prepare_key(
        &mut self,
        ty: PacketType,
        version: u32,
        sender: Side,
        keylog: &KeyLog,
    ) -> Result<(), WireError> {
        let s = side_ix(sender);
        match ty {
            PacketType::Initial
                if self.initial[s]
                    .as_ref()
                    .is_none_or(|k| k.version() != version) =>
            {
                self.initial[s] = Some(PacketKey::initial(version, &self.initial_dcid, sender)?);
            }
            PacketType::Handshake if self.handshake[s].is_none() => {
                self.handshake[s] = self.keylog_key(keylog, version, |x| match sender {
                    Side::Client => x.client_handshake.as_deref(),
                    Side::Server => x.server_handshake.as_deref(),
                })?;
            }
            PacketType::ZeroRtt if self.early.is_none() && sender == Side::Client => {
                self.early = self.keylog_key(keylog, version, |x| x.client_early.as_deref())?;
            }
            PacketType::OneRtt if self.app[s].is_none() => {
                let key = self.keylog_key(keylog, version, |x| match sender {
                    Side::Client => x.client_app.as_deref(),
                    Side::Server => x.server_app.as_deref(),
                })?;
                self.app[s] = key.map(|key| AppKeys { key, phase: false });
            }
            _ => {}
        }
        Ok(())
    }

    /// 1-RTT: the key for a packet's key phase bit; a flipped bit means the next generation
    /// (RFC 9001 §6.2), which becomes current once a packet authenticates with it.
    pub fn app_key_for_phase(&self, sender: Side, phase: bool) -> Option<(PacketKey, bool)> {
        let a = self.app[side_ix(sender)].as_ref()?;
        if a.phase == phase {
            None
        } else {
            a.key.next_generation().ok().map(|k| (k, true))
        }
    }

    /// After a packet with the next generation's key authenticated.
    pub fn advance_app(&mut self, sender: Side, key: PacketKey, phase: bool) {
        self.app[side_ix(sender)] = Some(AppKeys { key, phase });
    }

    pub fn app_phase(&self, sender: Side) -> Option<bool> {
        self.app[side_ix(sender)].as_ref().map(|a| a.phase)
    }

    fn suite(&self) -> Suite {
        self.server_hello
            .as_ref()
            .and_then(ServerHello::quic_suite)
            .or_else(|| {
                self.client_hello
                    .as_ref()
                    .and_then(|c| c.suites.iter().find_map(|&s| Suite::from_tls(s)))
            })
            .unwrap_or(Suite::Aes128Gcm)
    }

    fn keylog_key(
        &mut self,
        keylog: &KeyLog,
        version: u32,
        pick: impl Fn(&crate::quic::keylog::Secrets) -> Option<&[u8]>,
    ) -> Result<Option<PacketKey>, WireError> {
        let Some(ch) = &self.client_hello else {
            return Ok(None);
        };
        let Some(secrets) = keylog.get(&ch.random) else {
            return Ok(None);
        };
        self.in_keylog = true;
        let Some(secret) = pick(secrets) else {
            return Ok(None);
        };
        PacketKey::from_secret(self.suite(), version, secret).map(Some)
    }

    /// Feeds an Initial CRYPTO frame; parses the hellos once they are complete.
    pub fn crypto(&mut self, sender: Side, offset: u64, data: &[u8]) {
        let s = side_ix(sender);
        if !self.crypto[s].add(offset, data) {
            return;
        }
        let bytes = self.crypto[s].bytes();
        match sender {
            Side::Client if self.client_hello.is_none() => {
                self.client_hello = tls::client_hello(bytes).ok().flatten()
            }
            Side::Server if self.server_hello.is_none() => {
                self.server_hello = tls::server_hello(bytes).ok().flatten()
            }
            _ => {}
        }
    }

    /// Forgets keys that failed for lack of TLS facts, so they are derived again later (a key
    /// log that grows while a live service runs).
    pub fn retry_keylog(&mut self) {
        if !self.in_keylog {
            self.handshake = [None, None];
            self.app = [None, None];
            self.early = None;
        }
    }

    /// The server's name for labels: SNI when the client sent one.
    pub fn sni(&self) -> Option<&str> {
        self.client_hello.as_ref()?.sni.as_deref()
    }

    pub fn alpn(&self) -> &[String] {
        self.client_hello.as_ref().map_or(&[], |c| &c.alpn)
    }
}
