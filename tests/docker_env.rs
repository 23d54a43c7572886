//! The `docker_compose` network environment end to end: the real binary against a real
//! Docker engine (scripts/test starts one with scripts/dockerd-up and exports DOCKER_HOST).
//! Without an engine (or root, for panther's link) each test says so and skips, except
//! under `CI=true`, where skipping is a failure.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

mod support;
use support::*;

fn engine_or_skip(test: &str) -> bool {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ok = rt.block_on(panther::env::network::docker::Engine::connect(None));
    let ci = std::env::var("CI").as_deref() == Ok("true");
    match ok {
        Ok(_) if nix::unistd::geteuid().is_root() => true,
        Ok(_) => {
            assert!(!ci, "{test}: needs root under CI");
            eprintln!("skipping {test}: panther's link on Docker needs root");
            false
        }
        Err(e) => {
            assert!(!ci, "{test}: no Docker engine under CI: {e}");
            eprintln!("skipping {test}: {e}");
            false
        }
    }
}

/// Containers and networks of the engine whose name starts `panther-PID-`.
fn engine_objects_of(pid: u32) -> Vec<String> {
    let mut out = Vec::new();
    for what in [
        &["ps", "-a", "--format", "{{.Names}}"][..],
        &["network", "ls", "--format", "{{.Name}}"],
    ] {
        let o = Command::new("docker").args(what).output().unwrap();
        out.extend(
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|n| n.starts_with(&format!("panther-{pid}-")))
                .map(String::from),
        );
    }
    out
}

#[test]
fn quickstart_and_minip_versions_reach_the_same_verdicts_on_docker_as_on_localhost() {
    if !engine_or_skip("same_verdicts_docker") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for rel in [
        "experiments/quickstart.yaml",
        "experiments/minip_versions.yaml",
    ] {
        let (lo, _, _k1) = run(&repo(rel));
        let (dk, dir, _k2) = run(&on_env(rel, "docker_compose", tmp.path()));
        let (lo, dk) = (summary(&lo), summary(&dk));
        assert_eq!(verdicts(&lo), verdicts(&dk), "{rel}");
        assert_eq!(dk["ok"], true, "{rel} on docker: {dk}");
        let evs = events(&dir);
        assert!(
            evs.iter().any(|e| e["data"]["step"] == "link_up"
                && e["data"]["network"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("panther-"))),
            "{rel}: a network per test"
        );
        // The compose file a user can re-run by hand.
        let first = &dk["tests"][0]["dir"];
        let compose = dir.join(first.as_str().unwrap()).join("docker-compose.yml");
        let text = std::fs::read_to_string(&compose).unwrap();
        assert!(
            text.contains("services:") && text.contains("server"),
            "{text}"
        );
    }
}

#[test]
fn a_docker_link_delays_and_captures_like_netns() {
    if !engine_or_skip("docker_link") || which::which("tshark").is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "tshark missing under CI"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("delayed.yaml");
    std::fs::write(
        &file,
        r#"
tests:
  - name: delayed
    network_environment:
      type: docker_compose
      link: {delay_ms: 30}
    services:
      server:
        implementation: {name: ping_pong, type: iut}
        protocol: {name: minip, role: server}
      tester:
        implementation: {name: minip_tester, type: tester}
        protocol: {name: minip, role: client, target: server}
        plugin_config: {count: 20, interval_ms: 5, reply_timeout_ms: 500}
    timeout: 60
"#,
    )
    .unwrap();
    let (out, dir, _keep) = run(&file);
    let s = summary(&out);
    assert_eq!(s["ok"], true, "{s}");
    let evs = events(&dir);
    let delivered: Vec<&Value> = evs
        .iter()
        .filter(|e| e["source"] == "link" && e["text"] == "delivered")
        .collect();
    assert!(delivered.len() >= 40, "{} delivered", delivered.len());
    for d in &delivered {
        assert!(d["data"]["delay_us"].as_u64().unwrap() >= 30_000, "{d}");
    }
    let t = Command::new("tshark")
        .arg("-r")
        .arg(dir.join("delayed/capture.pcap"))
        .args(["-Y", "udp", "-T", "fields", "-e", "frame.number"])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    let frames = String::from_utf8_lossy(&t.stdout).lines().count();
    assert_eq!(
        frames,
        delivered.len(),
        "one captured frame per delivered message"
    );
}

#[test]
fn sigint_mid_docker_run_leaves_no_container_network_or_namespace() {
    if !engine_or_skip("sigint_docker") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out_root = tempfile::tempdir().unwrap();
    let (mut child, _) = start_running(
        &long_experiment("docker_compose"),
        tmp.path(),
        out_root.path(),
        2,
        Duration::from_secs(120),
    );
    let pid = child.id();
    assert!(
        engine_objects_of(pid).len() >= 3,
        "{:?}",
        engine_objects_of(pid)
    );
    assert_eq!(
        namespaces_of(pid).len(),
        2,
        "the containers are on panther's link"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert!(
        engine_objects_of(pid).is_empty(),
        "{:?}",
        engine_objects_of(pid)
    );
    assert!(namespaces_of(pid).is_empty(), "{:?}", namespaces_of(pid));
}

#[test]
fn sigkill_mid_docker_run_is_swept_by_the_next_docker_start() {
    if !engine_or_skip("sigkill_docker") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out_root = tempfile::tempdir().unwrap();
    let (mut child, _) = start_running(
        &long_experiment("docker_compose"),
        tmp.path(),
        out_root.path(),
        2,
        Duration::from_secs(120),
    );
    let pid = child.id();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !engine_objects_of(pid).is_empty(),
        "containers outlive a SIGKILL"
    );
    let (out, _, _keep) = run(&on_env(
        "experiments/quickstart.yaml",
        "docker_compose",
        tmp.path(),
    ));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        engine_objects_of(pid).is_empty(),
        "{:?}",
        engine_objects_of(pid)
    );
    assert!(namespaces_of(pid).is_empty(), "{:?}", namespaces_of(pid));
}

#[test]
fn no_engine_is_a_clear_error_that_says_how_to_start_one() {
    let tmp = tempfile::tempdir().unwrap();
    let file = on_env("experiments/quickstart.yaml", "docker_compose", tmp.path());
    let out = panther()
        .env(
            "DOCKER_HOST",
            format!("unix://{}/none.sock", tmp.path().display()),
        )
        .arg("run")
        .arg(&file)
        .arg("--output")
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("no Docker engine answers"), "{text}");
    assert!(text.contains("dockerd"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
}
