//! `panther matrix` end to end: real cells (real processes on loopback), real outputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod support;

fn panther() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_panther"));
    c.env(
        "PANTHER_LOG_FILE",
        std::env::temp_dir().join("panther-test.log"),
    )
    .arg("--no-user-plugins");
    c
}

const FAST: &[&str] = &[
    "--client-config",
    "count=6",
    "--client-config",
    "interval_ms=2",
    "--client-config",
    "reply_timeout_ms=300",
    "--grace-ms",
    "300",
];

const VERSIONS: &str =
    "ping_pong@functional,ping_pong@fail,ping_pong@flaky,ping_pong@random,ping_pong@vulnerable";

/// Runs `panther matrix ARGS` into a fresh root; the output and the matrix folder.
fn matrix(args: &[&str]) -> (Output, Option<PathBuf>, tempfile::TempDir) {
    let root = tempfile::tempdir().unwrap();
    let out = panther()
        .arg("matrix")
        .args(args)
        .args(FAST)
        .arg("--output")
        .arg(root.path())
        .output()
        .unwrap();
    let dir = std::fs::read_dir(root.path())
        .ok()
        .and_then(|d| d.flatten().map(|e| e.path()).find(|p| p.is_dir()));
    (out, dir, root)
}

fn json(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("matrix.json")).unwrap()).unwrap()
}

fn verdict(m: &Value, server: &str, client: &str, case: &str) -> String {
    m["cells"][server][client][case]["verdict"]
        .as_str()
        .unwrap_or("missing")
        .to_string()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_minip_matrix_tells_the_five_server_versions_apart_in_both_cases() {
    let (out, dir, _keep) = matrix(&[
        "--servers",
        VERSIONS,
        "--clients",
        "minip_tester",
        "--cases",
        "ping,robustness",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "failing cells gate: {}",
        text(&out)
    );
    let dir = dir.unwrap();
    let m = json(&dir);
    for (server, ping, robustness) in [
        ("ping_pong@functional", "pass", "pass"),
        ("ping_pong@fail", "fail", "fail"),
        ("ping_pong@flaky", "fail", "fail"),
        ("ping_pong@random", "fail", "fail"),
        // It only crashes on a length field that lies, which only the robustness case sends.
        ("ping_pong@vulnerable", "pass", "error"),
    ] {
        assert_eq!(
            verdict(&m, server, "minip_tester", "ping"),
            ping,
            "{server}"
        );
        assert_eq!(
            verdict(&m, server, "minip_tester", "robustness"),
            robustness,
            "{server}"
        );
    }
    // Every cell is a results folder of its own that replay and export open.
    let cell = m["cells"]["ping_pong@functional"]["minip_tester"]["ping"]["dir"]
        .as_str()
        .unwrap();
    assert!(dir.join(cell).join("events.jsonl").exists());
    let mmd = panther()
        .args([
            "export",
            dir.join(cell).to_str().unwrap(),
            "--format",
            "mermaid",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&mmd.stdout).contains("PING"));
    // The other outputs name every cell.
    let html = std::fs::read_to_string(dir.join("matrix.html")).unwrap();
    assert_eq!(html.matches("data-cell=").count(), 10);
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external assets"
    );
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 10);
    assert_eq!(junit.matches("<failure ").count(), 7);
    let md = std::fs::read_to_string(dir.join("matrix.md")).unwrap();
    assert!(
        md.contains("## robustness") && md.contains("| minip_tester | ✓ | ✗ | ✗ | ✗ | E |"),
        "{md}"
    );
}

/// A matrix.json without what changes from run to run.
fn timeless(mut m: Value) -> Value {
    m["started_at"] = Value::Null;
    m["duration_ms"] = Value::Null;
    m["shard"] = Value::Null;
    if let Some(servers) = m["cells"].as_object_mut() {
        for clients in servers.values_mut() {
            for cases in clients.as_object_mut().unwrap().values_mut() {
                for r in cases.as_object_mut().unwrap().values_mut() {
                    r["duration_ms"] = Value::Null;
                }
            }
        }
    }
    m
}

#[test]
fn three_shards_merge_into_the_unsharded_matrix() {
    let axes = [
        "--servers",
        "ping_pong@functional,ping_pong@fail,ping_pong@vulnerable",
        "--clients",
        "minip_tester,ping_pong",
        "--cases",
        "ping,robustness",
    ];
    let (_, whole, _k) = matrix(&axes);
    let whole = json(&whole.unwrap());
    let mut keep = Vec::new();
    let mut dirs = Vec::new();
    let mut owned = 0;
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let mut args = axes.to_vec();
        args.extend(["--shard", &shard]);
        let (_, d, t) = matrix(&args);
        let d = d.unwrap();
        let part = json(&d);
        assert_eq!(part["shard"], shard.as_str());
        owned += part["cells"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|c| c.as_object().unwrap().values())
            .map(|cases| cases.as_object().unwrap().len())
            .sum::<usize>();
        dirs.push(d);
        keep.push(t);
    }
    assert_eq!(owned, 12, "each cell in exactly one shard");
    let merged = tempfile::tempdir().unwrap();
    let out = panther()
        .args(["matrix", "merge"])
        .args(&dirs)
        .arg("--output")
        .arg(merged.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(timeless(json(merged.path())), timeless(whole));
    // A shard cannot be merged twice.
    let twice = panther()
        .args(["matrix", "merge"])
        .arg(&dirs[0])
        .arg(&dirs[0])
        .arg("--output")
        .arg(merged.path())
        .output()
        .unwrap();
    assert_eq!(twice.status.code(), Some(2));
    assert!(text(&twice).contains("two shards hold"), "{}", text(&twice));
}

#[test]
fn repeat_finds_the_flaky_version_with_its_pass_rate() {
    let (_, dir, _keep) = matrix(&[
        "--servers",
        "ping_pong@flaky,ping_pong@functional",
        "--clients",
        "minip_tester",
        "--cases",
        "ping",
        "--repeat",
        "6",
        "--client-config",
        "count=4",
    ]);
    let m = json(&dir.unwrap());
    let flaky = &m["cells"]["ping_pong@flaky"]["minip_tester"]["ping"];
    assert_eq!(flaky["verdict"], "flaky", "{flaky}");
    let passes = flaky["passes"].as_u64().unwrap();
    assert!(passes > 0 && passes < 6 && flaky["runs"] == 6, "{flaky}");
    assert_eq!(
        verdict(&m, "ping_pong@functional", "minip_tester", "ping"),
        "pass"
    );
    assert_eq!(
        m["cells"]["ping_pong@functional"]["minip_tester"]["ping"]["passes"],
        6
    );
}

#[test]
fn unsupported_comes_only_from_the_client_and_gates_decide_the_exit() {
    let tmp = tempfile::tempdir().unwrap();
    let expect = tmp.path().join("required.json");
    std::fs::write(
        &expect,
        r#"{"ping_pong@functional": {"minip_tester": ["ping", "robustness"], "ping_pong": ["ping"]}}"#,
    )
    .unwrap();
    let axes = [
        "--servers",
        "ping_pong@functional,ping_pong@fail",
        "--clients",
        "minip_tester,ping_pong",
        "--cases",
        "ping,robustness",
    ];
    let mut args = axes.to_vec();
    args.extend(["--expect", expect.to_str().unwrap()]);
    let (out, dir, _keep) = matrix(&args);
    let m = json(&dir.unwrap());
    // ping_pong's client has no `malformed` parameter: it cannot do the robustness case…
    for s in ["ping_pong@functional", "ping_pong@fail"] {
        assert_eq!(verdict(&m, s, "ping_pong", "robustness"), "unsupported");
    }
    // …while a failure against every peer is still a failure, never "unsupported".
    assert_eq!(verdict(&m, "ping_pong@fail", "ping_pong", "ping"), "fail");
    assert_eq!(
        verdict(&m, "ping_pong@fail", "minip_tester", "ping"),
        "fail"
    );
    assert_eq!(
        verdict(&m, "ping_pong@functional", "ping_pong", "ping"),
        "pass"
    );
    // Only the listed cells gate, and they passed.
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let junit = std::fs::read_to_string(dir_of(&out).join("junit.xml")).unwrap();
    assert!(
        !junit.contains("<failure"),
        "non-gating failures are reported, not failed"
    );
    // A gating cell that fails turns the exit to 1.
    std::fs::write(&expect, r#"{"ping_pong@fail": {"minip_tester": ["ping"]}}"#).unwrap();
    let (out, _, _k) = matrix(&args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

fn dir_of(out: &Output) -> PathBuf {
    let s = String::from_utf8_lossy(&out.stdout);
    let line = s.lines().rev().find(|l| l.starts_with("matrix: ")).unwrap();
    PathBuf::from(line.trim_start_matches("matrix: "))
}

#[test]
fn diff_lists_regressions_first_and_fails_on_them() {
    let (_, dir, _keep) = matrix(&[
        "--servers",
        "ping_pong@functional,ping_pong@fail",
        "--clients",
        "minip_tester",
        "--cases",
        "ping",
    ]);
    let old = dir.unwrap();
    let mut m = json(&old);
    m["cells"]["ping_pong@functional"]["minip_tester"]["ping"]["verdict"] = "fail".into();
    m["cells"]["ping_pong@fail"]["minip_tester"]["ping"]["verdict"] = "pass".into();
    let tmp = tempfile::tempdir().unwrap();
    let new = tmp.path().join("matrix.json");
    std::fs::write(&new, serde_json::to_string(&m).unwrap()).unwrap();
    let out = panther()
        .args(["matrix", "diff"])
        .arg(&old)
        .arg(&new)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert!(
        lines[0].starts_with("REGRESSION") && lines[0].contains("ping_pong@functional"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("fixed") && lines[1].contains("ping_pong@fail"),
        "{lines:?}"
    );
    let same = panther()
        .args(["matrix", "diff"])
        .arg(&old)
        .arg(&old)
        .output()
        .unwrap();
    assert_eq!(same.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&same.stdout).contains("no cell changed"));
}

#[test]
fn bad_matrices_are_refused_before_anything_runs() {
    for (args, says) in [
        (
            vec![
                "--servers",
                "ping_pong@functional",
                "--clients",
                "minip_testr",
            ],
            "did you mean `minip_tester`",
        ),
        (
            vec![
                "--servers",
                "ping_pong@functional",
                "--clients",
                "http_conformance",
            ],
            "does not speak minip",
        ),
        (
            vec!["--servers", "ping_pong@sloppy"],
            "has no version `sloppy`",
        ),
        (vec!["--cases", "pingg"], "no case `pingg`"),
        (vec!["--protocol", "http"], "the matrix is empty"),
        (vec!["--shard", "4/3"], "is not a shard"),
        (vec!["--client-config", "count"], "is not a setting"),
    ] {
        let (out, dir, _keep) = matrix(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(says), "{args:?}: {}", text(&out));
        assert!(dir.is_none(), "{args:?}: nothing was run");
    }
}

#[test]
fn a_matrix_block_in_an_experiment_file_runs_and_its_mistakes_have_positions() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("m.yaml");
    let good = "# a MinIP matrix\nmatrix:\n  protocol: minip\n  servers: [ping_pong@functional, ping_pong@fail]\n  clients: [minip_tester]\n  cases: [ping]\n  client_config: {count: 4, interval_ms: 2}\n";
    std::fs::write(&file, good).unwrap();
    let (out, dir, _keep) = matrix(&[file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let m = json(&dir.unwrap());
    assert_eq!(
        verdict(&m, "ping_pong@functional", "minip_tester", "ping"),
        "pass"
    );
    assert_eq!(
        verdict(&m, "ping_pong@fail", "minip_tester", "ping"),
        "fail"
    );
    // A flag wins over the file.
    let (_, dir, _k) = matrix(&[file.to_str().unwrap(), "--servers", "ping_pong@functional"]);
    assert_eq!(
        json(&dir.unwrap())["servers"],
        serde_json::json!(["ping_pong@functional"])
    );
    // A typo is reported where it is, and nothing runs.
    std::fs::write(&file, good.replace("[minip_tester]", "[minip_testr]")).unwrap();
    let (out, dir, _k) = matrix(&[file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains(
            "m.yaml:5:13: error: unknown implementation `minip_testr`; did you mean `minip_tester`?"
        ),
        "{}",
        text(&out)
    );
    assert!(dir.is_none());
}

/// A client and a server with no ALPN in common: refused before anything runs, exit 2.
#[test]
fn a_pair_without_a_shared_alpn_is_refused_before_anything_runs() {
    let plugins = tempfile::tempdir().unwrap();
    let dir = plugins.path().join("services/iut/quic/hq_only");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("plugin.yaml"),
        "name: hq_only\nkind: iut\nversion: \"0.1.0\"\ndescription: speaks only hq-interop\n\
         protocols:\n  - {name: quic, alpn: [hq-interop]}\nroles: [client]\n\
         run:\n  client:\n    argv: [\"true\"]\n",
    )
    .unwrap();
    std::fs::write(dir.join("README.md"), "# hq_only\n").unwrap();
    let root = tempfile::tempdir().unwrap();
    let out = panther()
        .arg("--plugin-dir")
        .arg(plugins.path())
        .args([
            "matrix",
            "--protocol",
            "quic",
            "--servers",
            "ngtcp2",
            "--clients",
            "hq_only",
        ])
        .args(["--cases", "handshake", "--output"])
        .arg(root.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("`hq_only` (hq-interop) and server `ngtcp2` (h3) share no ALPN"),
        "{t}"
    );
    assert_eq!(
        std::fs::read_dir(root.path()).unwrap().count(),
        0,
        "nothing was made"
    );
}

/// matrix.html in a real browser (Debian's chromium, headless): the parsed page has a cell
/// for every cell of matrix.json, with its verdict, and it renders to a screenshot without
/// reaching for anything outside the folder.
#[test]
fn the_html_page_shows_every_cell_in_headless_chromium() {
    let t = "the_html_page_shows_every_cell_in_headless_chromium";
    if !support::tool_or_skip(t, "chromium") {
        return;
    }
    let (_, dir, _keep) = matrix(&[
        "--servers",
        "ping_pong@functional,ping_pong@fail,ping_pong@vulnerable",
        "--clients",
        "minip_tester",
        "--cases",
        "ping,robustness",
    ]);
    let dir = dir.expect("a matrix folder");
    let page = format!("file://{}", dir.join("matrix.html").display());
    let profile = tempfile::tempdir().unwrap();
    let chromium = |extra: &[&str]| {
        Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(&page)
            .output()
            .unwrap()
    };
    let dom = chromium(&["--dump-dom"]);
    let html = String::from_utf8_lossy(&dom.stdout);
    assert!(
        html.contains("<h1>Interop matrix: minip on localhost</h1>"),
        "{html}"
    );
    let m = json(&dir);
    let mut cells = 0;
    for (server, by_client) in m["cells"].as_object().unwrap() {
        for (client, by_case) in by_client.as_object().unwrap() {
            for (case, r) in by_case.as_object().unwrap() {
                let folder = format!("{}__{}__{}", server.replace('@', "_"), client, case);
                let v = r["verdict"].as_str().unwrap();
                let td = format!("<td class=\"{v}\"");
                let at = html
                    .find(&format!("data-cell=\"{folder}\""))
                    .unwrap_or_else(|| panic!("no cell {folder} in the page:\n{html}"));
                let open = html[..at].rfind("<td").unwrap();
                assert!(
                    html[open..].starts_with(&td),
                    "{folder}: {}",
                    &html[open..at]
                );
                cells += 1;
            }
        }
    }
    assert_eq!(cells, 6);
    let shot = profile.path().join("matrix.png");
    let out = chromium(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=900,700",
    ]);
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 2000,
        "{} bytes",
        png.len()
    );
}
