//! A UDP socket for quinn that keeps a copy of every datagram it sends and receives, so the
//! tester can check RFC rules over what really crossed the wire (decrypted with the secrets
//! its own TLS logged), not over what quinn chose to report. A [`Misbehave`] hook lets the
//! tests' deliberately broken server break exactly one rule.

use std::fmt;
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use quinn::udp::{RecvMeta, Transmit};
use quinn::{AsyncUdpSocket, UdpPoller};

/// Which way a datagram went, seen from the tester.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Sent,
    Received,
}

#[derive(Debug, Clone)]
pub struct Datagram {
    pub dir: Dir,
    /// Since the socket was made.
    pub at: std::time::Duration,
    pub peer: SocketAddr,
    pub bytes: Vec<u8>,
}

/// What the broken test server does wrong. Never used by the tester itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Misbehave {
    /// Send every datagram this many extra times (before and after address validation), so
    /// the server sends more than 3× what it received (RFC 9000 §8.1).
    pub repeat: u8,
    /// Drop long-header packets of versions quinn does not speak instead of answering with
    /// Version Negotiation (RFC 9000 §6.1).
    pub ignore_unknown_versions: bool,
}

/// The most a recording keeps, so a long transfer cannot grow the tester without bound;
/// later datagrams are counted but not kept.
const KEEP_BYTES: usize = 64 << 20;

#[derive(Debug, Default)]
struct Log {
    kept: Vec<Datagram>,
    bytes: usize,
    dropped: u64,
}

/// The shared record of one socket's traffic.
#[derive(Debug, Clone)]
pub struct Recording {
    start: Instant,
    log: Arc<Mutex<Log>>,
}

impl Recording {
    pub fn new() -> Recording {
        Recording {
            start: Instant::now(),
            log: Arc::new(Mutex::new(Log::default())),
        }
    }

    fn push(&self, dir: Dir, peer: SocketAddr, bytes: &[u8]) {
        self.push_at(self.start.elapsed(), dir, peer, bytes);
    }

    /// Keeps a datagram stamped `at`. A sent datagram is stamped before the send: the
    /// peer's answer can be received (and kept, on another thread) before the sending thread
    /// gets to keep what it sent, and order is read from the stamps.
    fn push_at(&self, at: std::time::Duration, dir: Dir, peer: SocketAddr, bytes: &[u8]) {
        let Ok(mut log) = self.log.lock() else { return };
        if log.bytes + bytes.len() > KEEP_BYTES {
            log.dropped += 1;
            return;
        }
        log.bytes += bytes.len();
        log.kept.push(Datagram {
            dir,
            at,
            peer,
            bytes: bytes.to_vec(),
        });
    }

    /// Everything kept so far, in the order it crossed the socket.
    pub fn datagrams(&self) -> Vec<Datagram> {
        let mut d = self.log.lock().map(|l| l.kept.clone()).unwrap_or_default();
        d.sort_by_key(|x| x.at);
        d
    }

    /// Datagrams seen but not kept (past [`KEEP_BYTES`]).
    pub fn not_kept(&self) -> u64 {
        self.log.lock().map(|l| l.dropped).unwrap_or(0)
    }

    /// Forgets what was kept (between the connections of one case).
    pub fn clear(&self) {
        if let Ok(mut l) = self.log.lock() {
            *l = Log::default();
        }
    }
}

impl Default for Recording {
    fn default() -> Self {
        Recording::new()
    }
}

/// quinn's own tokio socket, wrapped.
pub struct Observed {
    inner: Arc<dyn AsyncUdpSocket>,
    rec: Recording,
    misbehave: Misbehave,
}

impl fmt::Debug for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Observed")
            .field("misbehave", &self.misbehave)
            .finish()
    }
}

/// Binds `addr` and returns quinn's socket wrapped, and its recording.
pub fn bind(addr: SocketAddr, misbehave: Misbehave) -> io::Result<(Arc<Observed>, Recording)> {
    use quinn::Runtime;
    let std = std::net::UdpSocket::bind(addr)?;
    let inner = quinn::TokioRuntime.wrap_udp_socket(std)?;
    let rec = Recording::new();
    Ok((
        Arc::new(Observed {
            inner,
            rec: rec.clone(),
            misbehave,
        }),
        rec,
    ))
}

/// An endpoint over an observed socket.
pub fn endpoint(
    sock: Arc<Observed>,
    server: Option<quinn::ServerConfig>,
) -> io::Result<quinn::Endpoint> {
    // Not advertising grease_quic_bit (RFC 9287) holds the peer to RFC 9000 §17.2: every
    // packet it sends must have the fixed bit, which the tester then checks.
    let mut config = quinn::EndpointConfig::default();
    config.grease_quic_bit(false);
    quinn::Endpoint::new_with_abstract_socket(config, server, sock, Arc::new(quinn::TokioRuntime))
}

/// QUIC versions quinn answers to (v1 and the drafts it still speaks).
fn spoken(version: u32) -> bool {
    version == 1 || (0xff00_001d..=0xff00_0022).contains(&version)
}

fn unknown_version(d: &[u8]) -> bool {
    d.len() >= 5 && d[0] & 0x80 != 0 && {
        let v = u32::from_be_bytes([d[1], d[2], d[3], d[4]]);
        v != 0 && !spoken(v)
    }
}

impl AsyncUdpSocket for Observed {
    fn create_io_poller(self: Arc<Self>) -> Pin<Box<dyn UdpPoller>> {
        self.inner.clone().create_io_poller()
    }

    fn try_send(&self, t: &Transmit) -> io::Result<()> {
        let at = self.rec.start.elapsed();
        self.inner.try_send(t)?;
        let seg = t.segment_size.unwrap_or(t.contents.len()).max(1);
        for d in t.contents.chunks(seg) {
            self.rec.push_at(at, Dir::Sent, t.destination, d);
        }
        for _ in 0..self.misbehave.repeat {
            // Extra copies are best effort: a full socket buffer just sends fewer.
            if self.inner.try_send(t).is_ok() {
                for d in t.contents.chunks(seg) {
                    self.rec.push(Dir::Sent, t.destination, d);
                }
            }
        }
        Ok(())
    }

    fn poll_recv(
        &self,
        cx: &mut Context,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        let n = match self.inner.poll_recv(cx, bufs, meta) {
            Poll::Ready(Ok(n)) => n,
            other => return other,
        };
        for (m, b) in meta.iter_mut().zip(bufs.iter()).take(n) {
            let stride = m.stride.max(1);
            if self.misbehave.ignore_unknown_versions
                && m.len <= stride
                && unknown_version(&b[..m.len])
            {
                // quinn skips a zero-length entry: the datagram is dropped unseen.
                m.len = 0;
                continue;
            }
            for d in b[..m.len].chunks(stride) {
                self.rec.push(Dir::Received, m.addr, d);
            }
        }
        Poll::Ready(Ok(n))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn max_transmit_segments(&self) -> usize {
        self.inner.max_transmit_segments()
    }

    fn max_receive_segments(&self) -> usize {
        self.inner.max_receive_segments()
    }

    fn may_fragment(&self) -> bool {
        self.inner.may_fragment()
    }
}
