//! Ports are allocated, never guessed: the kernel picks a free one (bind to port 0), and a
//! process-wide set makes sure two services of concurrent tests never get the same one.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};
use std::sync::Mutex;

use crate::plugin::manifest::Transport;

static TAKEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// Why no port could be allocated.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The kernel kept handing out ports this process had already given away.
    #[error("no free port after 64 attempts")]
    Exhausted,
}

/// A free port for `transport` on `host`, free for both TCP and UDP when possible (so a
/// service may use either), and never handed out twice by this process.
pub fn allocate(host: IpAddr, transport: Transport) -> Result<u16, PortError> {
    for _ in 0..64 {
        let port = match transport {
            Transport::Tcp => TcpListener::bind(SocketAddr::new(host, 0))?
                .local_addr()?
                .port(),
            Transport::Udp => UdpSocket::bind(SocketAddr::new(host, 0))?
                .local_addr()?
                .port(),
        };
        let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
        if taken.get_or_insert_with(HashSet::new).insert(port) {
            return Ok(port);
        }
    }
    Err(PortError::Exhausted)
}

/// Gives a port back once its service is gone.
pub fn release(port: u16) {
    if let Some(set) = TAKEN.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        set.remove(&port);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_the_same_port_twice() {
        let host: IpAddr = "127.0.0.1".parse().unwrap();
        let mut seen = HashSet::new();
        for i in 0..200 {
            let t = if i % 2 == 0 {
                Transport::Tcp
            } else {
                Transport::Udp
            };
            assert!(seen.insert(allocate(host, t).unwrap()));
        }
    }
}
