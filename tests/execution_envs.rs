//! PANTHER's execution environments end to end (issue 15): real runs of the MinIP server
//! under gperf_cpu, gperf_heap, perf and gdb, helgrind on a racy C program compiled here,
//! the stretch of timeouts under memcheck, and what validation and availability say.
//!
//! A missing tool or root skips with the reason locally and fails under `CI=true`.

mod common;
mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use support::{events, panther, results_dir, root_or_skip, summary, tool_or_skip};

/// Writes `yaml` and runs it (with extra `args`, such as `--plugin-dir`) into a fresh root.
fn run_yaml(yaml: &str, args: &[&str]) -> (Output, Value, PathBuf, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("exp.yaml");
    std::fs::write(&file, yaml).unwrap();
    let out_root = tmp.path().join("out");
    let out = panther()
        .args(args)
        .arg("run")
        .arg(&file)
        .arg("--output")
        .arg(&out_root)
        .args(["--json", "--grace-ms", "5000"])
        .output()
        .unwrap();
    let s = summary(&out);
    let dir = results_dir(&out_root);
    (out, s, dir, tmp)
}

/// The MinIP server under `wrapper` (with `config`), and the ping_pong client sending
/// `count` PINGs as fast as it can.
fn minip_under(wrapper: &str, config: &str, version: &str, count: u32) -> String {
    format!(
        "tests:\n  - name: t\n    network_environment: {{type: localhost}}\n    execution_environment:\n      - {{type: {wrapper}, plugin_config: {{{config}}}}}\n    services:\n      server:\n        implementation: {{name: ping_pong, type: iut}}\n        protocol: {{name: minip, role: server, version: {version}}}\n      client:\n        implementation: {{name: ping_pong, type: iut}}\n        protocol: {{name: minip, role: client, target: server}}\n        plugin_config: {{count: {count}, interval_ms: 0}}\n"
    )
}

fn service<'a>(s: &'a Value, name: &str) -> &'a Value {
    s["tests"][0]["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no service {name}: {s:#}"))
}

fn functions(profile: &Value, ranking: &str, n: usize) -> Vec<String> {
    profile[ranking]
        .as_array()
        .unwrap()
        .iter()
        .take(n)
        .map(|e| e["function"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn gperf_cpu_profile_names_the_minip_server_functions() {
    if !tool_or_skip("gperf_cpu", "google-pprof") {
        return;
    }
    let (out, s, dir, _tmp) = run_yaml(
        &minip_under("gperf_cpu", "sampling_frequency: 4000", "functional", 20000),
        &[],
    );
    assert_eq!(
        s["verdict"],
        "pass",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = service(&s, "server");
    let p = &server["profiles"][0];
    assert_eq!(p["tool"], "gperf_cpu");
    assert!(
        p["total"].as_f64().unwrap() > 20.0,
        "too few samples: {p:#}"
    );
    let top = functions(p, "by_cumulative", 20);
    assert!(
        top.iter()
            .any(|f| f.starts_with("panther::builtin::minip_server::")),
        "no MinIP server function among the top 20 by cumulative share: {top:#?}"
    );
    // Kept as an artifact, announced as a metric event, and shown in the report.
    assert!(dir.join("t/server/artifacts/cpu.prof").is_file());
    let evs = events(&dir);
    assert!(evs.iter().any(|e| e["kind"] == "metric"
        && e["source"] == "server"
        && e["data"]["profile"]["tool"] == "gperf_cpu"));
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("gperf_cpu profile (`cpu.prof`"), "{report}");
    assert!(report.contains("| Function | Self | Cumulative |"));
    let screen = workbench_runs_screen(dir.parent().unwrap());
    assert!(screen.contains("gperf_cpu profile (cpu.prof,"), "{screen}");
    // The workbench draws markdown tables as cells joined by " · ".
    assert!(screen.contains("Function · Self · Cumulative"), "{screen}");
    assert!(!screen.contains("|---"), "rule lines hidden: {screen}");
    assert!(!screen.contains("| Function"), "bars hidden: {screen}");
}

#[test]
fn gperf_heap_produces_a_heap_profile() {
    if !tool_or_skip("gperf_heap", "google-pprof") {
        return;
    }
    let (out, s, dir, _tmp) = run_yaml(&minip_under("gperf_heap", "", "functional", 500), &[]);
    assert_eq!(
        s["verdict"],
        "pass",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let heaps: Vec<_> = std::fs::read_dir(dir.join("t/server/artifacts"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".heap"))
        .collect();
    assert!(!heaps.is_empty(), "tcmalloc wrote no heap dump");
    let p = &service(&s, "server")["profiles"][0];
    assert_eq!(p["tool"], "gperf_heap");
    assert_eq!(p["unit"], "bytes");
    assert!(p["total"].as_f64().unwrap() > 0.0, "{p:#}");
    assert!(!functions(p, "by_self", 5).is_empty());
}

#[test]
fn perf_profiles_or_says_plainly_why_not() {
    if !root_or_skip("perf") || !tool_or_skip("perf", "perf") {
        return;
    }
    let (out, s, _dir, _tmp) = run_yaml(&minip_under("perf", "", "functional", 5000), &[]);
    assert_eq!(
        s["verdict"],
        "pass",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = &service(&s, "server")["profiles"][0];
    assert_eq!(p["tool"], "perf");
    assert_eq!(p["event"], "cpu-clock");
    assert!(p["total"].as_f64().unwrap() > 0.0);
    // This machine's answer to `perf stat -e instructions true`, said in the profile.
    if panther::env::execution::perf::hardware_counters() == Some(false) {
        let note = p["note"].as_str().unwrap_or_default();
        assert!(note.contains("no hardware counters"), "{p:#}");
    }
}

#[test]
fn gdb_backtrace_names_the_panicking_function() {
    if !root_or_skip("gdb") || !tool_or_skip("gdb", "gdb") {
        return;
    }
    let yaml = "tests:\n  - name: t\n    network_environment: {type: localhost}\n    execution_environment: [{type: gdb}]\n    services:\n      server:\n        implementation: {name: ping_pong, type: iut}\n        protocol: {name: minip, role: server, version: vulnerable}\n      tester:\n        implementation: {name: minip_tester, type: tester}\n        protocol: {name: minip, role: client, target: server}\n        plugin_config: {count: 10, interval_ms: 10}\n";
    // Ten PINGs: after the crash each waits its (stretched) second, which gives gdb, slow to
    // read the debug binary's symbols on a loaded machine, time to print every thread before
    // the teardown's SIGINT interrupts it (the README says so).
    let (_out, s, dir, tmp) = run_yaml(yaml, &[]);
    let server = service(&s, "server");
    assert_eq!(server["verdict"], "error");
    let reason = server["reason"].as_str().unwrap();
    assert!(
        reason.contains(
            "gdb: crashed: Rust panic in panther::builtin::minip_server::handle_trusting_length"
        ),
        "{reason}"
    );
    // Whether the panic had unwound to exit 101 before teardown depends on how long gdb took
    // to print the stacks; either way the session log is kept.
    assert!(dir.join("t/server/artifacts/gdb.log").is_file());
    let stack = &server["stacks"][0];
    assert_eq!(stack["wrapper"], "gdb");
    let frames: Vec<&str> = stack["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        frames.iter().any(|f| f.contains("Server::handle")),
        "{frames:#?}"
    );
    // Every thread's backtrace is an event.
    let evs = events(&dir);
    let threads = evs
        .iter()
        .filter(|e| e["data"]["wrapper"] == "gdb" && e["data"]["frames"].is_array())
        .count();
    assert!(threads >= 2, "main and the log writer thread");
    // The workbench's runs screen shows the crash's stack in its report pane.
    let screen = workbench_runs_screen(&tmp.path().join("out"));
    assert!(
        screen.contains("gdb stack: crashed: Rust panic in"),
        "{screen}"
    );
    assert!(
        screen.contains(" 9. panther::builtin::minip_server::handle_trusting_length"),
        "{screen}"
    );
}

/// The workbench on the runs screen over `outputs`, drawn 240×90.
fn workbench_runs_screen(outputs: &Path) -> String {
    use panther::tui::app::{Action, App};
    let reg = common::bundled();
    let mut a = App::new(&reg, false);
    a.outputs = outputs.to_path_buf();
    a.update(Action::NextScreen);
    a.update(Action::Resize(240, 90));
    common::draw_text(240, 90, |f| panther::tui::screens::draw(f, &mut a))
}

#[test]
fn gdb_on_a_clean_run_leaves_no_noise() {
    if !root_or_skip("gdb") || !tool_or_skip("gdb", "gdb") {
        return;
    }
    let (out, s, dir, _tmp) = run_yaml(&minip_under("gdb", "", "functional", 50), &[]);
    assert_eq!(
        s["verdict"],
        "pass",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(service(&s, "server").get("stacks").is_none());
    let noise: Vec<Value> = events(&dir)
        .into_iter()
        .filter(|e| e["data"]["wrapper"] == "gdb")
        .collect();
    assert!(noise.is_empty(), "{noise:#?}");
}

/// A plugin folder with the `racy` IUT: tests/data/race.c compiled with gcc.
fn racy_plugin(dir: &Path) {
    let p = dir.join("racy");
    std::fs::create_dir_all(&p).unwrap();
    let st = std::process::Command::new("gcc")
        .args(["-g", "-O0", "-pthread", "-o"])
        .arg(p.join("race"))
        .arg(support::repo("tests/data/race.c"))
        .status()
        .unwrap();
    assert!(st.success(), "gcc failed");
    std::fs::write(
        p.join("plugin.yaml"),
        "name: racy\nkind: iut\nversion: \"0.1.0\"\ndescription: Two threads bump one counter without a lock\nprotocols: [{name: minip}]\nroles: [server]\nrun:\n  server:\n    argv: [\"{{ plugin_dir }}/race\"]\n    ready: {log: \"counter =\", timeout_s: 30}\n",
    )
    .unwrap();
    std::fs::write(p.join("README.md"), "# racy\n\nA data race for helgrind.\n").unwrap();
}

#[test]
fn helgrind_catches_the_race_in_a_c_program() {
    if !tool_or_skip("helgrind", "valgrind") || !tool_or_skip("helgrind", "gcc") {
        return;
    }
    let plugins = tempfile::tempdir().unwrap();
    racy_plugin(plugins.path());
    let yaml = "tests:\n  - name: t\n    network_environment: {type: localhost}\n    execution_environment: [{type: helgrind}]\n    steps: {wait: 1}\n    services:\n      racy:\n        implementation: {name: racy, type: iut}\n        protocol: {name: minip, role: server}\n";
    let dir_arg = plugins.path().display().to_string();
    let (out, s, _dir, _tmp) = run_yaml(yaml, &["--plugin-dir", &dir_arg]);
    let racy = service(&s, "racy");
    assert_eq!(
        racy["verdict"],
        "fail",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reason = racy["reason"].as_str().unwrap();
    assert!(reason.starts_with("helgrind: helgrind: "), "{reason}");
    assert!(reason.contains("Race: Possible data race"), "{reason}");
    assert!(
        reason.contains("bump (race.c:"),
        "names the racing function: {reason}"
    );
    let stack = &racy["stacks"][0];
    assert_eq!(stack["wrapper"], "helgrind");
    let frames = stack["frames"].to_string();
    assert!(
        frames.contains("conflicts with a previous"),
        "both sides: {frames}"
    );
}

#[test]
fn memcheck_stretch_lets_a_slow_tester_pass_and_says_so() {
    if !tool_or_skip("memcheck stretch", "valgrind") {
        return;
    }
    // A 1 ms reply timeout: the first PONG under memcheck usually takes several ms (Valgrind
    // translates the reply path on first use), but on an idle machine it sometimes comes
    // within 1 ms, so the unstretched test's verdict is not asserted: what it waited for is.
    // Stretched ×150 it is 150 ms; with `slowdown: 1` it stays 1 ms.
    let test = |name: &str, extra: &str| {
        format!(
            "  - name: {name}\n    network_environment: {{type: localhost}}\n    execution_environment:\n      - {{type: memcheck{extra}}}\n    services:\n      server:\n        implementation: {{name: ping_pong, type: iut}}\n        protocol: {{name: minip, role: server}}\n      tester:\n        implementation: {{name: minip_tester, type: tester}}\n        protocol: {{name: minip, role: client, target: server}}\n        plugin_config: {{count: 3, interval_ms: 0, malformed: false, reply_timeout_ms: 1}}\n"
        )
    };
    let yaml = format!(
        "tests:\n{}{}",
        test("stretched", ", slowdown: 150"),
        test("not_stretched", ", slowdown: 1")
    );
    let (_out, s, dir, _tmp) = run_yaml(&yaml, &[]);
    let verdicts = support::verdicts(&s);
    assert_eq!(verdicts[0], ("stretched".into(), "pass".into()), "{s:#}");
    assert_eq!(verdicts[1].0, "not_stretched");
    let unstretched = s["tests"][1].to_string();
    assert!(
        unstretched.contains("with a PONG within 1 ms"),
        "the unstretched tester waited 1 ms: {s:#}"
    );
    assert!(
        s["tests"][0]
            .to_string()
            .contains("with a PONG within 150 ms"),
        "{s:#}"
    );
    let tester = &s["tests"][0]["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "tester")
        .unwrap()["stretch"];
    assert_eq!(tester["factor"], 150.0);
    assert_eq!(tester["parameters"][0]["parameter"], "reply_timeout_ms");
    assert_eq!(tester["parameters"][0]["to"], 150);
    let evs = events(&dir);
    let said = evs.iter().any(|e| {
        e["test"] == "stretched"
            && e["data"]["step"] == "stretch"
            && e["text"].as_str().unwrap().contains("×150 (memcheck ×150)")
    });
    assert!(said, "the stretch is an event");
    assert!(
        !evs.iter()
            .any(|e| e["test"] == "not_stretched" && e["data"]["step"] == "stretch")
    );
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        report.contains("timeouts stretched ×150 (memcheck ×150)"),
        "{report}"
    );
}

#[test]
fn incompatible_wrappers_are_refused_with_a_position() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("both.yaml");
    std::fs::write(
        &file,
        "tests:\n  - name: t\n    network_environment: {type: localhost}\n    execution_environment:\n      - type: memcheck\n      - type: helgrind\n    services:\n      server:\n        implementation: {name: ping_pong, type: iut}\n        protocol: {name: minip, role: server}\n",
    )
    .unwrap();
    let out = panther().arg("validate").arg(&file).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("both.yaml:6:15: error: `helgrind` cannot be used with `memcheck` (line 5)"),
        "{err}"
    );
}

#[test]
fn panther_keys_are_accepted_and_typos_suggested() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("keys.yaml");
    std::fs::write(
        &file,
        "tests:\n  - name: t\n    network_environment: {type: localhost}\n    execution_environment:\n      - type: gperf_cpu\n        generate_pdf: true\n        sampling_frequency: 200\n    services:\n      server:\n        implementation: {name: ping_pong, type: iut}\n        protocol: {name: minip, role: server}\n  - name: u\n    network_environment: {type: localhost}\n    execution_environment:\n      - {type: gdb, plugin_config: {max_backtrace_dept: 5, gdb_binary: /usr/bin/gdb}}\n    services:\n      server:\n        implementation: {name: ping_pong, type: iut}\n        protocol: {name: minip, role: server}\n",
    )
    .unwrap();
    let out = panther().arg("validate").arg(&file).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: `generate_pdf` is PANTHER's"),
        "{err}"
    );
    assert!(err.contains("warning: `gdb_binary` is PANTHER's"), "{err}");
    assert!(
        err.contains("error: `gdb` has no parameter `max_backtrace_dept`")
            && err.contains("did you mean `max_backtrace_depth`?"),
        "{err}"
    );
    assert!(err.contains("1 error"), "only the typo is an error: {err}");
}

#[test]
fn a_missing_profiler_makes_the_plugin_unavailable_with_the_install_command() {
    let empty = tempfile::tempdir().unwrap();
    let out = panther()
        .env("PATH", empty.path())
        .args(["plugins", "show", "gperf_cpu"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("availability: unavailable: binary google-pprof not found; install: apt-get install -y --no-install-recommends google-perftools"),
        "{text}"
    );
    let out = panther()
        .args(["plugins", "show", "memcheck"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("slows a service about ×80: timeouts are stretched by it"),
        "{text}"
    );
}
