//! The built-in MinIP server and tester as real processes (`panther builtin minip-server`,
//! `panther builtin minip-tester`): each server version gets the verdicts that tell it
//! apart, the vulnerable one really dies, flaky repeats with its seed, and no process is
//! left behind (every child is killed on drop).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_panther");

/// A child process killed (and reaped) when dropped; its stdout lines arrive on a channel.
struct Proc {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Option<JoinHandle<String>>,
    _state: tempfile::TempDir,
}

impl Proc {
    fn spawn(args: &[&str]) -> Proc {
        let state = tempfile::tempdir().unwrap();
        let mut child = Command::new(BIN)
            .args(args)
            .env("PANTHER_LOG_FILE", state.path().join("panther.log"))
            .env("HOME", state.path())
            .env_remove("PANTHER_PLUGIN_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        Proc {
            child,
            lines: rx,
            seen: Vec::new(),
            stderr: Some(stderr),
            _state: state,
        }
    }

    /// The next stdout line that parses as a record and satisfies `want`.
    fn wait_record(&mut self, within: Duration, want: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if let Ok(v) = serde_json::from_str::<Value>(&line)
                        && want(&v)
                    {
                        return v;
                    }
                }
                Err(_) => panic!(
                    "no such record within {within:?}; stdout so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Waits for the exit (killing it after `within`), then returns the status, every
    /// stdout line and stderr.
    fn finish(mut self, within: Duration) -> (ExitStatus, Vec<String>, String) {
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "process did not exit within {within:?}; stdout:\n{}",
                    self.seen.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(l);
        }
        let stderr = self.stderr.take().unwrap().join().unwrap();
        (status, std::mem::take(&mut self.seen), stderr)
    }

    fn signal(&self, sig: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, sig).unwrap();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

struct Server {
    proc: Proc,
    port: u16,
}

fn server(version: &str, extra: &[&str]) -> Server {
    server_on("127.0.0.1", version, extra)
}

fn server_on(host: &str, version: &str, extra: &[&str]) -> Server {
    let mut args = vec![
        "builtin",
        "minip-server",
        "--version",
        version,
        "--host",
        host,
        "--port",
        "0",
    ];
    args.extend_from_slice(extra);
    let mut proc = Proc::spawn(&args);
    let rec = proc.wait_record(Duration::from_secs(20), |v| {
        v["kind"] == "lifecycle"
            && v["text"]
                .as_str()
                .unwrap_or("")
                .starts_with("listening on ")
    });
    let port = rec["data"]["port"].as_u64().unwrap() as u16;
    assert_eq!(rec["data"]["version"], version);
    Server { proc, port }
}

/// What a tester run printed: per-property verdicts, the summary, the exit code.
struct TesterRun {
    code: i32,
    verdicts: BTreeMap<String, String>,
    checks: Vec<Value>,
    overall: Value,
    lines: Vec<String>,
}

fn tester(target: &str, extra: &[&str]) -> TesterRun {
    let mut args = vec!["builtin", "minip-tester", "--target", target];
    // Defaults for the test, unless `extra` sets them.
    for (flag, value) in [
        ("--count", "20"),
        ("--interval-ms", "0"),
        ("--reply-timeout-ms", "300"),
    ] {
        if !extra.contains(&flag) {
            args.extend([flag, value]);
        }
    }
    args.extend_from_slice(extra);
    let p = Proc::spawn(&args);
    let (status, lines, stderr) = p.finish(Duration::from_secs(60));
    assert!(!stderr.contains("panicked"), "tester panicked:\n{stderr}");
    let records: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a record: {l}: {e}")))
        .collect();
    let checks: Vec<Value> = records
        .iter()
        .filter(|r| r["kind"] == "verdict" && r["data"]["property"].is_string())
        .cloned()
        .collect();
    let verdicts = checks
        .iter()
        .map(|r| {
            (
                r["data"]["property"].as_str().unwrap().to_string(),
                r["data"]["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let overall = records
        .iter()
        .rev()
        .find(|r| r["kind"] == "verdict" && r["data"]["overall"].is_string())
        .unwrap_or_else(|| panic!("no summary record:\n{}", lines.join("\n")))
        .clone();
    TesterRun {
        code: status.code().unwrap_or(-1),
        verdicts,
        checks,
        overall,
        lines,
    }
}

fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(p, v)| (p.to_string(), v.to_string()))
        .collect()
}

fn all_pass_but(overrides: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut m = expect(&[
        ("pong_matches_ping_seq", "pass"),
        ("pong_echoes_payload", "pass"),
        ("answers_every_ping", "pass"),
        ("survives_malformed_datagrams", "pass"),
        ("no_garbage_replies", "pass"),
    ]);
    for (p, v) in overrides {
        m.insert(p.to_string(), v.to_string());
    }
    m
}

/// Runs one version against the tester, checks verdicts and exit code, then stops the
/// server with SIGTERM (exit 0) unless it died.
fn check_version(version: &str, want: BTreeMap<String, String>, code: i32) -> TesterRun {
    let s = server(version, &["--seed", "0", "--drop-rate", "0.33"]);
    let run = tester(&format!("127.0.0.1:{}", s.port), &[]);
    assert_eq!(
        run.verdicts,
        want,
        "{version}: verdicts\n{}",
        run.lines.join("\n")
    );
    assert_eq!(run.code, code, "{version}: exit code");
    for c in &run.checks {
        assert!(
            c["data"]["reference"]
                .as_str()
                .unwrap()
                .starts_with("MinIP")
        );
        assert!(!c["text"].as_str().unwrap().is_empty());
    }
    assert_eq!(run.overall["data"]["checks"], 5);
    if version != "vulnerable" {
        s.proc.signal(nix::sys::signal::Signal::SIGTERM);
        let (status, lines, stderr) = s.proc.finish(Duration::from_secs(10));
        assert_eq!(status.code(), Some(0), "{version} server: {stderr}");
        assert!(
            lines.last().unwrap().contains("stopped on SIGTERM"),
            "{lines:?}"
        );
    }
    run
}

#[test]
fn functional_passes_everything() {
    let run = check_version("functional", all_pass_but(&[]), 0);
    assert_eq!(run.overall["data"]["overall"], "pass");
    let metric = run
        .lines
        .iter()
        .find(|l| l.contains("\"kind\":\"metric\""))
        .unwrap();
    let m: Value = serde_json::from_str(metric).unwrap();
    assert_eq!(m["data"]["answered"], 20);
    assert!(m["data"]["rtt_us_p50"].is_u64());
}

#[test]
fn fail_gets_wrong_sequence_numbers() {
    let run = check_version(
        "fail",
        all_pass_but(&[("pong_matches_ping_seq", "fail")]),
        1,
    );
    let seq = run
        .checks
        .iter()
        .find(|c| c["data"]["property"] == "pong_matches_ping_seq")
        .unwrap();
    assert!(
        seq["data"]["evidence"]
            .as_str()
            .unwrap()
            .contains("PING seq=1 got PONG seq=2"),
        "{seq}"
    );
    assert_eq!(run.overall["data"]["overall"], "fail");
}

#[test]
fn flaky_drops_pings() {
    check_version("flaky", all_pass_but(&[("answers_every_ping", "fail")]), 1);
}

#[test]
fn random_answers_garbage() {
    let run = check_version(
        "random",
        all_pass_but(&[
            ("no_garbage_replies", "fail"),
            ("answers_every_ping", "fail"),
            ("pong_matches_ping_seq", "inconclusive"),
            ("pong_echoes_payload", "inconclusive"),
        ]),
        1,
    );
    assert_eq!(run.overall["data"]["overall"], "fail");
}

#[test]
fn vulnerable_really_crashes() {
    let s = server("vulnerable", &[]);
    let run = tester(&format!("127.0.0.1:{}", s.port), &[]);
    assert_eq!(
        run.verdicts,
        all_pass_but(&[("survives_malformed_datagrams", "fail")]),
        "{}",
        run.lines.join("\n")
    );
    assert_eq!(run.code, 1);
    // The server died by itself, of a Rust panic: exit code 101, the panic on stderr.
    let (status, _lines, stderr) = s.proc.finish(Duration::from_secs(10));
    assert_eq!(status.code(), Some(101), "stderr:\n{stderr}");
    assert!(stderr.contains("panicked at"), "{stderr}");
    assert!(stderr.contains("out of range for slice"), "{stderr}");
    let survive = run
        .checks
        .iter()
        .find(|c| c["data"]["property"] == "survives_malformed_datagrams")
        .unwrap();
    assert!(
        survive["text"].as_str().unwrap().contains("crashed")
            || survive["text"].as_str().unwrap().contains("died"),
        "{survive}"
    );
}

#[test]
fn vulnerable_is_functional_without_malformed_datagrams() {
    let s = server("vulnerable", &[]);
    let run = tester(&format!("127.0.0.1:{}", s.port), &["--malformed", "false"]);
    let mut want = all_pass_but(&[]);
    want.remove("survives_malformed_datagrams");
    assert_eq!(run.verdicts, want);
    assert_eq!(run.code, 0);
    assert_eq!(run.overall["data"]["checks"], 4);
}

fn unanswered(run: &TesterRun) -> Vec<u64> {
    let c = run
        .checks
        .iter()
        .find(|c| c["data"]["property"] == "answers_every_ping")
        .unwrap();
    c["data"]["unanswered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

#[test]
fn flaky_repeats_with_its_seed() {
    let dropped = |seed: &str| {
        let s = server("flaky", &["--seed", seed, "--drop-rate", "0.33"]);
        let run = tester(
            &format!("127.0.0.1:{}", s.port),
            &["--malformed", "false", "--count", "30"],
        );
        unanswered(&run)
    };
    let a = dropped("7");
    let b = dropped("7");
    let c = dropped("8");
    assert!(!a.is_empty() && a.len() < 30, "{a:?}");
    assert_eq!(a, b, "the same seed drops the same PINGs");
    assert_ne!(a, c, "another seed drops others");
}

#[test]
fn flaky_drop_rate_zero_and_one() {
    let s = server("flaky", &["--drop-rate", "0"]);
    let run = tester(&format!("127.0.0.1:{}", s.port), &["--count", "5"]);
    assert_eq!(run.verdicts, all_pass_but(&[]));
    let s = server("flaky", &["--drop-rate", "1"]);
    let run = tester(
        &format!("127.0.0.1:{}", s.port),
        &["--count", "3", "--reply-timeout-ms", "100"],
    );
    // It answers nothing but the malformed datagrams (with ERROR): nothing to compare.
    assert_eq!(
        run.verdicts,
        expect(&[
            ("pong_matches_ping_seq", "inconclusive"),
            ("pong_echoes_payload", "inconclusive"),
            ("answers_every_ping", "fail"),
            ("survives_malformed_datagrams", "inconclusive"),
            ("no_garbage_replies", "pass"),
        ]),
        "{}",
        run.lines.join("\n")
    );
    assert_eq!(run.code, 1);
}

#[test]
fn ipv6_targets() {
    if std::net::UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("skipped: no IPv6 loopback here");
        return;
    }
    let s = server_on("::1", "functional", &[]);
    for target in [format!("[::1]:{}", s.port), format!("::1:{}", s.port)] {
        let run = tester(&target, &["--count", "3"]);
        assert_eq!(run.verdicts, all_pass_but(&[]), "{target}");
        assert_eq!(run.code, 0);
    }
}

#[test]
fn sigint_stops_the_server_cleanly() {
    let s = server("functional", &[]);
    s.proc.signal(nix::sys::signal::Signal::SIGINT);
    let (status, lines, _) = s.proc.finish(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
    assert!(lines.iter().any(|l| l.contains("stopped on SIGINT")));
}

#[test]
fn no_server_is_an_error() {
    let port = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let run = tester(&format!("127.0.0.1:{port}"), &[]);
    assert_eq!(run.code, 2, "{}", run.lines.join("\n"));
    assert_eq!(run.overall["data"]["overall"], "error");
    assert!(run.verdicts.is_empty());
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        &["builtin", "minip-server", "--version", "nope"][..],
        &["builtin", "minip-server", "--drop-rate", "1.5"],
        &["builtin", "minip-tester", "--target", "nohostport"],
        &[
            "builtin",
            "minip-tester",
            "--target",
            "127.0.0.1:1",
            "--count",
            "0",
        ],
        &[
            "builtin",
            "minip-tester",
            "--target",
            "127.0.0.1:1",
            "--malformed",
            "maybe",
        ],
    ] {
        let (status, _, stderr) = Proc::spawn(args).finish(Duration::from_secs(20));
        assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_busy_port_is_reported() {
    let busy = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let p = Proc::spawn(&["builtin", "minip-server", "--port", &port]);
    let (status, lines, _) = p.finish(Duration::from_secs(20));
    assert_eq!(status.code(), Some(2));
    assert!(
        lines.iter().any(|l| l.contains("cannot listen")),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.contains("listening on")));
}
