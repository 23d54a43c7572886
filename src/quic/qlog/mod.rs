//! qlog files as traces of packets: JSON qlog 0.3 (`.qlog`, aioquic), JSON-SEQ (`.sqlog`,
//! RFC 7464 records: ngtcp2, quinn) and picoquic's draft-00 JSON (`event_fields` plus an array
//! per event). Reading is tolerant of what a killed writer leaves: a torn last JSON-SEQ
//! record, or a classic JSON file cut mid-way, still gives every complete event, with
//! `truncated` set.
//!
//! [`read_file`] is the entry point for importers; [`tail`] follows a live qlog folder and
//! [`correlate`] matches packets between the two endpoints' traces.

pub mod correlate;
mod dialect;
pub mod tail;

use std::path::{Path, PathBuf};

pub use correlate::{Correlation, correlate};

/// The largest qlog file read (a long transfer's qlog is tens of MB).
pub const MAX_FILE: u64 = 1 << 30;

/// Which of the three formats a file was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// `{"qlog_version":"0.3","traces":[{"events":[{"time","name","data"}]}]}`.
    Json,
    /// RFC 7464 records (0x1E before each JSON text), a header record first.
    JsonSeq,
    /// picoquic's `"qlog_version":"draft-00"`: `event_fields` name the columns of each
    /// event array.
    Draft00,
}

/// One qlog trace: one endpoint's view of one connection.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QlogTrace {
    pub dialect: Dialect,
    /// `client` or `server` (the vantage point's type), when the file says.
    pub vantage: Option<String>,
    /// The implementation's name for itself (`vantage_point.name`).
    pub implementation: Option<String>,
    /// The connection's group id or ODCID, when the file names it.
    pub group_id: Option<String>,
    pub events: Vec<QlogEvent>,
    /// The file ended mid-record: what is here is every complete event before the cut.
    pub truncated: bool,
}

/// One qlog event. `time_ms` is the file's time in milliseconds (relative or epoch, as
/// the file has it; draft-00 microseconds are converted).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QlogEvent {
    pub time_ms: f64,
    /// `category:event`, e.g. `transport:packet_sent` (draft-00's category and event
    /// joined the same way).
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packet: Option<Packet>,
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Sent,
    Received,
}

/// A `packet_sent` or `packet_received`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Packet {
    pub direction: Direction,
    /// `initial`, `handshake`, `0RTT`, `1RTT`, `retry`, `version_negotiation`, … as written.
    pub packet_type: String,
    pub number: Option<u64>,
    pub dcid: Option<String>,
    pub scid: Option<String>,
    /// Frame types in order (`ack`, `crypto`, `stream`, …).
    pub frames: Vec<String>,
    /// Bytes on the wire, when the file says.
    pub length: Option<u64>,
}

impl Packet {
    /// "initial #0 [ack, crypto]": what the sequence view labels an arrow with.
    pub fn summary(&self) -> String {
        let n = self.number.map(|n| format!(" #{n}")).unwrap_or_default();
        format!("{}{n} [{}]", self.packet_type, self.frames.join(", "))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QlogError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is larger than {max} bytes")]
    TooLarge { path: PathBuf, max: u64 },
    #[error("{path}: not a qlog file: {reason}")]
    NotQlog { path: PathBuf, reason: String },
}

impl QlogTrace {
    /// The packets, in file order.
    pub fn packets(&self) -> impl Iterator<Item = (&QlogEvent, &Packet)> {
        self.events
            .iter()
            .filter_map(|e| e.packet.as_ref().map(|p| (e, p)))
    }
}

/// Reads one qlog file; a file with several traces gives the first (see [`read_traces`]).
pub fn read_file(path: &Path) -> Result<QlogTrace, QlogError> {
    let mut all = read_traces(path)?;
    Ok(all.remove(0))
}

/// Every trace of one qlog file (never empty).
pub fn read_traces(path: &Path) -> Result<Vec<QlogTrace>, QlogError> {
    let io = |source| QlogError::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_FILE {
        return Err(QlogError::TooLarge {
            path: path.to_path_buf(),
            max: MAX_FILE,
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    parse(&bytes).map_err(|reason| QlogError::NotQlog {
        path: path.to_path_buf(),
        reason,
    })
}

/// Parses qlog bytes of any of the three dialects; the error says why they are not qlog.
pub fn parse(bytes: &[u8]) -> Result<Vec<QlogTrace>, String> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .ok_or("the file is empty")?;
    match bytes[start] {
        0x1e => dialect::json_seq(&bytes[start..]),
        b'{' => dialect::json(&bytes[start..]),
        b => Err(format!(
            "it starts with {:?}, not a JSON object or an RFC 7464 record separator",
            b as char
        )),
    }
}

/// Whether a file name is one a qlog writer makes (`.qlog`, `.sqlog`).
pub fn is_qlog_name(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("qlog" | "sqlog")
    )
}
