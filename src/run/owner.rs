//! Who started something, provably: a process id plus that process's start time. A pid alone
//! is not an identity (pids are reused), so everything panther leaves in the system (network
//! namespaces, containers, pid files) names its owner this way, and a sweep removes only what
//! belongs to an owner that is gone.

use std::sync::OnceLock;

/// A process, identified by its pid and its start time (clock ticks since boot, field 22 of
/// `/proc/PID/stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Owner {
    pub pid: u32,
    pub start: u64,
}

impl Owner {
    /// This panther process.
    pub fn current() -> Owner {
        static ME: OnceLock<Owner> = OnceLock::new();
        *ME.get_or_init(|| {
            let pid = std::process::id();
            Owner {
                pid,
                start: start_time(pid).unwrap_or(0),
            }
        })
    }

    /// The process `pid` as it is now, if it exists.
    pub fn of(pid: u32) -> Option<Owner> {
        Some(Owner {
            pid,
            start: start_time(pid)?,
        })
    }

    /// Whether this very process (same pid, same start) still runs.
    pub fn alive(&self) -> bool {
        Owner::of(self.pid) == Some(*self)
    }

    /// `PID-START`, the form names and labels carry.
    pub fn token(&self) -> String {
        format!("{}-{}", self.pid, self.start)
    }

    /// Reads a [`Owner::token`] back.
    pub fn parse(token: &str) -> Option<Owner> {
        let (pid, start) = token.split_once('-')?;
        Some(Owner {
            pid: pid.parse().ok()?,
            start: start.parse().ok()?,
        })
    }
}

/// Field 22 of `/proc/PID/stat`. The command name (field 2) may hold spaces and parentheses,
/// so the fields are counted from the last `)`.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_process_is_alive_and_round_trips() {
        let me = Owner::current();
        assert!(me.start > 0);
        assert!(me.alive());
        assert_eq!(Owner::parse(&me.token()), Some(me));
    }

    #[test]
    fn a_reused_pid_is_not_the_owner() {
        let me = Owner::current();
        let impostor = Owner {
            pid: me.pid,
            start: me.start + 1,
        };
        assert!(!impostor.alive());
        assert_eq!(Owner::parse("12-x"), None);
        assert_eq!(Owner::parse("nonsense"), None);
    }

    #[test]
    fn a_finished_child_is_gone() {
        let mut c = std::process::Command::new("true").spawn().unwrap();
        let o = Owner::of(c.id()).unwrap();
        c.wait().unwrap();
        assert!(!o.alive());
    }
}
