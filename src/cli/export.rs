//! `panther export DIR --format mermaid|junit|json`: a results folder, in another format.
//! Works on a run that crashed half-way: what `events.jsonl` holds is enough for Mermaid,
//! and the test verdicts recorded as events stand in for a missing `summary.json`; a test
//! that started without recording a verdict (the run stopped in it) is an error, so the
//! JUnit of a crashed run shows CI a failure instead of an empty `<testsuites>`.

use std::path::PathBuf;

use clap::ValueEnum;

use crate::events::store;
use crate::results::{self, RunSummary, TestResult};
use crate::verdict::Verdict;

use super::exit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A results folder (`outputs/<date>_<name>/`).
    pub dir: PathBuf,
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Mermaid,
    Junit,
    Json,
}

pub fn run(a: &Args) -> i32 {
    let events_path = a.dir.join(store::FILE_NAME);
    // A FIFO or a device would block or never end: only a regular file is read.
    if let Ok(m) = std::fs::metadata(&events_path)
        && !m.is_file()
    {
        eprintln!(
            "error: {}: not a regular file (a FIFO, a device or a socket)\n  help: give a folder made by `panther run`",
            events_path.display()
        );
        return exit::BAD_INPUT;
    }
    let (events, torn) = match store::read_all(&events_path) {
        Ok(x) => x,
        Err(e) => {
            eprintln!(
                "error: {}: {e}\n  help: give a folder made by `panther run`",
                events_path.display()
            );
            return exit::BAD_INPUT;
        }
    };
    if torn > 0 {
        eprintln!(
            "warning: skipped {torn} torn line(s) in {}",
            events_path.display()
        );
    }
    let recorded = results::read_summary(&a.dir).ok();
    let incomplete = recorded.is_none();
    let summary = || recorded.clone().unwrap_or_else(|| rebuild(&events, &a.dir));
    if incomplete && a.format != ExportFormat::Mermaid {
        eprintln!(
            "warning: {} has no summary.json: the run did not finish; tests without a verdict count as errors",
            a.dir.display()
        );
    }
    let text = match a.format {
        ExportFormat::Mermaid => results::mermaid::render(&events),
        ExportFormat::Junit => results::junit::render(&summary()),
        ExportFormat::Json => {
            serde_json::to_string_pretty(&summary()).expect("summary serializes") + "\n"
        }
    };
    match &a.output {
        Some(p) => {
            if let Err(e) = std::fs::write(p, text) {
                eprintln!("error: cannot write {}: {e}", p.display());
                return exit::BAD_INPUT;
            }
        }
        None => {
            // A closed or full stdout is an error to report, not a panic.
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    return exit::OK;
                }
                let _ = writeln!(std::io::stderr(), "error: cannot write to stdout: {e}");
                return exit::BAD_INPUT;
            }
        }
    }
    // The conversion worked: 0. The JUnit itself marks the unfinished tests as errors.
    exit::OK
}

/// A summary from the events alone, for runs that never wrote `summary.json`.
fn rebuild(events: &[crate::events::Event], dir: &std::path::Path) -> RunSummary {
    let mut tests = Vec::new();
    for e in events
        .iter()
        .filter(|e| e.data.get("test_verdict").is_some())
    {
        let verdict: Verdict =
            serde_json::from_value(e.data["verdict"].clone()).unwrap_or(Verdict::Error);
        let expected: Option<Verdict> = serde_json::from_value(e.data["expected"].clone())
            .ok()
            .flatten();
        tests.push(TestResult {
            name: e.test.clone(),
            iteration: 1,
            verdict,
            expected,
            met_expectation: verdict == expected.unwrap_or(Verdict::Pass),
            reason: e.text.clone(),
            duration_ms: 0,
            dir: String::new(),
            services: Vec::new(),
        });
    }
    // Tests that started but recorded no verdict: the run stopped in them.
    let mut started: Vec<&str> = Vec::new();
    for e in events.iter().filter(|e| !e.test.is_empty()) {
        if !started.contains(&e.test.as_str()) {
            started.push(&e.test);
        }
    }
    for name in started {
        if !tests.iter().any(|t: &TestResult| t.name == name) {
            tests.push(unfinished(
                name,
                "the run ended before this test recorded a verdict",
            ));
        }
    }
    if tests.is_empty() {
        tests.push(unfinished(
            "run",
            "the run ended before any test started (no events of a test)",
        ));
    }
    let verdict = tests
        .iter()
        .map(|t| t.verdict)
        .max()
        .unwrap_or(Verdict::Inconclusive);
    RunSummary {
        schema_version: results::model::SCHEMA_VERSION,
        panther_version: env!("CARGO_PKG_VERSION").into(),
        experiment: dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        config: String::new(),
        started_at: String::new(),
        duration_ms: events.last().map(|e| e.t / 1000).unwrap_or(0),
        verdict,
        ok: false,
        interrupted: true,
        events: events.len() as u64,
        tests,
    }
}

/// A test the run stopped in: an error, against any expectation.
fn unfinished(name: &str, reason: &str) -> TestResult {
    TestResult {
        name: name.to_string(),
        iteration: 1,
        verdict: Verdict::Error,
        expected: None,
        met_expectation: false,
        reason: reason.to_string(),
        duration_ms: 0,
        dir: String::new(),
        services: Vec::new(),
    }
}
