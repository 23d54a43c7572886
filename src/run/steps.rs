//! Commands around a test: an experiment's `steps.pre_commands` / `post_commands` and a
//! manifest's `phases` (`prepare`, `pre_run`, `post_run`). Each is an argv list, never a shell
//! line, started like a service (its own folder for stdout.log and stderr.log, output lines as
//! events, panther's init so nothing it starts outlives it) and given a bounded time.

use std::path::Path;
use std::time::Duration;

use crate::env::network::Runner;
use crate::events::EventTx;

use super::error::StepError;
use super::process::{Spec, Supervised};

/// How long one step command may run.
pub const STEP_LIMIT: Duration = Duration::from_secs(60);

/// Runs `cmds` one after the other in `cwd`, as source `source`; logs go to
/// `log_root/<label>_<n>/`. Stops at the first failure and says why.
pub async fn run_all(
    source: &str,
    label: &str,
    cmds: &[Vec<String>],
    cwd: &Path,
    log_root: &Path,
    tx: &EventTx,
) -> Result<(), StepError> {
    for (i, argv) in cmds.iter().enumerate() {
        if argv.is_empty() {
            continue;
        }
        let log_dir = log_root.join(format!("{label}_{}", i + 1));
        std::fs::create_dir_all(&log_dir).map_err(|source| StepError::LogDir {
            dir: log_dir.clone(),
            source,
        })?;
        super::orchestrator::lifecycle(
            tx,
            source,
            format!("{label}: {}", argv.join(" ")),
            serde_json::json!({"step": label, "argv": argv}),
        );
        let spec = Spec {
            service: source.to_string(),
            argv: argv.clone(),
            env: Vec::new(),
            cwd: cwd.to_path_buf(),
            log_dir,
            rules: Vec::new(),
            ready_log: None,
            events: tx.clone(),
            runner: Runner::Host,
        };
        let mut p = Supervised::spawn(spec).map_err(|source| StepError::Start {
            label: label.to_string(),
            program: argv[0].clone(),
            source,
        })?;
        let status = match tokio::time::timeout(STEP_LIMIT, p.wait()).await {
            Ok(s) => s,
            Err(_) => {
                p.stop(Duration::from_millis(500)).await;
                return Err(StepError::TooLong {
                    label: label.to_string(),
                    program: argv[0].clone(),
                    secs: STEP_LIMIT.as_secs(),
                });
            }
        };
        if !status.success() {
            return Err(StepError::Failed {
                label: label.to_string(),
                command: argv.join(" "),
                how: super::process::describe(status),
            });
        }
    }
    Ok(())
}
