//! Logs go to a file, never to the terminal (the TUI owns the screen; the CLI's output is
//! for results). `$PANTHER_LOG_FILE` overrides the place, `$PANTHER_LOG` the level.

use std::path::PathBuf;

use tracing_subscriber::EnvFilter;

pub fn log_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PANTHER_LOG_FILE") {
        return Some(PathBuf::from(p));
    }
    let base = dirs::state_dir().or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))?;
    Some(base.join("panther").join("panther.log"))
}

/// Installs the file logger; returns the guard that flushes it on drop. Failing to open the
/// log file costs the logs, not the command.
pub fn init() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let path = log_file()?;
    let dir = path.parent()?;
    std::fs::create_dir_all(dir).ok()?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = EnvFilter::try_from_env("PANTHER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}
