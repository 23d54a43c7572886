//! The `time` parser: GNU `/usr/bin/time -v -o FILE`'s resource report becomes a
//! [`TimeReport`] and one metric event.
//!
//! ```text
//! Command terminated by signal 9            ← or `Command exited with non-zero status 3`
//!     Command being timed: "sleep 5"
//!     User time (seconds): 0.00
//!     System time (seconds): 0.00
//!     Percent of CPU this job got: 0%
//!     Elapsed (wall clock) time (h:mm:ss or m:ss): 0:00.20
//!     Maximum resident set size (kbytes): 1648
//!     …
//!     Exit status: 0                           ← 0 too when a signal ended the command
//! ```

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::events::model::{Event, Kind, Level};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeReport {
    /// `Command being timed` (GNU time's quoting of the argv).
    pub command: String,
    pub wall_s: f64,
    pub user_s: f64,
    pub sys_s: f64,
    pub cpu_percent: Option<f64>,
    pub max_rss_kb: u64,
    pub major_faults: u64,
    pub minor_faults: u64,
    pub voluntary_switches: u64,
    pub involuntary_switches: u64,
    pub fs_inputs: u64,
    pub fs_outputs: u64,
    pub signals_delivered: u64,
    /// The command's exit status; `None` when a signal ended it (GNU time then still prints
    /// `Exit status: 0`, which would be misleading).
    pub exit_status: Option<i32>,
    /// The signal that ended the command, by name (`SIGKILL`), from `Command terminated by
    /// signal 9`.
    pub signal: Option<String>,
    pub signo: Option<i32>,
}

/// Parses GNU time's `-v` report. `None` when the text holds no report (empty file: time was
/// killed before its command ended, see the time plugin's README).
pub fn parse_time(text: &str) -> Option<TimeReport> {
    let mut r = TimeReport::default();
    let mut seen_elapsed = false;
    let mut exit_line: Option<i32> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(n) = line.strip_prefix("Command terminated by signal ") {
            if let Ok(n) = n.trim().parse::<i32>() {
                r.signo = Some(n);
                r.signal = Some(signal_name(n));
            }
            continue;
        }
        if let Some(n) = line.strip_prefix("Command exited with non-zero status ") {
            exit_line = n.trim().parse().ok();
            continue;
        }
        let Some((key, value)) = line.split_once(": ") else {
            continue;
        };
        let value = value.trim();
        let num = || value.trim_end_matches('%').parse::<f64>().ok();
        let int = || value.parse::<u64>().unwrap_or(0);
        match key {
            "Command being timed" => r.command = value.trim_matches('"').to_string(),
            "User time (seconds)" => r.user_s = num().unwrap_or(0.0),
            "System time (seconds)" => r.sys_s = num().unwrap_or(0.0),
            "Percent of CPU this job got" => r.cpu_percent = num(),
            k if k.starts_with("Elapsed (wall clock) time") => {
                if let Some(s) = clock_seconds(value) {
                    r.wall_s = s;
                    seen_elapsed = true;
                }
            }
            "Maximum resident set size (kbytes)" => r.max_rss_kb = int(),
            "Major (requiring I/O) page faults" => r.major_faults = int(),
            "Minor (reclaiming a frame) page faults" => r.minor_faults = int(),
            "Voluntary context switches" => r.voluntary_switches = int(),
            "Involuntary context switches" => r.involuntary_switches = int(),
            "File system inputs" => r.fs_inputs = int(),
            "File system outputs" => r.fs_outputs = int(),
            "Signals delivered" => r.signals_delivered = int(),
            "Exit status" => r.exit_status = value.parse().ok(),
            _ => {}
        }
    }
    if !seen_elapsed {
        return None;
    }
    if r.signal.is_some() {
        r.exit_status = None;
    } else if r.exit_status.is_none() {
        r.exit_status = exit_line;
    }
    Some(r)
}

/// `h:mm:ss`, `m:ss.ss`, or plain seconds → seconds.
fn clock_seconds(s: &str) -> Option<f64> {
    let mut total = 0.0;
    for part in s.split(':') {
        total = total * 60.0 + part.trim().parse::<f64>().ok()?;
    }
    Some(total)
}

/// The conventional name of a Linux signal number (x86/ARM numbering).
pub fn signal_name(n: i32) -> String {
    const NAMES: [&str; 32] = [
        "",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    match usize::try_from(n).ok().and_then(|i| NAMES.get(i)) {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => format!("signal {n}"),
    }
}

/// One metric event with the report's numbers (`data`) and a one-line summary (`text`).
pub fn metric_event(r: &TimeReport, service: &str) -> Event {
    let end = match (&r.signal, r.exit_status) {
        (Some(sig), _) => format!("terminated by {sig}"),
        (None, Some(code)) => format!("exit {code}"),
        (None, None) => "exit unknown".to_string(),
    };
    let text = format!(
        "time: wall {:.2} s, user {:.2} s, sys {:.2} s, max RSS {} KiB, {end}",
        r.wall_s, r.user_s, r.sys_s, r.max_rss_kb
    );
    let mut e = Event::new(service, Kind::Metric, text);
    e.level = Some(Level::Info);
    e.data = json!({
        "wrapper": "time",
        "command": r.command,
        "wall_s": r.wall_s,
        "user_s": r.user_s,
        "sys_s": r.sys_s,
        "cpu_percent": r.cpu_percent,
        "max_rss_kb": r.max_rss_kb,
        "major_faults": r.major_faults,
        "minor_faults": r.minor_faults,
        "voluntary_switches": r.voluntary_switches,
        "involuntary_switches": r.involuntary_switches,
        "fs_inputs": r.fs_inputs,
        "fs_outputs": r.fs_outputs,
        "signals_delivered": r.signals_delivered,
        "exit_status": r.exit_status,
        "signal": r.signal,
        "signo": r.signo,
    });
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLEEP: &str = "\tCommand being timed: \"sleep 0.2\"\n\tUser time (seconds): 0.01\n\tSystem time (seconds): 0.02\n\tPercent of CPU this job got: 3%\n\tElapsed (wall clock) time (h:mm:ss or m:ss): 0:00.20\n\tAverage shared text size (kbytes): 0\n\tMaximum resident set size (kbytes): 1648\n\tMajor (requiring I/O) page faults: 1\n\tMinor (reclaiming a frame) page faults: 100\n\tVoluntary context switches: 2\n\tInvoluntary context switches: 4\n\tFile system inputs: 8\n\tFile system outputs: 16\n\tSignals delivered: 0\n\tPage size (bytes): 4096\n\tExit status: 0\n";

    #[test]
    fn parses_the_numbers() {
        let r = parse_time(SLEEP).unwrap();
        assert_eq!(r.command, "sleep 0.2");
        assert!((r.wall_s - 0.2).abs() < 1e-9);
        assert!((r.user_s - 0.01).abs() < 1e-9);
        assert!((r.sys_s - 0.02).abs() < 1e-9);
        assert_eq!(r.cpu_percent, Some(3.0));
        assert_eq!(r.max_rss_kb, 1648);
        assert_eq!(r.major_faults, 1);
        assert_eq!(r.minor_faults, 100);
        assert_eq!(r.voluntary_switches, 2);
        assert_eq!(r.involuntary_switches, 4);
        assert_eq!(r.fs_inputs, 8);
        assert_eq!(r.fs_outputs, 16);
        assert_eq!(r.exit_status, Some(0));
        assert_eq!(r.signal, None);
    }

    #[test]
    fn signal_and_exit_lines() {
        let killed = format!("Command terminated by signal 9\n{SLEEP}");
        let r = parse_time(&killed).unwrap();
        assert_eq!(r.signal.as_deref(), Some("SIGKILL"));
        assert_eq!(r.signo, Some(9));
        assert_eq!(
            r.exit_status, None,
            "`Exit status: 0` is not the truth here"
        );
        let failed = format!(
            "Command exited with non-zero status 3\n{}",
            SLEEP.replace("Exit status: 0", "Exit status: 3")
        );
        assert_eq!(parse_time(&failed).unwrap().exit_status, Some(3));
        // Without the `Exit status` line, the first line still tells.
        let head = "Command exited with non-zero status 7\n\tElapsed (wall clock) time (h:mm:ss or m:ss): 0:01.00\n";
        assert_eq!(parse_time(head).unwrap().exit_status, Some(7));
    }

    #[test]
    fn clock_formats() {
        assert_eq!(clock_seconds("0:00.20"), Some(0.2));
        assert_eq!(clock_seconds("1:02.50"), Some(62.5));
        assert_eq!(clock_seconds("1:02:03"), Some(3723.0));
        assert_eq!(clock_seconds("x"), None);
    }

    #[test]
    fn empty_is_none() {
        assert_eq!(parse_time(""), None);
        assert_eq!(
            parse_time("/usr/bin/time: cannot run /nonexistent: No such file or directory\n"),
            None
        );
    }

    #[test]
    fn metric_event_carries_the_numbers() {
        let r = parse_time(SLEEP).unwrap();
        let e = metric_event(&r, "server");
        assert_eq!(e.kind, Kind::Metric);
        assert_eq!(e.source, "server");
        assert_eq!(e.data["max_rss_kb"], 1648);
        assert_eq!(e.data["exit_status"], 0);
        assert_eq!(e.data["signal"], serde_json::Value::Null);
        assert_eq!(
            e.text,
            "time: wall 0.20 s, user 0.01 s, sys 0.02 s, max RSS 1648 KiB, exit 0"
        );
        assert_eq!(signal_name(15), "SIGTERM");
        assert_eq!(signal_name(40), "signal 40");
    }
}
