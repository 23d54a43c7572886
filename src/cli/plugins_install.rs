//! `panther plugins install NAME... [--dry-run] [--no-prompt]`: a manifest's install steps,
//! run one argv at a time (`crate::plugin::install`), each printed and skipped when already
//! done; apt under sudo when not root and after `apt-get update` when its lists are stale
//! (`super::as_root`). Each command's output is streamed line by line as it comes (the
//! workbench's `i` runs this command and shows those lines in its status line).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::plugin::install::{self, Ctx, Step};

use super::as_root::{self, Privilege, Prompt};
use crate::plugin::{Plugin, Registry, loader};
use crate::suggest;

use super::exit;

/// How much of a failing command's output is printed.
const FAILURE_TAIL: usize = 60;

pub fn run(reg: &Registry, names: &[String], dry_run: bool, prompt: Prompt) -> i32 {
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
    let mut root = Root {
        who: Privilege::here(),
        prompt,
        lists_fresh: as_root::apt_lists_fresh(
            std::path::Path::new(as_root::APT_LISTS),
            std::time::SystemTime::now(),
        ),
    };
    for p in plugins {
        let t0 = Instant::now();
        match install_one(p, &tools, dry_run, &mut root) {
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

/// How apt commands run here, and whether its lists were refreshed.
struct Root {
    who: Privilege,
    prompt: Prompt,
    lists_fresh: bool,
}

/// Runs the plugin's pending steps; the number that ran.
fn install_one(
    p: &Plugin,
    tools: &std::path::Path,
    dry_run: bool,
    root: &mut Root,
) -> Result<usize, Failure> {
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
            Some(argv) => {
                let planned = as_root::plan(
                    p.name(),
                    vec![argv],
                    root.who,
                    root.lists_fresh,
                    root.prompt,
                )
                .map_err(|e| Failure::Input(e.to_string()))?;
                for argv in planned {
                    if dry_run {
                        println!("{}: would run: {}", p.name(), argv.join(" "));
                        continue;
                    }
                    println!("{}: running: {}", p.name(), argv.join(" "));
                    run_step(s, &argv, root).map_err(Failure::Step)?;
                    ran += 1;
                }
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

fn run_step(s: &Step, argv: &[String], root: &mut Root) -> Result<(), String> {
    let t0 = Instant::now();
    let update = argv.ends_with(&["apt-get".to_string(), "update".to_string()]);
    let mut out = exec(argv)?;
    if update && out.0 {
        root.lists_fresh = true;
    }
    // A stale package list is the usual reason apt cannot find a package: refresh once
    // (unless this run just did).
    if !out.0 && !update && matches!(s.done_when, install::Done::Apt(_)) && !root.lists_fresh {
        println!("  apt-get install failed; running apt-get update and trying again");
        let refresh = as_root::elevated(
            vec!["apt-get".into(), "update".into()],
            root.who,
            root.prompt,
        );
        let _ = exec(&refresh);
        root.lists_fresh = true;
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

/// Runs one argv with stdin closed, its stdout and stderr printed line by line as they come
/// (indented, so they read as the step's); whether it succeeded and everything it printed.
fn exec(argv: &[String]) -> Result<(bool, String), String> {
    use std::io::BufRead;
    let (prog, args) = argv.split_first().ok_or("empty command")?;
    let mut child = Command::new(prog)
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `{prog}`: {e}"))?;
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|o| Box::new(o) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|e| Box::new(e) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|r| {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(r).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        })
    })
    .collect();
    drop(tx);
    let mut text = String::new();
    for line in rx {
        println!("  | {line}");
        text.push_str(&line);
        text.push('\n');
    }
    for r in readers {
        let _ = r.join();
    }
    let status = child.wait().map_err(|e| format!("`{prog}`: {e}"))?;
    Ok((status.success(), text))
}
