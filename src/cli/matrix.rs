//! `panther matrix`: servers × clients × cases in parallel, and `panther matrix diff|merge`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::{Cli, exit};
use crate::matrix::runner::{self, RunOptions};
use crate::matrix::spec::parse_setting;
use crate::matrix::{Expectations, Peer, Shard, Spec, compare, failed_gates, output};

#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    long_about = "Run an interop matrix: every server against every client in every case, each \
cell an isolated test (its own ports on localhost, its own namespaces on netns, its own network on \
docker_compose), cells in parallel.\n\nServers are IUT plugins, optionally at a protocol version \
(`ping_pong@flaky`); clients are testers or client IUTs; cases are the protocol plugin's (MinIP: \
ping, robustness). Without --servers, --clients or --cases, every available one of the protocol.\n\n\
A cell is pass, fail, flaky (with --repeat, passed only sometimes), unsupported (only when the \
client says so: its manifest lacks what the case needs, or it exits 127) or error (timeout, crash).\n\n\
Writes matrix.json (keyed by server, client and case), matrix.md, junit.xml and matrix.html, and a \
results folder per cell under cells/ (open one with `panther replay`). Exit 0 when every gating \
cell passed (--expect lists them; without it every cell gates, unsupported cells excepted), 1 when \
one did not, 2 on bad input, 130 when interrupted."
)]
pub struct MatrixArgs {
    #[command(subcommand)]
    pub command: Option<MatrixCommand>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum MatrixCommand {
    /// What changed between two matrix runs (regressions first); exit 1 when something
    /// regressed.
    Diff {
        /// The earlier matrix folder (or its matrix.json).
        old: PathBuf,
        /// The later one.
        new: PathBuf,
    },
    /// Join shard folders (`--shard K/N` runs) into one matrix.
    Merge {
        /// The shards' folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where the merged matrix goes.
        #[arg(long, value_name = "DIR")]
        output: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// An experiment file whose `matrix:` block says what to run (flags given here win).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The protocol of the matrix (default: the file's, else minip).
    #[arg(long)]
    pub protocol: Option<String>,
    /// Servers, comma-separated: IUT[@VERSION] (default: every IUT of the protocol that serves).
    #[arg(long, value_delimiter = ',')]
    pub servers: Vec<String>,
    /// Clients, comma-separated (default: every tester and client IUT of the protocol).
    #[arg(long, value_delimiter = ',')]
    pub clients: Vec<String>,
    /// Cases, comma-separated (default: the protocol's cases).
    #[arg(long, value_delimiter = ',')]
    pub cases: Vec<String>,
    /// A parameter for every server, KEY=VALUE (repeatable), where its plugin declares it.
    #[arg(long = "server-config", value_name = "KEY=VALUE")]
    pub server_config: Vec<String>,
    /// A parameter for every client, KEY=VALUE (repeatable); a case's own settings win.
    #[arg(long = "client-config", value_name = "KEY=VALUE")]
    pub client_config: Vec<String>,
    /// Network environment of every cell (default: the file's, else localhost).
    #[arg(long = "env")]
    pub network_environment: Option<String>,
    /// Cells run at once (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Runs per cell (default 1); a cell that passes only sometimes is `flaky`, with its rate.
    #[arg(long)]
    pub repeat: Option<u32>,
    /// Seconds each cell may take (default 60).
    #[arg(long)]
    pub timeout: Option<f64>,
    /// The cells that gate, as JSON: {"SERVER": {"CLIENT": ["CASE", …]}}.
    #[arg(long, value_name = "FILE")]
    pub expect: Option<PathBuf>,
    /// Run only the K-th of N deterministic subsets of the cells (e.g. 2/3).
    #[arg(long, value_name = "K/N", conflicts_with = "shard_index")]
    pub shard: Option<String>,
    /// The shard as a 0-based index (a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX`);
    /// needs --shard-count.
    #[arg(long, value_name = "I", requires = "shard_count")]
    pub shard_index: Option<u32>,
    /// How many shards --shard-index counts.
    #[arg(long, value_name = "N")]
    pub shard_count: Option<u32>,
    /// Results root; the matrix goes to `<output>/<date>_matrix_<protocol>/`.
    #[arg(long, default_value = "outputs")]
    pub output: PathBuf,
    /// Time between SIGINT, SIGTERM and SIGKILL at a cell's teardown, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub grace_ms: u64,
}

pub fn run(cli: &Cli, a: &MatrixArgs) -> i32 {
    match &a.command {
        Some(MatrixCommand::Diff { old, new }) => diff(old, new),
        Some(MatrixCommand::Merge { dirs, output }) => merge(dirs, output),
        None => run_matrix(cli, &a.run),
    }
}

fn bad(msg: impl std::fmt::Display) -> i32 {
    eprintln!("panther matrix: {msg}");
    exit::BAD_INPUT
}

/// The matrix the flags (and the file's `matrix:` block, which flags override) describe,
/// resolved against the registry, and its expectations. The workbench's `:matrix` builds
/// its matrix here too.
pub fn spec_from(
    a: &RunArgs,
    reg: &crate::plugin::Registry,
    block: crate::experiment::model::MatrixBlock,
) -> Result<(Spec, Option<Expectations>), String> {
    let spec_text = match (a.shard_index, a.shard_count) {
        (Some(i), Some(n)) => Some(format!("{}/{n}", i.saturating_add(1))),
        _ => a.shard.clone(),
    };
    let shard = spec_text
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(|e| e.to_string())?;
    let timeout = a.timeout.or(block.timeout).unwrap_or(60.0);
    if !(timeout > 0.0 && timeout <= 86_400.0) {
        return Err(format!(
            "--timeout {timeout} is not between 0 and 86400 seconds"
        ));
    }
    let expect: Option<Expectations> = match &a.expect {
        None => None,
        Some(f) => match crate::results::read_limited(f)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        {
            Ok(e) => Some(e),
            Err(e) => {
                return Err(format!(
                    "{}: {e} (expected {{\"SERVER\": {{\"CLIENT\": [\"CASE\", …]}}}})",
                    f.display()
                ));
            }
        },
    };
    let settings = |list: &[String]| -> Result<serde_json::Map<String, serde_json::Value>, String> {
        list.iter()
            .map(|s| parse_setting(s).map_err(|e| e.to_string()))
            .collect()
    };
    let (mut server_config, mut client_config) =
        match (settings(&a.server_config), settings(&a.client_config)) {
            (Ok(s), Ok(c)) => (s, c),
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
    for (k, v) in block.server_config {
        server_config.entry(k).or_insert(v);
    }
    for (k, v) in block.client_config {
        client_config.entry(k).or_insert(v);
    }
    // A flag given wins over the file.
    let pick = |flag: &[String], file: &[String]| -> Vec<String> {
        if flag.is_empty() { file } else { flag }.to_vec()
    };
    let protocol = a
        .protocol
        .clone()
        .or((!block.protocol.is_empty()).then(|| block.protocol.clone()))
        .unwrap_or_else(|| "minip".into());
    let spec = Spec {
        protocol,
        servers: pick(&a.servers, &block.servers)
            .iter()
            .map(|s| Peer::parse(s))
            .collect(),
        clients: pick(&a.clients, &block.clients)
            .iter()
            .map(|s| Peer::parse(s))
            .collect(),
        cases: pick(&a.cases, &block.cases),
        network_environment: a
            .network_environment
            .clone()
            .or(block.network_environment.clone())
            .unwrap_or_else(|| "localhost".into()),
        timeout,
        repeat: a.repeat.or(block.repeat).unwrap_or(1),
        jobs: a
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        shard,
        server_config,
        client_config,
    };
    let spec = spec.resolve(reg).map_err(|e| e.to_string())?;
    Ok((spec, expect))
}

fn run_matrix(cli: &Cli, a: &RunArgs) -> i32 {
    let reg = cli.registry();
    let block = match &a.file {
        Some(f) => match matrix_block(f, &reg) {
            Ok(b) => b,
            Err(code) => return code,
        },
        None => Default::default(),
    };
    let (spec, expect) = match spec_from(a, &reg, block) {
        Ok(x) => x,
        Err(e) => return bad(e),
    };
    let name = format!("matrix_{}", spec.protocol);
    let dir = match crate::results::new_dir(&a.output, &name) {
        Ok((d, _)) => d,
        Err(e) => return bad(format!("{}: {e}", a.output.display())),
    };
    let total = runner::cell_count(&spec);
    eprintln!(
        "matrix: {} servers × {} clients × {} cases{} = {total} cells, {} at a time → {}",
        spec.servers.len(),
        spec.clients.len(),
        spec.cases.len(),
        spec.shard
            .map(|s| format!(" (shard {s})"))
            .unwrap_or_default(),
        spec.jobs,
        dir.display()
    );
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return bad(format!("cannot start the runtime: {e}")),
    };
    let bar = progress(total);
    // On a terminal the grid fills in above the bar as cells finish (the workbench's matrix
    // screen, in text); elsewhere a line per cell.
    let grid = std::sync::Mutex::new(runner::empty(&spec, String::new()));
    if let Some(b) = &bar {
        b.set_message(output::grid_text(&grid.lock().expect("grid")));
    }
    let opts = RunOptions {
        grace: Duration::from_millis(a.grace_ms),
        panther_exe: None,
    };
    let result = rt.block_on(async {
        let (cancel_tx, cancel) = tokio::sync::watch::channel(false);
        let interrupted = tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            let _ = cancel_tx.send(true);
        });
        let m = runner::run(
            &spec,
            &reg,
            &dir,
            &opts,
            cancel.clone(),
            |cell, r, done, _| {
                let line = format!(
                    "{} × {} × {}: {}{}",
                    cell.server,
                    cell.client,
                    cell.case,
                    r.verdict.as_str(),
                    if r.runs > 1 {
                        format!(" ({}/{} passed)", r.passes, r.runs)
                    } else {
                        String::new()
                    }
                );
                match &bar {
                    Some(b) => {
                        if let Ok(mut g) = grid.lock() {
                            g.insert(cell, r.clone());
                            b.set_message(output::grid_text(&g));
                        }
                        b.set_position(done as u64);
                    }
                    None => eprintln!("[{done}/{total}] {line}"),
                }
            },
        )
        .await;
        interrupted.abort();
        (m, *cancel.borrow())
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let (m, cancelled) = result;
    let m = match m {
        Ok(m) => m,
        Err(e) => return bad(format!("{}: {e}", dir.display())),
    };
    if let Err(e) = output::write_all(&dir, &m, expect.as_ref()) {
        eprintln!("panther matrix: writing {}: {e}", dir.display());
    }
    print!("{}", output::markdown(&m));
    if let Some(cpu) = own_cpu() {
        eprintln!(
            "panther's own CPU: {:.2} s ({:.0} ms per cell; the services' is not counted)",
            cpu.as_secs_f64(),
            cpu.as_secs_f64() * 1000.0 / total.max(1) as f64
        );
    }
    println!("\nmatrix: {}", dir.display());
    if cancelled {
        return exit::INTERRUPTED;
    }
    let failed = failed_gates(&m, expect.as_ref());
    if failed.is_empty() {
        exit::OK
    } else {
        eprintln!("{} gating cells did not pass", failed.len());
        exit::TEST_FAILED
    }
}

/// The `matrix:` block of an experiment file, validated with positions (a bad file is
/// reported as `panther validate` reports it, exit 2).
fn matrix_block(
    f: &std::path::Path,
    reg: &crate::plugin::Registry,
) -> Result<crate::experiment::model::MatrixBlock, i32> {
    let loaded = crate::experiment::load_file(f, reg);
    let errors = crate::diag::has_errors(&loaded.diagnostics);
    for d in &loaded.diagnostics {
        eprintln!("{d}");
    }
    match loaded.experiment.and_then(|e| e.matrix) {
        Some(m) if !errors => Ok(m),
        Some(_) => Err(exit::BAD_INPUT),
        None if errors => Err(exit::BAD_INPUT),
        None => Err(bad(format!(
            "{}: no `matrix:` block (write one, or give --servers/--clients/--cases)",
            f.display()
        ))),
    }
}

/// A progress bar on a terminal, with the time left; none otherwise (lines instead).
/// The CPU time of panther's own process (user + system), its services excluded.
fn own_cpu() -> Option<Duration> {
    use nix::sys::resource::{UsageWho, getrusage};
    let u = getrusage(UsageWho::RUSAGE_SELF).ok()?;
    let t = |tv: nix::sys::time::TimeVal| {
        Duration::from_secs(tv.tv_sec().max(0) as u64)
            + Duration::from_micros(tv.tv_usec().max(0) as u64)
    };
    Some(t(u.user_time()) + t(u.system_time()))
}

fn progress(total: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let b = indicatif::ProgressBar::new(total as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg}\n{bar:30} {pos}/{len} cells · {elapsed} · {eta} left",
    ) {
        b.set_style(style);
    }
    Some(b)
}

fn diff(old: &std::path::Path, new: &std::path::Path) -> i32 {
    let (o, n) = match (output::read(old), output::read(new)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => return bad(e),
    };
    let changes = compare::diff(&o, &n);
    let v = |x: Option<crate::matrix::CellVerdict>| x.map_or("absent", |v| v.as_str());
    for c in &changes {
        let tag = if c.is_regression() {
            "REGRESSION"
        } else if c.is_fix() {
            "fixed"
        } else {
            "changed"
        };
        println!(
            "{tag:10} {} × {} × {}: {} → {}",
            c.cell.server,
            c.cell.client,
            c.cell.case,
            v(c.old),
            v(c.new)
        );
    }
    if changes.is_empty() {
        println!("no cell changed");
    }
    if changes.iter().any(|c| c.is_regression()) {
        exit::TEST_FAILED
    } else {
        exit::OK
    }
}

fn merge(dirs: &[PathBuf], out: &std::path::Path) -> i32 {
    let mut parts = Vec::new();
    for d in dirs {
        match output::read(d) {
            Ok(m) => parts.push(m),
            Err(e) => return bad(e),
        }
    }
    let m = match compare::merge(parts) {
        Ok(m) => m,
        Err(e) => return bad(e),
    };
    if let Err(e) = std::fs::create_dir_all(out).and_then(|_| output::write_all(out, &m, None)) {
        return bad(format!("{}: {e}", out.display()));
    }
    println!("merged {} cells into {}", m.iter().count(), out.display());
    exit::OK
}
