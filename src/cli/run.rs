//! `panther run FILE`: a whole experiment, headless. Progress on a terminal, plain lines
//! otherwise, a results folder always; Ctrl-C or SIGTERM tears the run down cleanly.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};

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
    // The signals are registered for the whole run: a `ctrl_c()` future made afresh in each
    // loop turn misses a SIGINT that lands while an event is being printed (seen under load:
    // the run then went on to its end, exit 1 instead of 130). SIGHUP (a closed terminal, a
    // dropped ssh) and SIGQUIT tear down like SIGINT and SIGTERM.
    let mut stops = match Stops::register() {
        Ok(s) => Some(s),
        Err(e) => {
            say!("warning: cannot watch for signals: {e}");
            None
        }
    };
    let mut interrupted = false;
    let mut live = std::mem::replace(&mut run.live, tokio::sync::broadcast::channel(1).1);
    loop {
        tokio::select! {
            ev = live.recv() => match ev {
                Ok(e) => show(&e, bar.as_ref()),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => break,
            },
            Some(sig) = async { match stops.as_mut() { Some(s) => s.next().await, None => std::future::pending().await } }, if !interrupted => {
                interrupted = true;
                if sig == SIGINT {
                    say!("interrupted: tearing down (Ctrl-C again is ignored; services get SIGINT, SIGTERM, then SIGKILL)");
                }
                let _ = run.cancel.send(true);
            }
        }
    }
    drop(stops);
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
/// Neither nix nor signal-hook offers a query that installs nothing, hence the raw call.
fn inherited_ignore(sig: nix::libc::c_int) -> bool {
    // SAFETY: a query only (a null new action), into a zeroed plain-data struct owned here.
    unsafe {
        let mut old: nix::libc::sigaction = std::mem::zeroed();
        nix::libc::sigaction(sig, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == nix::libc::SIG_IGN
    }
}

/// The signals that tear a run down, read through signal-hook on a thread of their own and
/// handed to the async loop. Under `nohup` SIGHUP comes ignored and stays so: that is what
/// the user asked for.
struct Stops {
    rx: tokio::sync::mpsc::UnboundedReceiver<i32>,
    handle: signal_hook::iterator::Handle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Stops {
    fn register() -> std::io::Result<Stops> {
        let mut sigs = vec![SIGINT, SIGTERM, SIGQUIT];
        if !inherited_ignore(SIGHUP) {
            sigs.push(SIGHUP);
        }
        let mut signals = signal_hook::iterator::Signals::new(&sigs)?;
        let handle = signals.handle();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let thread = std::thread::Builder::new()
            .name("panther-signals".into())
            .spawn(move || {
                for s in signals.forever() {
                    if tx.send(s).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Stops {
            rx,
            handle,
            thread: Some(thread),
        })
    }

    async fn next(&mut self) -> Option<i32> {
        self.rx.recv().await
    }
}

impl Drop for Stops {
    /// Ends the reading thread (the handlers stay installed, so a late signal is still
    /// swallowed rather than killing a panther that is writing its summary).
    fn drop(&mut self) {
        self.handle.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
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
