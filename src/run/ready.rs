//! Readiness probes from the manifest: TCP accepts, UDP port bound, a log line, a file, a
//! fixed delay. All given conditions must hold before dependants start.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::watch;

#[derive(Debug, Clone, Default)]
pub struct Probe {
    pub tcp: Option<SocketAddr>,
    pub udp: Option<SocketAddr>,
    pub log: Option<regex::Regex>,
    pub file: Option<PathBuf>,
    pub delay: Option<Duration>,
}

/// Waits until the probe holds. `log_seen` flips to true when an output line matched the
/// probe's regex (the line readers do the matching).
pub async fn wait(p: &Probe, mut log_seen: watch::Receiver<bool>) {
    if let Some(d) = p.delay {
        tokio::time::sleep(d).await;
    }
    loop {
        let tcp_ok = match p.tcp {
            Some(a) => tokio::net::TcpStream::connect(a).await.is_ok(),
            None => true,
        };
        let udp_ok = p.udp.is_none_or(udp_bound);
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
    let files: &[&str] = if addr.is_ipv4() {
        &["/proc/net/udp", "/proc/net/udp6"]
    } else {
        &["/proc/net/udp6"]
    };
    let want = format!(":{:04X}", addr.port());
    files.iter().any(|f| {
        std::fs::read_to_string(f).is_ok_and(|t| {
            t.lines().skip(1).any(|l| {
                l.split_whitespace()
                    .nth(1)
                    .is_some_and(|local| local.ends_with(&want))
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_a_bound_udp_port() {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let a = s.local_addr().unwrap();
        assert!(udp_bound(a));
        drop(s);
        assert!(!udp_bound(a));
    }
}
