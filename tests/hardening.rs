//! Issue 13 (hardening): what must hold on any input and after any stop. Real processes, real
//! results folders; each test here failed before its fix.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn panther() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_panther"));
    c.env(
        "PANTHER_LOG_FILE",
        std::env::temp_dir().join("panther-test.log"),
    )
    .arg("--no-user-plugins")
    .arg("--plugin-dir")
    .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plugins"));
    c
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().next())
            != Some("Z")
    })
}

fn wait_gone(pids: &[i32], within: Duration) -> Vec<i32> {
    let t0 = Instant::now();
    while t0.elapsed() < within {
        if pids.iter().all(|&p| !alive(p)) {
            return vec![];
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    pids.iter().copied().filter(|&p| alive(p)).collect()
}

fn first_dir(root: &Path) -> Option<PathBuf> {
    std::fs::read_dir(root)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
}

/// The daemon's pid, written by the fixture into the service folder.
fn daemon_pid(run_dir: &Path) -> Option<i32> {
    walk(run_dir)
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == "daemon.pid"))
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| t.trim().parse().ok())
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    if let Ok(rd) = std::fs::read_dir(d) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn need(tool: &str) -> bool {
    let found = ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"]
        .iter()
        .any(|d| Path::new(d).join(tool).exists());
    if !found {
        eprintln!("skipped: {tool} is not installed");
    }
    found
}

fn daemon_exp(env: &str, wrapper: bool) -> String {
    let ee = if wrapper {
        "    execution_environment: [{type: time}]\n"
    } else {
        ""
    };
    format!(
        "tests:\n  - name: daemon\n    network_environment: {{type: {env}}}\n{ee}    services:\n      server: {{implementation: {{name: daemon_iut, type: iut}}, protocol: {{name: minip, role: server}}}}\n      tester:\n        implementation: {{name: minip_tester, type: tester}}\n        protocol: {{name: minip, role: client, target: server}}\n        plugin_config: {{count: 3, interval_ms: 20}}\n    timeout: 30\n"
    )
}

fn run_with_timeout(mut c: Command, limit: Duration) -> Output {
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "panther did not finish within {limit:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Item 1: a daemon that called setsid() and holds stdout/stderr neither hangs teardown nor
/// survives it.
#[test]
fn a_setsid_daemon_holding_the_pipes_neither_hangs_teardown_nor_survives_it() {
    if !need("python3") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "d.yaml", &daemon_exp("localhost", false));
    let out_root = tmp.path().join("out");
    let mut c = panther();
    c.arg("run")
        .arg(&f)
        .arg("--output")
        .arg(&out_root)
        .args(["--grace-ms", "300"]);
    let out = run_with_timeout(c, Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let dir = first_dir(&out_root).unwrap();
    let pid = daemon_pid(&dir).expect("the daemon wrote its pid");
    assert_eq!(
        wait_gone(&[pid], Duration::from_secs(3)),
        Vec::<i32>::new(),
        "the daemon outlived teardown"
    );
}

/// Items 1 and 9: panther killed with SIGKILL takes a service's daemon with it, even under a
/// wrapper (`time`), without waiting for the next start's sweep.
#[test]
fn sigkill_of_panther_takes_daemons_under_a_wrapper_with_it() {
    if !need("python3") {
        return;
    }
    for wrapper in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let exp = daemon_exp("localhost", wrapper)
            .replace(
                "plugin_config: {count: 3, interval_ms: 20}",
                "plugin_config: {count: 100000, interval_ms: 20}",
            )
            .replace("timeout: 30", "timeout: 120");
        let f = write(tmp.path(), "d.yaml", &exp);
        let out_root = tmp.path().join("out");
        let mut child = panther()
            .arg("run")
            .arg(&f)
            .arg("--output")
            .arg(&out_root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        let pid = loop {
            if let Some(p) = first_dir(&out_root).and_then(|d| daemon_pid(&d))
                && first_dir(&out_root)
                    .and_then(|d| std::fs::read_to_string(d.join("events.jsonl")).ok())
                    .is_some_and(|t| t.contains("\"step\":\"running\""))
            {
                break p;
            }
            if t0.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the run never got going");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(alive(pid));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(
            wait_gone(&[pid], Duration::from_secs(3)),
            Vec::<i32>::new(),
            "wrapper {wrapper}: the daemon outlived a SIGKILLed panther"
        );
    }
}
