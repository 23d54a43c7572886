//! Memory bounds of the readers of a long run (issue 12): `panther export` and
//! `panther replay` of a results folder of 1,000,000 events keep their peak resident memory
//! (the real binary's, from the kernel's accounting of the finished child) far below what
//! holding the events would cost. Measured against the file and the event count, never a
//! timing.

mod support;

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

const EVENTS: u64 = 1_000_000;
/// What the process may use whatever the run's length: the binary, its runtime, buffers.
const BASE: u64 = 48 << 20;
/// The workbench's index budget per event (docs/PERFORMANCE.md, sequence view).
const INDEX_PER_EVENT: u64 = 200;

/// A results folder of `EVENTS` events as a long link-relayed MinIP run writes them: sends,
/// deliveries and the server's log lines, in three tests, with a verdict per test.
fn long_run(dir: &Path) -> u64 {
    let f = std::fs::File::create(dir.join("events.jsonl")).unwrap();
    let mut w = std::io::BufWriter::new(f);
    for seq in 0..EVENTS {
        let test = seq * 3 / EVENTS;
        let t = seq * 20;
        let line = match seq % 5 {
            _ if seq % (EVENTS / 3) == EVENTS / 3 - 1 => format!(
                r#"{{"seq":{seq},"t":{t},"test":"t{test}","source":"orchestrator","kind":"verdict","text":"pass: 4 checks passed","data":{{"test_verdict":true,"verdict":"pass","expected":null}}}}"#
            ),
            4 => format!(
                r#"{{"seq":{seq},"t":{t},"test":"t{test}","source":"server","kind":"log","level":"debug","text":"PING seq={seq} len=16 → PONG","data":{{"peer":"127.0.0.1:40000"}}}}"#
            ),
            k => {
                let (from, to) = if k < 2 {
                    ("tester", "server")
                } else {
                    ("server", "tester")
                };
                let text = if k % 2 == 0 { "sent" } else { "delivered" };
                format!(
                    r#"{{"seq":{seq},"t":{t},"test":"t{test}","source":"link","kind":"message","message":{{"from":"{from}","to":"{to}","protocol":"minip","summary":"PING seq={seq} len=16","bytes":23,"id":{seq},"hex":"0100000002001070616e746865722070696e6720326364"}},"text":"{text}"}}"#
                )
            }
        };
        w.write_all(line.as_bytes()).unwrap();
        w.write_all(b"\n").unwrap();
    }
    w.flush().unwrap();
    std::fs::metadata(dir.join("events.jsonl")).unwrap().len()
}

/// Runs `cmd` to its end; returns its exit status and its peak resident memory in bytes
/// (`ru_maxrss` of this one child, from wait4).
fn peak_rss(mut cmd: Command) -> (std::process::ExitStatus, u64) {
    let child = cmd.spawn().unwrap();
    let pid = child.id() as i32;
    let mut status = 0;
    // SAFETY: waits for our own child into locals owned here; `child` is forgotten so the
    // std handle does not wait again.
    let usage = unsafe {
        let mut ru: nix::libc::rusage = std::mem::zeroed();
        let r = nix::libc::wait4(pid, &mut status, 0, &mut ru);
        assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
        ru
    };
    std::mem::forget(child);
    (
        std::process::ExitStatus::from_raw(status),
        usage.ru_maxrss as u64 * 1024,
    )
}

fn mib(b: u64) -> u64 {
    b >> 20
}

#[test]
fn export_and_replay_of_a_million_events_keep_memory_bounded() {
    // The replay needs a terminal: `script` (util-linux) gives it a pseudo-terminal.
    if !support::tool_or_skip(
        "export_and_replay_of_a_million_events_keep_memory_bounded",
        "script",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let size = long_run(dir.path());
    // Holding the events costs about 1 KB each; the file is about 200 bytes each.
    assert!(size > 150 * EVENTS, "{size}");

    let out = dir.path().join("sequence.mmd");
    let mut export = support::panther();
    export
        .args(["export", "--format", "mermaid", "-o"])
        .arg(&out)
        .arg(dir.path())
        .stdout(Stdio::null());
    let (status, peak) = peak_rss(export);
    assert!(status.success(), "{status:?}");
    // Every message's arrow is there (a delivery per PING and PONG, 2 of every 5 events).
    let mmd = std::fs::read_to_string(&out).unwrap();
    let arrows = mmd.lines().filter(|l| l.contains("->>")).count() as u64;
    assert!(arrows > EVENTS * 2 / 5 - 10, "{arrows} arrows");
    eprintln!(
        "export --format mermaid: peak {} MiB for {} MiB of events",
        mib(peak),
        mib(size)
    );
    assert!(
        peak < BASE,
        "export of {} MiB of events peaked at {} MiB (bound {} MiB)",
        mib(size),
        mib(peak),
        mib(BASE)
    );

    let mut junit = support::panther();
    junit
        .args(["export", "--format", "junit"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let (status, peak) = peak_rss(junit);
    assert!(status.success(), "{status:?}");
    assert!(
        peak < BASE,
        "junit export (a summary rebuilt from the events) peaked at {} MiB",
        mib(peak)
    );

    // The replay in a 120x40 pseudo-terminal, with `q` already typed: it loads the run,
    // draws its first frame, reads the `q` and quits.
    let bin = env!("CARGO_BIN_EXE_panther");
    let mut replay = Command::new("script");
    replay
        .arg("-qec")
        .arg(format!(
            "stty cols 120 rows 40; exec '{bin}' --no-user-plugins replay '{}'",
            dir.path().display()
        ))
        .arg("/dev/null")
        .env("PANTHER_LOG_FILE", dir.path().join("panther.log"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = replay.spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"q").unwrap();
    let mut screen = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut screen, &mut s);
        s
    });
    let pid = child.id() as i32;
    std::mem::forget(child);
    let mut status = 0;
    // SAFETY: as in `peak_rss`. wait4's ru_maxrss is the largest of the child and of the
    // descendants it waited for: `script` waits for the replay, the largest of them.
    let usage = unsafe {
        let mut ru: nix::libc::rusage = std::mem::zeroed();
        assert_eq!(nix::libc::wait4(pid, &mut status, 0, &mut ru), pid);
        ru
    };
    let screen = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    assert!(
        std::process::ExitStatus::from_raw(status).success(),
        "{status}: {screen}"
    );
    assert!(
        screen.contains("tester"),
        "a frame with the lanes was drawn"
    );
    let peak = usage.ru_maxrss as u64 * 1024;
    let bound = BASE + INDEX_PER_EVENT * EVENTS;
    eprintln!(
        "replay: peak {} MiB for {} MiB of events",
        mib(peak),
        mib(size)
    );
    assert!(
        peak < bound && peak < size,
        "replay of {} MiB of events peaked at {} MiB (bound {} MiB)",
        mib(size),
        mib(peak),
        mib(bound)
    );
}
