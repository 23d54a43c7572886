//! `panther import`: traces made elsewhere become a results folder that `panther replay` and
//! the workbench open. QUIC captures (pcap, pcapng) are decrypted natively — Initial packets
//! with keys from the client's DCID, Handshake and 1-RTT with NSS key logs — into one message
//! event per QUIC packet, between endpoints named from the trace.
//!
//! Nothing is written half-way: the folder is built under a hidden temporary name beside its
//! final place and renamed when complete; any error removes it.

pub mod detect;
pub mod events;
pub mod qlog;
pub mod write;

use std::path::{Path, PathBuf};

use crate::quic::keylog::KeyLog;
use crate::quic::trace::capture::{self, CaptureError, CaptureStats};
use crate::quic::trace::{DecodedPacket, Decoder, PacketStatus};
use detect::Input;

/// Why an import was refused. Every variant is the user's input (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("{0}: {1}")]
    Unknown(String, String),
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error("{0}")]
    Qlog(String),
    #[error("{0}: no QUIC packets in this qlog file (no packet_sent or packet_received events)")]
    QlogEmpty(String),
    #[error(
        "nothing to import: a key log alone has nothing to decrypt; give a pcap/pcapng capture, qlog files or a quic-interop-runner log folder"
    )]
    NoCapture,
    #[error(
        "{path}: no QUIC packets among its {udp} UDP datagram(s) ({frames} frame(s)); short-header packets are recognised only after their connection's handshake"
    )]
    NoQuic { path: String, udp: u64, frames: u64 },
    #[error(
        "undecryptable capture: none of its {packets} QUIC packet(s) could be decrypted ({why}); a capture that starts after the handshake needs the peers' key log (--keylog FILE)"
    )]
    Undecryptable { packets: usize, why: String },
    #[error(
        "the key log ({files}) matches none of the {conns} QUIC connection(s) in the capture (client randoms {randoms}); it was written for other connections"
    )]
    KeyLogMismatch {
        files: String,
        conns: usize,
        randoms: String,
    },
    #[error("cannot write the results folder under {0}: {1}")]
    Write(String, std::io::Error),
    #[error("cannot write the results folder under {0}: {1}")]
    Events(String, crate::events::store::StoreError),
}

/// What `panther import` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub inputs: Vec<PathBuf>,
    pub keylogs: Vec<PathBuf>,
    /// The root the results folder goes under (`outputs` by default).
    pub output: PathBuf,
    pub name: Option<String>,
}

/// What an import produced.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub dir: PathBuf,
    pub captures: Vec<String>,
    pub keylogs: Vec<String>,
    pub packets: usize,
    pub decrypted: usize,
    pub no_keys: usize,
    pub failed: usize,
    pub connections: usize,
    /// UDP datagrams that were not QUIC.
    pub other_datagrams: u64,
    pub frames: u64,
    pub qlogs: Vec<String>,
    /// Packets read from qlog files.
    pub qlog_packets: usize,
    /// Each QUIC connection of the captures: endpoints, version, SNI, ALPN, cipher suite,
    /// whether the key log had it.
    pub connection_list: Vec<serde_json::Value>,
    pub warnings: Vec<String>,
}

/// The decoded trace before it is written.
pub struct Decoded {
    pub packets: Vec<DecodedPacket>,
    /// Message events from qlog files.
    pub qlog: Vec<crate::events::Event>,
    pub decoder: Decoder,
    pub report: Report,
    pub roles_named: bool,
}

/// Imports and writes the results folder; returns what it holds.
pub fn import(opts: &Options) -> Result<Report, ImportError> {
    let decoded = decode(opts)?;
    let name = opts
        .name
        .clone()
        .unwrap_or_else(|| default_name(&decoded.report));
    write::results_folder(&opts.output, &name, decoded)
}

fn default_name(r: &Report) -> String {
    let first = r.captures.first().or(r.qlogs.first()).map(Path::new);
    let stem = first
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned());
    format!("import_{}", stem.unwrap_or_else(|| "trace".into()))
}

/// Reads and decodes every input; checks that the result is worth writing.
pub fn decode(opts: &Options) -> Result<Decoded, ImportError> {
    let inputs = detect::expand(&opts.inputs, &opts.keylogs)?;
    let test = opts.name.clone().unwrap_or_else(|| "import".into());
    let mut report = Report::default();
    let mut keylog = KeyLog::default();
    for i in &inputs.items {
        if let Input::KeyLog(k) = i {
            let text = crate::plugin::loader::read_text_limited(k, 256 << 20)
                .map_err(|e| ImportError::Io(k.display().to_string(), e))?;
            keylog.add(&text);
            report.keylogs.push(k.display().to_string());
        }
    }
    let pick = |want: fn(&Input) -> Option<&PathBuf>| {
        inputs.items.iter().filter_map(want).collect::<Vec<_>>()
    };
    let captures = pick(|i| {
        if let Input::Capture(c) = i {
            Some(c)
        } else {
            None
        }
    });
    let qlogs = pick(|i| {
        if let Input::Qlog(q) = i {
            Some(q)
        } else {
            None
        }
    });
    if captures.is_empty() && qlogs.is_empty() {
        return Err(ImportError::NoCapture);
    }
    let qlog_events = read_qlogs(&qlogs, &test, &mut report)?;
    let mut decoder = Decoder::new(keylog);
    let mut packets = Vec::new();
    for c in &captures {
        let stats = read_capture(c, &mut decoder, &mut packets, &mut report)?;
        report.captures.push(c.display().to_string());
        report.frames += stats.frames;
    }
    // One capture keeps its own order (frame order, as tshark lists it: a capture on several
    // CPUs can hold timestamps a few µs out of order); several are merged by time.
    if captures.len() > 1 {
        packets.sort_by_key(|p| p.time);
    }
    tally(&packets, &decoder, &mut report);
    if !captures.is_empty() {
        check(&packets, &decoder, &report)?;
    }
    Ok(Decoded {
        packets,
        qlog: qlog_events,
        decoder,
        report,
        roles_named: inputs.roles_named,
    })
}

fn read_qlogs(
    paths: &[&PathBuf],
    test: &str,
    report: &mut Report,
) -> Result<Vec<crate::events::Event>, ImportError> {
    let mut all = Vec::new();
    for p in paths {
        let traces = qlog::read(&[p.as_path()])?;
        if traces.iter().all(|t| t.packets().next().is_none()) {
            return Err(ImportError::QlogEmpty(p.display().to_string()));
        }
        if traces.iter().any(|t| t.truncated) {
            report.warnings.push(format!(
                "{}: cut short (a torn last record); every complete event was read",
                p.display()
            ));
        }
        report.qlogs.push(p.display().to_string());
        all.extend(traces);
    }
    let events = qlog::events(&all, test);
    report.qlog_packets = events.len();
    Ok(events)
}

fn read_capture(
    path: &Path,
    decoder: &mut Decoder,
    packets: &mut Vec<DecodedPacket>,
    report: &mut Report,
) -> Result<CaptureStats, ImportError> {
    let before = packets.len();
    let stats = capture::for_each_datagram(path, |d| {
        let got = decoder.feed(d.time, d.src, d.dst, d.payload);
        let quic = got.first().is_some_and(recognised);
        if quic {
            packets.extend(got);
        } else {
            report.other_datagrams += 1;
        }
    })?;
    if packets.len() == before {
        return Err(ImportError::NoQuic {
            path: path.display().to_string(),
            udp: stats.udp,
            frames: stats.frames,
        });
    }
    Ok(stats)
}

/// Whether a packet is QUIC beyond doubt: part of a tracked connection, or a long header of
/// a known version (or Version Negotiation). A lone short header could be any UDP payload.
fn recognised(p: &DecodedPacket) -> bool {
    use crate::quic::wire::header::is_known_version;
    p.conn.is_some()
        || p.ty == crate::quic::wire::PacketType::VersionNegotiation
        || (p.ty.is_long() && is_known_version(p.version))
}

fn tally(packets: &[DecodedPacket], decoder: &Decoder, r: &mut Report) {
    r.packets = packets.len();
    r.connections = decoder.connections().len();
    r.connection_list = decoder
        .connections()
        .iter()
        .map(|c| {
            let suite = c
                .server_hello
                .as_ref()
                .and_then(|h| h.quic_suite())
                .map(|s| s.name());
            serde_json::json!({
                "client": c.client.to_string(),
                "server": c.server.to_string(),
                "version": format!("0x{:08x}", c.version),
                "odcid": crate::quic::wire::frame::hex(&c.odcid),
                "sni": c.sni(),
                "alpn": c.alpn(),
                "cipher_suite": suite,
                "in_keylog": c.in_keylog,
            })
        })
        .collect();
    for p in packets {
        match p.status {
            PacketStatus::Decrypted | PacketStatus::Clear => r.decrypted += 1,
            PacketStatus::NoKeys => r.no_keys += 1,
            PacketStatus::Failed(_) => r.failed += 1,
        }
    }
    if r.no_keys > 0 {
        r.warnings.push(if decoder.keylog().is_empty() {
            format!("{} packet(s) undecryptable: no keys (no key log; give --keylog FILE for Handshake and 1-RTT)", r.no_keys)
        } else {
            format!("{} packet(s) undecryptable: no keys (the key log lacks their connection or secret)", r.no_keys)
        });
    }
    if r.failed > 0 {
        r.warnings.push(format!(
            "{} packet(s) did not decrypt or decode (see their status in the detail pane)",
            r.failed
        ));
    }
}

fn check(packets: &[DecodedPacket], decoder: &Decoder, r: &Report) -> Result<(), ImportError> {
    if r.decrypted == 0 {
        let why = if packets
            .iter()
            .any(|p| p.ty == crate::quic::wire::PacketType::Initial)
        {
            "its Initial packets did not authenticate".to_string()
        } else if decoder.keylog().is_empty() {
            "no Initial packets and no key log".to_string()
        } else {
            "no Initial packets, and the key log does not match".to_string()
        };
        return Err(ImportError::Undecryptable {
            packets: packets.len(),
            why,
        });
    }
    let conns = decoder.connections();
    if !decoder.keylog().is_empty() && !conns.is_empty() && !conns.iter().any(|c| c.in_keylog) {
        let randoms: Vec<String> = conns
            .iter()
            .filter_map(|c| c.client_hello.as_ref())
            .take(3)
            .map(|h| crate::quic::wire::frame::hex(&h.random[..8]) + "…")
            .collect();
        return Err(ImportError::KeyLogMismatch {
            files: r.keylogs.join(", "),
            conns: conns.len(),
            randoms: if randoms.is_empty() {
                "none seen".into()
            } else {
                randoms.join(", ")
            },
        });
    }
    Ok(())
}
