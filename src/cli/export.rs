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
    /// mermaid: the sequence diagram; junit and json exit 1 when a test failed or errored
    /// (a crashed run's unfinished tests are errors), as `panther run` would have.
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
    // Opened first so that a missing or unreadable file is reported before anything is
    // written; the events are then streamed, never held (a run of a million events exports
    // in the memory of a short one).
    let mut reader = match store::Reader::<crate::events::Event>::open(&events_path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "error: {}: {e}\n  help: give a folder made by `panther run`",
                events_path.display()
            );
            return exit::BAD_INPUT;
        }
    };
    let recorded = results::read_summary(&a.dir).ok();
    if recorded.is_none() && a.format != ExportFormat::Mermaid {
        eprintln!(
            "warning: {} has no summary.json: the run did not finish; tests without a verdict count as errors",
            a.dir.display()
        );
    }
    // Whether a test missed its expectation (a failure, an error, a crash): the JUnit marks
    // it and the exit code says it, so a CI step that only exports still goes red.
    let mut failed = false;
    let written = match a.format {
        ExportFormat::Mermaid => {
            drop(reader);
            write_out(a.output.as_deref(), |w| {
                results::mermaid::write_from_file(&events_path, w)
            })
        }
        ExportFormat::Junit | ExportFormat::Json => {
            let summary = match recorded {
                Some(s) => Ok((s, 0)),
                None => rebuild(&mut reader, &a.dir).map(|s| (s, reader.bad())),
            };
            match summary {
                Ok((s, torn)) => {
                    failed = s.tests.iter().any(|t| !t.met_expectation);
                    write_out(a.output.as_deref(), |w| {
                        let text = match a.format {
                            ExportFormat::Junit => results::junit::render(&s),
                            _ => {
                                serde_json::to_string_pretty(&s).expect("summary serializes") + "\n"
                            }
                        };
                        w.write_all(text.as_bytes()).map(|()| torn)
                    })
                }
                Err(e) => Err(Failed::Read(e)),
            }
        }
    };
    match written {
        Ok(torn) => {
            if torn > 0 {
                eprintln!(
                    "warning: skipped {torn} torn line(s) in {}",
                    events_path.display()
                );
            }
            // The conversion worked; like `panther run`, 1 when a test failed or errored
            // (unfinished tests of a crashed run are errors). Mermaid carries no verdicts: 0.
            if failed { exit::TEST_FAILED } else { exit::OK }
        }
        Err(Failed::Read(e)) => {
            eprintln!("error: {}: {e}", events_path.display());
            exit::BAD_INPUT
        }
        Err(Failed::Write(p, e)) => {
            eprintln!("error: cannot write {p}: {e}");
            exit::BAD_INPUT
        }
        // A closed stdout (`| head`) is the reader's choice, not an error.
        Err(Failed::Closed) => exit::OK,
    }
}

/// Why an export stopped.
#[derive(Debug)]
enum Failed {
    Read(std::io::Error),
    Write(String, std::io::Error),
    Closed,
}

/// Runs `body` against the output (a file, or stdout), buffered; `body` returns the torn
/// lines it skipped. Errors of reading the events and of writing the output are told apart
/// by where they happen: `body`'s own writes go through `Tracked`.
fn write_out(
    to: Option<&std::path::Path>,
    body: impl FnOnce(&mut dyn Write) -> std::io::Result<usize>,
) -> Result<usize, Failed> {
    let name = to.map_or_else(|| "to stdout".to_string(), |p| p.display().to_string());
    let sink: Box<dyn Write> = match to {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Box::new(f),
            Err(e) => return Err(Failed::Write(name, e)),
        },
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = Tracked {
        inner: std::io::BufWriter::with_capacity(256 * 1024, sink),
        failed: false,
    };
    let done = body(&mut out).and_then(|n| out.flush().map(|()| n));
    match done {
        Ok(n) => Ok(n),
        Err(e) if out.failed && e.kind() == std::io::ErrorKind::BrokenPipe && to.is_none() => {
            Err(Failed::Closed)
        }
        Err(e) if out.failed => Err(Failed::Write(name, e)),
        Err(e) => Err(Failed::Read(e)),
    }
}

use std::io::Write;

/// A writer that remembers whether a write failed (so a write error is not reported as a
/// read error of the events).
struct Tracked<W: Write> {
    inner: W,
    failed: bool,
}

impl<W: Write> Write for Tracked<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.inner.write(b).inspect_err(|_| self.failed = true)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|_| self.failed = true)
    }
}

/// A summary from the events alone, for runs that never wrote `summary.json`, streamed:
/// only the verdicts and the names of the tests seen are kept.
fn rebuild(
    events: &mut store::Reader<crate::events::Event>,
    dir: &std::path::Path,
) -> std::io::Result<RunSummary> {
    let mut tests = Vec::new();
    // Tests that started, in order of first appearance.
    let mut started: Vec<String> = Vec::new();
    let (mut count, mut last_t) = (0u64, 0u64);
    while let Some(e) = events.next_event()? {
        count += 1;
        last_t = e.t;
        if !e.test.is_empty() && !started.contains(&e.test) {
            started.push(e.test.clone());
        }
        if e.data.get("test_verdict").is_none() {
            continue;
        }
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
    for name in started {
        if !tests.iter().any(|t: &TestResult| t.name == name) {
            tests.push(unfinished(
                &name,
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
    Ok(RunSummary {
        schema_version: results::model::SCHEMA_VERSION,
        panther_version: env!("CARGO_PKG_VERSION").into(),
        experiment: dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        config: String::new(),
        started_at: String::new(),
        duration_ms: last_t / 1000,
        verdict,
        ok: false,
        // Crashed, not cancelled: its unfinished tests are errors (`interrupted` is Ctrl-C,
        // `x x` or a signal, which write a summary).
        interrupted: false,
        events: count,
        tests,
    })
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
