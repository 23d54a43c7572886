//! The full-screen workbench. Only this module knows ratatui and crossterm; it drives the same
//! headless core as the CLI. The terminal is restored on quit,
//! panic and SIGTERM; logs go to a file; `NO_COLOR` is honoured.

pub mod app;
pub mod config;
pub mod create_wizard;
pub mod editor;
pub mod form;
pub mod form_patch;
pub mod keymap;
pub mod keys;
pub mod matrix_screen;
pub mod palette;
pub mod screens;
pub mod sequence_screen;
pub mod text_search;
pub mod theme;
pub mod tutor_picker;
pub mod widgets;

use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use crossterm::event::{self, Event, KeyEventKind};
use ratatui::DefaultTerminal;

use crate::plugin::Registry;

use app::{Action, App, Effect};

/// The signal that ended the workbench (SIGTERM, SIGHUP, SIGQUIT, SIGINT), 0 while none has.
static TERMINATE: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_terminate(sig: nix::libc::c_int) {
    TERMINATE.store(sig, Ordering::SeqCst);
}

/// The signal that ended the last workbench run, if one did: the caller exits 128 + it (as a
/// shell reports a process killed by it), after the terminal is restored.
pub fn ended_by_signal() -> Option<i32> {
    Some(TERMINATE.load(Ordering::SeqCst)).filter(|&s| s != 0)
}

/// SIGTERM (kill), SIGHUP (the terminal closed, ssh dropped), SIGQUIT and SIGINT (from
/// `kill`; in raw mode Ctrl-C is a key) end the loop, so the terminal is restored and a run
/// going is torn down, instead of dying in the alternate screen.
fn catch_terminating_signals() {
    use nix::sys::signal::{SigHandler, Signal, signal};
    for sig in [
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGINT,
    ] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        let _ = unsafe { signal(sig, SigHandler::Handler(on_terminate)) };
    }
}

/// `c` as a foreground when colours are on, else the terminal's own.
pub(crate) fn tint(color: bool, c: ratatui::style::Color) -> ratatui::style::Style {
    if color {
        ratatui::style::Style::default().fg(c)
    } else {
        ratatui::style::Style::default()
    }
}

/// Colour unless `NO_COLOR` is set to anything non-empty (no-color.org).
pub fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Where the workbench opens.
#[derive(Debug, Clone, Default)]
pub enum Start {
    /// The built-in quickstart experiment in the editor, ready to run with Ctrl-R.
    #[default]
    Quickstart,
    Plugins,
    /// A results folder in the sequence view (`panther replay DIR`).
    Replay(PathBuf),
    /// The quickstart with a tutorial followed alongside (resumed where it was left).
    Tutorial(String),
    /// The quickstart with the tutorial picker open (`--interactive-tutorials`).
    TutorPicker,
    /// An experiment file in the editor (`panther FILE`).
    File(PathBuf),
}

/// The workbench draws on a terminal: stdin and stdout must be one. The error says what to
/// do instead, before anything is touched.
pub fn check_terminal() -> std::io::Result<()> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        return Ok(());
    }
    Err(std::io::Error::other(
        "the workbench needs a terminal (stdin and stdout must be a TTY); headless, use \
         `panther run FILE`, `panther validate FILE` or `panther export DIR --format mermaid`",
    ))
}

/// Runs the workbench until the user quits. The terminal is restored however it ends.
pub fn run(reg: &Registry) -> std::io::Result<()> {
    run_with(
        reg,
        Start::Quickstart,
        &config::UserConfig::default(),
        &crate::plugin::LoadOptions::default(),
    )
}

/// Runs the workbench: `opts` are how `reg` was loaded (so `:reload` and `:create` load the
/// same folders again), `cfg` the user's checked config.
pub fn run_with(
    reg: &Registry,
    start: Start,
    cfg: &config::UserConfig,
    opts: &crate::plugin::LoadOptions,
) -> std::io::Result<()> {
    let mut app = App::new(reg, color_enabled());
    app.load_options = opts.clone();
    app.plugin_home = crate::plugin::registry::user_plugin_dir();
    app.config_path = config::default_path();
    app.tutorial_progress = crate::tutorial::progress_file();
    let exists = app.config_path.as_ref().is_some_and(|p| p.exists());
    app.apply_config(cfg, exists)
        .map_err(std::io::Error::other)?;
    if cfg.theme.as_ref() == Some(&app.theme.name) {
        app.message = None;
    }
    app.tutorial_dir = crate::tutorial::user_dir();
    if let Start::Tutorial(name) = &start {
        app.start_tutorial(name);
        if app.tutorial.is_none() {
            // Fail before taking over the terminal, so the message is readable.
            return Err(std::io::Error::other(
                app.message.take().unwrap_or_default(),
            ));
        }
    }
    if matches!(
        start,
        Start::Quickstart | Start::Tutorial(_) | Start::TutorPicker
    ) {
        app.update(Action::GoTo(app::Screen::Editor));
        app.back_stack.clear(); // nowhere to go back to yet
    }
    if let Start::TutorPicker = start {
        app.open_tutor_picker();
    }
    if let Start::Replay(dir) = &start {
        // Fail before taking over the terminal, so the message is readable.
        let s = app::SequenceScreen::open(dir).map_err(std::io::Error::other)?;
        app.sequence = Some(s);
        app.screen = app::Screen::Sequence;
    }
    if let Start::File(path) = &start {
        app.open_file(path).map_err(std::io::Error::other)?;
        app.back_stack.clear();
    }
    check_terminal()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    catch_terminating_signals();
    let mut terminal = ratatui::try_init()?; // also installs a panic hook that restores the terminal
    // The wheel scrolls; mouse reporting is switched off again on exit and on panic.
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
        hook(info);
    }));
    let mut live = Live::default();
    let result = event_loop(&mut terminal, &mut app, &rt, &mut live);
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    ratatui::restore();
    // Nothing left behind: a run still going is torn down before we exit.
    if let Some(run) = live.run.take() {
        let _ = run.cancel.send(true);
        if let Some(done) = live.done.take() {
            let _ =
                rt.block_on(async { tokio::time::timeout(Duration::from_secs(15), done).await });
        }
    }
    result
}

/// How a launched run ended: the status line, and each test's verdict.
type RunEnd = (String, Vec<crate::tutorial::Finished>);

/// The run launched from the workbench, if any.
#[derive(Default)]
struct Live {
    run: Option<LiveRun>,
    done: Option<tokio::sync::oneshot::Receiver<RunEnd>>,
    /// The running matrix's cancel switch (its cells report through the actions channel).
    matrix: Option<tokio::sync::watch::Sender<bool>>,
}

struct LiveRun {
    cancel: tokio::sync::watch::Sender<bool>,
    events: tokio::sync::broadcast::Receiver<std::sync::Arc<crate::events::Event>>,
}

/// Starts the editor's experiment in the background and points the sequence view at it.
fn launch(
    app: &mut App,
    rt: &tokio::runtime::Runtime,
    live: &mut Live,
    text: &str,
    path: Option<PathBuf>,
    only_test: Option<String>,
) {
    if live.run.is_some() {
        app.message = Some("a run is already going".into());
        return;
    }
    let file = path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "untitled.yaml".into());
    let loaded = crate::experiment::load_str(text, &file, &app.reg);
    let Some(exp) = loaded
        .experiment
        .filter(|_| !crate::diag::has_errors(&loaded.diagnostics))
    else {
        app.message = Some("the experiment does not validate".into());
        return;
    };
    let name = path
        .as_ref()
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "untitled".into());
    let opts = crate::run::Options {
        output_root: app.outputs.clone(),
        config_path: file,
        only_test,
        panther_exe: app.panther_exe.clone(),
        ..Default::default()
    };
    // What each test uses, for tutorial checks ("a run using my_iut passed").
    let uses: std::collections::HashMap<String, Vec<String>> = exp
        .tests
        .iter()
        .map(|t| (t.name.clone(), t.plugins()))
        .collect();
    let _guard = rt.enter();
    match crate::run::start(exp, &name, app.reg.clone(), opts) {
        Ok(mut run) => {
            let run_dir = run.dir.clone();
            let events = std::mem::replace(&mut run.live, tokio::sync::broadcast::channel(1).1);
            let cancel = run.cancel.clone();
            let (tx, rx) = tokio::sync::oneshot::channel();
            rt.spawn(async move {
                let msg = match run.finish().await {
                    Ok(s) => {
                        let tests = s
                            .tests
                            .iter()
                            .map(|t| crate::tutorial::Finished {
                                test: t.name.clone(),
                                verdict: t.verdict,
                                plugins: uses.get(&t.name).cloned().unwrap_or_default(),
                            })
                            .collect();
                        let line = format!(
                            "finished: {}{}",
                            s.outcome(),
                            if s.ok {
                                ", expectations met"
                            } else {
                                ", expectations NOT met"
                            }
                        );
                        (line, tests)
                    }
                    Err(e) => (format!("the run failed: {e}"), Vec::new()),
                };
                let _ = tx.send(msg);
            });
            let mut screen =
                app::SequenceScreen::new(format!("live: {name}"), Default::default(), true);
            screen.dir = Some(run_dir);
            app.sequence = Some(screen);
            app.parked_live = None;
            app.go(app::Screen::Sequence);
            live.run = Some(LiveRun { cancel, events });
            live.done = Some(rx);
        }
        Err(e) => app.message = Some(format!("cannot start the run: {e}")),
    }
}

/// Carries out a `Launch` effect the way the event loop does (same launch, same draining
/// into the sequence view, same report back to the app) and waits for the run to end. For
/// tests and scripts that drive the app without a terminal; other effects are ignored.
pub fn launch_and_wait(app: &mut App, effect: &Effect, limit: Duration) -> std::io::Result<()> {
    let Effect::Launch {
        text,
        path,
        only_test,
    } = effect
    else {
        return Ok(());
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut live = Live::default();
    launch(app, &rt, &mut live, text, path.clone(), only_test.clone());
    let started = std::time::Instant::now();
    let mut late = false;
    while live.run.is_some() {
        drain_live(app, &mut live);
        if !late && started.elapsed() > limit {
            // Cancelled runs still tear down: wait for that rather than leave services behind.
            late = true;
            if let Some(r) = &live.run {
                let _ = r.cancel.send(true);
            }
        }
        if late && started.elapsed() > limit + Duration::from_secs(15) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if late {
        return Err(std::io::Error::other("the run did not finish in time"));
    }
    Ok(())
}

/// Carries out a `RunMatrix` effect the way the event loop does (the same start, the same
/// actions back into the app) and waits for the matrix to end. For tests and scripts.
pub fn matrix_and_wait(app: &mut App, effect: &Effect, limit: Duration) -> std::io::Result<()> {
    let Effect::RunMatrix { only } = effect else {
        return Ok(());
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut live = Live::default();
    let (tx, rx) = std::sync::mpsc::channel::<Action>();
    run_matrix(app, &rt, &mut live, only.clone(), &tx);
    let started = std::time::Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(a) => {
                let done = matches!(a, Action::MatrixDone(_));
                app.update(a);
                if done {
                    return Ok(());
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(_) => return Err(std::io::Error::other("the matrix stopped reporting")),
        }
        if started.elapsed() > limit {
            if let Some(c) = live.matrix.take() {
                let _ = c.send(true);
            }
            return Err(std::io::Error::other("the matrix did not finish in time"));
        }
    }
}

/// Moves what the live run produced into the timeline; true when something changed.
fn drain_live(app: &mut App, live: &mut Live) -> bool {
    let mut changed = false;
    if let Some(r) = live.run.as_mut() {
        loop {
            match r.events.try_recv() {
                Ok(e) => {
                    if let Some(s) = app.live_screen() {
                        s.timeline.push(&e);
                    }
                    changed = true;
                }
                Err(tokio::sync::broadcast::error::TryRecvError::Lagged(n)) => {
                    if let Some(s) = app.live_screen() {
                        s.note = Some(format!("view skipped {n} events (all are in events.jsonl)"));
                    }
                }
                Err(_) => break,
            }
        }
    }
    if let Some(done) = live.done.as_mut()
        && let Ok((msg, tests)) = done.try_recv()
    {
        if let Some(s) = app.live_screen() {
            s.status = msg;
            s.live = false;
            s.confirm_cancel = false;
            if let Some(name) = s.title.strip_prefix("live: ") {
                s.title = name.to_string();
            }
        }
        app.run_finished(tests);
        live.done = None;
        live.run = None;
        changed = true;
    }
    changed
}

/// Starts the matrix screen's matrix (or one of its cells again) in the background; each
/// finished cell comes back as an action, then the end.
fn run_matrix(
    app: &mut App,
    rt: &tokio::runtime::Runtime,
    live: &mut Live,
    only: Option<crate::matrix::Cell>,
    tx: &std::sync::mpsc::Sender<Action>,
) {
    let Some(m) = app.matrix.as_ref() else {
        return;
    };
    let Some(spec) = m.spec.clone() else {
        app.message = Some("this matrix cannot run again (it was opened from disk)".into());
        return;
    };
    let (dir, reg) = (m.dir.clone(), app.reg.clone());
    let spec = match &only {
        Some(cell) => {
            if let Err(e) = crate::matrix::runner::set_aside(&dir, cell) {
                app.message = Some(format!("cannot run the cell again: {e}"));
                if let Some(m) = app.matrix.as_mut() {
                    m.rerunning.clear();
                }
                return;
            }
            crate::matrix::runner::only(&spec, cell)
        }
        None => spec,
    };
    let opts = crate::matrix::runner::RunOptions {
        grace: Duration::from_millis(2000),
        panther_exe: app.panther_exe.clone(),
    };
    let (cancel_tx, cancel) = tokio::sync::watch::channel(false);
    live.matrix = Some(cancel_tx);
    let tx = tx.clone();
    rt.spawn(async move {
        let cells = tx.clone();
        let r =
            crate::matrix::runner::run(&spec, &reg, &dir, &opts, cancel, move |cell, r, _, _| {
                let _ = cells.send(Action::MatrixCell {
                    cell: cell.clone(),
                    result: Box::new(r.clone()),
                });
            })
            .await;
        let _ = tx.send(Action::MatrixDone(r.map(|_| ()).map_err(|e| e.to_string())));
    });
}

/// Runs install commands (argv arrays, never a shell) on a thread, one after the other; each
/// line they print (stdout and stderr) comes back as [`Action::InstallOutput`] as it is
/// printed, so the status line shows the progress, and the outcome as [`Action::Installed`].
/// Nothing reaches the raw terminal: stdin is closed and both outputs are piped.
pub fn spawn_install(
    plugin: String,
    commands: Vec<Vec<String>>,
    tx: &std::sync::mpsc::Sender<Action>,
) -> std::thread::JoinHandle<()> {
    let tx = tx.clone();
    std::thread::spawn(move || {
        let steps = commands.len();
        let mut outcome = Ok(());
        for (i, c) in commands.iter().enumerate() {
            let say = |line: String| {
                let _ = tx.send(Action::InstallOutput {
                    plugin: plugin.clone(),
                    step: i + 1,
                    steps,
                    line,
                });
            };
            say(format!("$ {}", c.join(" ")));
            if let Err(e) = install_step(c, &say) {
                tracing::warn!(?c, %e, "install step failed");
                outcome = Err(e);
                break;
            }
            tracing::info!(?c, "install step done");
        }
        let _ = tx.send(Action::Installed { plugin, outcome });
    })
}

/// One install command, its output lines passed to `say` as they come; the error says the
/// command, how it ended and its last line.
fn install_step(c: &[String], say: &dyn Fn(String)) -> Result<(), String> {
    use std::io::BufRead;
    let (prog, args) = c.split_first().ok_or("empty command")?;
    let mut child = std::process::Command::new(prog)
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("`{}`: {e}", c.join(" ")))?;
    let (ltx, lrx) = std::sync::mpsc::channel::<String>();
    let out: Option<Box<dyn std::io::Read + Send>> =
        child.stdout.take().map(|o| Box::new(o) as Box<_>);
    let err: Option<Box<dyn std::io::Read + Send>> =
        child.stderr.take().map(|e| Box::new(e) as Box<_>);
    let readers: Vec<_> = [out, err]
        .into_iter()
        .flatten()
        .map(|r| {
            let ltx = ltx.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(r).lines().map_while(Result::ok) {
                    if ltx.send(line).is_err() {
                        break;
                    }
                }
            })
        })
        .collect();
    drop(ltx);
    let mut last = String::new();
    for line in lrx {
        if !line.trim().is_empty() {
            last.clone_from(&line);
        }
        say(line);
    }
    for r in readers {
        let _ = r.join();
    }
    let status = child
        .wait()
        .map_err(|e| format!("`{}`: {e}", c.join(" ")))?;
    if status.success() {
        return Ok(());
    }
    Err(format!(
        "`{}` {}: {last}",
        c.join(" "),
        crate::run::process::describe(status)
    ))
}

fn event_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    rt: &tokio::runtime::Runtime,
    live: &mut Live,
) -> std::io::Result<()> {
    let size = terminal.size()?;
    app.update(Action::Resize(size.width, size.height));
    let mut dirty = true;
    let mut last_draw = std::time::Instant::now();
    let (installs_tx, installs_rx) = std::sync::mpsc::channel::<Action>();
    // At most ~30 frames a second; input and events between frames are handled in batches.
    let frame = Duration::from_millis(33);
    loop {
        if ended_by_signal().is_some() {
            return Ok(());
        }
        if drain_live(app, live) {
            dirty = true;
        }
        // A tutorial's hint appears after a delay: look again about once a second.
        if app.tutorial.is_some() && last_draw.elapsed() >= Duration::from_secs(1) {
            dirty = true;
        }
        if app.expire_message(std::time::Instant::now()) {
            dirty = true;
        }
        while let Ok(a) = installs_rx.try_recv() {
            app.update(a);
            dirty = true;
        }
        if dirty {
            terminal.draw(|f| screens::draw(f, app))?;
            dirty = false;
            last_draw = std::time::Instant::now();
        }
        let wait = if live.run.is_some() {
            frame
        } else {
            Duration::from_millis(100)
        };
        if !event::poll(wait)? {
            continue;
        }
        loop {
            let action = match event::read()? {
                Event::Key(k) if k.kind == KeyEventKind::Press => keymap::action(k, app),
                Event::Resize(w, h) => Some(Action::Resize(w, h)),
                Event::Mouse(m) => keymap::mouse(m, app),
                _ => None,
            };
            if let Some(a) = action {
                for effect in app.update(a) {
                    match effect {
                        Effect::Quit if live.matrix.is_some() => {
                            if let Some(c) = live.matrix.take() {
                                let _ = c.send(true);
                            }
                            return Ok(());
                        }
                        Effect::Quit if live.run.is_some() && !app.confirm_quit => {
                            app.confirm_quit = true;
                            app.message = Some(
                                "a run is going: q again cancels it (teardown) and quits".into(),
                            );
                        }
                        Effect::Quit => return Ok(()),
                        Effect::Launch {
                            text,
                            path,
                            only_test,
                        } => launch(app, rt, live, &text, path, only_test),
                        Effect::CancelRun => {
                            if let Some(r) = &live.run {
                                let _ = r.cancel.send(true);
                            }
                        }
                        Effect::Install { plugin, commands } => {
                            spawn_install(plugin, commands, &installs_tx);
                        }
                        Effect::RunMatrix { only } => run_matrix(app, rt, live, only, &installs_tx),
                    }
                }
                dirty = true;
            }
            if !event::poll(Duration::ZERO)? {
                break;
            }
        }
    }
}
