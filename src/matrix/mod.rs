//! Interop matrices: every server × every client × every case, each cell an isolated test run
//! of its own (its own ports, namespaces or network), cells in parallel, verdicts keyed by
//! name (never by position), repeated runs for pass rates, shards that merge into the same
//! matrix.
//!
//! * [`spec`]: what to run, from the command line or a `matrix:` block, checked against the
//!   registry;
//! * [`cell`]: one cell as an experiment, and its verdict from the run's summary;
//! * [`runner`]: cells in parallel (`jobs`), `repeat` times each;
//! * [`output`]: matrix.json, matrix.md, junit.xml, matrix.html;
//! * [`compare`]: `diff` of two matrices (regressions first) and `merge` of shards.

pub mod cell;
pub mod compare;
pub mod output;
pub mod runner;
pub mod spec;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use spec::{Peer, Shard, Spec, SpecError};

/// The matrix.json schema version.
pub const SCHEMA_VERSION: u32 = 1;

/// One cell's coordinates.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Cell {
    pub server: String,
    pub client: String,
    pub case: String,
}

impl Cell {
    /// The cell's folder under `cells/`: readable, and unique because each part is slugged
    /// without `__`, which only joins the parts.
    pub fn folder(&self) -> String {
        let part = |s: &str| -> String {
            s.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
                .replace("__", "_")
        };
        format!(
            "{}__{}__{}",
            part(&self.server),
            part(&self.client),
            part(&self.case)
        )
    }
}

/// What a cell came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellVerdict {
    Pass,
    /// Passed in some runs only (`repeat` > 1).
    Flaky,
    Fail,
    /// The client says it cannot do this case: its manifest lacks what the case needs, or it
    /// exited 127 (quic-interop-runner's convention). Never guessed from other results.
    Unsupported,
    /// Timeout, crash, or a service that did not start.
    Error,
}

impl CellVerdict {
    pub fn letter(self) -> char {
        match self {
            CellVerdict::Pass => '✓',
            CellVerdict::Flaky => '~',
            CellVerdict::Fail => '✗',
            CellVerdict::Unsupported => '-',
            CellVerdict::Error => 'E',
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CellVerdict::Pass => "pass",
            CellVerdict::Flaky => "flaky",
            CellVerdict::Fail => "fail",
            CellVerdict::Unsupported => "unsupported",
            CellVerdict::Error => "error",
        }
    }
}

/// One cell's outcome over its runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellResult {
    pub verdict: CellVerdict,
    pub reason: String,
    /// Runs that passed, of `runs`.
    pub passes: u32,
    pub runs: u32,
    pub duration_ms: u64,
    /// The results folder of its (last) run, relative to the matrix folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
}

impl CellResult {
    pub fn pass_rate(&self) -> f64 {
        if self.runs == 0 {
            0.0
        } else {
            f64::from(self.passes) / f64::from(self.runs)
        }
    }
}

/// server → client → case → result.
pub type Cells = BTreeMap<String, BTreeMap<String, BTreeMap<String, CellResult>>>;

/// A matrix's results: its axes and its cells, by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    pub schema_version: u32,
    pub protocol: String,
    pub network_environment: String,
    pub servers: Vec<String>,
    pub clients: Vec<String>,
    pub cases: Vec<String>,
    pub repeat: u32,
    /// `K/N` when this is one shard of a matrix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    pub started_at: String,
    pub duration_ms: u64,
    pub cells: Cells,
}

impl Matrix {
    pub fn get(&self, c: &Cell) -> Option<&CellResult> {
        self.cells.get(&c.server)?.get(&c.client)?.get(&c.case)
    }

    pub fn insert(&mut self, c: &Cell, r: CellResult) {
        self.cells
            .entry(c.server.clone())
            .or_default()
            .entry(c.client.clone())
            .or_default()
            .insert(c.case.clone(), r);
    }

    /// Every cell with its result, in (server, client, case) order.
    pub fn iter(&self) -> impl Iterator<Item = (Cell, &CellResult)> {
        self.cells.iter().flat_map(|(s, by_client)| {
            by_client.iter().flat_map(move |(c, by_case)| {
                by_case.iter().map(move |(k, r)| {
                    (
                        Cell {
                            server: s.clone(),
                            client: c.clone(),
                            case: k.clone(),
                        },
                        r,
                    )
                })
            })
        })
    }
}

/// Cells that gate (`--expect FILE`): `{"SERVER": {"CLIENT": ["CASE", …]}}`, like s2n-quic's
/// required.json. Without a file every cell gates.
pub type Expectations = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// Whether `c` gates under `e`.
pub fn gates(e: Option<&Expectations>, c: &Cell) -> bool {
    match e {
        None => true,
        Some(e) => e
            .get(&c.server)
            .and_then(|m| m.get(&c.client))
            .is_some_and(|cases| cases.iter().any(|k| k == &c.case)),
    }
}

/// The gating cells that did not meet their gate.
pub fn failed_gates(m: &Matrix, e: Option<&Expectations>) -> Vec<Cell> {
    m.iter()
        .filter(|(c, r)| gates(e, c) && !ok_without_gate_file(e, r))
        .map(|(c, _)| c)
        .collect()
}

/// Without an expectations file, unsupported cells do not fail the matrix (the client said
/// so itself); with one, a listed cell must pass.
fn ok_without_gate_file(e: Option<&Expectations>, r: &CellResult) -> bool {
    match e {
        None => matches!(r.verdict, CellVerdict::Pass | CellVerdict::Unsupported),
        Some(_) => r.verdict == CellVerdict::Pass,
    }
}
