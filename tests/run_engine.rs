//! `panther run` end to end: real processes on loopback, real results folders. Each test
//! writes its experiment into a temp folder and runs the real binary there.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

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

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// Runs an experiment file; returns the output and the results folder.
fn run(file: &Path, extra: &[&str]) -> (Output, PathBuf, tempfile::TempDir) {
    let out_root = tempfile::tempdir().unwrap();
    let out = panther()
        .arg("run")
        .arg(file)
        .arg("--output")
        .arg(out_root.path())
        .args(["--json", "--grace-ms", "500"])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked at src/run") && !stderr.contains("panicked at src/cli"),
        "{stderr}"
    );
    let dir = std::fs::read_dir(out_root.path())
        .unwrap()
        .next()
        .expect("a results folder")
        .unwrap()
        .path();
    (out, dir, out_root)
}

fn summary(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn events(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn pids_started(evs: &[Value]) -> Vec<i32> {
    evs.iter()
        .filter(|e| e["data"]["step"] == "started")
        .map(|e| e["data"]["pid"].as_i64().unwrap() as i32)
        .collect()
}

fn alive(pid: i32) -> bool {
    // A zombie is not alive: it holds no resources and will be reaped.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.split_whitespace().nth(2) != Some("Z"))
}

fn wait_gone(pids: &[i32]) {
    let t0 = Instant::now();
    while pids.iter().any(|&p| alive(p)) {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "left behind: {:?}",
            pids.iter().filter(|&&p| alive(p)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn need(tool: &str) -> bool {
    let found = ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"]
        .iter()
        .any(|d| Path::new(d).join(tool).exists());
    if !found {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "under CI, {tool} must be installed (scripts/install-test-deps)"
        );
        eprintln!("skipped: {tool} is not installed");
    }
    found
}

#[test]
fn quickstart_passes_with_messages_both_ways_delayed_by_the_link() {
    let (out, dir, _keep) = run(&repo("experiments/quickstart.yaml"), &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = summary(&out);
    assert_eq!(s["ok"], true);
    assert_eq!(s["tests"][0]["verdict"], "pass");
    let evs = events(&dir);
    let delivered: Vec<&Value> = evs
        .iter()
        .filter(|e| e["source"] == "link" && e["text"] == "delivered")
        .collect();
    let to_server = delivered
        .iter()
        .filter(|e| e["message"]["to"] == "server")
        .count();
    let to_tester = delivered
        .iter()
        .filter(|e| e["message"]["to"] == "tester")
        .count();
    assert!(
        to_server >= 10 && to_tester >= 10,
        "{to_server} / {to_tester}"
    );
    assert!(delivered.iter().any(|e| {
        e["message"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("PING seq=")
    }));
    assert!(delivered.iter().any(|e| {
        e["message"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("PONG seq=")
    }));
    // The link's 20 ms: every delivery is at least 20 ms after its send, and not absurdly later.
    for e in &delivered {
        let delay = e["data"]["delay_us"].as_u64().unwrap();
        assert!((20_000..200_000).contains(&delay), "delay {delay} µs: {e}");
    }
    // Sequence numbers are gapless and the derived files exist.
    for (i, e) in evs.iter().enumerate() {
        assert_eq!(e["seq"].as_u64(), Some(i as u64));
    }
    for f in [
        "summary.json",
        "junit.xml",
        "report.md",
        "sequence.mmd",
        "experiment_config.yaml",
        "minip_quickstart/server/stdout.log",
    ] {
        assert!(dir.join(f).exists(), "{f}");
    }
    let mmd = std::fs::read_to_string(dir.join("sequence.mmd")).unwrap();
    assert!(
        mmd.starts_with("sequenceDiagram") && mmd.contains("tester->>server: PING seq=1"),
        "{mmd}"
    );
    assert!(!dir.join("pids").exists(), "a clean run leaves no pid file");
    wait_gone(&pids_started(&evs));
}

#[test]
fn every_minip_version_reaches_its_expected_verdict() {
    let (out, _dir, _keep) = run(&repo("experiments/minip_versions.yaml"), &[]);
    let s = summary(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let by_name = |n: &str| {
        s["tests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("minip_functional")["verdict"], "pass");
    for (v, prop) in [
        ("fail", "pong_matches_ping_seq"),
        ("flaky", "answers_every_ping"),
        ("random", "no_garbage_replies"),
    ] {
        let t = by_name(&format!("minip_{v}"));
        assert_eq!(t["verdict"], "fail", "{v}");
        let checks = t["services"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["checks"].as_array().cloned().unwrap_or_default())
            .collect::<Vec<_>>();
        assert!(
            checks
                .iter()
                .any(|c| c["property"] == prop && c["verdict"] == "fail"),
            "{v}: {checks:?}"
        );
    }
    let vuln = by_name("minip_vulnerable");
    assert_eq!(vuln["verdict"], "error");
    let reason = vuln["reason"].as_str().unwrap();
    assert!(
        reason.contains("IUT crashed") && reason.contains("panicked"),
        "{reason}"
    );
}

#[test]
fn http_conformance_against_python_and_nginx() {
    if !need("python3") || !need("nginx") {
        return;
    }
    let (out, dir, _keep) = run(&repo("experiments/http_conformance.yaml"), &[]);
    let s = summary(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for t in s["tests"].as_array().unwrap() {
        let checker = t["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "checker")
            .unwrap();
        let checks = checker["checks"].as_array().unwrap();
        assert!(checks.len() >= 12, "{} checks", checks.len());
        assert!(
            checks.iter().all(|c| c["reference"]
                .as_str()
                .is_some_and(|r| r.contains("RFC 911"))),
            "{checks:?}"
        );
        assert!(checks.iter().any(|c| c["verdict"] == "pass"));
    }
    // nginx's known finding is declared as an assertion: the check passes as "violated".
    let nginx = s["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "nginx_server")
        .unwrap();
    assert_eq!(nginx["verdict"], "pass", "{nginx}");
    let checks = nginx["services"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|x| x["checks"].as_array().cloned().unwrap_or_default())
        .collect::<Vec<_>>();
    let c = checks
        .iter()
        .find(|c| c["property"] == "unknown_method_501")
        .unwrap();
    assert!(
        c["reason"]
            .as_str()
            .unwrap()
            .starts_with("violated, as the experiment expects"),
        "{c}"
    );
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<testsuite name=\"python_http_server\""),
        "{junit}"
    );
}

#[test]
fn strace_and_memcheck_wrap_the_server() {
    if !need("strace") || !need("valgrind") {
        return;
    }
    let (out, dir, _keep) = run(&repo("experiments/minip_strace.yaml"), &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let evs = events(&dir);
    assert!(
        evs.iter().any(|e| e["source"] == "server"
            && e["data"]["syscall"]
                .as_str()
                .is_some_and(|s| s.starts_with("recv") || s.starts_with("send"))),
        "no network syscall events"
    );
    assert!(
        std::fs::read_dir(dir.join("minip_under_strace/server/artifacts"))
            .unwrap()
            .count()
            > 0
    );

    let (out, _dir, _keep) = run(&repo("experiments/minip_memcheck.yaml"), &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(summary(&out)["tests"][0]["verdict"], "pass");
}

const CRASH: &str = "tests:\n  - name: crash\n    network_environment: {type: localhost}\n    services:\n      server: {implementation: {name: crash_iut, type: iut}, protocol: {name: minip, role: server}}\n      tester:\n        implementation: {name: minip_tester, type: tester}\n        protocol: {name: minip, role: client, target: server}\n        plugin_config: {count: 40, interval_ms: 50, reply_timeout_ms: 100}\n    timeout: 30\n";

#[test]
fn an_iut_that_crashes_mid_test_is_an_error_with_its_signal_and_last_words() {
    if !need("python3") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (out, _dir, _keep) = run(&write(tmp.path(), "crash.yaml", CRASH), &[]);
    assert_eq!(out.status.code(), Some(1));
    let s = summary(&out);
    let t = &s["tests"][0];
    assert_eq!(t["verdict"], "error");
    let server = t["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "server")
        .unwrap();
    let reason = server["reason"].as_str().unwrap();
    assert!(
        reason.contains("IUT crashed: killed by SIGSEGV") && reason.contains("about to crash"),
        "{reason}"
    );
}

#[test]
fn a_tester_that_hangs_past_the_timeout_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "hang.yaml",
        "tests:\n  - name: hang\n    network_environment: {type: localhost}\n    services:\n      server: {implementation: {name: ping_pong, type: iut}, protocol: {name: minip, role: server}}\n      tester: {implementation: {name: hang_tester, type: tester}, protocol: {name: minip, role: client, target: server}}\n    timeout: 1.5\n",
    );
    let t0 = Instant::now();
    let (out, dir, _keep) = run(&f, &[]);
    assert!(t0.elapsed() < Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(1));
    let s = summary(&out);
    let tester = s["tests"][0]["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "tester")
        .unwrap()
        .clone();
    assert_eq!(tester["verdict"], "error");
    assert!(
        tester["reason"].as_str().unwrap().contains("tester hang"),
        "{tester}"
    );
    wait_gone(&pids_started(&events(&dir)));
}

/// A long run: the server serves until the wait ends.
const LONG: &str = "tests:\n  - name: long\n    network_environment: {type: localhost, link: {delay_ms: 5}}\n    services:\n      server: {implementation: {name: ping_pong, type: iut}, protocol: {name: minip, role: server}}\n      tester:\n        implementation: {name: minip_tester, type: tester}\n        protocol: {name: minip, role: client, target: server}\n        plugin_config: {count: 100000, interval_ms: 10}\n    timeout: 120\n";

/// The caller owns the child and waits for it.
#[allow(clippy::zombie_processes)]
fn start_long(tmp: &Path, out_root: &Path) -> (std::process::Child, PathBuf) {
    let f = write(tmp, "long.yaml", LONG);
    let mut child = panther()
        .arg("run")
        .arg(&f)
        .arg("--output")
        .arg(out_root)
        .args(["--grace-ms", "500"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until both services have started.
    let t0 = Instant::now();
    loop {
        if let Some(d) = std::fs::read_dir(out_root)
            .ok()
            .and_then(|mut r| r.next())
            .and_then(|e| e.ok())
            .map(|e| e.path())
        {
            let started = std::fs::read_to_string(d.join("events.jsonl"))
                .map(|t| t.matches("\"step\":\"running\"").count())
                .unwrap_or(0);
            if started > 0 {
                return (child, d);
            }
        }
        if t0.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run never got going");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigint_mid_run_tears_down_and_keeps_events_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let out_root = tmp.path().join("outputs");
    let (mut child, dir) = start_long(tmp.path(), &out_root);
    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let evs = events(&dir); // every line parses
    assert!(evs.iter().any(|e| e["data"]["step"] == "teardown"));
    assert!(
        evs.iter()
            .any(|e| e["source"] == "link" && e["text"] == "delivered")
    );
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["interrupted"], true);
    wait_gone(&pids_started(&evs));
}

#[test]
fn sigkill_of_panther_leaves_nothing_once_swept() {
    let tmp = tempfile::tempdir().unwrap();
    let out_root = tmp.path().join("outputs");
    let (mut child, dir) = start_long(tmp.path(), &out_root);
    // The export below shows a PING: wait until one is on disk before the kill.
    let t0 = Instant::now();
    while !std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap_or_default()
        .contains("\"delivered\"")
        && t0.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let evs_text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let pids: Vec<i32> = evs_text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["data"]["step"] == "started")
        .map(|e| e["data"]["pid"].as_i64().unwrap() as i32)
        .collect();
    assert_eq!(pids.len(), 2);
    child.kill().unwrap(); // SIGKILL: no teardown at all
    child.wait().unwrap();
    assert!(
        dir.join("pids").exists(),
        "the pid file outlives a killed run"
    );
    // PR_SET_PDEATHSIG takes the services down with panther…
    wait_gone(&pids);
    // …and the next start sweeps whatever a wrapper's children left, then forgets the file.
    let f = write(
        tmp.path(),
        "quick.yaml",
        "tests:\n  - name: q\n    network_environment: {type: localhost}\n    services:\n      server: {implementation: {name: ping_pong, type: iut}, protocol: {name: minip, role: server}}\n    steps: {wait: 0.2}\n",
    );
    let out = panther()
        .arg("run")
        .arg(&f)
        .arg("--output")
        .arg(&out_root)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !dir.join("pids").exists(),
        "the sweep cleared the dead run's pid file"
    );
    // The crashed run still exports.
    let mmd = panther()
        .args(["export", dir.to_str().unwrap(), "--format", "mermaid"])
        .output()
        .unwrap();
    assert_eq!(mmd.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&mmd.stdout).contains("->>server: PING"));
    let junit = panther()
        .args(["export", dir.to_str().unwrap(), "--format", "junit"])
        .output()
        .unwrap();
    // The killed test recorded no verdict: an error, so the export exits 1.
    assert_eq!(junit.status.code(), Some(1));
}

#[test]
fn iterations_and_expectations_shape_the_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "it.yaml",
        "tests:\n  - name: twice\n    iterations: 2\n    network_environment: {type: localhost}\n    services:\n      server: {implementation: {name: ping_pong, type: iut}, protocol: {name: minip, version: fail, role: server}}\n      tester: {implementation: {name: minip_tester, type: tester}, protocol: {name: minip, role: client, target: server}, plugin_config: {count: 3, interval_ms: 1}}\n    timeout: 20\n",
    );
    let (out, dir, _keep) = run(&f, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failing test without `expect: fail` fails the run"
    );
    let s = summary(&out);
    assert_eq!(s["tests"].as_array().unwrap().len(), 2);
    assert_eq!(s["tests"][1]["iteration"], 2);
    assert!(dir.join("twice.2/server/stdout.log").exists());
}

#[test]
fn a_bad_config_runs_nothing() {
    let out = panther()
        .args([
            "run",
            repo("tests/fixtures/configs/bad/unknown_target.yaml")
                .to_str()
                .unwrap(),
            "--output",
            "/nonexistent/never",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was run"));
    assert!(!Path::new("/nonexistent/never").exists());
}
