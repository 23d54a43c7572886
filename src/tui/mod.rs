//! The full-screen workbench. Only this module knows ratatui and crossterm; it drives the same
//! headless core as the CLI. Today: the plugin browser. The terminal is restored on quit,
//! panic and SIGTERM; logs go to a file; `NO_COLOR` is honoured.

pub mod app;
pub mod keymap;
pub mod screens;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossterm::event::{self, Event, KeyEventKind};
use ratatui::DefaultTerminal;

use crate::plugin::Registry;

use app::{Action, App, Effect};

static TERMINATE: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigterm(_: nix::libc::c_int) {
    TERMINATE.store(true, Ordering::SeqCst);
}

/// Colour unless `NO_COLOR` is set to anything non-empty (no-color.org).
pub fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Runs the workbench until the user quits. The terminal is restored however it ends.
pub fn run(reg: &Registry) -> std::io::Result<()> {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGTERM,
            nix::sys::signal::SigHandler::Handler(on_sigterm),
        );
    }
    let mut terminal = ratatui::init(); // also installs a panic hook that restores the terminal
    let result = event_loop(&mut terminal, App::new(reg, color_enabled()));
    ratatui::restore();
    result
}

fn event_loop(terminal: &mut DefaultTerminal, mut app: App) -> std::io::Result<()> {
    let size = terminal.size()?;
    app.update(Action::Resize(size.width, size.height));
    let mut dirty = true;
    loop {
        if TERMINATE.load(Ordering::SeqCst) {
            return Ok(());
        }
        if dirty {
            terminal.draw(|f| screens::plugins::draw(f, &app))?;
            dirty = false;
        }
        if !event::poll(Duration::from_millis(100))? {
            continue;
        }
        // Drain what is pending before the next frame.
        loop {
            let action = match event::read()? {
                Event::Key(k) if k.kind == KeyEventKind::Press => {
                    keymap::action(k, app.typing_filter)
                }
                Event::Resize(w, h) => Some(Action::Resize(w, h)),
                _ => None,
            };
            if let Some(a) = action {
                if app.update(a).contains(&Effect::Quit) {
                    return Ok(());
                }
                dirty = true;
            }
            if !event::poll(Duration::ZERO)? {
                break;
            }
        }
    }
}
