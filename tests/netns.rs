//! The `netns` network environment end to end: real namespaces, TAP devices and panther's
//! userspace link, driven through the real binary. Needs root (namespaces); without it each
//! test says so and skips, except under `CI=true`, where skipping is a failure.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

mod support;
use support::*;

/// Every panther start sweeps; the sweep test must be the only one starting panthers while
/// its dead-owner namespace waits, so that its own run is the one that removes it.
static SWEEPS: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn shared() -> std::sync::RwLockReadGuard<'static, ()> {
    SWEEPS.read().unwrap_or_else(|e| e.into_inner())
}

fn alive(pid: i32) -> bool {
    // A zombie still answers kill(0); look at its state.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

#[test]
fn quickstart_and_minip_versions_reach_the_same_verdicts_on_netns_as_on_localhost() {
    if !root_or_skip("same_verdicts") {
        return;
    }
    let _g = shared();
    let tmp = tempfile::tempdir().unwrap();
    for rel in [
        "experiments/quickstart.yaml",
        "experiments/minip_versions.yaml",
    ] {
        let (lo, _, _k1) = run(&repo(rel));
        let (ns, dir, _k2) = run(&on_env(rel, "netns", tmp.path()));
        let (lo, ns) = (summary(&lo), summary(&ns));
        assert_eq!(verdicts(&lo), verdicts(&ns), "{rel}");
        assert_eq!(lo["ok"], true, "{rel} on localhost");
        assert_eq!(ns["ok"], true, "{rel} on netns");
        let evs = events(&dir);
        assert!(
            evs.iter().any(|e| e["data"]["step"] == "link_up"
                && e["data"]["services"]["server"]["ipv4"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("10.213."))),
            "{rel}: services got their own addresses"
        );
    }
}

const LOSSY: &str = r#"
tests:
  - name: lossy
    network_environment:
      type: netns
      link: {delay_ms: 30, loss: 0.05, seed: 3}
    services:
      server:
        implementation: {name: ping_pong, type: iut}
        protocol: {name: minip, role: server}
      tester:
        implementation: {name: minip_tester, type: tester}
        protocol: {name: minip, role: client, target: server}
        plugin_config: {count: 120, interval_ms: 2, reply_timeout_ms: 400}
    timeout: 60
"#;

#[test]
fn a_30ms_lossy_link_delays_every_message_marks_losses_and_captures_each_delivery() {
    if !root_or_skip("lossy_link") || !tool_or_skip("lossy_link", "tshark") {
        return;
    }
    let _g = shared();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("lossy.yaml");
    std::fs::write(&file, LOSSY).unwrap();
    let (out, dir, _keep) = run(&file);
    let s = summary(&out);
    assert_eq!(s["tests"][0]["verdict"], "fail", "5 % loss costs PONGs");
    let evs = events(&dir);
    let msgs: Vec<&Value> = evs
        .iter()
        .filter(|e| e["source"] == "link" && e["kind"] == "message")
        .collect();
    let delivered: Vec<&&Value> = msgs.iter().filter(|e| e["text"] == "delivered").collect();
    let lost: Vec<&&Value> = msgs
        .iter()
        .filter(|e| e["text"] == "sent" && e["message"]["lost"] == true)
        .collect();
    assert!(delivered.len() > 150, "{} delivered", delivered.len());
    for d in &delivered {
        let delay = d["data"]["delay_us"].as_u64().unwrap();
        assert!(delay >= 30_000, "delivered after {delay} µs: {d}");
        assert!(d["message"]["lost"] != true);
    }
    // About 5 % of the messages were lost, and each lost message was never delivered.
    let sent = msgs.iter().filter(|e| e["text"] == "sent").count();
    assert!(
        !lost.is_empty() && lost.len() * 100 < sent * 12,
        "{} of {sent} lost",
        lost.len()
    );
    for l in &lost {
        let id = &l["message"]["id"];
        assert!(
            !delivered.iter().any(|d| &d["message"]["id"] == id),
            "lost {id} was delivered"
        );
        assert_eq!(l["data"]["reason"], "loss");
    }
    // capture.pcap: one UDP frame per delivered message, in delivery order.
    let pcap = dir.join("lossy/capture.pcap");
    let t = Command::new("tshark")
        .arg("-r")
        .arg(&pcap)
        .args([
            "-Y",
            "udp",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "udp.length",
        ])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(t.status.success(), "tshark reads {}", pcap.display());
    let rows: Vec<String> = String::from_utf8_lossy(&t.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        rows.len(),
        delivered.len(),
        "one frame per delivered message"
    );
    for (row, d) in rows.iter().zip(&delivered) {
        let mut f = row.split('\t');
        let number: u64 = f.next().unwrap().parse().unwrap();
        let udp_len: u64 = f.next().unwrap().parse().unwrap();
        assert_eq!(d["data"]["frame"].as_u64(), Some(number));
        assert_eq!(udp_len - 8, d["message"]["bytes"].as_u64().unwrap());
    }
    assert!(
        namespaces_of_run(&evs)
            .iter()
            .all(|n| !Path::new("/run/netns").join(n).exists())
    );
}

/// The namespaces a run's link-up event names.
fn namespaces_of_run(evs: &[Value]) -> Vec<String> {
    evs.iter()
        .filter(|e| e["data"]["step"] == "link_up")
        .filter_map(|e| e["data"]["services"].as_object())
        .flat_map(|m| {
            m.values()
                .filter_map(|s| s["netns"].as_str().map(String::from))
        })
        .collect()
}

fn service_pids(evs: &[Value]) -> Vec<i32> {
    evs.iter()
        .filter(|e| e["data"]["step"] == "started")
        .map(|e| e["data"]["pid"].as_i64().unwrap() as i32)
        .collect()
}

fn taps_in(ns: &str) -> bool {
    Command::new("ip")
        .args(["-n", ns, "link", "show", "eth0"])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn sigint_mid_run_leaves_no_namespace_device_or_process() {
    if !root_or_skip("sigint_mid_run") {
        return;
    }
    let _g = shared();
    let tmp = tempfile::tempdir().unwrap();
    let out_root = tempfile::tempdir().unwrap();
    let (mut child, dir) = start_running(
        &long_experiment("netns"),
        tmp.path(),
        out_root.path(),
        2,
        Duration::from_secs(30),
    );
    let pid = child.id();
    assert_eq!(namespaces_of(pid).len(), 2, "one namespace per service");
    for ns in namespaces_of(pid) {
        assert!(taps_in(&ns), "{ns} has its TAP device");
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(namespaces_of(pid).is_empty(), "{:?}", namespaces_of(pid));
    let evs = events(&dir);
    for p in service_pids(&evs) {
        assert!(!alive(p), "service {p} outlived the run");
    }
    assert!(
        !Path::new("/etc/netns")
            .join(&namespaces_of_run(&evs)[0])
            .exists()
    );
}

#[test]
fn sigkill_mid_run_is_cleaned_by_the_next_start_and_devices_die_with_panther() {
    if !root_or_skip("sigkill_mid_run") {
        return;
    }
    let _g = shared();
    let tmp = tempfile::tempdir().unwrap();
    let out_root = tempfile::tempdir().unwrap();
    let (mut child, dir) = start_running(
        &long_experiment("netns"),
        tmp.path(),
        out_root.path(),
        2,
        Duration::from_secs(30),
    );
    let pid = child.id();
    let names = namespaces_of(pid);
    assert_eq!(names.len(), 2);
    child.kill().unwrap();
    child.wait().unwrap();
    // The TAP devices closed with panther's descriptors.
    for ns in &names {
        assert!(!taps_in(ns), "{ns} still has eth0 after SIGKILL");
    }
    // The namespaces wait for the next start, which sweeps them (and anything inside).
    let next = tmp.path().join("quick.yaml");
    std::fs::copy(repo("experiments/quickstart.yaml"), &next).unwrap();
    let (out, _, _keep) = run(&next);
    assert!(out.status.success());
    assert!(namespaces_of(pid).is_empty(), "{:?}", namespaces_of(pid));
    for p in service_pids(&events(&dir)) {
        assert!(!alive(p), "service {p} outlived the sweep");
    }
}

#[test]
fn the_sweep_removes_only_namespaces_whose_panther_is_gone() {
    if !root_or_skip("sweep_is_careful") {
        return;
    }
    let _g = SWEEPS.write().unwrap_or_else(|e| e.into_inner());
    let ip = |args: &[&str]| {
        let ok = Command::new("ip").args(args).status().unwrap().success();
        assert!(ok, "ip {args:?}");
    };
    // A live owner (this test process), a dead one (a finished child), and a foreign name.
    let me = std::process::id();
    let my_start = start_time(me);
    let mut c = Command::new("true").spawn().unwrap();
    let dead = (c.id(), start_time(c.id()));
    c.wait().unwrap();
    let live_ns = format!("panther-{me}-{my_start}-t1-live");
    let dead_ns = format!("panther-{}-{}-t1-dead", dead.0, dead.1);
    let foreign = format!("blue-{me}");
    let look_alike = format!("panther-{me}-x-t1-odd");
    for n in [&live_ns, &dead_ns, &foreign, &look_alike] {
        ip(&["netns", "add", n]);
    }
    let next = tempfile::tempdir().unwrap();
    let f = next.path().join("quick.yaml");
    std::fs::copy(repo("experiments/quickstart.yaml"), &f).unwrap();
    let (out, dir, _keep) = run(&f);
    let exists = |n: &str| Path::new("/run/netns").join(n).exists();
    let (live, gone, foreign_kept, odd_kept) = (
        exists(&live_ns),
        !exists(&dead_ns),
        exists(&foreign),
        exists(&look_alike),
    );
    for n in [&live_ns, &dead_ns, &foreign, &look_alike] {
        let _ = Command::new("ip").args(["netns", "delete", n]).status();
    }
    assert!(out.status.success());
    assert!(live, "a live panther's namespace was swept");
    assert!(gone, "a dead panther's namespace was kept");
    assert!(
        foreign_kept && odd_kept,
        "a namespace that is not provably ours was touched"
    );
    assert!(
        events(&dir)
            .iter()
            .any(|e| e["text"].as_str().is_some_and(|t| t.contains(&dead_ns))),
        "the sweep says what it removed"
    );
}

fn start_time(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    s.rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn without_root_netns_is_unavailable_and_says_why() {
    if !root_or_skip("netns_without_root") || !tool_or_skip("netns_without_root", "setpriv") {
        return;
    }
    let _g = shared();
    let tmp = tempfile::tempdir().unwrap();
    let file = on_env("experiments/quickstart.yaml", "netns", tmp.path());
    let out_root = tmp.path().join("out");
    std::fs::create_dir(&out_root).unwrap();
    use std::os::unix::fs::PermissionsExt;
    for p in [tmp.path(), out_root.as_path(), file.as_path()] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(env!("CARGO_BIN_EXE_panther"))
        .args(["--no-user-plugins", "run"])
        .arg(&file)
        .arg("--output")
        .arg(&out_root)
        .env("HOME", tmp.path())
        .env("PANTHER_LOG_FILE", tmp.path().join("log"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("needs root"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
}

const PER_SERVICE: &str = r#"
tests:
  - name: one_slow_tester
    network_environment:
      type: netns
      links: {slow: {delay_ms: 40}}
    services:
      server:
        implementation: {name: ping_pong, type: iut}
        protocol: {name: minip, role: server}
      slow:
        implementation: {name: minip_tester, type: tester}
        protocol: {name: minip, role: client, target: server}
        plugin_config: {count: 10, interval_ms: 5, reply_timeout_ms: 500}
      fast:
        implementation: {name: minip_tester, type: tester}
        protocol: {name: minip, role: client, target: server}
        plugin_config: {count: 10, interval_ms: 5, reply_timeout_ms: 500}
    timeout: 60
"#;

#[test]
fn a_per_service_link_impairs_only_that_services_side() {
    if !root_or_skip("per_service_link") {
        return;
    }
    let _g = shared();
    let tmp = tempfile::tempdir().unwrap();
    for env in ["netns", "localhost"] {
        let file = tmp.path().join(format!("{env}.yaml"));
        std::fs::write(
            &file,
            PER_SERVICE.replace("type: netns", &format!("type: {env}")),
        )
        .unwrap();
        let (out, dir, _keep) = run(&file);
        assert_eq!(summary(&out)["ok"], true, "{env}");
        let evs = events(&dir);
        let delays = |who: &str| -> Vec<u64> {
            evs.iter()
                .filter(|e| e["text"] == "delivered")
                .filter(|e| e["message"]["from"] == who || e["message"]["to"] == who)
                .map(|e| e["data"]["delay_us"].as_u64().unwrap())
                .collect()
        };
        let (slow, fast) = (delays("slow"), delays("fast"));
        // On localhost a client without impairment talks to its target directly (no relay,
        // so no messages to show); on netns every frame crosses the link.
        let fast_shown = env == "localhost" || fast.len() >= 20;
        assert!(slow.len() >= 20 && fast_shown, "{env}: {slow:?} {fast:?}");
        assert!(slow.iter().all(|&d| d >= 40_000), "{env}: slow {slow:?}");
        assert!(fast.iter().all(|&d| d < 40_000), "{env}: fast {fast:?}");
    }
}
