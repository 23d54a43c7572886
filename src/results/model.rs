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
