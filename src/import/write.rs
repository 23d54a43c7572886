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
    let events = build_events(&d, name);
    write_events(&tmp, &events).map_err(werr)?;
    if events.len() <= MERMAID_MAX {
        std::fs::write(
            tmp.join(crate::results::SEQUENCE),
            crate::results::mermaid::render(&events),
        )
        .map_err(werr)?;
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

fn build_events(d: &Decoded, test: &str) -> Vec<Event> {
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
    let mut out = Vec::with_capacity(d.packets.len() + d.qlog.len() + 1);
    out.push(head);
    out.extend(
        d.packets
            .iter()
            .map(|p| events::packet_event(p, &names, t0, test)),
    );
    if !d.qlog.is_empty() {
        // Capture and qlog times have no common clock: qlog events follow the capture's.
        let shift = out.last().map_or(0, |e| e.t);
        out.extend(d.qlog.iter().cloned().map(|mut e| {
            e.t += shift;
            e
        }));
    }
    for (i, e) in out.iter_mut().enumerate() {
        e.seq = i as u64;
    }
    out
}

fn write_events(dir: &Path, events: &[Event]) -> std::io::Result<()> {
    let mut s = Store::create(&dir.join(store::FILE_NAME))?;
    for e in events {
        s.append(e)?;
    }
    s.flush()
}
