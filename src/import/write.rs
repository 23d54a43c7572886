//! Writing an import's results folder atomically: everything goes into a hidden temporary
//! folder beside the final one, which is renamed into place only when complete.

use std::path::{Path, PathBuf};

use super::{Decoded, ImportError, Report, events};
use crate::events::store::{self, Store};
use crate::events::{Event, Kind};

/// The largest import whose Mermaid diagram is written (bigger ones are unreadable;
/// `panther export --format mermaid` still makes one).
const MERMAID_MAX: usize = 10_000;

/// Removes the temporary folder unless the import completed.
struct Partial(Option<PathBuf>);

impl Drop for Partial {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_dir_all(p);
        }
    }
}

pub fn results_folder(root: &Path, name: &str, d: Decoded) -> Result<Report, ImportError> {
    let werr = |e| ImportError::Write(root.display().to_string(), e);
    std::fs::create_dir_all(root).map_err(werr)?;
    let (stamp, _) = crate::results::timestamp(std::time::SystemTime::now());
    let leaf = format!("{stamp}_{}", crate::results::slug(name));
    let tmp = root.join(format!(".{leaf}.importing-{}", std::process::id()));
    std::fs::create_dir(&tmp).map_err(werr)?;
    let mut guard = Partial(Some(tmp.clone()));
    let mut report = d.report.clone();
    let small = d.packets.len() + d.qlog.len() < MERMAID_MAX;
    let mut kept = Vec::new();
    let mut store = Store::create(&tmp.join(store::FILE_NAME)).map_err(werr)?;
    // Streamed: a big capture's events are written as they are made, not held.
    for e in events_of(&d, name) {
        store
            .append(&e)
            .map_err(|e| ImportError::Events(root.display().to_string(), e))?;
        if small {
            kept.push(e);
        }
    }
    store.flush().map_err(werr)?;
    if small {
        let mermaid = crate::results::mermaid::render(&kept);
        std::fs::write(tmp.join(crate::results::SEQUENCE), mermaid).map_err(werr)?;
    }
    let final_dir = free_name(root, &leaf);
    report.dir = std::fs::canonicalize(root)
        .map_err(werr)?
        .join(final_dir.file_name().expect("has a name"));
    let json = serde_json::to_string_pretty(&report).map_err(|e| werr(std::io::Error::other(e)))?;
    std::fs::write(tmp.join("import.json"), json + "\n").map_err(werr)?;
    std::fs::rename(&tmp, &final_dir).map_err(werr)?;
    guard.0 = None;
    Ok(report)
}

/// `leaf`, or `leaf_N` when taken.
fn free_name(root: &Path, leaf: &str) -> PathBuf {
    (0..)
        .map(|n| {
            if n == 0 {
                root.join(leaf)
            } else {
                root.join(format!("{leaf}_{n}"))
            }
        })
        .find(|p| !p.exists())
        .expect("some name is free")
}

/// Every event of the folder, numbered: the import's marker, the capture's packets, then
/// the qlog files' packets.
fn events_of<'a>(d: &'a Decoded, test: &'a str) -> impl Iterator<Item = Event> + 'a {
    let names = events::endpoint_names(&d.decoder, d.roles_named);
    let t0 = d.packets.first().map(|p| p.time).unwrap_or_default();
    let r = &d.report;
    let mut head = Event::new(
        events::SOURCE,
        Kind::Marker,
        format!(
            "imported {}: {} QUIC packet(s) in {} connection(s), {} decrypted, {} without keys; {} qlog packet(s)",
            r.captures
                .iter()
                .chain(&r.qlogs)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            r.packets,
            r.connections,
            r.decrypted,
            r.no_keys,
            r.qlog_packets
        ),
    );
    head.test = test.to_string();
    head.data = serde_json::json!({ "keylogs": r.keylogs, "warnings": r.warnings });
    // Capture and qlog times have no common clock: qlog events follow the capture's.
    let shift = d
        .packets
        .last()
        .map_or(0, |p| p.time.saturating_sub(t0).as_micros() as u64);
    let packets = d
        .packets
        .iter()
        .map(move |p| events::packet_event(p, &names, t0, test));
    let qlog = d.qlog.iter().cloned().map(move |mut e| {
        e.t += shift;
        e
    });
    std::iter::once(head)
        .chain(packets)
        .chain(qlog)
        .enumerate()
        .map(|(i, mut e)| {
            e.seq = i as u64;
            e
        })
}
