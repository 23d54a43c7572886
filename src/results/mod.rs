//! Results folders: `outputs/<YYYY-MM-DD_HH-MM-SS>_<name>/` with the resolved config,
//! `events.jsonl`, `summary.json`, `junit.xml`, `report.md`, `sequence.mmd` and per-service
//! logs. Every file but the events is derived, so `panther export` can rebuild them.

pub mod atomic;
pub mod history;
pub mod junit;
pub mod mermaid;
pub mod model;
pub mod report;

use std::path::{Path, PathBuf};

pub use model::{CheckResult, Outcome, RunSummary, ServiceResult, TestResult};

pub const SUMMARY: &str = "summary.json";
pub const JUNIT: &str = "junit.xml";
pub const REPORT: &str = "report.md";
pub const SEQUENCE: &str = "sequence.mmd";
pub const CONFIG: &str = "experiment_config.yaml";

/// Why a results folder or one of its files could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The summary did not encode as JSON.
    #[error(transparent)]
    Encode(#[from] serde_json::Error),
    /// Every one of the 1000 numbered variants of the folder name exists already.
    #[error("could not create a unique results folder")]
    NoUniqueFolder,
}

/// Writes every derived file of a finished (or interrupted) run. The events are streamed
/// from `events` (the run's `events.jsonl`), never held: a run of a million events ends in
/// the memory of a short one.
pub fn write_all(dir: &Path, s: &RunSummary, events: &Path) -> Result<(), ResultsError> {
    let json = serde_json::to_string_pretty(s)?;
    std::fs::write(dir.join(SUMMARY), json + "\n")?;
    std::fs::write(dir.join(JUNIT), junit::render(s))?;
    std::fs::write(dir.join(REPORT), report::render(s))?;
    mermaid::write_file(events, &dir.join(SEQUENCE))?;
    Ok(())
}

/// The largest `summary.json` read back.
pub const SUMMARY_MAX: usize = 64 << 20;

pub fn read_summary(dir: &Path) -> std::io::Result<RunSummary> {
    let text = crate::plugin::loader::read_text_limited(&dir.join(SUMMARY), SUMMARY_MAX)?;
    serde_json::from_str(&text).map_err(|e| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", SUMMARY))
    })
}

/// `2026-11-25_10-41-07` in UTC, from the system clock (no timezone database needed), and
/// the same instant as RFC 3339 (`2026-11-25T10:41:07Z`). A clock before 1970 counts as 1970.
pub fn timestamp(t: std::time::SystemTime) -> (String, String) {
    let u = utc(t);
    let (y, m, d) = (u.year(), u8::from(u.month()), u.day());
    let (hh, mm, ss) = (u.hour(), u.minute(), u.second());
    (
        format!("{y:04}-{m:02}-{d:02}_{hh:02}-{mm:02}-{ss:02}"),
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z"),
    )
}

/// A system time as a UTC date and time, to the second.
fn utc(t: std::time::SystemTime) -> time::OffsetDateTime {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc_from_secs(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// Seconds since 1970-01-01 as a UTC date and time; outside what `time` holds (±9999
/// years), the nearest end of its range.
pub fn utc_from_secs(secs: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(if secs < 0 {
        time::PrimitiveDateTime::MIN.assume_utc()
    } else {
        time::PrimitiveDateTime::MAX.assume_utc()
    })
}

/// A new, unique results folder under `root` for experiment `name`.
pub fn new_dir(root: &Path, name: &str) -> Result<(PathBuf, String), ResultsError> {
    let (stamp, rfc) = timestamp(std::time::SystemTime::now());
    let slug = slug(name);
    std::fs::create_dir_all(root)?;
    for n in 0..1000 {
        let leaf = if n == 0 {
            format!("{stamp}_{slug}")
        } else {
            format!("{stamp}_{slug}_{n}")
        };
        let p = root.join(leaf);
        match std::fs::create_dir(&p) {
            // Absolute: services run in their own folders and get these paths as arguments.
            Ok(()) => return Ok((std::fs::canonicalize(&p)?, rfc)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ResultsError::NoUniqueFolder)
}

/// A results file's text (regular files only, at most 64 MiB: a FIFO or a device named like
/// one must not hang or exhaust panther).
pub fn read_limited(path: &Path) -> std::io::Result<String> {
    crate::plugin::loader::read_text_limited(path, 64 << 20)
}

/// The results folder `root/leaf`, which must not exist yet (a matrix cell's).
pub fn exact_dir(root: &Path, leaf: &str) -> std::io::Result<(PathBuf, String)> {
    let (_, rfc) = timestamp(std::time::SystemTime::now());
    let p = root.join(leaf);
    std::fs::create_dir_all(root)?;
    std::fs::create_dir(&p)?;
    Ok((std::fs::canonicalize(&p)?, rfc))
}

/// A file-name-safe form of a test, service or experiment name, distinct for distinct
/// names: a name of at most 60 ASCII letters, digits, `-` and `_` is its own folder name; any
/// other becomes a readable form (other characters as `_`, at most 60 characters) plus `~`
/// and a 64-bit hash of the exact name, so `a b` and `a.b`, names that share their first 60
/// characters, or non-ASCII names do not share a folder. `~` and `.` never appear otherwise,
/// so [`iteration_folder`]'s `.N` cannot meet a test's own name either.
pub fn slug(name: &str) -> String {
    let faithful = !name.is_empty()
        && name.len() <= 60
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if faithful {
        return name.to_string();
    }
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s: String = s.trim_matches('_').chars().take(60).collect();
    let s = if s.is_empty() { "run".to_string() } else { s };
    format!("{s}~{:016x}", fnv1a(name.as_bytes()))
}

/// The folder of one iteration of a test that runs several times.
pub fn iteration_folder(test: &str, iteration: u32) -> String {
    format!("{}.{iteration}", slug(test))
}

fn fnv1a(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf29ce484222325, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x100000001b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_civil_utc() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_602_067);
        assert_eq!(timestamp(t).0, "2026-11-25_10-21-07");
        assert!(slug("MinIP Client-Server Test!").starts_with("MinIP_Client-Server_Test~"));
        assert_eq!(slug("quickstart_1"), "quickstart_1");
    }

    #[test]
    fn timestamps_know_leap_days_and_the_clock_s_ends() {
        let at = |s: u64| timestamp(std::time::UNIX_EPOCH + std::time::Duration::from_secs(s));
        // A leap day's last second, one of a century divisible by 400, and 2100 (no leap day).
        assert_eq!(
            at(1_709_251_199),
            (
                "2024-02-29_23-59-59".to_string(),
                "2024-02-29T23:59:59Z".to_string()
            )
        );
        assert_eq!(at(951_782_400).0, "2000-02-29_00-00-00");
        assert_eq!(at(4_107_542_400).0, "2100-03-01_00-00-00");
        assert_eq!(at(4_107_542_400 - 1).0, "2100-02-28_23-59-59");
        assert_eq!(at(0).1, "1970-01-01T00:00:00Z");
        // Before 1970 counts as 1970; past year 9999 stays at its end rather than panicking.
        let before = std::time::UNIX_EPOCH - std::time::Duration::from_secs(5);
        assert_eq!(timestamp(before).0, "1970-01-01_00-00-00");
        assert_eq!(at(1 << 40).0, "9999-12-31_23-59-59");
    }

    #[test]
    fn distinct_names_get_distinct_folders() {
        let long = "x".repeat(60);
        let names = [
            "a b".to_string(),
            "a.b".to_string(),
            "a_b".to_string(),
            "t_1".to_string(),
            "é".to_string(),
            "ü".to_string(),
            "".to_string(),
            "run".to_string(),
            format!("{long}1"),
            format!("{long}2"),
            long.clone(),
        ];
        let mut folders: Vec<String> = names.iter().map(|n| slug(n)).collect();
        folders.push(iteration_folder("t", 1));
        folders.push(iteration_folder("t_1", 1));
        let mut uniq = folders.clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!(uniq.len(), folders.len(), "{folders:?}");
        for f in &folders {
            assert!(
                f.len() < 100 && !f.contains('/') && !f.starts_with('.'),
                "{f}"
            );
        }
    }
}
