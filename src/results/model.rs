//! What a run produced, as written to `summary.json` (schema documented in docs/RESULTS.md).

use serde::{Deserialize, Serialize};

use crate::verdict::Verdict;

/// Bumped on any incompatible change of `summary.json`.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSummary {
    pub schema_version: u32,
    pub panther_version: String,
    pub experiment: String,
    /// The config file the run came from.
    pub config: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_ms: u64,
    pub verdict: Verdict,
    /// Every test reached its expected verdict (or pass when none is declared).
    pub ok: bool,
    pub interrupted: bool,
    pub events: u64,
    pub tests: Vec<TestResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestResult {
    pub name: String,
    pub iteration: u32,
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Verdict>,
    pub met_expectation: bool,
    pub reason: String,
    pub duration_ms: u64,
    /// Folder of this test's service logs, relative to the results folder.
    pub dir: String,
    pub services: Vec<ServiceResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceResult {
    pub name: String,
    pub plugin: String,
    pub kind: String,
    pub role: String,
    pub verdict: Verdict,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
    /// Event sequence numbers that support the verdict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// How much its waits were stretched for slow wrappers (PANTHER #66), when they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stretch: Option<crate::env::execution::stretch::Stretch>,
    /// Its wrappers' profiles (gperf_cpu, gperf_heap, perf): the top functions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<crate::env::execution::profile::Profile>,
    /// Its wrappers' stacks (a gdb crash's threads, helgrind's races, memcheck's errors).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stacks: Vec<crate::env::execution::Stack>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckResult {
    pub property: String,
    pub verdict: Verdict,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The service whose behaviour the check judged (the tester's target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// What a run (or one of its tests) came to, as every place shows it: the runs list, the
/// report, the summary lines and the JUnit. A run stopped before its end (`x x`, Ctrl-C, a
/// signal: `interrupted`) is `cancelled`, not the inconclusive or error verdict its stopped
/// services happened to leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Verdict(Verdict),
    Cancelled,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Verdict(v) => v.as_str(),
            Outcome::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl RunSummary {
    /// The run's outcome: `cancelled` when it was interrupted, else its verdict.
    pub fn outcome(&self) -> Outcome {
        if self.interrupted {
            Outcome::Cancelled
        } else {
            Outcome::Verdict(self.verdict)
        }
    }

    /// The test the cancel stopped: the last one of an interrupted run, when it did not meet
    /// its expectation (a test that ended before the cancel keeps its verdict).
    pub fn cancelled_test(&self) -> Option<usize> {
        let last = self.tests.len().checked_sub(1)?;
        (self.interrupted && !self.tests[last].met_expectation).then_some(last)
    }

    /// Test `i`'s outcome.
    pub fn test_outcome(&self, i: usize) -> Outcome {
        if self.cancelled_test() == Some(i) {
            Outcome::Cancelled
        } else {
            Outcome::Verdict(self.tests[i].verdict)
        }
    }
}
