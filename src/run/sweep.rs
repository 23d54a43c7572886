//! Nothing left behind: every service runs in its own process group, recorded in the run's
//! `pids` file with the pid of the panther that started it. Children also get
//! PR_SET_PDEATHSIG, so they die with panther even on SIGKILL; grandchildren (a wrapper's
//! child) may not, so the next start sweeps any group whose panther is gone.

use std::io::Write;
use std::path::{Path, PathBuf};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

pub const PIDS_FILE: &str = "pids";

/// Appends "panther_pid pgid service" to the run's pid file.
pub fn record(run_dir: &Path, pgid: u32, service: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(run_dir.join(PIDS_FILE))?;
    writeln!(f, "{} {pgid} {service}", std::process::id())
}

/// Marks the run's groups as gone (called after a clean teardown).
pub fn clear(run_dir: &Path) {
    let _ = std::fs::remove_file(run_dir.join(PIDS_FILE));
}

fn alive(pid: i32) -> bool {
    nix::sys::signal::kill(Pid::from_raw(pid), None).is_ok()
}

/// Kills the process groups of runs whose panther is no longer alive; returns how many
/// groups were signalled. `outputs` is the results root.
pub fn sweep(outputs: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(outputs) else {
        return 0;
    };
    let mut killed = 0;
    for e in entries.flatten() {
        let file: PathBuf = e.path().join(PIDS_FILE);
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let mut stale = true;
        for line in text.lines() {
            let mut it = line.split_whitespace();
            let (Some(owner), Some(pgid)) = (it.next(), it.next()) else {
                continue;
            };
            let (Ok(owner), Ok(pgid)) = (owner.parse::<i32>(), pgid.parse::<i32>()) else {
                continue;
            };
            if owner == std::process::id() as i32 || alive(owner) {
                stale = false;
                continue;
            }
            if killpg(Pid::from_raw(pgid), Signal::SIGKILL).is_ok() {
                killed += 1;
                tracing::warn!(pgid, run = %e.path().display(), "swept a process group left by a previous run");
            }
        }
        if stale {
            let _ = std::fs::remove_file(&file);
        }
    }
    killed
}
