//! The line protocol of built-in services: each stdout line that is a JSON object is a
//! `Record`; the orchestrator stamps it with time, test, source and sequence number. Other
//! lines are plain log lines, so a human running `panther builtin …` can still read it.

use serde::{Deserialize, Serialize};

use super::model::{Event, Kind, Level, Message};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub data: serde_json::Value,
}

impl Record {
    pub fn new(kind: Kind, text: impl Into<String>) -> Self {
        Record {
            kind,
            level: None,
            text: text.into(),
            message: None,
            data: serde_json::Value::Null,
        }
    }

    pub fn level(mut self, l: Level) -> Self {
        self.level = Some(l);
        self
    }

    pub fn data(mut self, d: serde_json::Value) -> Self {
        self.data = d;
        self
    }

    /// A line starting with `{` that parses as a record.
    pub fn parse(line: &str) -> Option<Record> {
        let l = line.trim_start();
        if !l.starts_with('{') {
            return None;
        }
        serde_json::from_str(l).ok()
    }

    /// One line on stdout, flushed (the orchestrator reads it live).
    pub fn print(&self) {
        use std::io::Write;
        let line = serde_json::to_string(self).expect("records serialize");
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    pub fn into_event(self, source: &str) -> Event {
        Event {
            seq: 0,
            t: 0,
            test: String::new(),
            source: source.to_string(),
            kind: self.kind,
            level: self.level,
            message: self.message,
            text: self.text,
            data: self.data,
        }
    }
}

/// The `data` of a verdict record: one property checked by a tester.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// A property of the protocol plugin (`pong_matches_ping_seq`, `host_required`).
    pub property: String,
    pub verdict: crate::verdict::Verdict,
    /// Where the rule comes from ("RFC 9112 §3.2").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}
