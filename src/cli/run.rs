//! `panther run FILE`: a whole experiment, headless. Progress on a terminal, plain lines
//! otherwise, a results folder always; Ctrl-C or SIGTERM tears the run down cleanly.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use crate::events::{Event, Kind};
use crate::experiment;
use crate::plugin::loader::read_limited;
use crate::run::{self, Options};

use super::report::print_all;
use super::{Cli, exit};

/// `eprintln!` that never panics: after SIGHUP the terminal is gone and writes fail, and the
/// teardown must go on regardless.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

/// `println!` that never panics (a closed or full stdout).
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The experiment config.
    pub file: PathBuf,
    /// Results root; each run gets its own `<date>_<name>/` folder in it.
    #[arg(long, short, value_name = "DIR", default_value = "outputs")]
    pub output: PathBuf,
    /// Run only this test.
    #[arg(long, value_name = "NAME")]
    pub test: Option<String>,
    /// Print the run summary (summary.json) on stdout at the end.
    #[arg(long)]
    pub json: bool,
    /// Milliseconds between SIGINT, SIGTERM and SIGKILL when stopping a service.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    pub grace_ms: u64,
}

pub fn run(cli: &Cli, a: &Args) -> i32 {
    let reg = cli.registry();
    let file = a.file.display().to_string();
    let text = match read_limited(&a.file, experiment::LIMITS.max_bytes) {
        Ok(t) => t,
        Err(e) => {
            eprint!("{}", super::report::render_read_error(&file, &e));
            return exit::BAD_INPUT;
        }
    };
    let loaded = experiment::load_str(&text, &file, &reg);
    if !loaded.is_ok() {
        let (errors, _) = print_all(&loaded.diagnostics, Some(&text));
        say!("{file}: {errors} error(s); nothing was run");
        return exit::BAD_INPUT;
    }
    print_all(&loaded.diagnostics, Some(&text));
    let exp = loaded.experiment.expect("ok implies parsed");
    if exp.tests.is_empty() && exp.matrix.is_some() {
        eprintln!(
            "{file}: holds a `matrix:` and no tests\n  help: run it with `panther matrix {file}`"
        );
        return exit::BAD_INPUT;
    }
    if let Some(t) = &a.test
        && !exp.tests.iter().any(|x| &x.name == t)
    {
        let names: Vec<&str> = exp.tests.iter().map(|x| x.name.as_str()).collect();
        say!(
            "error: no test named `{t}`\n  expected: one of {}",
            crate::suggest::one_of(&names)
        );
        return exit::BAD_INPUT;
    }
    let name = exp
        .metadata
        .as_ref()
        .and_then(|m| m.name.clone())
        .or_else(|| a.file.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "run".into());
    let opts = Options {
        output_root: a.output.clone(),
        only_test: a.test.clone(),
        grace: Duration::from_millis(a.grace_ms),
        config_path: file.clone(),
        ..Options::default()
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            say!("error: cannot start the runtime: {e}");
            return exit::BAD_INPUT;
        }
    };
    rt.block_on(drive(exp, name, reg, opts, a.json))
}

async fn drive(
    exp: experiment::Experiment,
    name: String,
    reg: crate::plugin::Registry,
    opts: Options,
    json: bool,
) -> i32 {
    let mut run = match run::start(exp, &name, reg, opts) {
        Ok(r) => r,
        Err(e) => {
            say!("error: cannot create the results folder: {e}");
            return exit::BAD_INPUT;
        }
    };
    say!("results: {}", run.dir.display());
    let tty = std::io::stderr().is_terminal();
    let bar = tty.then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.enable_steady_tick(Duration::from_millis(100));
        b
    });
    // The signal streams exist for the whole run: a `ctrl_c()` future made afresh in each
    // loop turn misses a SIGINT that lands while an event is being printed (seen under load:
    // the run then went on to its end, exit 1 instead of 130). SIGHUP (a closed terminal, a
    // dropped ssh) and SIGQUIT tear down like SIGINT and SIGTERM.
    use tokio::signal::unix::{SignalKind, signal};
    let mut sigint = signal(SignalKind::interrupt()).ok();
    // Under `nohup` SIGHUP comes ignored, and stays so: that is what the user asked for.
    let mut kinds = vec![SignalKind::terminate(), SignalKind::quit()];
    if !inherited_ignore(nix::libc::SIGHUP) {
        kinds.push(SignalKind::hangup());
    }
    let mut others: Vec<tokio::signal::unix::Signal> =
        kinds.into_iter().filter_map(|k| signal(k).ok()).collect();
    let mut interrupted = false;
    let mut live = std::mem::replace(&mut run.live, tokio::sync::broadcast::channel(1).1);
    loop {
        tokio::select! {
            ev = live.recv() => match ev {
                Ok(e) => show(&e, bar.as_ref()),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => break,
            },
            _ = async { match sigint.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } }, if !interrupted => {
                interrupted = true;
                say!("interrupted: tearing down (Ctrl-C again is ignored; services get SIGINT, SIGTERM, then SIGKILL)");
                let _ = run.cancel.send(true);
            }
            _ = any_signal(&mut others), if !interrupted => {
                interrupted = true;
                let _ = run.cancel.send(true);
            }
        }
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    match run.finish().await {
        Ok(s) => {
            for (i, t) in s.tests.iter().enumerate() {
                let exp = match t.expected {
                    Some(e) if e != crate::verdict::Verdict::Pass => format!(" (expected {e})"),
                    _ => String::new(),
                };
                let mark = if t.met_expectation { "ok  " } else { "FAIL" };
                say!(
                    "{mark} {:<40} {}{exp}: {}",
                    printable(&t.name),
                    s.test_outcome(i),
                    printable(&t.reason)
                );
            }
            say!(
                "{} · {} events · {:.1} s",
                if s.ok {
                    "all tests met their expectations"
                } else {
                    "some tests did not meet their expectations"
                },
                s.events,
                s.duration_ms as f64 / 1000.0
            );
            if json {
                out!(
                    "{}",
                    serde_json::to_string_pretty(&s).expect("summary serializes")
                );
            }
            if s.interrupted || interrupted {
                exit::INTERRUPTED
            } else if s.ok {
                exit::OK
            } else {
                exit::TEST_FAILED
            }
        }
        Err(e) => {
            say!("error: the run failed: {e}");
            exit::BAD_INPUT
        }
    }
}

/// Text from services (a reason quoting an IUT's stderr) with control characters shown as
/// escapes, so no escape sequence reaches the terminal.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `sig` was ignored when panther started (a disposition inherited from the parent).
fn inherited_ignore(sig: nix::libc::c_int) -> bool {
    // SAFETY: a query only (no new action), into a zeroed struct owned here.
    unsafe {
        let mut old: nix::libc::sigaction = std::mem::zeroed();
        nix::libc::sigaction(sig, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == nix::libc::SIG_IGN
    }
}

/// The next of several signals.
async fn any_signal(sigs: &mut [tokio::signal::unix::Signal]) {
    if sigs.is_empty() {
        return std::future::pending().await;
    }
    let futs = sigs.iter_mut().map(|s| Box::pin(s.recv()));
    futures_util::future::select_all(futs).await;
}

fn show(e: &Event, bar: Option<&indicatif::ProgressBar>) {
    let line = match e.kind {
        Kind::Lifecycle => format!(
            "{:>8.3}s {} {}: {}",
            e.t as f64 / 1e6,
            e.test,
            e.source,
            e.text
        ),
        Kind::Verdict
            if e.data.get("test_verdict").is_some() || e.data.get("service_verdict").is_some() =>
        {
            format!(
                "{:>8.3}s {} {}: verdict {}",
                e.t as f64 / 1e6,
                e.test,
                e.source,
                e.text
            )
        }
        _ => return,
    };
    match bar {
        Some(b) => {
            let line = printable(&line);
            if e.kind == Kind::Verdict {
                b.println(line);
            } else {
                b.set_message(line);
            }
        }
        None => say!("{}", printable(&line)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reasons_reach_the_terminal_without_escape_sequences() {
        let p = super::printable("IUT crashed: \u{1b}]0;pwned\u{7}\u{1b}[2J\r\nbye");
        assert!(!p.chars().any(char::is_control), "{p}");
        assert!(p.contains("\\u{1b}[2J") && p.ends_with("bye"));
    }
}
