//! PANTHER's own experiment files, written in its style from its schema
//! (tests/fixtures/configs/panther/): each loads with the real loader, normalizer,
//! validator and bundled registry, with warnings that name the PANTHER keys panther does not
//! use, or fails with exactly the reason PANTHER's file cannot run here.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::channel;
use std::time::Duration;

use panther::diag::Diagnostic;
use panther::experiment::model::{PortMapping, PortProto};
use panther::experiment::{self, Loaded, plan};
use panther::plugin::{Kind, LoadOptions, Registry};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/configs/panther")
}

/// The bundled plugins, plus test stand-ins for the network environments PANTHER's files
/// name (`docker_compose`, `netns`) while this build does not bundle them.
fn registry() -> Registry {
    let opts = |dirs| LoadOptions {
        bundled: true,
        user: false,
        dirs,
        availability: false,
    };
    let bundled = Registry::load(&opts(vec![]));
    let dirs: Vec<PathBuf> = ["docker_compose", "netns"]
        .iter()
        .filter(|n| bundled.get(&[Kind::NetworkEnvironment], n).is_none())
        .map(|n| fixtures().join("plugins").join(n))
        .collect();
    let reg = Registry::load(&opts(dirs));
    let errors: Vec<&Diagnostic> = reg.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "plugins have problems: {errors:#?}");
    reg
}

fn load(name: &str, reg: &Registry) -> Loaded {
    experiment::load_file(&fixtures().join(name), reg)
}

fn warnings(l: &Loaded) -> Vec<&str> {
    l.diagnostics
        .iter()
        .filter(|d| !d.is_error())
        .map(|d| d.message.as_str())
        .collect()
}

fn errors(l: &Loaded) -> Vec<&Diagnostic> {
    l.diagnostics.iter().filter(|d| d.is_error()).collect()
}

/// (fixture, warnings it must give: each a substring of one warning's message)
const VALID: &[(&str, &[&str])] = &[
    (
        "minip_docker_compose.yaml",
        &[
            "`statistics` is PANTHER's; panther does not use it",
            "`features` is PANTHER's; panther does not use it",
            "`debug_environment` is PANTHER's; panther does not use it",
            "`build_docker_image` is PANTHER's older spelling",
        ],
    ),
    (
        "minip_shadow_ns.yaml",
        &[
            "`shadow_ns` runs on panther's `netns` environment: time is real, not simulated",
            "`model_unblocked_syscall_latency` is PANTHER's; panther does not use it",
            "`experimental` is PANTHER's; panther does not use it",
            "`debug_environment` is PANTHER's; panther does not use it",
            "the test's `timeout` (300 s) is cut to Shadow's stop_time (60 s)",
        ],
    ),
    (
        "minip_tester_localhost.yaml",
        &[
            "`experiment` is PANTHER's; panther does not use it",
            "`localhost_single_container` runs as `localhost`",
            "`enable_background_monitoring` is PANTHER's; panther does not use it",
            "`monitoring_interval_seconds` is PANTHER's; panther does not use it",
            "`secondary_endpoints` is PANTHER's; panther does not use it",
            "a comment glued to a quoted value",
            "`log_level_events` is a PANTHER tester knob; `minip_tester` has no such parameter",
            "`log_level_binary` is a PANTHER tester knob",
            "`optimization_level` is a PANTHER tester knob",
            "`iterations_per_test` is a PANTHER tester knob",
            "`internal_iterations_per_test` is a PANTHER tester knob",
            "`runtime_seconds` is a PANTHER tester knob",
            "`create_additional_files` is a PANTHER tester knob",
            "`parameters` is a PANTHER tester knob",
            "`command` is a PANTHER tester knob",
            "`service_responsive` is PANTHER's assertion",
            "`pre_commands` item `echo preparing the MinIP test` is a shell line",
            "`post_commands` item `sync` is a shell line",
        ],
    ),
    (
        "minip_strace_memcheck.yaml",
        &[
            "`trace_all_syscalls` is PANTHER's strace switch",
            "`trace_network_syscalls` is PANTHER's strace switch",
            "`include_kernel_stack` is PANTHER's; panther does not use it",
            "`excluded_syscalls` is PANTHER's; panther does not use it",
            "`timeout` is PANTHER's; panther does not use it",
            "`show_reachable` is PANTHER's; panther does not use it",
            "`output_format` is PANTHER's; panther does not use it",
            "`failure_threshold_count` is PANTHER's; panther does not use it",
            "`execution_environments` is PANTHER's alias",
            "`trace_file_syscalls` is PANTHER's strace switch",
            "`timestamps` is PANTHER's; panther does not use it",
            "`leak_check: true` reads as `full`",
            "`errors_for_leak_kinds` is PANTHER's name",
        ],
    ),
    ("minip_server_targets_client.yaml", &[]),
];

#[test]
fn panthers_files_validate_with_warnings_naming_its_keys() {
    let reg = registry();
    let mut failures = Vec::new();
    for &(name, want) in VALID {
        let l = load(name, &reg);
        if !l.is_ok() {
            failures.push(format!("{name} does not validate: {:#?}", errors(&l)));
            continue;
        }
        let got = warnings(&l);
        for w in want {
            if !got.iter().any(|g| g.contains(w)) {
                failures.push(format!("{name}: no warning `{w}` in {got:#?}"));
            }
        }
        // PANTHER's own spellings are not "corrected" into ones PANTHER rejects.
        for g in &got {
            if g.contains("TESTERS") || g.contains("IUT") || g.contains("testers") {
                failures.push(format!("{name}: advice about a PANTHER spelling: {g}"));
            }
        }
        // A service `name` equal to its key is PANTHER's legacy; nothing to say.
        if got
            .iter()
            .any(|g| g.contains("is ignored") && g.contains("name:"))
        {
            failures.push(format!("{name}: warned about a matching `name`: {got:#?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_fixture_has_an_expectation() {
    let known: Vec<&str> = VALID
        .iter()
        .map(|c| c.0)
        .chain(BAD.iter().map(|c| c.0))
        .chain(["quic_ivy_shadow.yaml"])
        .collect();
    for e in std::fs::read_dir(fixtures()).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".yaml") {
            assert!(known.contains(&name.as_str()), "{name} has no expectation");
        }
    }
}

#[test]
fn files_that_need_plugins_panther_lacks_fail_with_that_reason_only() {
    let reg = registry();
    let l = load("quic_ivy_shadow.yaml", &reg);
    let errs = errors(&l);
    let msgs: Vec<&str> = errs.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(
        msgs[0].starts_with("plugin `picoquic_shadow` is not available in panther: ")
            && msgs[0].contains("Shadow simulator"),
        "{msgs:?}"
    );
    assert!(
        msgs[1].starts_with("plugin `panther_ivy` is not available in panther: ")
            && msgs[1].contains("Ivy toolchain"),
        "{msgs:?}"
    );
    // Each names the nearest plugin panther has, or says none speaks the protocol.
    let ivy = msgs[1];
    let nearest_ok = match reg.get(&[Kind::Tester], "quic_tester") {
        Some(_) => ivy.contains("nearest: `quic_tester`"),
        None => ivy.contains("no tester speaking `quic` is installed"),
    };
    assert!(nearest_ok, "{ivy}");
    assert_eq!((errs[1].line, errs[1].column), (39, 17));
    // The Ivy server targeting its client is no cycle: the server starts first.
    let t = &l.experiment.as_ref().unwrap().tests[0];
    assert_eq!(
        plan::start_order(t).unwrap(),
        ["ivy_server", "picoquic_cient"]
    );
    // The Ivy knobs went to plugin_config, as PANTHER's builder puts them.
    let pc = &t.services["ivy_server"].plugin_config;
    assert_eq!(pc["optimization_level"], 2);
    assert_eq!(pc["log_level_events"], "debug");
}

#[test]
fn a_minip_tester_near_miss_still_gets_a_did_you_mean() {
    let src = "tests:\n  - name: t\n    network_environment: {type: localhost}\n    services:\n      s: {implementation: {name: ping_pong, type: IUT}, protocol: {name: minip, role: server}}\n      c: {implementation: {name: minip_testr, type: TESTERS}, protocol: {name: minip, role: client, target: s}}\n";
    let l = experiment::load_str(src, "t.yaml", &registry());
    let e = errors(&l);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].message, "unknown tester `minip_testr`");
    assert_eq!(e[0].help.as_deref(), Some("did you mean `minip_tester`?"));
}

#[test]
fn panthers_other_plugins_are_named_with_the_nearest_one_panther_has() {
    let src = "tests:\n  - name: t\n    network_environment: {type: localhost}\n    execution_environment: [{type: gperf}]\n    services:\n      s: {implementation: {name: ping_pong_fail, type: IUT}, protocol: {name: minip, role: server}}\n      c: {implementation: {name: minip_tester, type: TESTERS}, protocol: {name: minip, role: client, target: s}}\n";
    let l = experiment::load_str(src, "t.yaml", &registry());
    let e: Vec<&str> = errors(&l).iter().map(|d| d.message.as_str()).collect();
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(
        e[0].starts_with("plugin `gperf` is not available in panther: ")
            && e[0].ends_with("nearest: `gperf_cpu` (gperftools' CPU profile of each service)"),
        "{e:?}"
    );
    assert!(
        e[1].contains("write `protocol.version: fail`")
            && e[1].ends_with("nearest: `ping_pong` (the reference MinIP server and client)"),
        "{e:?}"
    );
}

/// (fixture, line, column, message contains, expected-or-help contains)
const BAD: &[(&str, u32, u32, &str, &str)] = &[
    (
        "bad_ports.yaml",
        13,
        13,
        "bad port mapping `8080:80a0`: `80a0` is not a port (1 to 65535)",
        "`host:container`",
    ),
    (
        "bad_unknown_keys.yaml",
        6,
        5,
        "unknown key `generate_new_certificate`",
        "did you mean `generate_new_certificates`?",
    ),
    (
        "bad_panther_key_typo.yaml",
        6,
        5,
        "unknown key `debug_enviroment`",
        "did you mean `debug_environment`? (PANTHER's key",
    ),
    (
        "bad_shell_step.yaml",
        13,
        11,
        "`pre_commands` item `tc qdisc show | grep netem` needs a shell",
        "never does",
    ),
    (
        "bad_shadow_loss.yaml",
        8,
        22,
        "Shadow's `packet_loss` is 5",
        "write 0.05",
    ),
];

#[test]
fn bad_input_is_reported_at_its_position() {
    let reg = registry();
    let mut failures = Vec::new();
    for &(name, line, col, msg, more) in BAD {
        let l = load(name, &reg);
        let errs = errors(&l);
        let Some(d) = errs.first() else {
            failures.push(format!("{name}: no error"));
            continue;
        };
        let extra = format!(
            "{} {}",
            d.expected.as_deref().unwrap_or(""),
            d.help.as_deref().unwrap_or("")
        );
        if errs.len() != 1
            || (d.line, d.column) != (line, col)
            || !d.message.contains(msg)
            || !extra.contains(more)
            || !d.file.ends_with(name)
        {
            failures.push(format!(
                "{name}: expected one error {line}:{col} `{msg}` / `{more}`, got {errs:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn shadow_ns_becomes_a_netns_test_with_its_link_capture_and_stop_time() {
    let l = load("minip_shadow_ns.yaml", &registry());
    let e = l.experiment.unwrap();
    let t = &e.tests[0];
    assert_eq!(t.network_environment.kind, "netns");
    let link = t.network_environment.link.as_ref().unwrap();
    assert_eq!(
        (link.delay_ms, link.jitter_ms, link.loss),
        (10.0, 10.0, 0.0)
    );
    assert_eq!(t.network_environment.capture, Some(true));
    assert!(t.wants_capture());
    assert_eq!(t.timeout, Some(100.0));
    assert_eq!(t.link_for("ping_pong_client"), Some(link));
    assert!(t.network_environment.plugin_config.is_empty());

    let t = &e.tests[1];
    assert_eq!(t.network_environment.kind, "netns");
    let link = t.network_environment.link.as_ref().unwrap();
    assert_eq!(
        (link.delay_ms, link.jitter_ms, link.loss),
        (25.0, 0.0, 0.01)
    );
    assert_eq!(t.network_environment.capture, None);
    assert!(
        t.wants_capture(),
        "capture is on unless a test turns it off"
    );
    assert_eq!(t.timeout, Some(60.0));
}

#[test]
fn certificates_follow_the_test_and_the_service_switch() {
    let reg = registry();
    let e = load("minip_docker_compose.yaml", &reg).experiment.unwrap();
    let t = &e.tests[0];
    assert_eq!(t.generate_new_certificates, Some(true));
    // The client inherits the test's switch; the server turned it off for itself.
    assert!(t.wants_certificates("ping_pong_client"));
    assert!(!t.wants_certificates("ping_pong_server"));
    assert!(!t.wants_certificates("no_such_service"));
    assert!(t.any_wants_certificates());
    assert_eq!(t.certificate_names(), ["ping_pong_client"]);
    let e = load("minip_shadow_ns.yaml", &reg).experiment.unwrap();
    assert!(!e.tests[1].any_wants_certificates());
    assert!(e.tests[0].wants_certificates("ping_pong_server"));
}

#[test]
fn docker_blocks_and_port_mappings_are_typed() {
    let e = load("minip_docker_compose.yaml", &registry())
        .experiment
        .unwrap();
    let docker = e.docker.as_ref().unwrap();
    assert_eq!(docker["force_build_docker_image"], true);
    assert!(docker.get("build_docker_image").is_none());
    let t = &e.tests[0];
    assert_eq!(
        t.services["ping_pong_server"].port_mappings(),
        [
            PortMapping {
                host: 4443,
                container: 4443,
                proto: None
            },
            PortMapping {
                host: 8080,
                container: 8080,
                proto: None
            },
        ]
    );
    // A transport suffix is kept when given.
    let mut udp = t.services["ping_pong_server"].clone();
    udp.ports = vec!["4443:4443/udp".into()];
    assert_eq!(udp.port_mappings()[0].proto, Some(PortProto::Udp));
    assert_eq!(
        t.services["ping_pong_client"].protocol.target.as_deref(),
        Some("ping_pong_server")
    );
    assert_eq!(
        plan::start_order(t).unwrap(),
        ["ping_pong_server", "ping_pong_client"]
    );
}

#[test]
fn single_container_tests_run_as_localhost_with_knobs_in_plugin_config() {
    let e = load("minip_tester_localhost.yaml", &registry())
        .experiment
        .unwrap();
    let t = &e.tests[0];
    assert_eq!(t.network_environment.kind, "localhost");
    assert!(t.network_environment.plugin_config.is_empty());
    let tester = &t.services["minip_tester"];
    assert_eq!(tester.implementation.kind.as_str(), "tester");
    // The explicit plugin_config wins over the knob of the same name.
    assert_eq!(tester.plugin_config["count"], 5);
    assert_eq!(tester.plugin_config["interval_ms"], 10);
    assert_eq!(tester.plugin_config["runtime_seconds"], 30);
    // PANTHER's service_responsive item is dropped; panther's property assertion stays.
    assert_eq!(t.assertions.len(), 1);
    assert_eq!(t.assertions[0].property, "answers_every_ping");
    // PANTHER's shell lines that need no shell become argv lists.
    assert_eq!(
        t.steps.pre_commands,
        [vec!["echo", "preparing", "the", "MinIP", "test"]]
    );
    assert_eq!(t.steps.post_commands, [vec!["sync"]]);
}

#[test]
fn strace_and_memcheck_options_become_parameters() {
    let e = load("minip_strace_memcheck.yaml", &registry())
        .experiment
        .unwrap();
    let strace = &e.tests[0].execution_environment[0];
    assert_eq!(strace.kind, "strace");
    assert_eq!(strace.plugin_config["trace"], "all");
    assert_eq!(strace.plugin_config.len(), 1, "{:?}", strace.plugin_config);
    assert_eq!(e.tests[0].network_environment.deploy_timeout, Some(600.0));
    let memcheck = &e.tests[1].execution_environment[0];
    assert_eq!(memcheck.plugin_config["leak_check"], "summary");
    assert_eq!(memcheck.plugin_config["track_origins"], true);
    assert!(memcheck.plugin_config.get("show_reachable").is_none());
    assert!(e.tests[1].network_environment.plugin_config.is_empty());
    // Switches under plugin_config: the classes switched on, the plugin's own
    // `string_limit` kept, the rest dropped.
    let strace = &e.tests[2].execution_environment[0];
    assert_eq!(strace.plugin_config["trace"], "network,file");
    assert_eq!(strace.plugin_config["string_limit"], 64);
    assert_eq!(strace.plugin_config.len(), 2, "{:?}", strace.plugin_config);
    let memcheck = &e.tests[3].execution_environment[0];
    assert_eq!(memcheck.plugin_config["leak_check"], "full");
    assert_eq!(memcheck.plugin_config["leak_errors"], "definite,possible");
    assert_eq!(
        memcheck.plugin_config.len(),
        3,
        "{:?}",
        memcheck.plugin_config
    );
}

#[test]
fn per_service_links_must_name_services_of_the_test() {
    let reg = registry();
    let base = "tests:\n  - name: t\n    network_environment:\n      type: localhost\n      link: {delay_ms: 5}\n      links:\n        LINKS\n    services:\n      server: {implementation: {name: ping_pong, type: iut}, protocol: {name: minip, role: server}}\n      tester: {implementation: {name: minip_tester, type: tester}, protocol: {name: minip, role: client, target: server}}\n";
    let l = experiment::load_str(
        &base.replace("LINKS", "server: {delay_ms: 40, loss: 0.1}"),
        "ok.yaml",
        &reg,
    );
    assert!(l.is_ok(), "{:#?}", l.diagnostics);
    let t = &l.experiment.unwrap().tests[0];
    assert_eq!(t.link_for("server").unwrap().delay_ms, 40.0);
    assert_eq!(t.link_for("tester").unwrap().delay_ms, 5.0);

    let l = experiment::load_str(
        &base.replace("LINKS", "sever: {delay_ms: 40, loss: 10}"),
        "bad.yaml",
        &reg,
    );
    let e = errors(&l);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert_eq!(
        e[0].message,
        "`links` names `sever`, which is not a service of this test"
    );
    assert_eq!((e[0].line, e[0].column), (7, 9));
    assert_eq!(e[0].help.as_deref(), Some("did you mean `server`?"));
    assert!(e[1].message.contains("`loss` is 10"), "{e:#?}");
}

/// Truncations and byte flips of PANTHER-style files: any outcome but a panic.
#[test]
fn mangled_panther_files_never_panic() {
    let reg = registry();
    let mut n = 0;
    for name in ["minip_shadow_ns.yaml", "minip_tester_localhost.yaml"] {
        let good = std::fs::read(fixtures().join(name)).unwrap();
        let junk = [b'\t', b':', b'-', b'{', b'"', b'#', b'\n', b' ', b'&', b'['];
        for cut in (0..good.len()).step_by(11) {
            let _ = experiment::load_str(&String::from_utf8_lossy(&good[..cut]), "cut.yaml", &reg);
            for (k, j) in junk.iter().enumerate() {
                let mut b = good.clone();
                b[(cut + k * 17) % good.len()] = *j;
                let _ = experiment::load_str(&String::from_utf8_lossy(&b), "flip.yaml", &reg);
                n += 1;
            }
        }
    }
    assert!(n > 1000, "{n}");
}

// --- ping_pong as a client: the built-in MinIP client against the built-in server ---

const BIN: &str = env!("CARGO_BIN_EXE_panther");

/// A process we started, killed and reaped when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `panther builtin minip-server --version VERSION` on a free port; returns it and
/// the port from its "listening" record.
fn minip_server(version: &str) -> (Killed, u16) {
    let mut child = Command::new(BIN)
        .args(["builtin", "minip-server", "--version", version])
        .args(["--host", "127.0.0.1", "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let child = Killed(child);
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the server says where it listens");
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && v["text"]
                .as_str()
                .unwrap_or("")
                .starts_with("listening on ")
        {
            return (child, v["data"]["port"].as_u64().unwrap() as u16);
        }
    }
}

/// Runs `panther builtin minip-client`; returns its exit code and its verdict records.
fn minip_client(port: u16) -> (i32, Vec<Value>) {
    let out = Command::new(BIN)
        .args(["builtin", "minip-client", "--target"])
        .arg(format!("127.0.0.1:{port}"))
        .args([
            "--count",
            "5",
            "--interval-ms",
            "0",
            "--reply-timeout-ms",
            "300",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let verdicts = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["kind"] == "verdict")
        .collect();
    (out.status.code().unwrap_or(-1), verdicts)
}

fn verdict_of<'a>(records: &'a [Value], property: &str) -> Option<&'a str> {
    records
        .iter()
        .find(|v| v["data"]["property"] == property)
        .and_then(|v| v["data"]["verdict"].as_str())
}

#[test]
fn the_minip_client_passes_a_correct_server_and_fails_a_broken_one() {
    let (_server, port) = minip_server("functional");
    let (code, v) = minip_client(port);
    assert_eq!(code, 0, "{v:#?}");
    for p in [
        "pong_matches_ping_seq",
        "pong_echoes_payload",
        "answers_every_ping",
        "no_garbage_replies",
    ] {
        assert_eq!(verdict_of(&v, p), Some("pass"), "{p}: {v:#?}");
    }
    // A client sends no malformed datagrams: that is the tester's job.
    assert_eq!(verdict_of(&v, "survives_malformed_datagrams"), None);

    let (_server, port) = minip_server("fail");
    let (code, v) = minip_client(port);
    assert_eq!(code, 1, "{v:#?}");
    assert_eq!(verdict_of(&v, "pong_matches_ping_seq"), Some("fail"));
}

#[test]
fn the_minip_client_fails_when_nothing_listens() {
    // A port that was free a moment ago: bind, read the port, close.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, _) = minip_client(port);
    assert_eq!(code, 1);
}

// --- PANTHER's MinIP tests, run unmodified (acceptance) ---

/// Runs one test of a fixture with the real `panther run`; None (with a message) when the
/// network environment it needs is not bundled in this build.
fn run_unmodified(fixture: &str, test: &str, env: &str) -> Option<(Value, PathBuf)> {
    let bundled = Registry::load(&LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![],
        availability: false,
    });
    if bundled.get(&[Kind::NetworkEnvironment], env).is_none() {
        eprintln!("skipped: the `{env}` network environment is not bundled in this build");
        return None;
    }
    // Kept (in the temp dir) so a failed acceptance run can be inspected.
    let out_root = tempfile::tempdir().unwrap().keep();
    let out = Command::new(BIN)
        .arg("run")
        .arg(fixtures().join(fixture))
        .arg("--output")
        .arg(&out_root)
        .args(["--no-user-plugins", "--json", "--test", test])
        .env_remove("PANTHER_PLUGIN_DIR")
        .output()
        .unwrap();
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        out.status.success() && summary["verdict"] == "pass",
        "{summary:#}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let client = summary["tests"][0]["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "ping_pong_client")
        .cloned()
        .expect("the client's result");
    let answered = client["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["property"] == "answers_every_ping" && c["verdict"] == "pass");
    assert!(answered, "{client:#}");
    // The run's folder (events.jsonl, summary.json, one folder per test).
    let run_dir = std::fs::read_dir(&out_root)
        .unwrap()
        .next()
        .expect("a results folder")
        .unwrap()
        .path();
    Some((summary, run_dir))
}

/// Every file named `name` under `dir`.
fn find_files(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(find_files(&p, name));
        } else if p.file_name().is_some_and(|n| n == name) {
            out.push(p);
        }
    }
    out
}

/// A Docker engine and root (for panther's link), or a skip locally; under `CI=true` both
/// must be there.
fn docker_or_skip(test: &str) -> bool {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let engine = rt.block_on(panther::env::network::docker::Engine::connect(None));
    let ci = std::env::var("CI").as_deref() == Ok("true");
    match engine {
        Ok(_) if nix::unistd::geteuid().is_root() => true,
        other => {
            let why = other
                .err()
                .map(|e| e.to_string())
                .unwrap_or("needs root".into());
            assert!(!ci, "{test}: under CI nothing may skip: {why}");
            eprintln!("skipping {test}: {why}");
            false
        }
    }
}

fn root_or_skip(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: netns needs root, and CI must run it"
    );
    eprintln!("skipping {test}: netns needs root");
    false
}

#[test]
fn panthers_minip_docker_compose_test_runs_unmodified() {
    if !docker_or_skip("panther_docker_compose") {
        return;
    }
    run_unmodified(
        "minip_docker_compose.yaml",
        "Minip Client-Server Functional Communication Test",
        "docker_compose",
    );
}

#[test]
fn panthers_minip_shadow_test_runs_unmodified_on_netns() {
    if !root_or_skip("panther_shadow_ns") {
        return;
    }
    let Some((summary, run_dir)) = run_unmodified(
        "minip_shadow_ns.yaml",
        "Minip Client-Server Functional Communication Test",
        "netns",
    ) else {
        return;
    };
    // Shadow's host_option_defaults.pcap_enabled became `capture`.
    assert!(
        !find_files(&run_dir, "capture.pcap").is_empty(),
        "no capture.pcap in {}: {summary:#}",
        run_dir.display()
    );
    // 10 ± 10 ms each way (Shadow's latency and jitter): the slowest of ten round trips
    // took 10 ms or more (without the link, a loopback round trip takes well under 1 ms).
    let events = std::fs::read_to_string(run_dir.join("events.jsonl")).unwrap_or_default();
    let rtt_max = events
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|v| v["data"]["rtt_us_max"].as_u64());
    assert!(
        rtt_max.is_some_and(|us| us >= 10_000),
        "rtt_us_max {rtt_max:?}"
    );
}

#[test]
fn without_the_netns_environment_a_shadow_file_says_so_at_its_type() {
    // The bundled registry alone; when this build bundles netns, there is nothing to say.
    let reg = Registry::load(&LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![],
        availability: false,
    });
    if reg.get(&[Kind::NetworkEnvironment], "netns").is_some() {
        return;
    }
    let l = load("minip_shadow_ns.yaml", &reg);
    let e = errors(&l);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(
        e[0].message
            .starts_with("plugin `netns` is not available in panther: ")
            && e[0].message.contains("shadow_ns"),
        "{e:#?}"
    );
    assert_eq!((e[0].line, e[0].column), (12, 13));
}
