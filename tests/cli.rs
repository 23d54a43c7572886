//! The real binary, as users and CI drive it: listing, showing and validating plugins,
//! validating configs, scaffolding. Each run gets its own config and state folders so the
//! user's ~/.config never leaks in.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

struct Env {
    home: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_panther"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("XDG_STATE_HOME", self.home.path().join("state"))
            .env_remove("PANTHER_PLUGIN_DIR")
            .env_remove("PANTHER_LOG_FILE")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked"),
            "panther panicked on {args:?}:\n{stderr}"
        );
        out
    }

    fn user_plugins(&self) -> std::path::PathBuf {
        self.home.path().join("config/panther/plugins")
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const BUNDLED: &[(&str, &str)] = &[
    ("minip", "protocol"),
    ("http", "protocol"),
    ("quic", "protocol"),
    ("ping_pong", "iut"),
    ("python_http", "iut"),
    ("nginx", "iut"),
    ("minip_tester", "tester"),
    ("http_conformance", "tester"),
    ("localhost", "network_environment"),
    ("strace", "execution_environment"),
    ("memcheck", "execution_environment"),
    ("time", "execution_environment"),
];

#[test]
fn plugins_list_json_has_every_bundled_plugin_with_availability() {
    let env = Env::new();
    let out = env.run(&["plugins", "list", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let plugins = doc["plugins"].as_array().unwrap();
    for (name, kind) in BUNDLED {
        let p = plugins
            .iter()
            .find(|p| p["name"] == *name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(p["kind"], *kind, "{name}");
        assert!(p["version"].is_string());
        let a = p["availability"].as_str().unwrap();
        assert!(a == "available" || a == "unavailable", "{name}: {a}");
        // An unavailable plugin always says why; an available one has no reason.
        assert_eq!(a == "unavailable", p["reason"].is_string(), "{name}: {p}");
    }
    // The built-in ones need nothing installed.
    for name in [
        "ping_pong",
        "minip_tester",
        "http_conformance",
        "localhost",
        "minip",
    ] {
        let p = plugins.iter().find(|p| p["name"] == name).unwrap();
        assert_eq!(p["availability"], "available", "{name}: {p}");
    }
    assert_eq!(doc["diagnostics"].as_array().unwrap().len(), 0);
}

#[test]
fn plugins_list_filters_by_kind_and_prints_a_table() {
    let env = Env::new();
    let out = env.run(&["plugins", "list", "--kind", "execution_environment"]);
    assert_eq!(out.status.code(), Some(0));
    let s = stdout(&out);
    assert!(s.starts_with("NAME"), "{s}");
    for n in ["strace", "memcheck", "time"] {
        assert!(s.lines().any(|l| l.starts_with(n)), "{n} in\n{s}");
    }
    assert!(!s.contains("ping_pong"));
}

#[test]
fn a_missing_binary_makes_a_plugin_unavailable_with_the_install_command() {
    let env = Env::new();
    let out = Command::new(env!("CARGO_BIN_EXE_panther"))
        .args(["plugins", "list", "--format", "json", "--no-user-plugins"])
        .env("HOME", env.home.path())
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = doc["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "strace")
        .unwrap()
        .clone();
    assert_eq!(p["availability"], "unavailable");
    let reason = p["reason"].as_str().unwrap();
    assert!(
        reason.contains("binary strace not found") && reason.contains("apt-get install"),
        "{reason}"
    );
}

#[test]
fn plugins_show_prints_parameters_and_readme_and_suggests_on_typos() {
    let env = Env::new();
    let out = env.run(&["plugins", "show", "minip_tester"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(s.contains("parameters:") && s.contains("count"), "{s}");
    assert!(s.contains("# "), "README shown: {s}");
    let out = env.run(&["plugins", "show", "pingpong"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `ping_pong`?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn plugins_validate_passes_on_the_bundled_folder() {
    let env = Env::new();
    let out = env.run(&["plugins", "validate", "plugins"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let s = stdout(&out);
    for (name, _) in BUNDLED {
        assert!(
            s.lines().any(|l| l.starts_with("ok") && l.contains(name)),
            "{name} in\n{s}"
        );
    }
    assert!(s.contains("0 errors"), "{s}");
}

#[test]
fn plugins_validate_reports_broken_manifests_with_positions() {
    let env = Env::new();
    let out = env.run(&["plugins", "validate", "tests/fixtures/manifests"]);
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(
        e.contains(
            "tests/fixtures/manifests/bad_kind/plugin.yaml:2:7: error: unknown value `iutt`"
        ),
        "{e}"
    );
    assert!(e.contains("help: did you mean `iut`?"), "{e}");
    assert!(
        stdout(&out).contains("good_one"),
        "the valid one is listed as ok"
    );
}

#[test]
fn create_plugin_then_validate_succeeds() {
    let env = Env::new();
    let out = env.run(&["--create-plugin", "service", "my_protocol"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let dir = env.user_plugins().join("services/iut/minip/my_protocol");
    for f in ["plugin.yaml", "README.md", "server.py"] {
        assert!(dir.join(f).is_file(), "{f} written");
    }
    let out = env.run(&["plugins", "validate"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.starts_with("ok") && l.contains("my_protocol")),
        "{}",
        stdout(&out)
    );
    // It is a real plugin now: the registry lists it and an experiment can use it.
    let out = env.run(&["plugins", "show", "my_protocol"]);
    assert_eq!(out.status.code(), Some(0));
    // Creating it twice is refused, nothing overwritten.
    let out = env.run(&["--create-plugin", "service", "my_protocol"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
}

#[test]
fn every_scaffold_type_validates_in_a_chosen_dir() {
    let env = Env::new();
    let dir = env.home.path().join("myplugins");
    let d = dir.to_str().unwrap();
    for (ty, name) in [
        ("iut", "echo_iut"),
        ("tester", "echo_tester"),
        ("network_environment", "my_net"),
        ("execution_environment", "my_exec"),
        ("protocol", "my_proto"),
    ] {
        let out = env.run(&["plugin", "new", ty, name, "--dir", d]);
        assert_eq!(out.status.code(), Some(0), "{ty}: {}", stderr(&out));
    }
    let out = env.run(&[
        "plugin",
        "new",
        "iut",
        "web_iut",
        "--protocol",
        "http",
        "--dir",
        d,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = env.run(&["plugins", "validate", d]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("6 plugins valid"), "{}", stdout(&out));
}

#[test]
fn scaffold_names_are_checked() {
    let env = Env::new();
    for bad in ["../escape", "a/b", "Upper", "x..y", "1abc"] {
        let out = env.run(&["--create-plugin", "iut", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(stderr(&out).contains("error:"), "{bad}");
    }
    assert!(
        !env.user_plugins().exists() || std::fs::read_dir(env.user_plugins()).unwrap().count() == 0
    );
    let out = env.run(&["--create-plugin", "servce", "ok_name"]);
    assert!(stderr(&out).contains("did you mean `service`?"));
}

#[test]
fn validate_accepts_a_good_config_and_rejects_a_bad_one_with_a_caret() {
    let env = Env::new();
    let out = env.run(&["validate", "tests/fixtures/configs/good/panther_style.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("ok: 2 tests, 4 services"),
        "{}",
        stdout(&out)
    );

    let out = env.run(&["validate", "tests/fixtures/configs/bad/unknown_target.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(
        e.contains("unknown_target.yaml:8:55: error: target `sever`"),
        "{e}"
    );
    assert!(
        e.contains("^") && e.contains("help: did you mean `server`?"),
        "{e}"
    );

    let out = env.run(&[
        "validate",
        "--format",
        "json",
        "tests/fixtures/configs/bad/cyclic_targets.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["diagnostics"][0]["line"], 7);

    let out = env.run(&["validate", "no/such/file.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
}

/// A file that is not there has no line and column: every command that reads one says so in
/// words (issue 14 #11: it was `FILE:1:1: error: cannot read: … (os error 2)`).
#[test]
fn a_missing_file_is_reported_without_a_position() {
    let env = Env::new();
    for args in [
        &["validate", "/missing.yaml"][..],
        &["run", "/missing.yaml"],
        &["tutorial", "validate", "/missing.yaml"],
    ] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.starts_with("error: cannot read /missing.yaml: No such file or directory\n"),
            "{args:?}: {err}"
        );
        assert!(
            !err.contains(":1:1") && !err.contains("os error"),
            "{args:?}: {err}"
        );
    }
    // A folder is not a file, and has no position either.
    let out = env.run(&["validate", "tests"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("error: cannot read tests: this is a folder"),
        "{}",
        stderr(&out)
    );
}

/// `plugins list --kind` takes the kind names `plugin new` takes (PANTHER's `service` is an
/// IUT), and a typo is refused with the list.
#[test]
fn plugins_list_takes_the_kind_names_plugin_new_takes() {
    let env = Env::new();
    let iut = env.run(&["plugins", "list", "--kind", "iut"]);
    assert_eq!(iut.status.code(), Some(0), "{}", stderr(&iut));
    for kind in ["service", "iut"] {
        let out = env.run(&["plugins", "list", "--kind", kind]);
        assert_eq!(out.status.code(), Some(0), "{kind}: {}", stderr(&out));
        assert_eq!(stdout(&out), stdout(&iut), "{kind}");
        assert!(stdout(&out).lines().any(|l| l.starts_with("ping_pong")));
        assert!(!stdout(&out).contains("minip_tester"));
    }
    let out = env.run(&["plugins", "list", "--kind", "tester"]);
    assert!(stdout(&out).lines().any(|l| l.starts_with("minip_tester")));
    assert!(!stdout(&out).contains("ping_pong"));
    let out = env.run(&["plugins", "list", "--kind", "servce"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`service`") && stderr(&out).contains("`tester`"),
        "{}",
        stderr(&out)
    );
    // Every kind `plugin new --help` names is one `plugins list --kind` takes.
    let help = stdout(&env.run(&["plugin", "new", "--help"]));
    for kind in [
        "service",
        "iut",
        "tester",
        "network_environment",
        "execution_environment",
        "protocol",
    ] {
        assert!(help.contains(kind), "{kind} in plugin new --help");
        let out = env.run(&["plugins", "list", "--kind", kind]);
        assert_eq!(out.status.code(), Some(0), "{kind}: {}", stderr(&out));
    }
}

#[test]
fn no_fixture_makes_the_binary_panic() {
    let env = Env::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/configs/bad");
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let out = env.run(&["validate", p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}", p.display());
    }
}

#[test]
fn help_documents_every_command() {
    let env = Env::new();
    let s = stdout(&env.run(&["--help"]));
    for c in [
        "run",
        "export",
        "builtin",
        "validate",
        "plugins",
        "plugin",
        "--create-plugin",
        "--plugin-dir",
        "Exit codes",
    ] {
        assert!(s.contains(c), "{c} in --help:\n{s}");
    }
}

#[test]
fn tutorial_list_shows_each_tutorial_with_progress() {
    let env = Env::new();
    let out = env.run(&["tutorial", "list"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("first_run") && stdout(&out).contains("0/4 steps"),
        "{}",
        stdout(&out)
    );
    let out = env.run(&["tutorial", "run", "frist_run"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `first_run`?"),
        "{}",
        stderr(&out)
    );
}

/// Your own tutorials sit beside the bundled ones; `tutorial validate` checks one you are
/// writing, with the place of each mistake; a broken one is reported and the rest still list.
#[test]
fn user_tutorials_list_and_validate() {
    let env = Env::new();
    let dir = env.home.path().join("config/panther/tutorials");
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("mine.yaml");
    std::fs::write(
        &good,
        "name: mine\ntitle: My own\nsummary: mine\nsteps:\n  - title: a\n    text: b\n    check: {screen: runs}\n",
    )
    .unwrap();
    let out = env.run(&["tutorial", "validate", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("ok, `mine` with 1 steps"));
    let out = env.run(&["tutorial", "list"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("My own"), "{}", stdout(&out));

    let bad = dir.join("typo.yaml");
    std::fs::write(
        &bad,
        "name: typo\ntitle: t\nsummary: s\nsteps:\n  - title: a\n    text: b\n    check: {plugin_selectd: x}\n",
    )
    .unwrap();
    let out = env.run(&["tutorial", "validate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("typo.yaml:7:13"), "{err}");
    assert!(err.contains("did you mean `plugin_selected`?"), "{err}");
    let out = env.run(&["tutorial", "list"]);
    assert_eq!(out.status.code(), Some(2), "a broken tutorial is an error");
    assert!(stderr(&out).contains("typo.yaml:7:13"));
    assert!(stdout(&out).contains("My own") && stdout(&out).contains("first_run"));
}

/// Without a terminal (as here: stdin and stdout are pipes) the workbench says so and exits 2,
/// instead of panicking with 101.
#[test]
fn the_workbench_without_a_terminal_is_a_clear_error() {
    let env = Env::new();
    let recorded = "tests/fixtures/outputs/2026-11-25_10-00-00_quickstart";
    for args in [
        vec!["--no-user-plugins"],
        vec!["--no-user-plugins", "replay", recorded],
        vec!["--no-user-plugins", "experiments/quickstart.yaml"],
    ] {
        let out = env.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("the workbench needs a terminal"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn workbench_arguments_are_checked_before_it_starts() {
    let env = Env::new();
    let not_results = env.home.path().join("not-results");
    std::fs::create_dir_all(&not_results).unwrap();
    let out = env.run(&["replay", not_results.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a results folder (it has no events.jsonl)"),
        "{}",
        stderr(&out)
    );
    let out = env.run(&["replay", "/nonexistent/run"]);
    assert!(
        stderr(&out).contains("/nonexistent/run: no such folder"),
        "{}",
        stderr(&out)
    );
    let out = env.run(&["--plugin-dir", "/nonexistent"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--plugin-dir /nonexistent: no such folder"),
        "{}",
        stderr(&out)
    );
    let out = env.run(&["missing.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("missing.yaml: no such file") && !stderr(&out).contains(":1:1"),
        "{}",
        stderr(&out)
    );
    // Subcommands still win over FILE.
    let out = env.run(&[
        "--no-user-plugins",
        "validate",
        "experiments/quickstart.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn the_junit_of_a_crashed_run_marks_the_failure() {
    let env = Env::new();
    let out = env.run(&[
        "export",
        "tests/fixtures/outputs/2026-11-25_09-00-00_crashed",
        "--format",
        "junit",
    ]);
    let xml = stdout(&out);
    assert!(
        xml.contains("<testsuite name=\"minip_quickstart\""),
        "{xml}"
    );
    assert!(
        xml.contains("<error message=\"the run ended before this test recorded a verdict\""),
        "{xml}"
    );
    assert!(stderr(&out).contains("did not finish"), "{}", stderr(&out));
    // CI that only exports still goes red: 1, as `panther run` would have exited.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json = env.run(&[
        "export",
        "tests/fixtures/outputs/2026-11-25_09-00-00_crashed",
        "--format",
        "json",
    ]);
    assert_eq!(json.status.code(), Some(1));
    // Mermaid carries no verdict: the conversion worked, 0.
    let mmd = env.run(&[
        "export",
        "tests/fixtures/outputs/2026-11-25_09-00-00_crashed",
        "--format",
        "mermaid",
    ]);
    assert_eq!(mmd.status.code(), Some(0));
    // A run whose tests passed exports with 0.
    let ok = env.run(&[
        "export",
        "tests/fixtures/outputs/2026-11-25_10-00-00_quickstart",
        "--format",
        "junit",
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(!stdout(&ok).contains("<error") && !stdout(&ok).contains("<failure"));
}

#[test]
fn a_plugin_dir_that_is_not_there_is_refused_by_every_command() {
    let env = Env::new();
    for args in [
        &["validate", "experiments/quickstart.yaml"][..],
        &["run", "experiments/quickstart.yaml"],
        &["plugins", "list"],
        &["matrix", "--cases", "ping"],
    ] {
        let mut all = vec!["--plugin-dir", "/nonexistent/plugins"];
        all.extend_from_slice(args);
        let out = env.run(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains("--plugin-dir /nonexistent/plugins: no such folder"),
            "{args:?}"
        );
    }
}

/// `tutorial validate` refuses a `screen:` check naming no screen, at its line and column, with
/// the names it takes (issue 14 #12); every screen of the workbench is one (`matrix` too).
#[test]
fn tutorial_validate_refuses_an_unknown_screen_at_its_position() {
    let env = Env::new();
    let dir = env.home.path();
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "name: mine\ntitle: Mine\nsummary: s\nsteps:\n  - title: Go\n    text: go there\n    check: {screen: nowhere}\n",
    )
    .unwrap();
    let out = env.run(&["tutorial", "validate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("bad.yaml:7:12: error: `nowhere` is not a screen or an overlay"),
        "{err}"
    );
    assert!(err.contains("expected: one of plugins, runs"), "{err}");
    let good = dir.join("good.yaml");
    std::fs::write(
        &good,
        "name: mine\ntitle: Mine\nsummary: s\nsteps:\n  - title: Go\n    text: go there\n    check: {screen: matrix}\n",
    )
    .unwrap();
    let out = env.run(&["tutorial", "validate", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A scaffolded tester run against a real server passes with a real check, not with
/// "0 checks passed" (issue 14 #12): its verdict record names the property it checked.
#[test]
fn a_scaffolded_tester_passes_with_a_real_check() {
    let env = Env::new();
    let plugins = env.home.path().join("plugins");
    let out = env.run(&[
        "plugin",
        "new",
        "tester",
        "my_tester",
        "--dir",
        plugins.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let exp = env.home.path().join("exp.yaml");
    std::fs::write(
        &exp,
        "tests:\n  - name: mine\n    network_environment: {type: localhost}\n    services:\n      server: {implementation: {name: ping_pong, type: iut}, protocol: {name: minip, role: server}}\n      tester:\n        implementation: {name: my_tester, type: tester}\n        protocol: {name: minip, role: client, target: server}\n        plugin_config: {count: 3}\n    timeout: 30\n",
    )
    .unwrap();
    let results = env.home.path().join("out");
    let out = env.run(&[
        "--no-user-plugins",
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "run",
        exp.to_str().unwrap(),
        "--output",
        results.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let s: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let t = &s["tests"][0];
    assert_eq!(t["verdict"], "pass");
    let reason = t["reason"].as_str().unwrap();
    assert!(!reason.contains("0 checks"), "{reason}");
    let checks: Vec<&Value> = t["services"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|svc| svc["checks"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(checks.len(), 1, "{t}");
    assert_eq!(checks[0]["property"], "answers_every_request");
    assert_eq!(checks[0]["verdict"], "pass");
    assert!(
        checks[0]["reason"]
            .as_str()
            .unwrap()
            .contains("3/3 requests answered")
    );
}

/// `plugins install --dry-run` shows the apt commands as they will run here: under sudo when
/// not root, after `apt-get update` when the package lists are missing or stale (the same
/// plan the workbench's `i` shows).
#[test]
fn plugins_install_dry_run_shows_sudo_and_the_list_update() {
    use panther::cli::as_root;
    let env = Env::new();
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/plugins");
    let out = env.run(&[
        "--no-user-plugins",
        "--plugin-dir",
        fixtures,
        "plugins",
        "install",
        "needs_missing",
        "--dry-run",
        "--no-prompt",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let who = as_root::Privilege::here();
    let sudo = if who.root { "" } else { "sudo -n " };
    let install = format!(
        "needs_missing: would run: {sudo}apt-get install -y --no-install-recommends panther-test-missing-package"
    );
    assert!(text.contains(&install), "{text}");
    let fresh =
        as_root::apt_lists_fresh(Path::new(as_root::APT_LISTS), std::time::SystemTime::now());
    let update = format!("needs_missing: would run: {sudo}apt-get update");
    assert_eq!(text.contains(&update), !fresh, "{text}");
    if !fresh {
        assert!(
            text.find(&update) < text.find(&install),
            "update first:\n{text}"
        );
    }
}
