//! Readiness probes from the manifest: TCP accepts, UDP port bound, a log line, a file, a
//! fixed delay. All given conditions must hold before dependants start.

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
pub async fn wait(p: &Probe, mut log_seen: watch::Receiver<bool>) {
    if let Some(d) = p.delay {
        tokio::time::sleep(d).await;
    }
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
