//! Reading UDP datagrams out of pcap and pcapng files, without libpcap: the link layers that
//! captures of QUIC have in practice (Ethernet, raw IP, Linux cooked SLL and SLL2, BSD
//! loopback/null), IPv4 and IPv6 through etherparse. IP fragments and non-UDP frames are
//! counted and skipped.

use std::io::{BufReader, Read};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_file::DataLink;
use pcap_file::pcapng::Block;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;

/// Why a capture could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a pcap or pcapng capture (its first bytes are {magic})")]
    NotCapture { path: String, magic: String },
    #[error("{path}: damaged capture after {frames} frame(s): {reason}")]
    Damaged {
        path: String,
        frames: u64,
        reason: String,
    },
    #[error(
        "{path}: link type {link:?} is not supported (Ethernet, raw IP, Linux SLL/SLL2 and loopback are)"
    )]
    LinkType { path: String, link: DataLink },
}

/// One UDP datagram as captured.
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    /// Since the Unix epoch.
    pub time: Duration,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub payload: &'a [u8],
}

/// What reading skipped, for the import's report.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CaptureStats {
    pub frames: u64,
    pub udp: u64,
    pub not_udp: u64,
    pub fragments: u64,
}

const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
];
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// Whether the file starts like a pcap or pcapng capture.
pub fn looks_like_capture(head: &[u8]) -> bool {
    head.len() >= 4 && (PCAP_MAGICS.iter().any(|m| head[..4] == *m) || head[..4] == PCAPNG_MAGIC)
}

/// Calls `each` for every UDP datagram of the capture at `path`, in file order.
pub fn for_each_datagram(
    path: &Path,
    mut each: impl FnMut(Datagram<'_>),
) -> Result<CaptureStats, CaptureError> {
    let name = path.display().to_string();
    let io = |source| CaptureError::Io {
        path: name.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    if !file.metadata().map_err(io)?.is_file() {
        return Err(io(std::io::Error::other("not a regular file")));
    }
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut head = [0u8; 4];
    r.read_exact(&mut head)
        .map_err(|_| CaptureError::NotCapture {
            path: name.clone(),
            magic: "(fewer than 4)".into(),
        })?;
    let chained = std::io::Cursor::new(head).chain(r);
    let mut stats = CaptureStats::default();
    if head == PCAPNG_MAGIC {
        read_pcapng(&name, chained, &mut stats, &mut each)?;
    } else if PCAP_MAGICS.contains(&head) {
        read_pcap(&name, chained, &mut stats, &mut each)?;
    } else {
        let magic = head
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ");
        return Err(CaptureError::NotCapture { path: name, magic });
    }
    Ok(stats)
}

fn damaged(path: &str, frames: u64, e: impl std::fmt::Display) -> CaptureError {
    CaptureError::Damaged {
        path: path.to_string(),
        frames,
        reason: e.to_string(),
    }
}

fn read_pcap(
    path: &str,
    r: impl Read,
    stats: &mut CaptureStats,
    each: &mut impl FnMut(Datagram<'_>),
) -> Result<(), CaptureError> {
    let mut reader = pcap_file::pcap::PcapReader::new(r).map_err(|e| damaged(path, 0, e))?;
    let link = reader.header().datalink;
    check_link(path, link)?;
    while let Some(p) = reader.next_packet() {
        let p = p.map_err(|e| damaged(path, stats.frames, e))?;
        frame(link, p.timestamp, &p.data, stats, each);
    }
    Ok(())
}

fn read_pcapng(
    path: &str,
    r: impl Read,
    stats: &mut CaptureStats,
    each: &mut impl FnMut(Datagram<'_>),
) -> Result<(), CaptureError> {
    let mut reader = pcap_file::pcapng::PcapNgReader::new(r).map_err(|e| damaged(path, 0, e))?;
    // Per interface: link type and timestamp units per second.
    let mut ifaces: Vec<(DataLink, u64)> = Vec::new();
    while let Some(b) = reader.next_block() {
        match b.map_err(|e| damaged(path, stats.frames, e))? {
            Block::SectionHeader(_) => ifaces.clear(),
            Block::InterfaceDescription(idb) => {
                check_link(path, idb.linktype)?;
                ifaces.push((idb.linktype, units_per_second(&idb.options)));
            }
            Block::EnhancedPacket(epb) => {
                let Some(&(link, units)) = ifaces.get(epb.interface_id as usize) else {
                    return Err(damaged(
                        path,
                        stats.frames,
                        format!("packet on undeclared interface {}", epb.interface_id),
                    ));
                };
                // pcap-file reads the raw count as nanoseconds; rescale to the interface's units.
                let raw = epb.timestamp.as_nanos();
                let time = Duration::from_nanos((raw * 1_000_000_000 / u128::from(units)) as u64);
                frame(link, time, &epb.data, stats, each);
            }
            Block::SimplePacket(spb) => {
                if let Some(&(link, _)) = ifaces.first() {
                    frame(link, Duration::ZERO, &spb.data, stats, each);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn units_per_second(opts: &[InterfaceDescriptionOption<'_>]) -> u64 {
    for o in opts {
        if let InterfaceDescriptionOption::IfTsResol(r) = o {
            let n = u32::from(r & 0x7f).min(19);
            return if r & 0x80 != 0 {
                1u64 << n.min(63)
            } else {
                10u64.pow(n)
            };
        }
    }
    1_000_000
}

fn check_link(path: &str, link: DataLink) -> Result<(), CaptureError> {
    match link {
        DataLink::ETHERNET
        | DataLink::RAW
        | DataLink::IPV4
        | DataLink::IPV6
        | DataLink::LINUX_SLL
        | DataLink::LINUX_SLL2
        | DataLink::NULL
        | DataLink::LOOP => Ok(()),
        link => Err(CaptureError::LinkType {
            path: path.to_string(),
            link,
        }),
    }
}

/// Strips the link layer down to IP; `None` for frames that do not carry IP.
fn ip_of(link: DataLink, data: &[u8]) -> Option<SlicedPacket<'_>> {
    match link {
        DataLink::ETHERNET => SlicedPacket::from_ethernet(data).ok(),
        // Cooked headers, read by hand: etherparse refuses some ARPHRD types (loopback's 772
        // on `-i any`). SLL: 16 bytes, protocol at 14; SLL2: 20 bytes, protocol at 0.
        DataLink::LINUX_SLL => cooked(data, 14, 16),
        DataLink::LINUX_SLL2 => cooked(data, 0, 20),
        DataLink::NULL | DataLink::LOOP => {
            data.get(4..).and_then(|ip| SlicedPacket::from_ip(ip).ok())
        }
        _ => SlicedPacket::from_ip(data).ok(),
    }
}

/// IP after a Linux cooked header whose EtherType is at `proto_at` and which is `len` long.
fn cooked(data: &[u8], proto_at: usize, len: usize) -> Option<SlicedPacket<'_>> {
    let proto = u16::from_be_bytes([*data.get(proto_at)?, *data.get(proto_at + 1)?]);
    if proto != 0x0800 && proto != 0x86dd {
        return None;
    }
    SlicedPacket::from_ip(data.get(len..)?).ok()
}

fn frame(
    link: DataLink,
    time: Duration,
    data: &[u8],
    stats: &mut CaptureStats,
    each: &mut impl FnMut(Datagram<'_>),
) {
    stats.frames += 1;
    let Some(p) = ip_of(link, data) else {
        stats.not_udp += 1;
        return;
    };
    let (src, dst, fragmented) = match &p.net {
        Some(NetSlice::Ipv4(v4)) => (
            IpAddr::V4(v4.header().source_addr()),
            IpAddr::V4(v4.header().destination_addr()),
            v4.payload().fragmented,
        ),
        Some(NetSlice::Ipv6(v6)) => (
            IpAddr::V6(v6.header().source_addr()),
            IpAddr::V6(v6.header().destination_addr()),
            v6.payload().fragmented,
        ),
        _ => {
            stats.not_udp += 1;
            return;
        }
    };
    if fragmented {
        stats.fragments += 1;
        return;
    }
    let Some(TransportSlice::Udp(udp)) = &p.transport else {
        stats.not_udp += 1;
        return;
    };
    stats.udp += 1;
    each(Datagram {
        time,
        src: SocketAddr::new(src, udp.source_port()),
        dst: SocketAddr::new(dst, udp.destination_port()),
        payload: udp.payload(),
    });
}
