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
    let mut m = Matrix {
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
    };
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
                    _ = cancel.wait_for(|c| *c) => {
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
