//! qlog files (JSON 0.3, JSON-SEQ, picoquic's draft-00, through `quic::qlog`) as message
//! events: each endpoint's `packet_sent` is an arrow from it to its peer. With both
//! endpoints' traces the packets are correlated, and one the peer never received is lost;
//! with one trace only, its `packet_received` events are the peer's arrows.

use std::path::Path;

use serde_json::json;

use super::ImportError;
use crate::events::{Event, Kind, Message};
use crate::quic::qlog::{self, Direction, QlogTrace};

pub const SOURCE: &str = "qlog";

/// Reads qlog files; a file that is not qlog is the user's error.
pub fn read(paths: &[&Path]) -> Result<Vec<QlogTrace>, ImportError> {
    let mut out = Vec::new();
    for p in paths {
        let traces = qlog::read_traces(p).map_err(|e| ImportError::Qlog(e.to_string()))?;
        out.extend(traces);
    }
    Ok(out)
}

fn role(t: &QlogTrace, i: usize) -> String {
    match t.vantage.as_deref() {
        Some(v @ ("client" | "server")) => v.to_string(),
        _ => format!("endpoint{i}"),
    }
}

fn peer(role: &str) -> String {
    match role {
        "client" => "server".into(),
        "server" => "client".into(),
        r => format!("peer of {r}"),
    }
}

/// The panther spelling of a qlog packet type ("initial" → "Initial", "1RTT" → "1-RTT").
fn packet_type(t: &str) -> String {
    match t.to_ascii_lowercase().as_str() {
        "initial" => "Initial".into(),
        "handshake" => "Handshake".into(),
        "0rtt" => "0-RTT".into(),
        "1rtt" => "1-RTT".into(),
        "retry" => "Retry".into(),
        "version_negotiation" => "VersionNegotiation".into(),
        other => other.to_string(),
    }
}

/// Message events for every packet of the traces, time-ordered, `seq` unset.
pub fn events(traces: &[QlogTrace], test: &str) -> Vec<Event> {
    let client = traces
        .iter()
        .position(|t| t.vantage.as_deref() == Some("client"));
    let server = traces
        .iter()
        .position(|t| t.vantage.as_deref() == Some("server"));
    let pair = client.zip(server);
    let corr = pair.map(|(c, s)| qlog::correlate(&traces[c], &traces[s]));
    let lost_of = |i: usize| -> Vec<usize> {
        match (&corr, pair) {
            (Some(k), Some((c, _))) if i == c => k.lost().0,
            (Some(k), Some((_, s))) if i == s => k.lost().1,
            _ => Vec::new(),
        }
    };
    let epoch = traces
        .iter()
        .flat_map(|t| t.events.first())
        .map(|e| e.time_ms)
        .fold(f64::INFINITY, f64::min);
    let base = |t: &QlogTrace| {
        if epoch > 1e12 {
            epoch
        } else {
            t.events.first().map_or(0.0, |e| e.time_ms)
        }
    };
    let mut out = Vec::new();
    for (i, t) in traces.iter().enumerate() {
        let me = role(t, i);
        let lost = lost_of(i);
        let paired = pair.is_some_and(|(c, s)| i == c || i == s);
        let t0 = base(t);
        for (ix, e) in t.events.iter().enumerate() {
            let Some(p) = &e.packet else { continue };
            if paired && p.direction == Direction::Received {
                continue;
            }
            let (from, to) = match p.direction {
                Direction::Sent => (me.clone(), peer(&me)),
                Direction::Received => (peer(&me), me.clone()),
            };
            let frames: Vec<String> = p.frames.iter().map(|f| f.to_ascii_uppercase()).collect();
            let mut summary = packet_type(&p.packet_type);
            if let Some(n) = p.number {
                summary.push_str(&format!(" {n}"));
            }
            if !frames.is_empty() {
                let mut kinds: Vec<&str> = Vec::new();
                frames.iter().for_each(|f| {
                    if !kinds.contains(&f.as_str()) {
                        kinds.push(f)
                    }
                });
                summary.push_str(&format!(": {}", kinds.join(", ")));
            }
            let mut ev = Event::new(
                SOURCE,
                Kind::Message,
                if p.direction == Direction::Sent {
                    "sent"
                } else {
                    "received"
                },
            );
            ev.t = ((e.time_ms - t0).max(0.0) * 1000.0) as u64;
            ev.test = test.to_string();
            ev.message = Some(Message {
                from,
                to,
                protocol: "quic".into(),
                summary,
                bytes: p.length.unwrap_or(0).min(u64::from(u32::MAX)) as u32,
                id: None,
                lost: lost.contains(&ix),
                hex: None,
            });
            ev.data = json!({
                "packet_type": packet_type(&p.packet_type),
                "packet_number": p.number,
                "dcid": p.dcid,
                "scid": p.scid,
                "frames": frames,
                "frame_types": frames,
                "qlog_event": e.name,
                "vantage": me,
            });
            out.push(ev);
        }
    }
    out.sort_by_key(|e| e.t);
    out
}
