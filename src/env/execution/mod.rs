//! Execution environments: manifest-driven argv prefixes, and the parsers of their output.
//!
//! A wrapper's manifest names a parser (`wrapper.parser`) and the files it writes into the
//! service's artifact folder (`wrapper.artifacts`). After the service stops (or, for strace,
//! live with [`strace::StraceParser`]) [`parse_artifacts`] turns those files into events and,
//! for judging wrappers (memcheck), a verdict.
//!
//! | parser     | files read                                              | gives                             |
//! |------------|---------------------------------------------------------|-----------------------------------|
//! | `strace`   | `strace.log`, `strace.log.<pid>` (`-ff`)                | syscall logs, exit lifecycles     |
//! | `valgrind` | `memcheck.xml`, `memcheck.<pid>.xml` (`%p`), `memcheck*.log` | error logs, leak metric, verdict |
//! | `time`     | `time.txt`                                              | one metric event                  |
//! | `none`     | nothing                                                 | nothing                           |

pub mod strace;
pub mod time;
pub mod valgrind;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::events::model::{Event, Kind, Level};
use crate::verdict::Verdict;

/// The parser names a wrapper manifest may give.
pub const PARSERS: &[&str] = &["strace", "valgrind", "time", "none"];

/// Lines of Valgrind's own log (`memcheck.log`) kept as events, at most.
const MAX_LOG_LINES: usize = 200;

/// What a wrapper's files said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// In file order (strace: trace order; several `-ff` files are merged by time stamp).
    /// `t` is 0 (to be stamped); strace events carry their own time in `data`.
    pub events: Vec<Event>,
    /// The wrapper's judgement, for judging wrappers (memcheck); `None` for observers.
    pub verdict: Option<(Verdict, String)>,
    /// The files read: evidence for the verdict.
    pub files: Vec<PathBuf>,
}

impl Parsed {
    /// Puts the events that carry their own wall-clock moment (`data.epoch_us`: strace's
    /// syscalls and exits) at their place on the run's timeline: `t` = µs since `run_start`
    /// (the wall-clock time the run's [`crate::events::Clock`] started). Others keep `t = 0`,
    /// to be stamped when emitted.
    pub fn stamp_times(&mut self, run_start: SystemTime) {
        let Some(start) = epoch_us(run_start) else {
            return;
        };
        for e in &mut self.events {
            if let Some(at) = e.data.get("epoch_us").and_then(Value::as_u64) {
                e.t = at.saturating_sub(start).max(1);
            }
        }
    }
}

/// Reads the files `parser` knows from `artifact_dir` and turns them into events (with
/// `source` = `service`) and, when the wrapper judges, a verdict. Never fails: a missing or
/// unreadable file becomes a warning event (and, for memcheck, an inconclusive verdict).
pub fn parse_artifacts(parser: &str, artifact_dir: &Path, service: &str) -> Parsed {
    match parser {
        "strace" => parse_strace_dir(artifact_dir, service),
        "valgrind" => parse_valgrind_dir(artifact_dir, service),
        "time" => parse_time_dir(artifact_dir, service),
        "none" | "" => Parsed::default(),
        other => Parsed {
            events: vec![warn(
                service,
                format!(
                    "unknown wrapper parser `{other}` (known: {}); its files were kept but not read",
                    PARSERS.join(", ")
                ),
            )],
            ..Default::default()
        },
    }
}

fn warn(service: &str, text: String) -> Event {
    let mut e = Event::new(service, Kind::Log, text);
    e.level = Some(Level::Warn);
    e
}

/// Files in `dir` named exactly `name`, or `stem.<something>.ext` / `name.<pid>`, sorted.
fn matching_files(dir: &Path, accept: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter(|e| accept(&e.file_name().to_string_lossy()))
            .map(|e| e.path())
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

fn parse_strace_dir(dir: &Path, service: &str) -> Parsed {
    let files = matching_files(dir, |n| {
        n == "strace.log"
            || n.strip_prefix("strace.log.")
                .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    });
    if files.is_empty() {
        return Parsed {
            events: vec![warn(
                service,
                format!("strace wrote no trace (no strace.log in {})", dir.display()),
            )],
            ..Default::default()
        };
    }
    let mut events = Vec::new();
    for f in &files {
        let mut p = strace::StraceParser::new(service);
        // `-ff`: strace.log.<pid> holds one pid's lines, without the pid column.
        if let Some(pid) = f
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("strace.log."))
            .and_then(|p| p.parse().ok())
        {
            p = p.with_default_pid(pid);
        }
        let mut file_events = Vec::new();
        match fs::File::open(f) {
            Ok(file) => {
                let mtime = file.metadata().and_then(|m| m.modified()).ok();
                let mut r = BufReader::new(file);
                let mut buf = Vec::new();
                loop {
                    buf.clear();
                    match r.read_until(b'\n', &mut buf) {
                        Ok(0) => break,
                        Ok(_) => {
                            if let Some(e) = p.line(&String::from_utf8_lossy(&buf)) {
                                file_events.push(e);
                            }
                        }
                        Err(e) => {
                            file_events
                                .push(warn(service, format!("reading {}: {e}", f.display())));
                            break;
                        }
                    }
                }
                file_events.extend(p.finish());
                // `-tt` stamps are local times of day: the file's modification time (when
                // the last line was written) tells the day and the local offset.
                if let (Some(strace::Stamp::TimeOfDay(last)), Some(mtime)) =
                    (p.last_stamp(), mtime.and_then(epoch_us))
                {
                    let offset = strace::utc_offset_near(last, mtime);
                    strace::add_epoch(&mut file_events, offset, mtime);
                }
                events.append(&mut file_events);
            }
            Err(e) => events.push(warn(service, format!("reading {}: {e}", f.display()))),
        }
    }
    if files.len() > 1 {
        // Stable: events without a stamp keep their place relative to their neighbours.
        events.sort_by_key(|e| e.data.get("epoch_us").and_then(Value::as_u64).unwrap_or(0));
    }
    Parsed {
        events,
        verdict: None,
        files,
    }
}

fn epoch_us(t: SystemTime) -> Option<u64> {
    t.duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_micros() as u64)
}

fn parse_valgrind_dir(dir: &Path, service: &str) -> Parsed {
    let mut xml = matching_files(dir, |n| n.starts_with("memcheck") && n.ends_with(".xml"));
    if xml.is_empty() {
        // Another Valgrind tool's plugin may name its file differently.
        xml = matching_files(dir, |n| n.ends_with(".xml"))
            .into_iter()
            .filter(|p| fs::read_to_string(p).is_ok_and(|s| s.contains("<valgrindoutput")))
            .collect();
    }
    let logs = matching_files(dir, |n| n.starts_with("memcheck") && n.ends_with(".log"));
    let mut out = Parsed::default();

    for log in &logs {
        let Ok(text) = fs::read(log) else { continue };
        let text = String::from_utf8_lossy(&text);
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        for l in lines.iter().take(MAX_LOG_LINES) {
            let mut e = Event::new(service, Kind::Log, format!("valgrind: {l}"));
            e.level = Some(Level::Info);
            e.data = json!({"wrapper": "valgrind", "file": log.display().to_string()});
            out.events.push(e);
        }
        if lines.len() > MAX_LOG_LINES {
            out.events.push(warn(
                service,
                format!(
                    "valgrind: {} more lines in {}",
                    lines.len() - MAX_LOG_LINES,
                    log.display()
                ),
            ));
        }
        out.files.push(log.clone());
    }

    if xml.is_empty() {
        let reason = format!(
            "memcheck wrote no report (no memcheck.xml in {}): did the service start under valgrind?",
            dir.display()
        );
        out.events.push(warn(service, reason.clone()));
        out.verdict = Some((Verdict::Inconclusive, reason));
        return out;
    }

    let mut verdict: Option<(Verdict, String)> = None;
    let mut join = |v: Verdict, reason: String| match &verdict {
        Some((old, _)) if *old >= v => {}
        _ => verdict = Some((v, reason)),
    };
    for f in &xml {
        out.files.push(f.clone());
        let file = f.display().to_string();
        let text = match fs::read(f) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                let reason = format!("reading {file}: {e}");
                out.events.push(warn(service, reason.clone()));
                join(Verdict::Inconclusive, reason);
                continue;
            }
        };
        let report = match valgrind::parse_memcheck_xml(&text) {
            Ok(r) => r,
            Err(e) => {
                let reason = format!("memcheck report {file}: {e}");
                out.events.push(warn(service, reason.clone()));
                join(Verdict::Inconclusive, reason);
                continue;
            }
        };
        out.events.extend(report_events(&report, service, &file));
        let (v, mut reason) = report.verdict();
        if xml.len() > 1
            && let Some(pid) = report.pid
        {
            reason = format!("{reason} [pid {pid}]");
        }
        join(v, reason);
    }
    out.verdict = verdict;
    out
}

/// The events of one memcheck report: one log per error or leak record, the fatal signal,
/// and a metric with the totals.
pub fn report_events(r: &valgrind::MemcheckReport, service: &str, file: &str) -> Vec<Event> {
    let mut out = Vec::new();
    for err in &r.errors {
        let level = if err.counts {
            Level::Error
        } else {
            Level::Info
        };
        let mut e = Event::new(service, Kind::Log, format!("memcheck: {}", err.headline()));
        e.level = Some(level);
        let mut d = serde_json::to_value(err).unwrap_or(Value::Null);
        if let Some(o) = d.as_object_mut() {
            o.insert("wrapper".into(), json!("valgrind"));
            o.insert("file".into(), json!(file));
            if let Some(pid) = r.pid {
                o.insert("pid".into(), json!(pid));
            }
        }
        e.data = d;
        out.push(e);
    }
    if let Some(sig) = &r.fatal_signal {
        let at = sig
            .stack
            .first()
            .map(|f| format!(" at {f}"))
            .unwrap_or_default();
        let event = sig
            .event
            .as_ref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        let crash = matches!(
            sig.signame.as_str(),
            "SIGSEGV" | "SIGBUS" | "SIGILL" | "SIGFPE" | "SIGABRT" | "SIGSYS"
        );
        let mut e = Event::new(
            service,
            Kind::Log,
            format!(
                "memcheck: process terminating with {}{event}{at}",
                sig.signame
            ),
        );
        e.level = Some(if crash { Level::Error } else { Level::Info });
        let mut d = serde_json::to_value(sig).unwrap_or(Value::Null);
        if let Some(o) = d.as_object_mut() {
            o.insert("wrapper".into(), json!("valgrind"));
            o.insert("file".into(), json!(file));
        }
        e.data = d;
        out.push(e);
    }
    let counted: Vec<&valgrind::ValgrindError> = r.counted().collect();
    let mut m = Event::new(
        service,
        Kind::Metric,
        format!(
            "memcheck: {} error{}, definitely lost {} B, possibly lost {} B",
            counted.len(),
            if counted.len() == 1 { "" } else { "s" },
            r.leaks.definitely_lost.bytes,
            r.leaks.possibly_lost.bytes
        ),
    );
    m.level = Some(Level::Info);
    m.data = json!({
        "wrapper": "valgrind",
        "file": file,
        "pid": r.pid,
        "errors": counted.iter().map(|e| e.count).sum::<u64>(),
        "distinct_errors": counted.len(),
        "leaks": r.leaks,
        "finished": r.finished,
        "well_formed": r.well_formed,
        "truncated": r.truncated,
    });
    out.push(m);
    out
}

fn parse_time_dir(dir: &Path, service: &str) -> Parsed {
    let f = dir.join("time.txt");
    let mut out = Parsed::default();
    match fs::read(&f) {
        Ok(bytes) => {
            out.files.push(f.clone());
            match time::parse_time(&String::from_utf8_lossy(&bytes)) {
                Some(r) => out.events.push(time::metric_event(&r, service)),
                None => out.events.push(warn(
                    service,
                    format!(
                        "{} holds no report: GNU time was stopped before the service ended (stop the service itself, or its process group with SIGINT)",
                        f.display()
                    ),
                )),
            }
        }
        Err(e) => out
            .events
            .push(warn(service, format!("reading {}: {e}", f.display()))),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_and_unknown_parsers() {
        let dir = std::env::temp_dir();
        assert_eq!(parse_artifacts("none", &dir, "s"), Parsed::default());
        let p = parse_artifacts("perf", &dir, "s");
        assert_eq!(p.events.len(), 1);
        assert!(p.events[0].text.contains("unknown wrapper parser `perf`"));
        assert!(p.verdict.is_none());
    }
}
