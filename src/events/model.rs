//! One event model for everything that happens in a run: lifecycle steps, messages between
//! services, log lines, metrics, markers and verdicts. One line of `events.jsonl` each.

use serde::{Deserialize, Serialize};

pub use crate::plugin::manifest::{EventKind as Kind, Level};

/// Who produced an event: a service (by its key in the experiment), the network or execution
/// environment, the link relay, or the orchestrator itself.
pub type Source = String;

pub const ORCHESTRATOR: &str = "orchestrator";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the run, from 0, without gaps.
    pub seq: u64,
    /// Microseconds since the run started.
    pub t: u64,
    /// The test (and iteration) it belongs to; empty for run-wide events.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub test: String,
    pub source: Source,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// One human line: the log text, lifecycle step, verdict reason.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Structured detail (metric values, verdict evidence, lifecycle exit status).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub data: serde_json::Value,
}

/// A protocol message seen between two services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub from: String,
    pub to: String,
    pub protocol: String,
    /// One line decoded by the protocol ("PING seq=3 len=8", "GET / HTTP/1.1").
    pub summary: String,
    /// Size on the wire, in bytes.
    pub bytes: u32,
    /// Correlates the send and the receive of one message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// Sent but never delivered (dropped by the link, or unmatched).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lost: bool,
    /// The first bytes of the payload, hex, for the detail pane.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hex: Option<String>,
}

impl Event {
    pub fn new(source: impl Into<String>, kind: Kind, text: impl Into<String>) -> Self {
        Event {
            seq: 0,
            t: 0,
            test: String::new(),
            source: source.into(),
            kind,
            level: None,
            message: None,
            text: text.into(),
            data: serde_json::Value::Null,
        }
    }
}
