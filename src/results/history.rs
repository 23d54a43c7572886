//! Past runs: the results folders under an outputs root, newest first, each with what its
//! `summary.json` says, or "incomplete" for a run that was killed before writing one (its
//! events are still there to replay).

use std::path::{Path, PathBuf};

use crate::verdict::Verdict;

#[derive(Debug, Clone, PartialEq)]
pub struct PastRun {
    pub dir: PathBuf,
    /// The folder's `YYYY-MM-DD_HH-MM-SS` prefix, as written.
    pub when: String,
    pub experiment: String,
    /// None when the run never finished (no summary).
    pub verdict: Option<Verdict>,
    pub ok: Option<bool>,
    /// Stopped before its end (`x x`, Ctrl-C, a signal): shown as `cancelled`.
    pub cancelled: bool,
    pub tests: usize,
    pub events: Option<u64>,
}

impl PastRun {
    /// What the runs list says of it: its verdict, `cancelled`, or `incomplete` (no summary:
    /// killed before it could write one).
    pub fn state(&self) -> &'static str {
        match self.verdict {
            _ if self.cancelled => "cancelled",
            Some(v) => v.as_str(),
            None => "incomplete",
        }
    }
}

/// Every results folder under `root` (folders holding an `events.jsonl`), newest first.
pub fn list(root: &Path) -> Vec<PastRun> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut runs: Vec<PastRun> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(crate::events::store::FILE_NAME).is_file())
        .map(|dir| {
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let (when, rest) = if name.len() > 20 && name.as_bytes()[19] == b'_' {
                (name[..19].to_string(), name[20..].to_string())
            } else {
                (String::new(), name.clone())
            };
            match super::read_summary(&dir) {
                Ok(s) => PastRun {
                    dir,
                    when,
                    experiment: s.experiment,
                    verdict: Some(s.verdict),
                    ok: Some(s.ok),
                    cancelled: s.interrupted,
                    tests: s.tests.len(),
                    events: Some(s.events),
                },
                Err(_) => PastRun {
                    dir,
                    when,
                    experiment: rest,
                    verdict: None,
                    ok: None,
                    cancelled: false,
                    tests: 0,
                    events: None,
                },
            }
        })
        .collect();
    runs.sort_by(|a, b| b.dir.file_name().cmp(&a.dir.file_name()));
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_finished_and_crashed_runs_newest_first() {
        let root = tempfile::tempdir().unwrap();
        let old = root.path().join("2026-11-24_10-00-00_quickstart");
        let new = root.path().join("2026-11-25_09-00-00_crashed");
        for d in [&old, &new] {
            std::fs::create_dir_all(d).unwrap();
            std::fs::write(d.join("events.jsonl"), "").unwrap();
        }
        std::fs::create_dir_all(root.path().join("not_a_run")).unwrap();
        let runs = list(root.path());
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].experiment, "crashed");
        assert_eq!(runs[0].verdict, None);
        assert_eq!(runs[1].when, "2026-11-24_10-00-00");
    }
}
