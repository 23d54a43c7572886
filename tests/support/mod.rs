//! What the end-to-end run tests share (netns, docker_env): the real binary with a private
//! log, a run into a fresh results root, its summary and events, and the gate for tests that
//! need root or an engine (skip locally with the reason; under `CI=true`, fail instead).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn under_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// `true` when `ok`; otherwise a skip with `why` locally, and a failure under CI.
pub fn needs(test: &str, ok: bool, why: &str) -> bool {
    if ok {
        return true;
    }
    assert!(!under_ci(), "{test}: {why}, and under CI nothing may skip");
    eprintln!("skipping {test}: {why}");
    false
}

pub fn root_or_skip(test: &str) -> bool {
    needs(test, nix::unistd::geteuid().is_root(), "needs root")
}

pub fn tool_or_skip(test: &str, tool: &str) -> bool {
    needs(
        test,
        which::which(tool).is_ok(),
        &format!("`{tool}` is not installed (scripts/install-test-deps installs it)"),
    )
}

pub fn panther() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_panther"));
    c.env(
        "PANTHER_LOG_FILE",
        std::env::temp_dir().join("panther-test.log"),
    )
    .arg("--no-user-plugins");
    c
}

pub fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// The results folder a run made under `root`.
pub fn results_dir(root: &Path) -> PathBuf {
    std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .expect("a results folder")
}

/// Runs an experiment file into a fresh root; the output and the results folder.
pub fn run(file: &Path) -> (Output, PathBuf, tempfile::TempDir) {
    let out_root = tempfile::tempdir().unwrap();
    let out = panther()
        .arg("run")
        .arg(file)
        .arg("--output")
        .arg(out_root.path())
        .args(["--json", "--grace-ms", "500"])
        .output()
        .unwrap();
    let dir = results_dir(out_root.path());
    (out, dir, out_root)
}

pub fn summary(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The events of a results folder (torn lines skipped: the run may still be writing).
pub fn events(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Each test's (name, verdict).
pub fn verdicts(s: &Value) -> Vec<(String, String)> {
    s["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The experiment at `rel` with every test's network environment switched to `env`.
pub fn on_env(rel: &str, env: &str, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(repo(rel))
        .unwrap()
        .replace("type: localhost", &format!("type: {env}"));
    assert!(text.contains(env), "{rel} names localhost");
    let p = dir.join(Path::new(rel).file_name().unwrap());
    std::fs::write(&p, text).unwrap();
    p
}

/// Namespaces named for panther process `pid`.
pub fn namespaces_of(pid: u32) -> Vec<String> {
    std::fs::read_dir("/run/netns")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.starts_with(&format!("panther-{pid}-")))
                .collect()
        })
        .unwrap_or_default()
}

/// Starts `panther run` of `experiment` (written into `tmp`) in the background and waits
/// until `services` of its services have started (at most `limit`); returns the child, which
/// the caller signals and reaps, and the results folder.
#[allow(clippy::zombie_processes)]
pub fn start_running(
    experiment: &str,
    tmp: &Path,
    out_root: &Path,
    services: usize,
    limit: std::time::Duration,
) -> (std::process::Child, PathBuf) {
    use std::process::Stdio;
    let file = tmp.join("long.yaml");
    std::fs::write(&file, experiment).unwrap();
    let mut child = panther()
        .arg("run")
        .arg(&file)
        .arg("--output")
        .arg(out_root)
        .args(["--grace-ms", "300"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    loop {
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run never got going");
        }
        let dir = std::fs::read_dir(out_root)
            .ok()
            .and_then(|d| d.flatten().map(|e| e.path()).find(|p| p.is_dir()));
        if let Some(dir) = dir {
            let started = events(&dir)
                .iter()
                .filter(|e| e["data"]["step"] == "started")
                .count();
            if started == services {
                std::thread::sleep(std::time::Duration::from_millis(250));
                return (child, dir);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A MinIP test that runs for minutes (100,000 PINGs) on `env`: something to interrupt.
pub fn long_experiment(env: &str) -> String {
    format!(
        r#"
tests:
  - name: long
    network_environment: {{type: {env}}}
    services:
      server:
        implementation: {{name: ping_pong, type: iut}}
        protocol: {{name: minip, role: server}}
      tester:
        implementation: {{name: minip_tester, type: tester}}
        protocol: {{name: minip, role: client, target: server}}
        plugin_config: {{count: 100000, interval_ms: 5, reply_timeout_ms: 400}}
    timeout: 300
"#
    )
}
