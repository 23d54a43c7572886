//! Following a service's `{{ qlog_dir }}` while it runs: files that appear are read as they
//! grow, and each new `packet_sent` / `packet_received` becomes a message event on the
//! run's timeline, from the service (source) to its peer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::watch;

use crate::events::{Event, EventTx, Kind, Message};

use super::{Direction, QlogEvent};

/// How often the folder is looked at.
pub const POLL: Duration = Duration::from_millis(200);

/// What a tailer says about the files it followed, when it stops.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tailed {
    pub files: usize,
    pub events: usize,
    pub packets: usize,
}

/// Follows `dir` until `stop` turns true, then reads what the service wrote last (a qlog
/// written at exit) and returns. `peer` names the other endpoint of the arrows.
pub async fn follow(
    dir: PathBuf,
    service: String,
    peer: Option<String>,
    tx: EventTx,
    mut stop: watch::Receiver<bool>,
) -> Tailed {
    let mut seen: HashMap<PathBuf, usize> = HashMap::new();
    let mut sizes: HashMap<PathBuf, u64> = HashMap::new();
    let mut out = Tailed::default();
    loop {
        let done = *stop.borrow();
        scan(
            &dir,
            &service,
            peer.as_deref(),
            &tx,
            &mut seen,
            &mut sizes,
            &mut out,
        );
        if done {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => {}
        }
    }
    out.files = seen.len();
    out
}

/// One look: every qlog file whose size changed is read again, and its events past those
/// already emitted are emitted (a torn record at the end is read next time, whole).
fn scan(
    dir: &Path,
    service: &str,
    peer: Option<&str>,
    tx: &EventTx,
    seen: &mut HashMap<PathBuf, usize>,
    sizes: &mut HashMap<PathBuf, u64>,
    out: &mut Tailed,
) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| super::is_qlog_name(p))
        .collect();
    files.sort();
    for f in files {
        let Ok(len) = std::fs::metadata(&f).map(|m| m.len()) else {
            continue;
        };
        if sizes.get(&f) == Some(&len) {
            continue;
        }
        sizes.insert(f.clone(), len);
        let Ok(traces) = super::read_traces(&f) else {
            seen.entry(f).or_insert(0);
            continue;
        };
        let done = seen.entry(f.clone()).or_insert(0);
        let events: Vec<&QlogEvent> = traces.iter().flat_map(|t| &t.events).collect();
        // A torn last JSON-SEQ record is not counted: it is read whole next time.
        for e in events.iter().skip(*done) {
            out.events += 1;
            if let Some(ev) = to_event(e, service, peer, &f) {
                out.packets += 1;
                tx.emit(ev);
            }
        }
        *done = events.len().max(*done);
    }
}

/// A packet event as a timeline message (other qlog events are left in the file).
pub fn to_event(e: &QlogEvent, service: &str, peer: Option<&str>, file: &Path) -> Option<Event> {
    let p = e.packet.as_ref()?;
    let peer = peer.unwrap_or("peer").to_string();
    let (from, to, verb) = match p.direction {
        Direction::Sent => (service.to_string(), peer, "packet_sent"),
        Direction::Received => (peer, service.to_string(), "packet_received"),
    };
    let mut ev = Event::new(service, Kind::Message, format!("qlog {verb}"));
    ev.message = Some(Message {
        from,
        to,
        protocol: "quic".into(),
        summary: p.summary(),
        bytes: p.length.and_then(|l| u32::try_from(l).ok()).unwrap_or(0),
        id: None,
        lost: false,
        hex: None,
    });
    ev.data = serde_json::json!({
        "qlog": {
            "file": file.file_name().map(|n| n.to_string_lossy().to_string()),
            "time_ms": e.time_ms,
            "event": e.name,
            "packet_type": p.packet_type,
            "packet_number": p.number,
            "dcid": p.dcid,
            "scid": p.scid,
            "frames": p.frames,
        }
    });
    Some(ev)
}

/// After both endpoints stopped: every packet one sent (first trace of each folder) that
/// the other's qlog never received, as a lost message event (source = the sender).
pub fn lost_events(a: (&Path, &str), b: (&Path, &str)) -> Vec<Event> {
    let (Some(ta), Some(tb)) = (first_trace(a.0), first_trace(b.0)) else {
        return Vec::new();
    };
    let c = super::correlate(&ta, &tb);
    let (lost_ab, lost_ba) = c.lost();
    let mut out = Vec::new();
    for (trace, lost, from, to) in [(&ta, lost_ab, a.1, b.1), (&tb, lost_ba, b.1, a.1)] {
        for i in lost {
            let e = &trace.events[i];
            if let Some(mut ev) = to_event(e, from, Some(to), Path::new("")) {
                ev.text = "qlog packet lost (sent, never received by the peer)".into();
                if let Some(m) = ev.message.as_mut() {
                    m.lost = true;
                }
                out.push(ev);
            }
        }
    }
    out
}

/// The first qlog trace in a folder (by file name), if any parses.
fn first_trace(dir: &Path) -> Option<super::QlogTrace> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| super::is_qlog_name(p))
        .collect();
    files.sort();
    files.iter().find_map(|f| super::read_file(f).ok())
}
