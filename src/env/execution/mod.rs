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
//! | `valgrind` (helgrind) | `helgrind.<pid>.xml`, `helgrind*.log`          | race / lock-order logs, verdict   |
//! | `pprof`    | `cpu.prof` (gperf_cpu), the last `heap.NNNN.heap` (gperf_heap) | one profile metric (top functions) |
//! | `perf`     | `perf.data`                                             | one profile metric (top symbols)  |
//! | `gdb`      | `gdb.log`                                               | crash + per-thread stacks, verdict |
//! | `none`     | nothing                                                 | nothing                           |
//!
//! Wrappers that slow a service declare by how much (`wrapper.slowdown`); [`stretch`] turns
//! that into longer readiness waits and timeouts.

pub mod gdb;
pub mod perf;
pub mod pprof;
pub mod profile;
pub mod strace;
pub mod stretch;
pub mod time;
pub mod tool;
pub mod valgrind;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::events::model::{Event, Kind, Level};
use crate::verdict::Verdict;

/// The parser names a wrapper manifest may give.
pub const PARSERS: &[&str] = crate::plugin::manifest::WRAPPER_PARSERS;

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
    /// Profiles read (gperf_cpu, gperf_heap, perf), for the report.
    pub profiles: Vec<profile::Profile>,
    /// Stacks worth showing (a crash's threads, a race's accesses), for the report.
    pub stacks: Vec<Stack>,
}

/// A stack for people: what happened and its frames, innermost first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stack {
    /// `gdb`, `helgrind`, `memcheck`.
    pub wrapper: String,
    /// `crashed: Rust panic in … (thread 1)`, `Race: Possible data race during read …`.
    pub title: String,
    pub frames: Vec<String>,
}

/// Stacks kept per service, and frames per stack.
const MAX_STACKS: usize = 10;
const MAX_FRAMES: usize = 40;

fn stack(wrapper: &str, title: String, frames: impl Iterator<Item = String>) -> Stack {
    Stack {
        wrapper: wrapper.into(),
        title,
        frames: frames.take(MAX_FRAMES).collect(),
    }
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
        "pprof" => parse_pprof_dir(artifact_dir, service),
        "perf" => parse_perf_dir(artifact_dir, service),
        "gdb" => parse_gdb_dir(artifact_dir, service),
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
        files,
        ..Default::default()
    }
}

fn epoch_us(t: SystemTime) -> Option<u64> {
    t.duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_micros() as u64)
}

/// Valgrind tools whose XML report the `valgrind` parser reads, by file-name prefix.
const VALGRIND_TOOLS: &[&str] = &["memcheck", "helgrind"];

fn parse_valgrind_dir(dir: &Path, service: &str) -> Parsed {
    let by_tool = |n: &str| VALGRIND_TOOLS.iter().find(|t| n.starts_with(**t)).copied();
    let mut xml = matching_files(dir, |n| by_tool(n).is_some() && n.ends_with(".xml"));
    if xml.is_empty() {
        // Another Valgrind tool's plugin may name its file differently.
        xml = matching_files(dir, |n| n.ends_with(".xml"))
            .into_iter()
            .filter(|p| fs::read_to_string(p).is_ok_and(|s| s.contains("<valgrindoutput")))
            .collect();
    }
    let logs = matching_files(dir, |n| by_tool(n).is_some() && n.ends_with(".log"));
    let tool = xml
        .iter()
        .chain(&logs)
        .find_map(|p| by_tool(&p.file_name()?.to_string_lossy()))
        .unwrap_or("valgrind");
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
            "{tool} wrote no report (no {tool}.xml in {}): did the service start under valgrind?",
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
                let reason = format!("{tool} report {file}: {e}");
                out.events.push(warn(service, reason.clone()));
                join(Verdict::Inconclusive, reason);
                continue;
            }
        };
        out.events.extend(report_events(&report, service, &file));
        for err in report.counted() {
            if out.stacks.len() >= MAX_STACKS {
                break;
            }
            let mut frames: Vec<String> = err.stack.iter().map(|f| f.to_string()).collect();
            for a in &err.aux {
                frames.push(format!("— {}", a.what));
                frames.extend(a.stack.iter().map(|f| f.to_string()));
            }
            out.stacks.push(stack(
                report.tool_name(),
                err.headline(),
                frames.into_iter(),
            ));
        }
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

/// The events of one Valgrind report (memcheck, helgrind): one log per error or leak record
/// (a helgrind race or lock-order violation, with its stacks in `data`), the fatal signal,
/// and a metric with the totals.
pub fn report_events(r: &valgrind::MemcheckReport, service: &str, file: &str) -> Vec<Event> {
    let tool = r.tool_name();
    let mut out = Vec::new();
    for err in &r.errors {
        let level = if err.counts {
            Level::Error
        } else {
            Level::Info
        };
        let mut e = Event::new(service, Kind::Log, format!("{tool}: {}", err.headline()));
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
                "{tool}: process terminating with {}{event}{at}",
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
    let plural = if counted.len() == 1 { "" } else { "s" };
    let text = if tool == "memcheck" {
        format!(
            "memcheck: {} error{plural}, definitely lost {} B, possibly lost {} B",
            counted.len(),
            r.leaks.definitely_lost.bytes,
            r.leaks.possibly_lost.bytes
        )
    } else {
        format!("{tool}: {} error{plural}", counted.len())
    };
    let mut m = Event::new(service, Kind::Metric, text);
    m.level = Some(Level::Info);
    m.data = json!({
        "wrapper": "valgrind",
        "tool": tool,
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

/// gperftools' profiles, through pprof. A missing profile or pprof failure is a warning.
fn parse_pprof_dir(dir: &Path, service: &str) -> Parsed {
    let files = pprof::profile_files(dir);
    let mut out = Parsed::default();
    if files.is_empty() {
        out.events.push(warn(
            service,
            format!(
                "gperftools wrote no profile in {} (a profile is written when the program exits; was it killed?)",
                dir.display()
            ),
        ));
        return out;
    }
    for f in files {
        match pprof::read_profile(&f) {
            Ok(p) => {
                out.events.push(p.event(service));
                out.profiles.push(p);
            }
            Err(e) => out
                .events
                .push(warn(service, format!("profile {}: {e}", f.display()))),
        }
        out.files.push(f);
    }
    out
}

/// `perf.data`, through `perf report`; the metric says which event was sampled and whether
/// this machine has hardware counters.
fn parse_perf_dir(dir: &Path, service: &str) -> Parsed {
    let f = dir.join("perf.data");
    let mut out = Parsed::default();
    if !f.is_file() {
        out.events.push(warn(
            service,
            format!("perf wrote no perf.data in {}", dir.display()),
        ));
        return out;
    }
    match perf::read_perf_data(&f) {
        Ok(mut p) => {
            let hw = perf::hardware_counters();
            if hw == Some(false) {
                p.note = Some(
                    "this machine exposes no hardware counters (perf stat -e instructions: <not supported>); sampled a software event"
                        .into(),
                );
            }
            let mut e = p.event(service);
            if let Some(o) = e.data.as_object_mut() {
                o.insert("hardware_counters".into(), json!(hw));
            }
            out.events.push(e);
            out.profiles.push(p);
        }
        Err(e) => out
            .events
            .push(warn(service, format!("perf {}: {e}", f.display()))),
    }
    out.files.push(f);
    out
}

/// gdb's session log: crashes with their stacks, and the verdict naming the top frames.
fn parse_gdb_dir(dir: &Path, service: &str) -> Parsed {
    let f = dir.join("gdb.log");
    let mut out = Parsed::default();
    match fs::read(&f) {
        Ok(bytes) => {
            let session = gdb::parse_gdb_log(&String::from_utf8_lossy(&bytes));
            let file = f.display().to_string();
            out.events = gdb::session_events(&session, service, &file);
            out.verdict = gdb::verdict(&session);
            if let Some(c) = session.crashes.first() {
                let crashed = c.crashed_thread().map(|t| t.num);
                // The crashed thread first, then the others.
                let mut threads: Vec<&gdb::Thread> = c.threads.iter().collect();
                threads.sort_by_key(|t| Some(t.num) != crashed);
                for t in threads.into_iter().take(MAX_STACKS) {
                    let title = if Some(t.num) == crashed {
                        format!("{} (thread {})", c.reason(), t.num)
                    } else {
                        format!("thread {} {}", t.num, t.what)
                    };
                    out.stacks
                        .push(stack("gdb", title, t.frames.iter().map(|f| f.to_string())));
                }
            }
            out.files.push(f);
        }
        Err(e) => out.events.push(warn(
            service,
            format!("gdb wrote no session log ({}: {e})", f.display()),
        )),
    }
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
        let p = parse_artifacts("oprofile", &dir, "s");
        assert_eq!(p.events.len(), 1);
        assert!(
            p.events[0]
                .text
                .contains("unknown wrapper parser `oprofile`")
        );
        assert!(p.verdict.is_none());
    }
}
