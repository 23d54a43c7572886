//! Nothing left behind: every service runs in its own process group, recorded in the run's
//! `pids` file with the identity of the panther that started it ([`Owner`]: pid plus start
//! time), and every process of a service carries that identity in its environment
//! ([`MARK`]). Services run under panther's init and die with panther (see `super::init`);
//! without the init (no root), a daemon may survive a SIGKILL of panther, so the next start
//! sweeps what is left.
//!
//! The sweep signals only processes that prove they are a leftover: a process is killed only
//! when its own environment carries the mark of an owner that is gone, whose token a `pids`
//! file names. A pid or a group number alone proves nothing (pids are reused, a results
//! folder may be copied in or written by hand), so nothing is ever signalled on their word,
//! and never this panther's own group.

use std::io::Write;
use std::path::{Path, PathBuf};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::owner::{self, Owner};

pub const PIDS_FILE: &str = "pids";

/// The environment variable every service process gets: the token of the panther that
/// started it.
pub const MARK: &str = "PANTHER_RUN_OWNER";

/// Appends "OWNER_TOKEN PGID LEADER_START SERVICE" to the run's pid file.
pub fn record(run_dir: &Path, pgid: u32, service: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(run_dir.join(PIDS_FILE))?;
    let start = owner::start_time(pgid).unwrap_or(0);
    writeln!(f, "{} {pgid} {start} {service}", Owner::current().token())
}

/// Marks the run's groups as gone (called after a clean teardown).
pub fn clear(run_dir: &Path) {
    let _ = std::fs::remove_file(run_dir.join(PIDS_FILE));
}

/// Kills the leftover service processes of runs whose panther is gone; returns how many
/// processes were signalled. `outputs` is the results root.
pub fn sweep(outputs: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(outputs) else {
        return 0;
    };
    let me = Owner::current();
    let mut dead: Vec<Owner> = Vec::new();
    for e in entries.flatten() {
        let file: PathBuf = e.path().join(PIDS_FILE);
        let Ok(text) = crate::plugin::loader::read_limited(&file, 1 << 20) else {
            continue;
        };
        let mut stale = true;
        for line in text.lines() {
            let Some(first) = line.split_whitespace().next() else {
                continue;
            };
            match Owner::parse(first) {
                Some(o) if o == me || o.alive() => stale = false,
                Some(o) => {
                    if !dead.contains(&o) {
                        dead.push(o);
                    }
                }
                // An older format (a bare pid): nothing to prove identity with, so nothing is
                // signalled; a live pid keeps the file.
                None => {
                    if first.parse::<i32>().is_ok_and(|p| p > 0 && alive(p)) {
                        stale = false;
                    }
                }
            }
        }
        if stale {
            let _ = std::fs::remove_file(&file);
        }
    }
    if dead.is_empty() {
        return 0;
    }
    let mut killed = 0;
    for pid in leftovers(&dead) {
        if kill(Pid::from_raw(pid as i32), Signal::SIGKILL).is_ok() {
            killed += 1;
            tracing::warn!(
                pid,
                "swept a service process left by a panther that is gone"
            );
        }
    }
    killed
}

fn alive(pid: i32) -> bool {
    kill(Pid::from_raw(pid), None).is_ok()
}

/// The processes that carry the mark of one of the `dead` owners and started after it.
/// Never this process, nor its group.
pub fn leftovers(dead: &[Owner]) -> Vec<u32> {
    let me = std::process::id();
    let my_group = nix::unistd::getpgrp().as_raw() as u32;
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid <= 1 || pid == me {
            continue;
        }
        let Some(owner) = mark_of(pid) else {
            continue;
        };
        let Some(o) = dead.iter().find(|d| **d == owner) else {
            continue;
        };
        let Some((start, pgid)) = stat_of(pid) else {
            continue;
        };
        if start < o.start || pgid == my_group {
            continue;
        }
        // Still the same process as the one read above (not reused in between).
        if owner::start_time(pid) == Some(start) {
            out.push(pid);
        }
    }
    out
}

/// The owner named by [`MARK`] in a process's environment.
fn mark_of(pid: u32) -> Option<Owner> {
    let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    let prefix = format!("{MARK}=");
    env.split(|&b| b == 0).find_map(|kv| {
        let v = kv.strip_prefix(prefix.as_bytes())?;
        Owner::parse(std::str::from_utf8(v).ok()?)
    })
}

/// Start time and process group, from `/proc/PID/stat`.
fn stat_of(pid: u32) -> Option<(u64, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some((f.get(19)?.parse().ok()?, f.get(2)?.parse().ok()?))
}
