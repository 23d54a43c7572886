//! Readiness probes from the manifest: TCP accepts, UDP port bound, a QUIC server answering
//! Version Negotiation, a log line, a file, a fixed delay. All given conditions must hold
//! before dependants start.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::watch;

/// The longest duration a config may give (a timeout, a wait): one year. Longer values are
/// refused at validation; at run time anything out of range is clamped ([`seconds`]).
pub const MAX_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

/// Seconds as a duration, never panicking: NaN and negatives are 0, the rest is capped at
/// [`MAX_SECONDS`].
pub fn seconds(v: f64) -> Duration {
    if v.is_nan() || v <= 0.0 {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(v.min(MAX_SECONDS))
}

/// `now + d`, saturating far in the future instead of overflowing.
pub fn after(d: Duration) -> std::time::Instant {
    let now = std::time::Instant::now();
    now.checked_add(d)
        .or_else(|| now.checked_add(seconds(MAX_SECONDS)))
        .unwrap_or(now)
}

#[derive(Debug, Clone, Default)]
pub struct Probe {
    pub tcp: Option<SocketAddr>,
    pub udp: Option<SocketAddr>,
    /// A QUIC server's address: ready when it answers an unknown version with Version
    /// Negotiation (quic-interop-runner's wait-for-it-quic).
    pub quic: Option<SocketAddr>,
    pub log: Option<regex::Regex>,
    pub file: Option<PathBuf>,
    pub delay: Option<Duration>,
    /// When the service lives in its own network namespace, the pid of a process inside it:
    /// ports are then looked up in that namespace's socket tables (`/proc/PID/net/…`)
    /// instead of connecting from panther's namespace, which cannot reach it.
    pub net_of: Option<u32>,
}

/// Waits until the probe holds. `log_seen` flips to true when an output line matched the
/// probe's regex (the line readers do the matching).
pub async fn wait(p: &Probe, log_seen: watch::Receiver<bool>) {
    if let Some(d) = p.delay {
        tokio::time::sleep(d).await;
    }
    let quic = async {
        if let Some(a) = p.quic {
            quic_answers(a, p.net_of).await;
        }
    };
    tokio::join!(quic, wait_rest(p, log_seen));
}

async fn wait_rest(p: &Probe, mut log_seen: watch::Receiver<bool>) {
    loop {
        let tcp_ok = match (p.tcp, p.net_of) {
            (Some(a), Some(pid)) => tcp_listening_in(pid, a),
            (Some(a), None) => tokio::net::TcpStream::connect(a).await.is_ok(),
            (None, _) => true,
        };
        let udp_ok = match (p.udp, p.net_of) {
            (Some(a), Some(pid)) => bound_in(&format!("/proc/{pid}/net"), "udp", a, None),
            (Some(a), None) => udp_bound(a),
            (None, _) => true,
        };
        let file_ok = p.file.as_ref().is_none_or(|f| f.exists());
        let log_ok = p.log.is_none() || *log_seen.borrow_and_update();
        if tcp_ok && udp_ok && file_ok && log_ok {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The version the probe offers: of the form 0x?a?a?a?a that RFC 9000 §15 reserves to
/// exercise version negotiation, so no server supports it.
pub const PROBE_VERSION: u32 = 0x1a2a_3a4a;

/// A long-header Initial-shaped packet with [`PROBE_VERSION`], 8-byte DCID and SCID, padded
/// to a 1200-byte datagram (RFC 9000 §14.1: smaller ones may be dropped unanswered).
pub fn version_probe(dcid: &[u8; 8], scid: &[u8; 8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(1200);
    p.push(0xc0);
    p.extend_from_slice(&PROBE_VERSION.to_be_bytes());
    p.push(8);
    p.extend_from_slice(dcid);
    p.push(8);
    p.extend_from_slice(scid);
    p.resize(1200, 0);
    p
}

/// Whether `d` is a Version Negotiation answering our probe (RFC 9000 §17.2.1: long header,
/// version 0, the DCID echoing our SCID).
pub fn is_version_negotiation(d: &[u8], scid: &[u8; 8]) -> bool {
    d.len() >= 7
        && d[0] & 0x80 != 0
        && d[1..5] == [0, 0, 0, 0]
        && d[5] as usize == scid.len()
        && d.get(6..14) == Some(&scid[..])
}

/// Sends the version probe to `addr` every 100 ms until a Version Negotiation comes back.
/// With `net_of`, the socket is made inside that process's network namespace, so it works
/// for services in netns or containers as on localhost.
pub async fn quic_answers(addr: SocketAddr, net_of: Option<u32>) {
    let dcid: [u8; 8] = rand::random();
    let scid: [u8; 8] = rand::random();
    let probe = version_probe(&dcid, &scid);
    let mut buf = vec![0u8; 2048];
    loop {
        let until = tokio::time::Instant::now() + Duration::from_millis(100);
        // A fresh socket (so a fresh source port) for every probe: a probe sent before the
        // service's own NAT rules existed leaves a conntrack entry that would keep every
        // later datagram of the same 5-tuple away from the service.
        match quic_socket(addr, net_of).await {
            Ok(sock) => {
                // Errors (ECONNREFUSED while nothing is bound yet) just mean "not yet".
                let _ = sock.send_to(&probe, addr).await;
                while let Ok(Ok((n, from))) =
                    tokio::time::timeout_at(until, sock.recv_from(&mut buf)).await
                {
                    if from == addr && is_version_negotiation(&buf[..n], &scid) {
                        return;
                    }
                }
            }
            Err(e) => tracing::debug!(%addr, "quic readiness socket: {e}"),
        }
        tokio::time::sleep_until(until).await;
    }
}

/// Why a probe socket could not be made (the probe then just tries again).
#[derive(Debug, thiserror::Error)]
enum SocketError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("cannot enter the service's network namespace: {0}")]
    Setns(#[from] nix::errno::Errno),
    #[error("namespace thread panicked")]
    ThreadPanicked,
    #[error(transparent)]
    Task(#[from] tokio::task::JoinError),
}

/// A UDP socket bound in panther's namespace, or in the one of process `net_of` (made by a
/// short-lived thread that joins it: `setns` changes only the calling thread, and a socket
/// keeps the namespace it was made in).
async fn quic_socket(
    addr: SocketAddr,
    net_of: Option<u32>,
) -> Result<tokio::net::UdpSocket, SocketError> {
    let any: SocketAddr = if addr.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let std_sock = match net_of {
        None => std::net::UdpSocket::bind(any)?,
        Some(pid) => {
            let ns = std::fs::File::open(format!("/proc/{pid}/ns/net"))?;
            tokio::task::spawn_blocking(move || {
                std::thread::spawn(move || -> Result<_, SocketError> {
                    use std::os::fd::AsFd;
                    nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)?;
                    Ok(std::net::UdpSocket::bind(any)?)
                })
                .join()
                .map_err(|_| SocketError::ThreadPanicked)?
            })
            .await??
        }
    };
    std_sock.set_nonblocking(true)?;
    Ok(tokio::net::UdpSocket::from_std(std_sock)?)
}

/// Whether some socket is bound to this UDP port, from the kernel's table (probing by
/// binding would race with the service's own bind).
pub fn udp_bound(addr: SocketAddr) -> bool {
    bound_in("/proc/net", "udp", addr, None)
}

/// Whether a socket listens on this TCP port in the network namespace of process `pid`.
pub fn tcp_listening_in(pid: u32, addr: SocketAddr) -> bool {
    // State 0A is TCP_LISTEN.
    bound_in(&format!("/proc/{pid}/net"), "tcp", addr, Some("0A"))
}

/// Looks for `addr`'s port in the socket tables `DIR/PROTO` (and `PROTO6`), optionally in
/// one state only.
fn bound_in(dir: &str, proto: &str, addr: SocketAddr, state: Option<&str>) -> bool {
    let v4 = format!("{dir}/{proto}");
    let v6 = format!("{dir}/{proto}6");
    let files: Vec<&str> = if addr.is_ipv4() {
        vec![&v4, &v6]
    } else {
        vec![&v6]
    };
    let want = format!(":{:04X}", addr.port());
    files.iter().any(|f| {
        std::fs::read_to_string(f).is_ok_and(|t| {
            t.lines().skip(1).any(|l| {
                let mut cols = l.split_whitespace();
                let local = cols.nth(1);
                let st = cols.nth(1);
                local.is_some_and(|local| local.ends_with(&want))
                    && state.is_none_or(|s| st == Some(s))
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_seconds_saturate() {
        assert_eq!(seconds(f64::NAN), Duration::ZERO);
        assert_eq!(seconds(-1.0), Duration::ZERO);
        assert_eq!(seconds(1e300), seconds(MAX_SECONDS));
        assert_eq!(seconds(f64::INFINITY), seconds(MAX_SECONDS));
        assert!(after(seconds(1e19)) > std::time::Instant::now());
        assert_eq!(seconds(1.5), Duration::from_millis(1500));
    }

    #[test]
    fn the_version_probe_is_a_padded_long_header_with_a_reserved_version() {
        let p = version_probe(&[1; 8], &[2; 8]);
        assert_eq!(p.len(), 1200);
        assert_eq!(p[0] & 0xc0, 0xc0);
        assert_eq!(&p[1..5], &[0x1a, 0x2a, 0x3a, 0x4a]);
        assert_eq!(p[5], 8);
        assert_eq!(&p[6..14], &[1; 8]);
        assert_eq!(p[14], 8);
        assert_eq!(&p[15..23], &[2; 8]);
    }

    #[test]
    fn only_a_version_negotiation_for_our_scid_counts() {
        let scid = [7u8; 8];
        let mut vn = vec![0x80, 0, 0, 0, 0, 8];
        vn.extend_from_slice(&scid);
        vn.push(8);
        vn.extend_from_slice(&[1; 8]);
        vn.extend_from_slice(&1u32.to_be_bytes());
        assert!(is_version_negotiation(&vn, &scid));
        assert!(!is_version_negotiation(&vn, &[8; 8]));
        let mut initial = vn.clone();
        initial[4] = 1;
        assert!(!is_version_negotiation(&initial, &scid));
        assert!(!is_version_negotiation(&vn[..5], &scid));
    }

    /// A real UDP server that answers like a QUIC server: the probe waits for it, and a
    /// silent socket on the same kind of port never satisfies it.
    #[tokio::test]
    async fn waits_for_a_version_negotiation_not_a_bound_port() {
        let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let a = silent.local_addr().unwrap();
        let r = tokio::time::timeout(Duration::from_millis(400), quic_answers(a, None)).await;
        assert!(r.is_err(), "a bound but silent port must not be ready");

        let server = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let a = server.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            let mut first = true;
            loop {
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                if first {
                    // Like a server still starting: the first probe is lost.
                    first = false;
                    continue;
                }
                assert_eq!(n, 1200);
                let dcid = &buf[6..14];
                let scid = &buf[15..23];
                let mut vn = vec![0x80, 0, 0, 0, 0, 8];
                vn.extend_from_slice(scid);
                vn.push(8);
                vn.extend_from_slice(dcid);
                vn.extend_from_slice(&1u32.to_be_bytes());
                server.send_to(&vn, from).await.unwrap();
            }
        });
        let t0 = std::time::Instant::now();
        tokio::time::timeout(Duration::from_secs(5), quic_answers(a, None))
            .await
            .expect("ready");
        assert!(
            t0.elapsed() >= Duration::from_millis(90),
            "the second probe answered"
        );
    }

    #[test]
    fn sees_a_bound_udp_port() {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let a = s.local_addr().unwrap();
        assert!(udp_bound(a));
        drop(s);
        assert!(!udp_bound(a));
    }

    #[test]
    fn sees_a_listening_tcp_port_through_a_process_namespace() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let a = l.local_addr().unwrap();
        assert!(tcp_listening_in(std::process::id(), a));
        drop(l);
        assert!(!tcp_listening_in(std::process::id(), a));
    }
}
