//! The `perf` parser: `perf record`'s `perf.data` read by `perf report --stdio` into a
//! [`Profile`], with whether this machine exposes hardware counters at all (a Firecracker or
//! most cloud VMs do not: `perf stat -e instructions` says `<not supported>`, and the plugin
//! samples the software `cpu-clock` event instead).

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use super::profile::{self, Profile};
use super::tool;

const REPORT_LIMIT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum PerfError {
    #[error("perf is not on PATH (install: apt-get install -y linux-perf)")]
    NoPerf,
    #[error(transparent)]
    Tool(#[from] tool::ToolError),
    #[error("perf report printed no samples for {0}")]
    NoSamples(String),
}

/// Whether `perf stat -e instructions true` counts anything here: `Some(false)` on a VM
/// without a PMU, `None` when perf cannot be run. Asked once per process.
pub fn hardware_counters() -> Option<bool> {
    static ONCE: OnceLock<Option<bool>> = OnceLock::new();
    *ONCE.get_or_init(|| {
        let perf = which::which("perf").ok()?;
        let out = std::process::Command::new(perf)
            .args(["stat", "-x,", "-e", "instructions", "true"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .output()
            .ok()?;
        // `-x,` (CSV) writes `<not supported>,,instructions,…` to stderr when there is none.
        let err = String::from_utf8_lossy(&out.stderr);
        Some(
            out.status.success()
                && !err.contains("<not supported>")
                && !err.contains("<not counted>"),
        )
    })
}

/// Reads `perf.data` into a profile.
pub fn read_perf_data(file: &Path) -> Result<Profile, PerfError> {
    let perf = which::which("perf").map_err(|_| PerfError::NoPerf)?;
    let shown = file.display().to_string();
    let argv: Vec<String> = [
        perf.display().to_string(),
        "report".into(),
        "-i".into(),
        shown.clone(),
        "--stdio".into(),
        "--children".into(),
        "--sort".into(),
        "sym".into(),
        "-g".into(),
        "none".into(),
        "--percent-limit".into(),
        "0".into(),
    ]
    .into();
    let out = tool::stdout_of(&argv, REPORT_LIMIT)?;
    profile::parse_perf_report(&out, &shown).ok_or(PerfError::NoSamples(shown))
}
