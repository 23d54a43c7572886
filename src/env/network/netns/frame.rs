//! What the switch needs to know about an Ethernet frame: where it goes (the destination MAC)
//! and, for the timeline, who talks to whom over what. Parsing never fails: a frame that is
//! not IP (or is truncated) is still forwarded, it just has no message to show.

use std::net::IpAddr;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};

pub type Mac = [u8; 6];

/// The destination MAC of a frame (all-ones when the frame is too short to have one, so it is
/// flooded rather than dropped silently).
pub fn dst_mac(frame: &[u8]) -> Mac {
    frame
        .get(..6)
        .and_then(|b| b.try_into().ok())
        .unwrap_or([0xff; 6])
}

/// Broadcast or multicast (the group bit of the first octet).
pub fn is_group(mac: &Mac) -> bool {
    mac[0] & 1 == 1
}

/// The transport-level view of an IP frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub l4: L4<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L4<'a> {
    Udp {
        sport: u16,
        dport: u16,
        payload: &'a [u8],
    },
    Tcp {
        sport: u16,
        dport: u16,
        flags: TcpFlags,
        payload: &'a [u8],
    },
    Icmp {
        v6: bool,
        payload: &'a [u8],
    },
    Other(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFlags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
}

impl TcpFlags {
    /// "SYN", "SYN ACK", "FIN ACK", "RST"…
    pub fn label(&self) -> String {
        let mut out = Vec::new();
        for (on, name) in [
            (self.syn, "SYN"),
            (self.fin, "FIN"),
            (self.rst, "RST"),
            (self.ack, "ACK"),
        ] {
            if on {
                out.push(name);
            }
        }
        out.join(" ")
    }
}

/// The frame's IP view, if it is IPv4 or IPv6.
pub fn parse(frame: &[u8]) -> Option<Datagram<'_>> {
    let p = SlicedPacket::from_ethernet(frame).ok()?;
    let (src, dst, proto) = match p.net.as_ref()? {
        NetSlice::Ipv4(v4) => {
            let h = v4.header();
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                v4.payload_ip_number().0,
            )
        }
        NetSlice::Ipv6(v6) => {
            let h = v6.header();
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                v6.payload().ip_number.0,
            )
        }
        NetSlice::Arp(_) => return None,
    };
    let l4 = match p.transport {
        Some(TransportSlice::Udp(u)) => L4::Udp {
            sport: u.source_port(),
            dport: u.destination_port(),
            payload: u.payload(),
        },
        Some(TransportSlice::Tcp(t)) => L4::Tcp {
            sport: t.source_port(),
            dport: t.destination_port(),
            flags: TcpFlags {
                syn: t.syn(),
                ack: t.ack(),
                fin: t.fin(),
                rst: t.rst(),
            },
            payload: t.payload(),
        },
        Some(TransportSlice::Icmpv4(i)) => L4::Icmp {
            v6: false,
            payload: i.payload(),
        },
        Some(TransportSlice::Icmpv6(i)) => L4::Icmp {
            v6: true,
            payload: i.payload(),
        },
        _ => L4::Other(proto),
    };
    Some(Datagram { src, dst, l4 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    #[test]
    fn udp_frames_parse_to_their_addresses_and_payload() {
        let b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(4000, 8080);
        let mut f = Vec::new();
        b.write(&mut f, b"hello").unwrap();
        let d = parse(&f).unwrap();
        assert_eq!(d.src.to_string(), "10.0.0.1");
        assert_eq!(d.dst.to_string(), "10.0.0.2");
        assert_eq!(
            d.l4,
            L4::Udp {
                sport: 4000,
                dport: 8080,
                payload: b"hello"
            }
        );
        assert_eq!(dst_mac(&f), [2, 0, 0, 0, 0, 2]);
        assert!(!is_group(&dst_mac(&f)));
    }

    #[test]
    fn garbage_and_short_frames_do_not_parse_or_panic() {
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&[0xff; 9]), None);
        assert!(is_group(&dst_mac(&[1, 2])));
        for n in 0..80 {
            let f: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let _ = parse(&f);
        }
    }

    #[test]
    fn tcp_flags_read_as_words() {
        let f = TcpFlags {
            syn: true,
            ack: true,
            ..Default::default()
        };
        assert_eq!(f.label(), "SYN ACK");
    }
}
