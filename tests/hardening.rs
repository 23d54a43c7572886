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

/// An owner that is provably gone: a process that ran and was reaped.
fn dead_owner() -> panther::run::owner::Owner {
    let mut c = Command::new("true").spawn().unwrap();
    let o = panther::run::owner::Owner::of(c.id()).unwrap();
    c.wait().unwrap();
    o
}

#[allow(clippy::zombie_processes)]
fn sleeper(mark: Option<&str>) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    let mut c = Command::new("sleep");
    c.arg("60").process_group(0).env_remove("PANTHER_RUN_OWNER");
    if let Some(m) = mark {
        c.env("PANTHER_RUN_OWNER", m);
    }
    let child = c.spawn().unwrap();
    // spawn() returns when the kernel releases the parent during execve, before the new
    // image's environment is in place: /proc/PID/environ reads empty for a moment, and a
    // sweep then would not see the mark (the test failed about 1 run in 8).
    let environ = format!("/proc/{}/environ", child.id());
    let t0 = Instant::now();
    while std::fs::read(&environ).is_ok_and(|e| e.is_empty())
        && t0.elapsed() < Duration::from_secs(5)
    {
        std::thread::sleep(Duration::from_millis(2));
    }
    child
}

/// Item 2: a `pids` file naming groups that panther did not start (pid reuse, a copied-in
/// folder, panther's own group) kills nothing; a real leftover, which carries the mark of
/// its dead panther, is killed.
#[test]
fn the_sweep_kills_only_what_proves_it_is_a_leftover() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("2026-01-01_00-00-00_x");
    std::fs::create_dir_all(&run).unwrap();
    let dead = dead_owner();
    let mut unrelated = sleeper(None);
    let mut other_owner = sleeper(Some(&dead_owner().token()));
    let mut leftover = sleeper(Some(&dead.token()));
    let my_group = nix::unistd::getpgrp().as_raw();
    std::fs::write(
        run.join("pids"),
        format!(
            "{} {} 0 a\n999999 {} b\n{} {} 0 own\n{} {} 0 c\n",
            dead.token(),
            unrelated.id(),
            unrelated.id(),
            dead.token(),
            my_group,
            dead.token(),
            leftover.id()
        ),
    )
    .unwrap();
    let killed = panther::run::sweep::sweep(tmp.path());
    assert_eq!(killed, 1);
    let st = leftover.wait().unwrap();
    assert!(!st.success(), "the leftover was killed");
    for c in [&mut unrelated, &mut other_owner] {
        assert!(
            c.try_wait().unwrap().is_none(),
            "an unrelated group was killed"
        );
        c.kill().unwrap();
        c.wait().unwrap();
    }
    assert!(!run.join("pids").exists(), "a stale pid file is forgotten");
}

const LONG: &str = "tests:\n  - name: long\n    network_environment: {type: localhost}\n    services:\n      server: {implementation: {name: ping_pong, type: iut}, protocol: {name: minip, role: server}}\n      tester:\n        implementation: {name: minip_tester, type: tester}\n        protocol: {name: minip, role: client, target: server}\n        plugin_config: {count: 100000, interval_ms: 10}\n    timeout: 120\n";

/// Starts LONG and returns once its services run.
#[allow(clippy::zombie_processes)]
fn start_long(tmp: &Path) -> (std::process::Child, PathBuf) {
    let f = write(tmp, "long.yaml", LONG);
    let out_root = tmp.join("out");
    let mut child = panther()
        .arg("run")
        .arg(&f)
        .arg("--output")
        .arg(&out_root)
        .args(["--grace-ms", "300"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    loop {
        if let Some(d) = first_dir(&out_root)
            && std::fs::read_to_string(d.join("events.jsonl"))
                .is_ok_and(|t| t.contains("\"step\":\"running\""))
        {
            return (child, d);
        }
        if t0.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run never got going");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Item 8: SIGHUP (a closed terminal) and SIGQUIT tear the run down like SIGINT: exit 130, a
/// summary marked interrupted, no service left.
#[test]
fn sighup_and_sigquit_tear_down_with_a_summary() {
    use nix::sys::signal::Signal;
    for sig in [Signal::SIGHUP, Signal::SIGQUIT] {
        let tmp = tempfile::tempdir().unwrap();
        let (mut child, dir) = start_long(tmp.path());
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).unwrap();
        let st = child.wait().unwrap();
        assert_eq!(st.code(), Some(130), "{sig}: {st:?}");
        let s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap())
                .unwrap();
        assert_eq!(s["interrupted"], true, "{sig}");
        let pids: Vec<i32> = std::fs::read_to_string(dir.join("events.jsonl"))
            .unwrap()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|e| e["data"]["step"] == "started")
            .filter_map(|e| e["data"]["pid"].as_i64())
            .map(|p| p as i32)
            .collect();
        assert_eq!(pids.len(), 2);
        assert_eq!(wait_gone(&pids, Duration::from_secs(5)), Vec::<i32>::new());
    }
}

/// A run that is tearing down (and writing its summary) keeps going through a storm of
/// further SIGINT, SIGTERM, SIGHUP and SIGQUIT: only the first signal counts, none of the
/// later ones kills panther half way (its handlers stay installed to the end).
#[test]
fn signals_during_teardown_are_swallowed_not_fatal() {
    use nix::sys::signal::{Signal, kill};
    let tmp = tempfile::tempdir().unwrap();
    let (mut child, dir) = start_long(tmp.path());
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    kill(pid, Signal::SIGTERM).unwrap();
    let storm = [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
    ];
    let t0 = Instant::now();
    let mut sent = 0;
    let st = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "teardown never ended"
        );
        if kill(pid, storm[sent % storm.len()]).is_ok() {
            sent += 1;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    assert!(sent >= 2, "the storm reached the teardown ({sent} signals)");
    assert_eq!(st.code(), Some(130), "{st:?} after {sent} more signals");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["interrupted"], true);
}

fn manifest_errors(yaml: &str) -> Vec<(u32, String)> {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("p");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("plugin.yaml"), yaml).unwrap();
    std::fs::write(d.join("README.md"), "# p\n").unwrap();
    let reg = panther::plugin::Registry::load(&panther::plugin::LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![tmp.path().to_path_buf()],
        availability: false,
    });
    reg.diagnostics
        .iter()
        .filter(|d| d.is_error() && d.file.contains(&*tmp.path().to_string_lossy()))
        .map(|d| (d.line, d.message.clone()))
        .collect()
}

fn ready_manifest(ready: &str) -> String {
    format!(
        "name: p\nkind: iut\nversion: \"1\"\ndescription: d\nprotocols: [{{name: minip}}]\nroles: [server]\nrun:\n  server:\n    argv: [\"true\"]\n    ready: {ready}\n"
    )
}

/// Item 4 (manifests): a readiness timeout that is negative, NaN or huge is refused with its
/// position (it panicked at run time: "overflow when adding duration to instant").
/// Item 14: `ready.file` may not leave the service's folder.
#[test]
fn out_of_range_ready_timeouts_and_escaping_ready_files_are_located_errors() {
    for bad in ["-1", ".nan", "1e300", "0"] {
        let errs = manifest_errors(&ready_manifest(&format!(
            "{{udp_port: \"1\", timeout_s: {bad}}}"
        )));
        assert!(
            errs.iter()
                .any(|(l, m)| *l == 10 && m.contains("timeout_s")),
            "{bad}: {errs:?}"
        );
    }
    assert!(manifest_errors(&ready_manifest("{udp_port: \"1\", timeout_s: 5}")).is_empty());
    for bad in ["/etc/passwd", "../x", "a/../../x"] {
        let errs = manifest_errors(&ready_manifest(&format!("{{file: \"{bad}\"}}")));
        assert!(
            errs.iter()
                .any(|(l, m)| *l == 10 && m.contains("leaves the service's folder")),
            "{bad}: {errs:?}"
        );
    }
    assert!(manifest_errors(&ready_manifest("{file: \"up/ready\"}")).is_empty());
}

/// Item 4 (experiments): `timeout: 1e19`, `1e300`, `steps.wait: 1e300` are located errors and
/// nothing runs.
#[test]
fn out_of_range_durations_in_experiments_are_located_errors() {
    let tmp = tempfile::tempdir().unwrap();
    for (field, line) in [
        ("    timeout: 1e19\n", 5),
        ("    timeout: 1e300\n", 5),
        ("    steps: {wait: 1e300}\n", 5),
        ("    timeout: .inf\n", 5),
    ] {
        let f = write(
            tmp.path(),
            "e.yaml",
            &format!(
                "tests:\n  - name: t\n    network_environment: {{type: localhost}}\n    services: {{server: {{implementation: {{name: ping_pong, type: iut}}, protocol: {{name: minip, role: server}}}}}}\n{field}"
            ),
        );
        let out = panther().arg("validate").arg(&f).output().unwrap();
        let text = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        assert_ne!(out.status.code(), Some(0), "{field}: {text}");
        assert!(
            text.contains(&format!("e.yaml:{line}:")) && !text.contains("panicked"),
            "{field}: {text}"
        );
    }
}

fn mkfifo(p: &Path) {
    nix::unistd::mkfifo(p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
}

fn no_panic(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!text.contains("panicked"), "{text}");
    text
}

/// Item 6: a FIFO or a device where a file is expected is refused at once (it hung
/// `validate`, `plugins list` and `export`; `/dev/zero` exhausted memory).
#[test]
fn fifos_and_devices_are_refused_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("exp.yaml");
    mkfifo(&fifo);
    for f in [fifo.as_path(), Path::new("/dev/zero")] {
        let mut c = panther();
        c.arg("validate").arg(f);
        let out = run_with_timeout(c, Duration::from_secs(10));
        assert_ne!(out.status.code(), Some(0));
        assert!(no_panic(&out).contains("not a regular file"), "{f:?}");
    }
    // A plugin whose README and manifest are FIFOs.
    let plugins = tmp.path().join("plugins");
    std::fs::create_dir_all(plugins.join("a")).unwrap();
    std::fs::create_dir_all(plugins.join("b")).unwrap();
    mkfifo(&plugins.join("a/plugin.yaml"));
    std::fs::write(
        plugins.join("b/plugin.yaml"),
        "name: b\nkind: iut\nversion: \"1\"\ndescription: d\nprotocols: [{name: minip}]\nroles: [server]\nrun:\n  server:\n    argv: [\"true\"]\n",
    )
    .unwrap();
    mkfifo(&plugins.join("b/README.md"));
    let mut c = panther();
    c.arg("--plugin-dir")
        .arg(&plugins)
        .args(["plugins", "list"]);
    let out = run_with_timeout(c, Duration::from_secs(10));
    no_panic(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains('b'));
    // A results folder whose events.jsonl is a FIFO.
    let run = tmp.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    mkfifo(&run.join("events.jsonl"));
    let mut c = panther();
    c.arg("export").arg(&run).args(["--format", "mermaid"]);
    let out = run_with_timeout(c, Duration::from_secs(10));
    assert_ne!(out.status.code(), Some(0));
    assert!(no_panic(&out).contains("not a regular file"));
}

/// The shared reader: a hard limit even when the size check is fooled.
#[test]
fn the_limited_reader_refuses_what_is_not_a_small_regular_file() {
    use panther::plugin::loader::read_bytes_limited;
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("f");
    std::fs::write(&f, b"0123456789").unwrap();
    assert_eq!(read_bytes_limited(&f, 10).unwrap().len(), 10);
    assert!(read_bytes_limited(&f, 9).is_err());
    assert!(read_bytes_limited(Path::new("/dev/zero"), 1 << 20).is_err());
    assert!(read_bytes_limited(tmp.path(), 1 << 20).is_err());
}

/// Item 11: a non-UTF-8 argument and a full stdout are errors, not panics.
#[test]
fn a_non_utf8_argument_and_a_full_stdout_do_not_panic() {
    use std::os::unix::ffi::OsStrExt;
    let bad = std::ffi::OsStr::from_bytes(b"\xff\xfe.yaml");
    let out = panther().arg("validate").arg(bad).output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    no_panic(&out);
    let out = panther().arg(bad).output().unwrap();
    no_panic(&out);

    // A finished run, exported to /dev/full.
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "q.yaml",
        "tests:\n  - name: q\n    network_environment: {type: localhost}\n    services:\n      server: {implementation: {name: ping_pong, type: iut}, protocol: {name: minip, role: server}}\n    steps: {wait: 0.2}\n",
    );
    let out_root = tmp.path().join("out");
    let st = panther()
        .arg("run")
        .arg(&f)
        .arg("--output")
        .arg(&out_root)
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(0));
    let dir = first_dir(&out_root).unwrap();
    for format in ["mermaid", "junit", "json"] {
        let out = panther()
            .arg("export")
            .arg(&dir)
            .args(["--format", format])
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        assert_ne!(out.status.code(), Some(0), "{format}");
        assert!(
            no_panic(&out).contains("cannot write to stdout"),
            "{format}"
        );
    }
}

/// Item 14: a `files:` template that is a symbolic link out of the plugin folder is not read.
#[test]
fn a_template_symlinked_out_of_the_plugin_folder_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("p");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(tmp.path().join("secret"), "top secret {{ nope }}").unwrap();
    std::os::unix::fs::symlink(tmp.path().join("secret"), d.join("t.j2")).unwrap();
    std::fs::write(
        d.join("plugin.yaml"),
        "name: p\nkind: iut\nversion: \"1\"\ndescription: d\nprotocols: [{name: minip}]\nroles: [server]\nfiles: [{template: t.j2, path: t.conf}]\nrun:\n  server:\n    argv: [\"true\"]\n",
    )
    .unwrap();
    assert!(
        panther::plugin::loader::inside(&d, "t.j2").is_none(),
        "the link leaves the folder"
    );
    std::fs::write(tmp.path().join("ok"), "x").unwrap();
    assert!(panther::plugin::loader::inside(tmp.path(), "ok").is_some());
}

/// Item 3: discovery runs no code: `requires.python_modules` is checked by looking for the
/// module's file in python3's search path, never by importing it, and the current folder is
/// not on that path.
#[test]
fn python_module_checks_import_nothing_and_ignore_the_current_folder() {
    if !need("python3") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pl = tmp.path().join("pl");
    let manifest = |name: &str, mods: &str| {
        std::fs::create_dir_all(pl.join(name)).unwrap();
        std::fs::write(
            pl.join(name).join("plugin.yaml"),
            format!("name: {name}\nkind: iut\nversion: \"1\"\ndescription: d\nprotocols: [{{name: minip}}]\nroles: [server]\nrequires: {{python_modules: [{mods}]}}\nrun:\n  server:\n    argv: [\"true\"]\n"),
        )
        .unwrap();
    };
    manifest("pya", "json, sys, email.mime");
    manifest("pyb", "evil");
    manifest("pyc", "evilpkg.sub");
    let mark = tmp.path().join("MARK");
    let code = format!("open({:?}, 'w').write('ran')\n", mark.display().to_string());
    std::fs::write(tmp.path().join("evil.py"), &code).unwrap();
    std::fs::create_dir_all(tmp.path().join("evilpkg")).unwrap();
    std::fs::write(tmp.path().join("evilpkg/__init__.py"), &code).unwrap();
    std::fs::write(tmp.path().join("evilpkg/sub.py"), "").unwrap();
    let out = panther()
        .current_dir(tmp.path())
        .arg("--plugin-dir")
        .arg(&pl)
        .args(["plugins", "list"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!mark.exists(), "discovery ran a module's code");
    let line = |n: &str| {
        text.lines()
            .find(|l| l.starts_with(n))
            .unwrap_or("")
            .to_string()
    };
    assert!(line("pya ").contains(" available"), "{text}");
    assert!(line("pyb ").contains("unavailable"), "{text}");
    assert!(line("pyc ").contains("unavailable"), "{text}");
}

/// Item 16: one huge output line is streamed to the log whole, and becomes an event of at
/// most 64 KiB.
#[test]
fn a_huge_output_line_is_logged_whole_and_capped_as_an_event() {
    if !need("python3") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pl = tmp.path().join("pl/long_line");
    std::fs::create_dir_all(&pl).unwrap();
    std::fs::write(
        pl.join("plugin.yaml"),
        "name: long_line\nkind: iut\nversion: \"1\"\ndescription: d\nprotocols: [{name: minip}]\nroles: [server]\nrun:\n  server:\n    argv: [\"python3\", \"-c\", \"import sys,time; sys.stdout.write('x'*8000000+'\\\\nafter\\\\n'); sys.stdout.flush(); time.sleep(60)\"]\n    ready: {delay_ms: 50}\n",
    )
    .unwrap();
    std::fs::write(pl.join("README.md"), "# long_line\n").unwrap();
    let f = write(
        tmp.path(),
        "l.yaml",
        "tests:\n  - name: l\n    network_environment: {type: localhost}\n    services:\n      server: {implementation: {name: long_line, type: iut}, protocol: {name: minip, role: server}}\n    steps: {wait: 1.5}\n",
    );
    let out_root = tmp.path().join("out");
    let out = panther()
        .arg("--plugin-dir")
        .arg(tmp.path().join("pl"))
        .arg("run")
        .arg(&f)
        .arg("--output")
        .arg(&out_root)
        .args(["--grace-ms", "200"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", no_panic(&out));
    let dir = first_dir(&out_root).unwrap();
    let log = std::fs::metadata(dir.join("l/server/stdout.log"))
        .unwrap()
        .len();
    assert!(log >= 8_000_000, "{log}");
    let events = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let longest = events.lines().map(str::len).max().unwrap();
    assert!(longest < 200_000, "{longest}");
    assert!(events.contains("line cut at 65536 bytes"));
    assert!(events.contains("\"after\""));
}

/// Item 10: `steps.pre_commands`/`post_commands` and a manifest's `phases` run (argv only,
/// in the test's and the service's folders); a failing one makes the test an error.
#[test]
fn step_commands_and_manifest_phases_run() {
    let tmp = tempfile::tempdir().unwrap();
    let pl = tmp.path().join("pl/phased");
    std::fs::create_dir_all(&pl).unwrap();
    std::fs::write(
        pl.join("plugin.yaml"),
        "name: phased\nkind: iut\nversion: \"1\"\ndescription: d\nprotocols: [{name: minip}]\nroles: [server]\nphases:\n  prepare: [[\"touch\", \"prepared\"]]\n  pre_run: [[\"touch\", \"pre run\"]]\n  post_run: [[\"touch\", \"post_run\"]]\nrun:\n  server:\n    argv: [\"sleep\", \"30\"]\n    ready: {delay_ms: 10}\n",
    )
    .unwrap();
    std::fs::write(pl.join("README.md"), "# phased\n").unwrap();
    let exp = |pre: &str| {
        format!(
            "tests:\n  - name: s\n    network_environment: {{type: localhost}}\n    services:\n      server: {{implementation: {{name: phased, type: iut}}, protocol: {{name: minip, role: server}}}}\n    steps:\n      wait: 0.3\n      pre_commands: [{pre}]\n      post_commands: [[\"touch\", \"after; $(id)\"]]\n"
        )
    };
    let go = |name: &str, text: &str| {
        let f = write(tmp.path(), name, text);
        let out_root = tmp.path().join(name.replace(".yaml", ""));
        let out = panther()
            .arg("--plugin-dir")
            .arg(tmp.path().join("pl"))
            .arg("run")
            .arg(&f)
            .arg("--output")
            .arg(&out_root)
            .args(["--grace-ms", "200", "--json"])
            .output()
            .unwrap();
        no_panic(&out);
        (out, first_dir(&out_root).unwrap().join("s"))
    };
    let (out, dir) = go("ok.yaml", &exp("[\"touch\", \"before\"]"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "before",
        "after; $(id)",
        "server/prepared",
        "server/pre run",
        "server/post_run",
    ] {
        assert!(dir.join(f).exists(), "{f} was not made");
    }
    let (out, dir) = go("bad.yaml", &exp("[\"false\"]"));
    assert_eq!(out.status.code(), Some(1));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["tests"][0]["verdict"], "error");
    assert!(
        s["tests"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("pre_commands `false` exited with code 1"),
        "{s}"
    );
    assert!(!dir.join("server/prepared").exists(), "no service started");
}

/// Item 14: two manifests with one name in one plugin folder are an error (the later won
/// silently when they were identical), and plugins nested too deep are named in a warning.
#[test]
fn duplicate_names_and_deep_plugins_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let m = "name: twin\nkind: iut\nversion: \"1\"\ndescription: d\nprotocols: [{name: minip}]\nroles: [server]\nrun:\n  server:\n    argv: [\"true\"]\n";
    for d in ["a", "b"] {
        std::fs::create_dir_all(tmp.path().join(d)).unwrap();
        std::fs::write(tmp.path().join(d).join("plugin.yaml"), m).unwrap();
    }
    let deep: PathBuf = (0..20).fold(tmp.path().join("deep"), |p, i| p.join(format!("d{i}")));
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("plugin.yaml"), m.replace("twin", "deep")).unwrap();
    let reg = panther::plugin::Registry::load(&panther::plugin::LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![tmp.path().to_path_buf()],
        availability: false,
    });
    let mine: Vec<_> = reg
        .diagnostics
        .iter()
        .filter(|d| d.file.contains(&*tmp.path().to_string_lossy()))
        .collect();
    assert!(
        mine.iter()
            .any(|d| d.is_error() && d.message.contains("already named `twin`")),
        "{mine:?}"
    );
    assert!(
        mine.iter().any(|d| d.message.contains("not loaded")),
        "{mine:?}"
    );
}

/// Item 1 under a renamed binary (the soak found it): the init is found whatever panther's
/// file is called.
#[test]
fn a_renamed_panther_still_runs_services_under_its_init() {
    if !need("python3") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("panther-renamed");
    std::fs::copy(env!("CARGO_BIN_EXE_panther"), &bin).unwrap();
    let f = write(tmp.path(), "d.yaml", &daemon_exp("localhost", false));
    let out_root = tmp.path().join("out");
    let mut c = Command::new(&bin);
    c.env_remove("PANTHER_EXE")
        .arg("--no-user-plugins")
        .arg("--plugin-dir")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plugins"))
        .arg("run")
        .arg(&f)
        .arg("--output")
        .arg(&out_root)
        .args(["--grace-ms", "300"]);
    let out = run_with_timeout(c, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0), "{}", no_panic(&out));
    let pid = daemon_pid(&first_dir(&out_root).unwrap()).expect("the daemon wrote its pid");
    assert_eq!(wait_gone(&[pid], Duration::from_secs(3)), Vec::<i32>::new());
}

/// Item 8 under nohup: an inherited SIG_IGN for SIGHUP stays (the run goes on and is ended
/// by SIGTERM as usual).
#[test]
fn under_nohup_sighup_stays_ignored() {
    use std::os::unix::process::CommandExt;
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "long.yaml", LONG);
    let out_root = tmp.path().join("out");
    let mut c = panther();
    c.arg("run")
        .arg(&f)
        .arg("--output")
        .arg(&out_root)
        .args(["--grace-ms", "300"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: one signal(2) call between fork and exec.
    unsafe {
        c.pre_exec(|| {
            nix::libc::signal(nix::libc::SIGHUP, nix::libc::SIG_IGN);
            Ok(())
        });
    }
    #[allow(clippy::zombie_processes)]
    let mut child = c.spawn().unwrap();
    let t0 = Instant::now();
    while !first_dir(&out_root)
        .and_then(|d| std::fs::read_to_string(d.join("events.jsonl")).ok())
        .is_some_and(|t| t.contains("\"step\":\"running\""))
    {
        assert!(t0.elapsed() < Duration::from_secs(20), "never got going");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP ended a nohup run"
    );
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));
}

fn argv_manifest(argv0: &str, env: &str) -> String {
    format!(
        "name: p\nkind: iut\nversion: \"1\"\ndescription: d\nprotocols: [{{name: minip}}]\nroles: [server]\nrun:\n  server:\n    argv: [{argv0}, \"--n={{{{ range(3) | list | length }}}}\"]\n    env: {{{env}}}\n"
    )
}

/// Item 13: templates that parse but cannot render (an unknown filter or test, `1/0`, a
/// recursive macro, a runaway loop or repetition, `include`/`import`/`extends`), an empty
/// program name, a NUL, an env key with `=` are located errors when the manifest loads, not
/// failures at run time; the built-in `range` is not an unknown variable.
#[test]
fn templates_and_argv_that_would_fail_at_run_time_are_located_errors() {
    let bad_argv = [
        (r#""{{ port | nosuch }}""#, "unknown filter"),
        (r#""{{ port is nosuch }}""#, "unknown test"),
        (r#""{{ 1/0 }}""#, "1 / 0"),
        (
            r#""{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}""#,
            "recursion",
        ),
        (
            r#""{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}""#,
            "fuel",
        ),
        (r#""{{ 'x' * 999999999999 }}""#, "cannot be rendered"),
        (r#""{% include 'a' %}""#, "cannot include, import or extend"),
        (
            r#""{% import 'a' as b %}""#,
            "cannot include, import or extend",
        ),
        (r#""{% extends 'a' %}""#, "cannot include, import or extend"),
        (r#""""#, "the program name is empty"),
        (r#""a\0b""#, "NUL"),
    ];
    for (argv0, want) in bad_argv {
        let errs = manifest_errors(&argv_manifest(argv0, "A: \"1\""));
        assert!(
            errs.iter().any(|(l, m)| *l == 9 && m.contains(want)),
            "{argv0}: {errs:?}"
        );
    }
    for (env, want) in [
        (r#""A=B": "1""#, "cannot be an environment variable's name"),
        (r#"A: "x\0""#, "NUL"),
        (r#"A: "{{ port | nosuch }}""#, "unknown filter"),
    ] {
        let errs = manifest_errors(&argv_manifest("\"true\"", env));
        assert!(
            errs.iter().any(|(l, m)| *l == 10 && m.contains(want)),
            "{env}: {errs:?}"
        );
    }
    let fine = manifest_errors(&argv_manifest("\"true\"", "A: \"{{ port + 1 }}\""));
    assert!(fine.is_empty(), "{fine:?}");
}

/// Item 13: `files:` entries must name a file (`.`, `dir/`, `a/.` do not), and a whole-file
/// template is trial-rendered too.
#[test]
fn files_entries_name_a_file_and_their_templates_render() {
    let errs = |path: &str, body: &str| {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("p");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("plugin.yaml"),
            format!(
                "name: p\nkind: iut\nversion: \"1\"\ndescription: d\nprotocols: [{{name: minip}}]\nroles: [server]\nrun:\n  server:\n    argv: [\"true\"]\nfiles: [{{template: t.conf, path: \"{path}\"}}]\n"
            ),
        )
        .unwrap();
        std::fs::write(d.join("README.md"), "# p\n").unwrap();
        std::fs::write(d.join("t.conf"), body).unwrap();
        let reg = panther::plugin::Registry::load(&panther::plugin::LoadOptions {
            bundled: true,
            user: false,
            dirs: vec![tmp.path().to_path_buf()],
            availability: false,
        });
        reg.diagnostics
            .iter()
            .filter(|d| d.is_error() && d.file.contains(&*tmp.path().to_string_lossy()))
            .map(|d| (d.line, d.column, d.message.clone()))
            .collect::<Vec<_>>()
    };
    for path in [".", "dir/", "a/."] {
        let e = errs(path, "port={{ port }}\n");
        assert!(
            e.iter()
                .any(|(l, _, m)| *l == 10 && m.contains("is not a relative path")),
            "{path}: {e:?}"
        );
    }
    let e = errs("t.conf", "port={{ port | nosuch }}\n");
    assert!(
        e.iter()
            .any(|(l, _, m)| *l == 10 && m.contains("cannot be rendered: unknown filter")),
        "{e:?}"
    );
    assert!(errs("conf/t.conf", "port={{ port }}\n").is_empty());
}

/// Item 13 (experiments): a step command with an empty program name or a NUL is a located
/// error (it validated, then failed to start).
#[test]
fn step_commands_with_an_empty_program_or_a_nul_are_located_errors() {
    let tmp = tempfile::tempdir().unwrap();
    for (cmds, line, col) in [
        (r#"[[""]]"#, 5, 30),
        (r#"[["echo", "a\0b"]]"#, 5, 38),
        (r#"[["true"], ["  "]]"#, 5, 40),
    ] {
        let f = write(
            tmp.path(),
            "e.yaml",
            &format!(
                "tests:\n  - name: t\n    network_environment: {{type: localhost}}\n    services: {{server: {{implementation: {{name: ping_pong, type: iut}}, protocol: {{name: minip, role: server}}}}}}\n    steps: {{post_commands: {cmds}}}\n"
            ),
        );
        let out = panther().arg("validate").arg(&f).output().unwrap();
        let text = no_panic(&out);
        assert_eq!(out.status.code(), Some(2), "{cmds}: {text}");
        assert!(
            text.contains(&format!("e.yaml:{line}:{col}:")),
            "{cmds}: {text}"
        );
    }
}

/// Item 12: a list where a map belongs is a located error (`link: [1, 2]` was read as delay 1,
/// jitter 2), and integers too large for 64 bits are quoted as written, not as a rounded float.
#[test]
fn a_list_is_not_a_map_and_big_integers_are_quoted_as_written() {
    let tmp = tempfile::tempdir().unwrap();
    let base = "tests:\n  - name: t\n    network_environment: {type: localhost, link: LINK}\n    services:\n      server: {implementation: {name: ping_pong, type: iut}, protocol: {name: minip, role: server}}\n      tester: {implementation: {name: minip_tester, type: tester}, protocol: {name: minip, role: client, target: server}, plugin_config: CFG}\n    EXTRA\n";
    let cases = [
        (
            "[1, 2]",
            "{count: 3}",
            "timeout: 5",
            "e.yaml:3:50: error: wrong type: found a list",
        ),
        (
            "{delay_ms: 1}",
            "[3, 20]",
            "timeout: 5",
            "e.yaml:6:138: error: wrong type: found a list",
        ),
        (
            "{delay_ms: 1}",
            "{count: 3}",
            "iterations: 99999999999999999999",
            "found the integer 99999999999999999999, which is too large",
        ),
        (
            "{delay_ms: 1}",
            "{count: 3}",
            "timeout: 18446744073709551616",
            "`timeout` is 18446744073709551616",
        ),
        (
            "{delay_ms: 1}",
            "{count: 99999999999999999999}",
            "timeout: 5",
            "`count`: expected an integer, found the integer 99999999999999999999",
        ),
        (
            "{delay_ms: 1e300}",
            "{count: 3}",
            "timeout: 5",
            "`delay_ms` is 1e300\n",
        ),
    ];
    for (link, cfg, extra, want) in cases {
        let text = base
            .replace("LINK", link)
            .replace("CFG", cfg)
            .replace("EXTRA", extra);
        let f = write(tmp.path(), "e.yaml", &text);
        let out = panther().arg("validate").arg(&f).output().unwrap();
        let err = no_panic(&out);
        assert_eq!(out.status.code(), Some(2), "{link} {cfg} {extra}: {err}");
        assert!(err.contains(want), "{link} {cfg} {extra}: {err}");
    }
}
