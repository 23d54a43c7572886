//! Running a post-processing tool (google-pprof, perf report) on a wrapper's artifact: an
//! argv (never a shell), stdin closed, output captured, and a time limit, so a tool that
//! hangs on a damaged file cannot hold the run's teardown.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("cannot start `{0}`: {1}")]
    Start(String, std::io::Error),
    #[error("`{0}` did not finish within {1} s and was killed")]
    Timeout(String, u64),
    #[error("`{tool}` failed ({status}): {stderr}")]
    Failed {
        tool: String,
        status: String,
        stderr: String,
    },
}

/// Runs `argv` with `limit`; its stdout when it exits 0.
pub fn stdout_of(argv: &[String], limit: Duration) -> Result<String, ToolError> {
    let tool = argv.first().cloned().unwrap_or_default();
    let mut child = Command::new(&tool)
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ToolError::Start(tool.clone(), e))?;
    // Drained on threads: a tool that writes more than a pipe holds would otherwise block.
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let t0 = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if t0.elapsed() < limit => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ToolError::Timeout(tool, limit.as_secs()));
            }
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if !status.success() {
        let last: Vec<&str> = stderr.lines().rev().take(3).collect();
        return Err(ToolError::Failed {
            tool,
            status: status.to_string(),
            stderr: last.into_iter().rev().collect::<Vec<_>>().join(" | "),
        });
    }
    Ok(stdout)
}

fn drain<R: Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn output_failure_and_timeout() {
        let out = stdout_of(&argv(&["echo", "hi"]), Duration::from_secs(5)).unwrap();
        assert_eq!(out, "hi\n");
        let e = stdout_of(&argv(&["false"]), Duration::from_secs(5)).unwrap_err();
        assert!(matches!(e, ToolError::Failed { .. }), "{e}");
        let e = stdout_of(&argv(&["sleep", "5"]), Duration::from_millis(100)).unwrap_err();
        assert!(matches!(e, ToolError::Timeout(..)), "{e}");
        let e = stdout_of(&argv(&["/nonexistent/tool"]), Duration::from_secs(1)).unwrap_err();
        assert!(e.to_string().contains("cannot start"), "{e}");
    }
}
