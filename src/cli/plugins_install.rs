//! `panther plugins install NAME... [--dry-run]`: a manifest's install steps, run one argv
//! at a time (`crate::plugin::install`), each printed and skipped when already done.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::plugin::install::{self, Ctx, Step};
use crate::plugin::{Plugin, Registry, loader};
use crate::suggest;

use super::exit;

/// How much of a failing command's output is printed.
const FAILURE_TAIL: usize = 60;

pub fn run(reg: &Registry, names: &[String], dry_run: bool) -> i32 {
    let mut plugins = Vec::new();
    for n in names {
        match reg.find(n) {
            Some(p) => plugins.push(p),
            None => {
                let help = suggest::did_you_mean(n, reg.plugins().iter().map(|p| p.name()));
                eprintln!(
                    "error: no plugin named `{n}`{}",
                    help.map(|h| format!(" ({h})")).unwrap_or_default()
                );
                return exit::BAD_INPUT;
            }
        }
    }
    let tools = install::tools_dir();
    for p in plugins {
        let t0 = Instant::now();
        match install_one(p, &tools, dry_run) {
            Ok(0) if dry_run => {}
            Ok(ran) => println!(
                "{}: installed ({ran} step{} run, {:.1} s)",
                p.name(),
                if ran == 1 { "" } else { "s" },
                t0.elapsed().as_secs_f64()
            ),
            Err(Failure::Input(e)) => {
                eprintln!("error: {}: {e}", p.name());
                return exit::BAD_INPUT;
            }
            Err(Failure::Step(e)) => {
                eprintln!("error: {}: {e}", p.name());
                return exit::TEST_FAILED;
            }
        }
    }
    exit::OK
}

enum Failure {
    /// The manifest cannot be installed as written.
    Input(String),
    /// A command failed (its output is in the message).
    Step(String),
}

/// Runs the plugin's pending steps; the number that ran.
fn install_one(p: &Plugin, tools: &std::path::Path, dry_run: bool) -> Result<usize, Failure> {
    let inst = &p.manifest.install;
    if inst.is_empty() {
        println!("{}: nothing to install", p.name());
        return Ok(0);
    }
    let plugin_dir = if inst.cargo.iter().any(|c| c.path.is_some()) {
        Some(source_dir(p, tools).map_err(Failure::Input)?)
    } else {
        p.dir.clone()
    };
    let ctx = Ctx {
        tools: tools.to_path_buf(),
        plugin_dir,
        resolve_python: true,
    };
    let steps = install::try_steps(inst, &ctx).map_err(|e| Failure::Input(e.to_string()))?;
    let mut ran = 0;
    for s in &steps {
        match s.pending() {
            None => println!("{}: present, skipped: {}", p.name(), s.argv.join(" ")),
            Some(argv) if dry_run => println!("{}: would run: {}", p.name(), argv.join(" ")),
            Some(argv) => {
                println!("{}: running: {}", p.name(), argv.join(" "));
                run_step(s, &argv).map_err(Failure::Step)?;
                ran += 1;
            }
        }
    }
    Ok(ran)
}

/// The plugin's folder on disk; a bundled plugin is written out under the tools folder
/// (subfolders included) so cargo can build a crate it carries.
fn source_dir(p: &Plugin, tools: &std::path::Path) -> Result<PathBuf, String> {
    if let Some(d) = &p.dir {
        return Ok(d.clone());
    }
    let dest = tools.join(".plugins");
    loader::materialize_bundled_tree(&p.file, &dest)
        .map_err(|e| format!("cannot write the bundled plugin out: {e}"))
}

fn run_step(s: &Step, argv: &[String]) -> Result<(), String> {
    let t0 = Instant::now();
    let mut out = exec(argv)?;
    // A stale package list is the usual reason apt cannot find a package: refresh once.
    if !out.0 && matches!(s.done_when, install::Done::Apt(_)) {
        println!("  apt-get install failed; running apt-get update and trying again");
        let _ = exec(&["apt-get".into(), "update".into()]);
        out = exec(argv)?;
    }
    let (ok, text) = out;
    if ok {
        println!("  done in {:.1} s", t0.elapsed().as_secs_f64());
        return Ok(());
    }
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(FAILURE_TAIL)..].join("\n");
    Err(format!("`{}` failed:\n{tail}", argv.join(" ")))
}

/// Runs one argv with stdin closed; whether it succeeded and its stdout + stderr.
fn exec(argv: &[String]) -> Result<(bool, String), String> {
    let (prog, args) = argv.split_first().ok_or("empty command")?;
    let o = Command::new(prog)
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `{prog}`: {e}"))?;
    let mut text = String::from_utf8_lossy(&o.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&o.stderr));
    Ok((o.status.success(), text))
}
