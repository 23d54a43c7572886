//! `panther builtin wait-iface IFACE -- PROGRAM ARGS…`: waits until a network interface is up,
//! then becomes PROGRAM (exec, same pid). A container joined to panther's link gets its
//! interface a moment after it starts; its service must not send before the link is there.

use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

/// Flags bit of an interface that is up.
const IFF_UP: u32 = 0x1;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The interface to wait for.
    pub iface: String,
    /// Give up after this many milliseconds (exit 127).
    #[arg(long, default_value_t = 10_000)]
    pub timeout_ms: u64,
    /// The program to run once the interface is up, and its arguments.
    #[arg(last = true, required = true)]
    pub argv: Vec<String>,
}

pub fn run(a: &Args) -> i32 {
    let t0 = Instant::now();
    let flags = format!("/sys/class/net/{}/flags", a.iface);
    while !is_up(&flags) {
        if t0.elapsed() > Duration::from_millis(a.timeout_ms) {
            eprintln!(
                "panther wait-iface: {} was not up after {} ms",
                a.iface, a.timeout_ms
            );
            return 127;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let err = std::process::Command::new(&a.argv[0])
        .args(&a.argv[1..])
        .exec();
    eprintln!("panther wait-iface: cannot run {}: {err}", a.argv[0]);
    127
}

fn is_up(flags_file: &str) -> bool {
    std::fs::read_to_string(flags_file)
        .ok()
        .and_then(|t| u32::from_str_radix(t.trim().trim_start_matches("0x"), 16).ok())
        .is_some_and(|f| f & IFF_UP != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_up_and_a_missing_interface_is_not() {
        assert!(is_up("/sys/class/net/lo/flags"));
        assert!(!is_up("/sys/class/net/no-such-if/flags"));
    }
}
