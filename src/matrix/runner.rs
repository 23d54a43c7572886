//! Runs a matrix: its cells in parallel (`jobs` at a time), each `repeat` times, each run a
//! full panther run of its own under `cells/` (so the sequence view opens any cell).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::watch;

use crate::plugin::Registry;
use crate::run::{self, Options};

use super::cell::{self, fold};
use super::{Cell, CellResult, CellVerdict, Matrix, Peer, SCHEMA_VERSION, Spec};

/// Where cell folders go, under the matrix folder.
pub const CELLS: &str = "cells";

/// How cells run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub grace: Duration,
    pub panther_exe: Option<PathBuf>,
}

/// A cell to run: its coordinates and its peers.
#[derive(Debug, Clone)]
struct Job {
    cell: Cell,
    server: Peer,
    client: Peer,
}

/// Every cell of the spec in (server, client, case) order, then this shard's.
fn jobs(spec: &Spec) -> Vec<Job> {
    let mut all = Vec::new();
    for s in &spec.servers {
        for c in &spec.clients {
            for k in &spec.cases {
                all.push(Job {
                    cell: Cell {
                        server: s.label(),
                        client: c.label(),
                        case: k.clone(),
                    },
                    server: s.clone(),
                    client: c.clone(),
                });
            }
        }
    }
    all.sort_by(|a, b| a.cell.cmp(&b.cell));
    all.into_iter()
        .enumerate()
        .filter(|(i, _)| spec.shard.is_none_or(|s| s.owns(*i)))
        .map(|(_, j)| j)
        .collect()
}

/// The matrix of `spec` before any cell has run (what the workbench fills in live).
pub fn empty(spec: &Spec, started_at: String) -> Matrix {
    Matrix {
        schema_version: SCHEMA_VERSION,
        protocol: spec.protocol.clone(),
        network_environment: spec.network_environment.clone(),
        servers: spec.servers.iter().map(Peer::label).collect(),
        clients: spec.clients.iter().map(Peer::label).collect(),
        cases: spec.cases.clone(),
        repeat: spec.repeat,
        shard: spec.shard.map(|s| s.to_string()),
        started_at,
        duration_ms: 0,
        cells: Default::default(),
    }
}

/// The spec narrowed to one cell (the workbench's re-run of a cell), unsharded.
pub fn only(spec: &Spec, cell: &Cell) -> Spec {
    let pick = |peers: &[Peer], label: &str| -> Vec<Peer> {
        peers
            .iter()
            .filter(|p| p.label() == label)
            .cloned()
            .collect()
    };
    Spec {
        servers: pick(&spec.servers, &cell.server),
        clients: pick(&spec.clients, &cell.client),
        cases: vec![cell.case.clone()],
        shard: None,
        repeat: spec.repeat,
        ..spec.clone()
    }
}

/// Before a cell runs again in the same matrix folder: its results folders (one, or one per
/// repeated run) move to `NAME.previous`, replacing an older one, so the new run can have
/// the name and the last results stay until then.
pub fn set_aside(dir: &Path, cell: &Cell) -> std::io::Result<()> {
    let base = cell.folder();
    let cells = dir.join(CELLS);
    let Ok(entries) = std::fs::read_dir(&cells) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = name == base
            || name
                .strip_prefix(&format!("{base}_r"))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if ours {
            let old = cells.join(format!("{name}.previous"));
            if old.exists() {
                std::fs::remove_dir_all(&old)?;
            }
            std::fs::rename(e.path(), old)?;
        }
    }
    Ok(())
}

/// How many cells this run (or shard) has.
pub fn cell_count(spec: &Spec) -> usize {
    jobs(spec).len()
}

/// Runs the matrix into `dir`; `on_cell` hears of each cell as it finishes (with how many
/// are done and the total). A cancelled matrix stops starting cells and cancels the running
/// ones; their cells are `error: cancelled`.
pub async fn run(
    spec: &Spec,
    reg: &Registry,
    dir: &Path,
    opts: &RunOptions,
    cancel: watch::Receiver<bool>,
    on_cell: impl Fn(&Cell, &CellResult, usize, usize),
) -> std::io::Result<Matrix> {
    let t0 = Instant::now();
    std::fs::create_dir_all(dir.join(CELLS))?;
    let (_, started_at) = crate::results::timestamp(std::time::SystemTime::now());
    let todo = jobs(spec);
    let total = todo.len();
    let mut m = empty(spec, started_at);
    let mut done = 0;
    let mut results = futures_util::stream::iter(todo)
        .map(|job| {
            let cancel = cancel.clone();
            async move {
                let r = run_cell(spec, reg, dir, opts, &job, cancel).await;
                (job.cell, r)
            }
        })
        .buffer_unordered(spec.jobs);
    while let Some((cell, r)) = results.next().await {
        done += 1;
        on_cell(&cell, &r, done, total);
        m.insert(&cell, r);
    }
    m.duration_ms = t0.elapsed().as_millis() as u64;
    Ok(m)
}

async fn run_cell(
    spec: &Spec,
    reg: &Registry,
    dir: &Path,
    opts: &RunOptions,
    job: &Job,
    mut cancel: watch::Receiver<bool>,
) -> CellResult {
    if let Err(reason) = cell::experiment(spec, reg, &job.server, &job.client, &job.cell.case, 1) {
        return CellResult {
            verdict: CellVerdict::Unsupported,
            reason,
            passes: 0,
            runs: 0,
            duration_ms: 0,
            dir: None,
        };
    }
    let mut runs = Vec::new();
    let mut last_dir = None;
    for i in 1..=spec.repeat {
        if *cancel.borrow() {
            runs.push((CellVerdict::Error, "cancelled".to_string(), 0));
            break;
        }
        let folder = if spec.repeat > 1 {
            format!("{}_r{i}", job.cell.folder())
        } else {
            job.cell.folder()
        };
        let o = Options {
            output_root: dir.join(CELLS),
            folder: Some(folder.clone()),
            grace: opts.grace,
            config_path: format!("matrix cell {}", job.cell.folder()),
            panther_exe: opts.panther_exe.clone(),
            ..Options::default()
        };
        let t0 = Instant::now();
        let exp = match cell::experiment(spec, reg, &job.server, &job.client, &job.cell.case, i) {
            Ok(e) => e,
            Err(reason) => {
                runs.push((CellVerdict::Error, reason, 0));
                break;
            }
        };
        let outcome = match run::start(exp, &folder, reg.clone(), o) {
            Ok(r) => {
                let stop = r.cancel.clone();
                let finish = r.finish();
                tokio::pin!(finish);
                let summary = tokio::select! {
                    s = &mut finish => s,
                    // The guard `wait_for` returns is dropped here, not held over the
                    // teardown below (it is not Send, and the workbench runs this on a pool).
                    _ = async { let _ = cancel.wait_for(|c| *c).await; } => {
                        let _ = stop.send(true);
                        finish.await
                    }
                };
                match summary {
                    Ok(s) => {
                        let (v, why) = cell::judge(&s);
                        (v, why, t0.elapsed().as_millis() as u64)
                    }
                    Err(e) => (CellVerdict::Error, format!("the run failed: {e}"), 0),
                }
            }
            Err(e) => (CellVerdict::Error, format!("cannot start the cell: {e}"), 0),
        };
        runs.push(outcome);
        last_dir = Some(PathBuf::from(CELLS).join(&folder));
    }
    fold(&runs, last_dir.as_deref())
}
