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
    let mut seen: HashMap<PathBuf, Followed> = HashMap::new();
    let mut out = Tailed::default();
    loop {
        let done = *stop.borrow();
        scan(&dir, &service, peer.as_deref(), &tx, &mut seen, &mut out);
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

/// What is known of one followed file.
#[derive(Default)]
struct Followed {
    /// Events already emitted (classic JSON: re-read whole, the new ones emitted).
    emitted: usize,
    /// JSON-SEQ: bytes consumed (complete records), and the torn tail kept for next time.
    offset: u64,
    pending: Vec<u8>,
    size: u64,
}

/// One look: every qlog file that grew is read. JSON-SEQ files are read incrementally,
/// record by record from where the last look stopped (a torn last record waits for the next
/// look); classic JSON files, written at close or in large blocks, are read again whole and
/// their events past those already emitted are emitted.
fn scan(
    dir: &Path,
    service: &str,
    peer: Option<&str>,
    tx: &EventTx,
    seen: &mut HashMap<PathBuf, Followed>,
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
        let st = seen.entry(f.clone()).or_default();
        if st.size == len {
            continue;
        }
        st.size = len;
        let events = if f.extension().is_some_and(|e| e == "sqlog") {
            new_records(&f, st)
        } else {
            let all: Vec<QlogEvent> = super::read_traces(&f)
                .map(|ts| ts.into_iter().flat_map(|t| t.events).collect())
                .unwrap_or_default();
            let fresh = all.into_iter().skip(st.emitted).collect::<Vec<_>>();
            st.emitted += fresh.len();
            fresh
        };
        for e in &events {
            out.events += 1;
            if let Some(ev) = to_event(e, service, peer, &f) {
                out.packets += 1;
                tx.emit(ev);
            }
        }
    }
}

/// The JSON-SEQ events completed since the last look.
fn new_records(f: &Path, st: &mut Followed) -> Vec<QlogEvent> {
    use std::io::{Read, Seek, SeekFrom};
    let mut buf = std::mem::take(&mut st.pending);
    let read = std::fs::File::open(f).and_then(|mut h| {
        h.seek(SeekFrom::Start(st.offset))?;
        h.take(super::MAX_FILE).read_to_end(&mut buf)
    });
    let Ok(n) = read else {
        st.pending = buf;
        return Vec::new();
    };
    st.offset += n as u64;
    // Complete records end where the next one starts; the last is complete once it ends
    // a line and parses.
    let cut = match buf.iter().rposition(|b| *b == 0x1e) {
        Some(last) => {
            let tail = &buf[last + 1..];
            let whole =
                tail.ends_with(b"\n") && serde_json::from_slice::<serde_json::Value>(tail).is_ok();
            if whole { buf.len() } else { last }
        }
        None => 0,
    };
    let done: Vec<u8> = buf.drain(..cut).collect();
    st.pending = buf;
    if done.is_empty() {
        return Vec::new();
    }
    super::parse(&done)
        .map(|ts| ts.into_iter().flat_map(|t| t.events).collect())
        .unwrap_or_default()
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
