//! The Docker engine half of the docker_compose network environment, against a real dockerd
//! (scripts/test starts one with scripts/dockerd-up and exports DOCKER_HOST).
//!
//! Locally a test that needs the engine (or root, for debootstrap) skips with a message when
//! there is none; under CI=true it fails instead. The unavailable-engine test needs nothing and
//! always runs. Every test removes the networks, containers and files it creates, also when it
//! fails half-way (a guard removes them on drop).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use panther::env::network::docker::containers::owner_label;
use panther::env::network::docker::images::{self, PluginBuildOptions, Progress};
use panther::env::network::docker::{
    ContainerSpec, Engine, EngineError, ImageRef, LABEL_OWNER, LABEL_RUN, LogStream, compose,
};
use panther::plugin::{LoadOptions, Plugin, Registry};
use panther::run::owner::Owner;

fn under_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// The engine from $DOCKER_HOST (or the default socket); `None` (skipped) locally when there
/// is none, a failure under CI.
async fn engine_or_skip(test: &str) -> Option<Engine> {
    match Engine::connect(None).await {
        Ok(e) => Some(e),
        Err(e) => {
            assert!(
                !under_ci(),
                "under CI nothing may skip ({test}): {e}\n(scripts/test starts dockerd with scripts/dockerd-up)"
            );
            eprintln!("skipped {test}: {e}");
            None
        }
    }
}

fn root_or_skip(test: &str) -> bool {
    if nix::unistd::Uid::effective().is_root() {
        return true;
    }
    assert!(
        !under_ci(),
        "under CI nothing may skip ({test}): building the base image needs root (debootstrap)"
    );
    eprintln!("skipped {test}: building the base image needs root (debootstrap)");
    false
}

fn quiet(_: Progress) {}

fn bundled() -> Registry {
    Registry::load(&LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![],
        availability: false,
    })
}

fn plugin<'a>(reg: &'a Registry, name: &str) -> &'a Plugin {
    reg.find(name)
        .unwrap_or_else(|| panic!("bundled plugin {name}"))
}

fn build_opts() -> PluginBuildOptions {
    PluginBuildOptions {
        rebuild: false,
        panther_binary: Some(PathBuf::from(env!("CARGO_BIN_EXE_panther"))),
        network_mode: None,
    }
}

/// Tests share the images; the first to get here builds them (the others wait).
static IMAGES: tokio::sync::Mutex<Option<Images>> = tokio::sync::Mutex::const_new(None);

#[derive(Clone, Debug)]
struct Images {
    base: ImageRef,
    ping_pong: ImageRef,
    tester: ImageRef,
}

async fn images(engine: &Engine) -> Images {
    let mut slot = IMAGES.lock().await;
    if let Some(i) = slot.as_ref() {
        return i.clone();
    }
    let reg = bundled();
    let t = Instant::now();
    let base = images::build_base(engine, false, &quiet)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "base image {} ({}) in {:.1} s",
        base.tag,
        if base.built { "built" } else { "kept" },
        t.elapsed().as_secs_f64()
    );
    let mut built = Vec::new();
    for name in ["ping_pong", "minip_tester"] {
        let t = Instant::now();
        let r = images::build_plugin(engine, plugin(&reg, name), &build_opts(), &quiet)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        eprintln!(
            "image {} ({}) in {:.1} s",
            r.tag,
            if r.built { "built" } else { "kept" },
            t.elapsed().as_secs_f64()
        );
        built.push(r);
    }
    let i = Images {
        base,
        ping_pong: built[0].clone(),
        tester: built[1].clone(),
    };
    *slot = Some(i.clone());
    i
}

/// Removes containers and networks when dropped, also after a failed assertion.
struct Cleanup {
    engine: Engine,
    containers: Vec<String>,
    networks: Vec<String>,
}

impl Cleanup {
    fn new(engine: &Engine) -> Cleanup {
        Cleanup {
            engine: engine.clone(),
            containers: vec![],
            networks: vec![],
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let engine = self.engine.clone();
        let containers = std::mem::take(&mut self.containers);
        let networks = std::mem::take(&mut self.networks);
        // Drop cannot await; a thread with its own runtime does the removing.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                for c in &containers {
                    if let Err(e) = engine.remove(c).await {
                        eprintln!("cleanup: {e}");
                    }
                }
                for n in &networks {
                    if let Err(e) = engine.remove_network(n).await {
                        eprintln!("cleanup: {e}");
                    }
                }
            });
        });
        let _ = done.join();
    }
}

/// A run id unique to this test process and test.
fn run_id(test: &str) -> String {
    format!("t{}-{test}", std::process::id())
}

#[tokio::test]
async fn an_absent_or_silent_engine_is_unavailable_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();

    // No socket at all.
    let missing = dir.path().join("no-such.sock");
    let host = format!("unix://{}", missing.display());
    let err = Engine::connect(Some(&host)).await.unwrap_err();
    assert!(matches!(err, EngineError::Unavailable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("does not exist"), "{text}");
    assert!(text.contains("scripts/dockerd-up"), "{text}");

    // A socket file nobody listens on (the engine died and left it).
    let stale = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    let t = Instant::now();
    let err = Engine::connect(Some(&format!("unix://{}", stale.display())))
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Unavailable { .. }), "{err:?}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());

    // A hung engine: the socket accepts but never answers. Bounded by CONNECT_TIMEOUT.
    let hung = dir.path().join("hung.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&hung).unwrap();
    let t = Instant::now();
    let err = Engine::connect(Some(hung.to_str().unwrap()))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("no answer within"), "{text}");
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());

    // Nothing listens on this TCP port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = Engine::connect(Some(&format!("tcp://127.0.0.1:{port}")))
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Unavailable { .. }), "{err:?}");

    // Not an address panther can use.
    let err = Engine::connect(Some("ssh://somewhere")).await.unwrap_err();
    assert!(matches!(err, EngineError::BadHost { .. }), "{err:?}");
    let err = Engine::connect(Some("tcp://")).await.unwrap_err();
    assert!(matches!(err, EngineError::BadHost { .. }), "{err:?}");
}

#[tokio::test]
async fn connects_and_negotiates_the_api_version() {
    let Some(engine) = engine_or_skip("connect").await else {
        return;
    };
    let (major, minor) = engine.api_version().split_once('.').unwrap();
    assert_eq!(major, "1");
    let minor: u32 = minor.parse().unwrap();
    assert!((24..=53).contains(&minor), "API {}", engine.api_version());
    assert!(!engine.server_version().is_empty());
    eprintln!(
        "engine {} at {}, API {}",
        engine.server_version(),
        engine.host(),
        engine.api_version()
    );
    // The same engine through an explicit override.
    let again = Engine::connect(Some(engine.host())).await.unwrap();
    assert_eq!(again.api_version(), engine.api_version());

    // And over tcp://: a relay from a loopback port to the engine's socket.
    let Some(sock) = engine.host().strip_prefix("unix://").map(PathBuf::from) else {
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let relay = tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            let sock = sock.clone();
            tokio::spawn(async move {
                if let Ok(mut unix) = tokio::net::UnixStream::connect(&sock).await {
                    let _ = tokio::io::copy_bidirectional(&mut tcp, &mut unix).await;
                }
            });
        }
    });
    let tcp = Engine::connect(Some(&format!("tcp://127.0.0.1:{port}")))
        .await
        .unwrap();
    assert_eq!(tcp.api_version(), engine.api_version());
    assert!(images::list(&tcp).await.is_ok());
    relay.abort();
}

#[tokio::test]
async fn base_and_plugin_images_are_built_once_then_kept() {
    let Some(engine) = engine_or_skip("images").await else {
        return;
    };
    if !root_or_skip("images") {
        return;
    }
    let first = images(&engine).await;
    let reg = bundled();
    let created = |tag: &'static str| {
        let docker = engine.docker().clone();
        async move { docker.inspect_image(tag).await.unwrap().created }
    };
    let base_created = created(images::BASE_IMAGE).await;
    let pp_created = created("panther-ping_pong:0.1.0").await;
    assert!(base_created.is_some() && pp_created.is_some());

    let base = images::build_base(&engine, false, &quiet).await.unwrap();
    assert!(!base.built, "the base image was built a second time");
    assert_eq!(base.id, first.base.id);
    let pp = images::build_plugin(&engine, plugin(&reg, "ping_pong"), &build_opts(), &quiet)
        .await
        .unwrap();
    assert!(!pp.built, "the ping_pong image was built a second time");
    assert_eq!(pp.id, first.ping_pong.id);
    // Kept, not rebuilt: the images' creation times did not move.
    assert_eq!(created(images::BASE_IMAGE).await, base_created);
    assert_eq!(created("panther-ping_pong:0.1.0").await, pp_created);

    let docker = engine.docker();
    let b = docker.inspect_image(images::BASE_IMAGE).await.unwrap();
    let labels = b.config.unwrap().labels.unwrap_or_default();
    assert_eq!(labels.get("panther.base").map(String::as_str), Some("1"));
    let p = docker
        .inspect_image("panther-ping_pong:0.1.0")
        .await
        .unwrap();
    assert_eq!(p.id.as_deref(), Some(first.ping_pong.id.as_str()));
    let labels = p.config.unwrap().labels.unwrap_or_default();
    assert_eq!(
        labels.get("panther.plugin").map(String::as_str),
        Some("ping_pong")
    );

    let listed = images::list(&engine).await.unwrap();
    let row = listed
        .iter()
        .find(|i| i.tag == "panther-ping_pong:0.1.0")
        .expect("ping_pong in the list");
    assert_eq!(row.plugin, "ping_pong");
    assert!(row.size > 1_000_000);
    assert!(
        listed
            .iter()
            .any(|i| i.tag == images::BASE_IMAGE && i.plugin == "(base)")
    );

    // A plugin without a Dockerfile has no image.
    let err = images::build_plugin(&engine, plugin(&reg, "localhost"), &build_opts(), &quiet)
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::NoDockerfile { .. }), "{err}");
}

/// Waits (bounded) for a line of `stream` containing `needle`; returns the lines seen.
async fn lines_until(
    logs: &mut (
             impl futures_util::Stream<Item = Result<(LogStream, bytes::Bytes), EngineError>> + Unpin
         ),
    needle: &str,
) -> Vec<(LogStream, String)> {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(item) = logs.next().await {
            let (s, line) = item.unwrap();
            let line = String::from_utf8_lossy(&line).into_owned();
            let hit = line.contains(needle);
            seen.push((s, line));
            if hit {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "no line with {needle:?} in {seen:#?}");
    seen
}

#[tokio::test]
async fn ping_pong_and_the_minip_tester_talk_by_alias_on_one_network() {
    let Some(engine) = engine_or_skip("ping_pong").await else {
        return;
    };
    if !root_or_skip("ping_pong") {
        return;
    }
    let imgs = images(&engine).await;
    let mut cleanup = Cleanup::new(&engine);
    let run = run_id("pp");
    let net = engine.create_network(&run, "minip").await.unwrap();
    cleanup.networks.push(net.id.clone());
    assert!(
        net.subnet.overlaps("10.214.0.0/16".parse().unwrap()),
        "{net:?}"
    );
    assert_eq!(net.gateway, net.subnet.gateway());

    let labels = BTreeMap::from([(LABEL_RUN.to_string(), run.clone())]);
    let server_spec = ContainerSpec {
        name: format!("{run}-server"),
        image: imgs.ping_pong.tag.clone(),
        argv: [
            "panther",
            "builtin",
            "minip-server",
            "--host",
            "0.0.0.0",
            "--port",
            "4000",
        ]
        .map(String::from)
        .to_vec(),
        network: net.name.clone(),
        aliases: vec!["server".into()],
        labels: labels.clone(),
        cap_add: vec!["NET_ADMIN".into()],
        ..Default::default()
    };
    let t = Instant::now();
    let server = engine.start_container(&server_spec).await.unwrap();
    eprintln!(
        "server container up in {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    cleanup.containers.push(server.id.clone());
    assert!(server.pid > 1, "{server:?}");
    let ip = server.ip.expect("an address on the network");
    assert!(
        net.subnet.overlaps(format!("{ip}/32").parse().unwrap()),
        "{ip} in {net:?}"
    );
    assert!(
        Path::new(&format!("/proc/{}/ns/net", server.pid)).exists(),
        "the pid is a host pid"
    );
    let veth = server.host_interface("eth0").unwrap();
    assert!(veth.starts_with("veth"), "{veth}");
    server.disable_udp_gso("eth0").await.unwrap();
    let k = std::process::Command::new("nsenter")
        .args(["-t", &server.pid.to_string(), "-n", "ethtool", "-k", "eth0"])
        .output()
        .unwrap();
    let k = String::from_utf8_lossy(&k.stdout);
    assert!(k.contains("tx-udp-segmentation: off"), "{k}");
    let mut server_logs = engine.logs(&server.id);
    let first = lines_until(&mut server_logs, "listening on").await;
    assert!(
        first.iter().all(|(s, _)| *s == LogStream::Stdout),
        "{first:?}"
    );
    assert_eq!(
        engine.exit_status(&server.id).await.unwrap(),
        None,
        "still running"
    );
    assert!(
        server.udp_bound(4000),
        "the UDP readiness probe sees the server's socket"
    );
    assert!(!server.udp_bound(4001));

    let tester_spec = ContainerSpec {
        name: format!("{run}-tester"),
        image: imgs.tester.tag.clone(),
        argv: [
            "panther",
            "builtin",
            "minip-tester",
            "--target",
            "server:4000",
            "--count",
            "5",
            "--interval-ms",
            "10",
        ]
        .map(String::from)
        .to_vec(),
        env: vec![("PANTHER_TEST".into(), "1".into())],
        network: net.name.clone(),
        aliases: vec!["tester".into()],
        labels,
        ..Default::default()
    };
    let tester = engine.start_container(&tester_spec).await.unwrap();
    cleanup.containers.push(tester.id.clone());
    let code = tokio::time::timeout(Duration::from_secs(60), engine.wait(&tester.id))
        .await
        .expect("the tester ends")
        .unwrap();
    let lines: Vec<(LogStream, String)> = engine
        .logs(&tester.id)
        .map(|r| {
            let (s, l) = r.unwrap();
            (s, String::from_utf8_lossy(&l).into_owned())
        })
        .collect()
        .await;
    assert_eq!(code, 0, "tester output: {lines:#?}");
    assert_eq!(engine.exit_status(&tester.id).await.unwrap(), Some(0));
    let verdicts: Vec<serde_json::Value> = lines
        .iter()
        .filter(|(s, _)| *s == LogStream::Stdout)
        .filter_map(|(_, l)| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["kind"] == "verdict")
        .collect();
    assert!(!verdicts.is_empty(), "{lines:#?}");
    let properties: Vec<&serde_json::Value> = verdicts
        .iter()
        .filter(|v| v["data"]["verdict"].is_string())
        .collect();
    assert!(properties.len() >= 5, "{verdicts:#?}");
    assert!(
        properties.iter().all(|v| v["data"]["verdict"] == "pass"),
        "{verdicts:#?}"
    );

    // The server saw the tester's PINGs (its log follows on).
    lines_until(&mut server_logs, "PONG").await;

    // An equivalent compose file for doing it again by hand.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("docker-compose.yml");
    let deps = BTreeMap::from([(tester_spec.name.clone(), vec![server_spec.name.clone()])]);
    compose::write_ordered(
        &file,
        &net,
        &[server_spec.clone(), tester_spec.clone()],
        &deps,
    )
    .unwrap();
    let yaml: serde_json::Value =
        serde_norway::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        yaml["services"][server_spec.name.as_str()]["networks"]["panther"]["aliases"][0],
        "server"
    );

    engine
        .stop(&server.id, Duration::from_secs(5))
        .await
        .unwrap();
    let code = engine.exit_status(&server.id).await.unwrap();
    assert_eq!(code, Some(0), "minip-server stops cleanly on SIGTERM");
    engine
        .stop(&server.id, Duration::from_secs(1))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_container_that_exits_3_reports_3_and_its_streams_apart() {
    let Some(engine) = engine_or_skip("exit 3").await else {
        return;
    };
    if !root_or_skip("exit 3") {
        return;
    }
    let imgs = images(&engine).await;
    let mut cleanup = Cleanup::new(&engine);
    let run = run_id("exit3");
    let spec = ContainerSpec {
        name: format!("{run}-c"),
        image: imgs.base.tag.clone(),
        argv: [
            "sh",
            "-c",
            "echo out-1; echo err-1 >&2; printf 'out-2\\nout-3'; exit 3",
        ]
        .map(String::from)
        .to_vec(),
        labels: BTreeMap::from([(LABEL_RUN.to_string(), run.clone())]),
        ..Default::default()
    };
    let c = engine.start_container(&spec).await.unwrap();
    cleanup.containers.push(c.id.clone());
    assert_eq!(engine.wait(&c.id).await.unwrap(), 3);
    assert_eq!(engine.exit_status(&c.id).await.unwrap(), Some(3));
    let lines: Vec<(LogStream, String)> = engine
        .logs(&c.id)
        .map(|r| {
            let (s, l) = r.unwrap();
            (s, String::from_utf8_lossy(&l).into_owned())
        })
        .collect()
        .await;
    let out: Vec<&str> = lines
        .iter()
        .filter(|(s, _)| *s == LogStream::Stdout)
        .map(|(_, l)| l.as_str())
        .collect();
    let err: Vec<&str> = lines
        .iter()
        .filter(|(s, _)| *s == LogStream::Stderr)
        .map(|(_, l)| l.as_str())
        .collect();
    assert_eq!(out, ["out-1", "out-2", "out-3"], "{lines:?}");
    assert_eq!(err, ["err-1"], "{lines:?}");

    // A command that is not in the image: the init in front of it reports it and exits 127.
    let missing = ContainerSpec {
        name: format!("{run}-missing"),
        image: imgs.base.tag.clone(),
        argv: vec!["/no/such/program".into()],
        ..Default::default()
    };
    let m = engine.start_container(&missing).await.unwrap();
    cleanup.containers.push(m.id.clone());
    assert_eq!(engine.wait(&m.id).await.unwrap(), 127);
    let err_lines: Vec<String> = engine
        .logs(&m.id)
        .filter_map(|r| async move {
            match r.unwrap() {
                (LogStream::Stderr, l) => Some(String::from_utf8_lossy(&l).into_owned()),
                _ => None,
            }
        })
        .collect()
        .await;
    assert!(
        err_lines.iter().any(|l| l.contains("/no/such/program")),
        "{err_lines:?}"
    );

    // An image that does not exist: a clear start error, nothing left behind.
    let bad = ContainerSpec {
        name: format!("{run}-bad"),
        image: "panther-no-such-image:0".into(),
        argv: vec!["true".into()],
        ..Default::default()
    };
    let err = engine.start_container(&bad).await.unwrap_err();
    assert!(matches!(err, EngineError::Start { .. }), "{err}");
    assert!(err.to_string().contains("panther-no-such-image"), "{err}");
    let left = engine
        .docker()
        .inspect_container(
            &bad.name,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await;
    assert!(left.is_err(), "the failed container was removed");
}

#[tokio::test]
async fn sweep_removes_only_what_a_dead_owner_left() {
    let Some(engine) = engine_or_skip("sweep").await else {
        return;
    };
    if !root_or_skip("sweep") {
        return;
    }
    let imgs = images(&engine).await;
    let mut cleanup = Cleanup::new(&engine);
    let me = Owner::current();
    let dead = owner_label(Owner {
        pid: me.pid,
        start: me.start + 12345,
    });
    let run = run_id("sweep");
    let docker = engine.docker();

    // Left by a dead panther: a network and a container.
    let dead_net = format!("panther-{run}-dead");
    docker
        .create_network(bollard::models::NetworkCreateRequest {
            name: dead_net.clone(),
            driver: Some("bridge".into()),
            labels: Some(
                [
                    (LABEL_OWNER.to_string(), dead.clone()),
                    (LABEL_RUN.to_string(), run.clone()),
                ]
                .into(),
            ),
            ..Default::default()
        })
        .await
        .unwrap();
    cleanup.networks.push(dead_net.clone());
    let sleeper = |name: String, labels: BTreeMap<String, String>| ContainerSpec {
        name,
        image: imgs.base.tag.clone(),
        argv: ["sleep", "300"].map(String::from).to_vec(),
        labels,
        ..Default::default()
    };
    let dead_c = engine
        .start_container(&sleeper(
            format!("{run}-dead"),
            BTreeMap::from([(LABEL_OWNER.to_string(), dead.clone())]),
        ))
        .await
        .unwrap();
    cleanup.containers.push(dead_c.id.clone());

    // This (live) process's network and container.
    let live_net = engine.create_network(&run, "live").await.unwrap();
    cleanup.networks.push(live_net.id.clone());
    let live_c = engine
        .start_container(&sleeper(format!("{run}-live"), BTreeMap::new()))
        .await
        .unwrap();
    cleanup.containers.push(live_c.id.clone());

    // A dead owner's network that a live container still uses: it stays, noted as failed,
    // and the sweep goes on.
    let busy_net = format!("panther-{run}-busy");
    docker
        .create_network(bollard::models::NetworkCreateRequest {
            name: busy_net.clone(),
            driver: Some("bridge".into()),
            labels: Some([(LABEL_OWNER.to_string(), dead.clone())].into()),
            ..Default::default()
        })
        .await
        .unwrap();
    cleanup.networks.push(busy_net.clone());
    let mut busy_spec = sleeper(format!("{run}-busy-user"), BTreeMap::new());
    busy_spec.network = busy_net.clone();
    let busy_c = engine.start_container(&busy_spec).await.unwrap();
    cleanup.containers.insert(0, busy_c.id.clone());

    // Not panther's: no labels at all.
    let foreign = docker
        .create_container(
            Some(bollard::query_parameters::CreateContainerOptions {
                name: Some(format!("{run}-foreign")),
                ..Default::default()
            }),
            bollard::models::ContainerCreateBody {
                image: Some(imgs.base.tag.clone()),
                cmd: Some(vec!["true".into()]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    cleanup.containers.push(foreign.id.clone());

    let report = engine.sweep().await.unwrap();
    assert!(
        report.containers.contains(&format!("{run}-dead")),
        "{report:?}"
    );
    assert!(report.networks.contains(&dead_net), "{report:?}");
    assert!(report.kept_live >= 2, "{report:?}");
    assert!(
        report.failed.iter().any(|f| f.contains(&busy_net)),
        "{report:?}"
    );
    assert!(!report.networks.contains(&busy_net), "{report:?}");
    assert!(
        !report.containers.contains(&format!("{run}-live")),
        "{report:?}"
    );
    assert!(!report.networks.contains(&live_net.name), "{report:?}");

    let exists = |id: String| async move {
        docker
            .inspect_container(
                &id,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
            .is_ok()
    };
    assert!(!exists(dead_c.id.clone()).await);
    assert!(exists(live_c.id.clone()).await);
    assert!(exists(foreign.id.clone()).await);
    assert!(
        docker
            .inspect_network(
                &live_net.id,
                None::<bollard::query_parameters::InspectNetworkOptions>
            )
            .await
            .is_ok()
    );
    assert!(
        docker
            .inspect_network(
                &dead_net,
                None::<bollard::query_parameters::InspectNetworkOptions>
            )
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_tiny_subnet_pool_runs_out_with_a_clear_error() {
    let Some(engine) = engine_or_skip("subnet pool").await else {
        return;
    };
    let engine = engine.with_subnet_pool("10.214.254.0/24".parse().unwrap());
    let mut cleanup = Cleanup::new(&engine);
    let run = run_id("pool");
    let first = engine.create_network(&run, "one").await.unwrap();
    cleanup.networks.push(first.id.clone());
    assert_eq!(first.subnet.to_string(), "10.214.254.0/24");
    let err = engine.create_network(&run, "two").await.unwrap_err();
    assert!(
        matches!(err, EngineError::SubnetPoolExhausted { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("10.214.254.0/24"), "{text}");
}

#[tokio::test]
async fn a_failing_dockerfile_reports_the_end_of_its_log() {
    let Some(engine) = engine_or_skip("failing build").await else {
        return;
    };
    if !root_or_skip("failing build") {
        return;
    }
    images(&engine).await;
    let dir = tempfile::tempdir().unwrap();
    let pdir = dir.path().join("broken_image");
    std::fs::create_dir_all(&pdir).unwrap();
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("plugins/services/iut/minip/ping_pong/plugin.yaml"),
    )
    .unwrap()
    .replace("name: ping_pong", "name: broken_image");
    std::fs::write(pdir.join("plugin.yaml"), manifest).unwrap();
    std::fs::write(
        pdir.join("Dockerfile"),
        "FROM panther-base:bookworm\nRUN echo panther-marker-one && echo panther-marker-two >&2 && exit 7\n",
    )
    .unwrap();
    let reg = Registry::load(&LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![dir.path().to_path_buf()],
        availability: false,
    });
    let p = reg
        .find("broken_image")
        .unwrap_or_else(|| panic!("the test plugin loads: {:#?}", reg.diagnostics));
    let err = images::build_plugin(&engine, p, &build_opts(), &quiet)
        .await
        .unwrap_err();
    let EngineError::Build {
        log_tail, message, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert!(message.contains('7'), "{message}");
    assert!(
        log_tail.iter().any(|l| l.contains("panther-marker-two")),
        "{log_tail:?}"
    );
    let text = err.to_string();
    assert!(text.contains("panther-marker-one"), "{text}");
    assert!(text.contains("last lines of the build log"), "{text}");
    // The build's container (running the failing RUN) is gone.
    let left: Vec<String> = engine
        .docker()
        .list_containers(Some(bollard::query_parameters::ListContainersOptions {
            all: true,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_iter()
        .filter_map(|c| c.command)
        .filter(|c| c.contains("panther-marker-one"))
        .collect();
    assert!(left.is_empty(), "the failed build left {left:?}");
    assert!(
        engine
            .docker()
            .inspect_image("panther-broken_image:0.1.0")
            .await
            .is_err()
    );
}

/// Container start overhead, bollard vs the docker CLI, side by side on the same image and
/// network. Run it by hand: `cargo test --test docker_engine -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement; run by hand with --ignored --nocapture"]
async fn measure_container_start_overhead() {
    let Some(engine) = engine_or_skip("measure").await else {
        return;
    };
    let imgs = images(&engine).await;
    let mut cleanup = Cleanup::new(&engine);
    let run = run_id("measure");
    let net = engine.create_network(&run, "m").await.unwrap();
    cleanup.networks.push(net.id.clone());
    let docker_cli = which::which("docker").expect("the docker CLI");
    let n = 10;
    let mut ours = Vec::new();
    let mut cli = Vec::new();
    for i in 0..n {
        // Alternate which goes first, so neither always meets a warmer engine.
        for first in [i % 2 == 0, i % 2 != 0] {
            if first {
                let spec = ContainerSpec {
                    name: format!("{run}-b{i}"),
                    image: imgs.ping_pong.tag.clone(),
                    argv: ["sleep", "60"].map(String::from).to_vec(),
                    network: net.name.clone(),
                    labels: BTreeMap::from([(LABEL_RUN.to_string(), run.clone())]),
                    ..Default::default()
                };
                let t = Instant::now();
                let c = engine.start_container(&spec).await.unwrap();
                ours.push(t.elapsed().as_secs_f64() * 1e3);
                cleanup.containers.push(c.id);
            } else {
                let name = format!("{run}-c{i}");
                let t = Instant::now();
                let out = tokio::process::Command::new(&docker_cli)
                    .args([
                        "run",
                        "-d",
                        "--init",
                        "--name",
                        &name,
                        "--network",
                        &net.name,
                    ])
                    .args(["--label", &format!("{LABEL_RUN}={run}")])
                    .args([imgs.ping_pong.tag.as_str(), "sleep", "60"])
                    .env("DOCKER_HOST", engine.host())
                    .output()
                    .await
                    .unwrap();
                cli.push(t.elapsed().as_secs_f64() * 1e3);
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                cleanup.containers.push(name);
            }
        }
    }
    let stats = |v: &[f64]| {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        (s[s.len() / 2], s[0], s[s.len() - 1])
    };
    let (m, lo, hi) = stats(&ours);
    eprintln!("bollard create+start+inspect: median {m:.0} ms (min {lo:.0}, max {hi:.0}) over {n}");
    let (m, lo, hi) = stats(&cli);
    eprintln!(
        "docker run -d --init:          median {m:.0} ms (min {lo:.0}, max {hi:.0}) over {n}"
    );
}

/// The images that install Debian packages work: python_http's http.server and nginx (its
/// Debian default site) answer the http_conformance tester, which reaches each by its alias.
#[tokio::test]
async fn http_images_serve_the_conformance_tester_by_alias() {
    let Some(engine) = engine_or_skip("http images").await else {
        return;
    };
    if !root_or_skip("http images") {
        return;
    }
    images(&engine).await;
    let reg = bundled();
    let mut tags = BTreeMap::new();
    for name in ["python_http", "nginx", "http_conformance"] {
        let t = Instant::now();
        let r = images::build_plugin(&engine, plugin(&reg, name), &build_opts(), &quiet)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        eprintln!(
            "image {} ({}) in {:.1} s",
            r.tag,
            if r.built { "built" } else { "kept" },
            t.elapsed().as_secs_f64()
        );
        tags.insert(name, r.tag);
    }
    let mut cleanup = Cleanup::new(&engine);
    let run = run_id("http");
    let net = engine.create_network(&run, "http").await.unwrap();
    cleanup.networks.push(net.id.clone());
    let labels = BTreeMap::from([(LABEL_RUN.to_string(), run.clone())]);
    let servers = [
        (
            "python",
            tags["python_http"].clone(),
            vec![
                "python3",
                "-m",
                "http.server",
                "8000",
                "--bind",
                "0.0.0.0",
                "--directory",
                "/etc",
                "--protocol",
                "HTTP/1.1",
            ],
            "/hostname",
        ),
        (
            "nginx",
            tags["nginx"].clone(),
            vec!["nginx", "-g", "daemon off;", "-e", "stderr"],
            "/",
        ),
    ];
    for (alias, image, argv, path) in servers {
        let port = if alias == "nginx" { "80" } else { "8000" };
        let server = engine
            .start_container(&ContainerSpec {
                name: format!("{run}-{alias}"),
                image,
                argv: argv.into_iter().map(String::from).collect(),
                env: vec![("PYTHONUNBUFFERED".into(), "1".into())],
                network: net.name.clone(),
                aliases: vec![alias.into()],
                labels: labels.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        cleanup.containers.push(server.id.clone());
        // Ready when the host can open the port (the host reaches the network's addresses).
        let ip = server.ip.unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect((ip, port.parse::<u16>().unwrap()))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "{alias} does not listen on {ip}:{port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let tester = engine
            .start_container(&ContainerSpec {
                name: format!("{run}-tester-{alias}"),
                image: tags["http_conformance"].clone(),
                argv: [
                    "panther",
                    "builtin",
                    "http-tester",
                    "--target",
                    &format!("{alias}:{port}"),
                    "--version",
                    "1.1",
                    "--path",
                    path,
                ]
                .map(String::from)
                .to_vec(),
                network: net.name.clone(),
                labels: labels.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        cleanup.containers.push(tester.id.clone());
        let code = tokio::time::timeout(Duration::from_secs(60), engine.wait(&tester.id))
            .await
            .expect("the tester ends")
            .unwrap();
        let out: Vec<serde_json::Value> = engine
            .logs(&tester.id)
            .filter_map(|r| async move {
                match r.unwrap() {
                    (LogStream::Stdout, l) => serde_json::from_slice(&l).ok(),
                    _ => None,
                }
            })
            .collect()
            .await;
        let verdict = |p: &str| {
            out.iter()
                .find(|v| v["data"]["property"] == p)
                .map(|v| v["data"]["verdict"].as_str().unwrap_or("").to_string())
        };
        for p in [
            "status_line_well_formed",
            "content_length_matches",
            "not_found_404",
        ] {
            assert_eq!(
                verdict(p).as_deref(),
                Some("pass"),
                "{alias}, {p}: {out:#?}"
            );
        }
        assert!(code == 0 || code == 1, "{alias}: tester exit {code}");
    }
}

/// The docker-compose.yml panther writes re-runs the test by hand: `docker-compose up` with
/// it runs ping_pong and the tester again, and the tester's exit code comes back.
#[tokio::test]
async fn the_compose_file_reruns_the_test_by_hand() {
    let Some(engine) = engine_or_skip("compose").await else {
        return;
    };
    if !root_or_skip("compose") {
        return;
    }
    let Some(compose_bin) = ["docker-compose"].iter().find_map(|b| which::which(b).ok()) else {
        assert!(
            !under_ci(),
            "under CI nothing may skip: docker-compose is missing (scripts/install-test-deps)"
        );
        eprintln!("skipped compose: docker-compose is not installed");
        return;
    };
    let imgs = images(&engine).await;
    let run = run_id("compose");
    // A subnet nobody uses (a pool of its own, so parallel tests do not take it meanwhile);
    // compose creates the network itself.
    let engine = engine.with_subnet_pool("10.214.250.0/24".parse().unwrap());
    let probe = engine.create_network(&run, "probe").await.unwrap();
    engine.remove_network(&probe.id).await.unwrap();
    let net = panther::env::network::docker::Network {
        id: String::new(),
        name: format!("panther-{run}-compose"),
        subnet: probe.subnet,
        gateway: probe.gateway,
    };
    let server = ContainerSpec {
        name: format!("{run}-server"),
        image: imgs.ping_pong.tag.clone(),
        argv: [
            "panther",
            "builtin",
            "minip-server",
            "--host",
            "0.0.0.0",
            "--port",
            "4000",
        ]
        .map(String::from)
        .to_vec(),
        network: net.name.clone(),
        aliases: vec!["server".into()],
        ..Default::default()
    };
    let tester = ContainerSpec {
        name: format!("{run}-tester"),
        image: imgs.tester.tag.clone(),
        argv: [
            "panther",
            "builtin",
            "minip-tester",
            "--target",
            "server:4000",
            "--count",
            "3",
            "--interval-ms",
            "10",
            "--reply-timeout-ms",
            "2000",
        ]
        .map(String::from)
        .to_vec(),
        env: vec![("NOTE".into(), "costs $5".into())],
        network: net.name.clone(),
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("docker-compose.yml");
    let deps = BTreeMap::from([(tester.name.clone(), vec![server.name.clone()])]);
    compose::write_ordered(&file, &net, &[server, tester.clone()], &deps).unwrap();

    let project = format!("p{}", std::process::id());
    let compose = |args: &[&str]| {
        let mut c = tokio::process::Command::new(&compose_bin);
        c.arg("-f")
            .arg(&file)
            .args(["-p", &project])
            .args(args)
            .env("DOCKER_HOST", engine.host())
            .kill_on_drop(true);
        c
    };
    /// `docker-compose down` however the test ends.
    struct Down(std::process::Command);
    impl Drop for Down {
        fn drop(&mut self) {
            let _ = self.0.output();
        }
    }
    let mut down = std::process::Command::new(&compose_bin);
    down.arg("-f")
        .arg(&file)
        .args(["-p", &project, "down", "--remove-orphans", "-t", "2"])
        .env("DOCKER_HOST", engine.host());
    let _down = Down(down);

    let out = tokio::time::timeout(
        Duration::from_secs(120),
        compose(&[
            "up",
            "--abort-on-container-exit",
            "--exit-code-from",
            &tester.name,
        ])
        .output(),
    )
    .await
    .expect("compose up ends")
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("\"verdict\":\"pass\""), "{text}");
}

/// Importing a root filesystem: panther's streamed import vs `tar | docker import -`, on the
/// same tree (the base image's, exported). By hand: `-- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement; run by hand with --ignored --nocapture"]
async fn measure_rootfs_import() {
    let Some(engine) = engine_or_skip("measure import").await else {
        return;
    };
    let imgs = images(&engine).await;
    let dir = tempfile::tempdir().unwrap();
    let rootfs = dir.path().join("rootfs");
    std::fs::create_dir(&rootfs).unwrap();
    let env = [("DOCKER_HOST", engine.host().to_string())];
    let sh = |script: String| {
        let out = std::process::Command::new("sh")
            .args(["-c", &script])
            .envs(env.clone())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let probe = format!("panther-measure-{}", std::process::id());
    sh(format!(
        "docker create --name {probe} {} true >/dev/null && docker export {probe} | tar -C {} -xf - && docker rm {probe} >/dev/null",
        imgs.base.tag,
        rootfs.display()
    ));
    for round in 0..2 {
        let t = Instant::now();
        images::import_rootfs(&engine, &rootfs, "panther-measure:bollard", &[], &quiet)
            .await
            .unwrap();
        let ours = t.elapsed().as_secs_f64();
        let t = Instant::now();
        sh(format!(
            "tar -C {} --numeric-owner -cf - . | docker import - panther-measure:cli >/dev/null",
            rootfs.display()
        ));
        let cli = t.elapsed().as_secs_f64();
        eprintln!(
            "round {round}: import through bollard {ours:.2} s, tar | docker import {cli:.2} s"
        );
        sh("docker rmi panther-measure:bollard panther-measure:cli >/dev/null".into());
    }
}

/// A base build whose debootstrap fails (an unreachable mirror) says so with the end of
/// debootstrap's log, and leaves the existing base image and no temporary tree behind.
#[tokio::test]
async fn a_failing_debootstrap_reports_the_end_of_its_log() {
    let Some(engine) = engine_or_skip("failing debootstrap").await else {
        return;
    };
    if !root_or_skip("failing debootstrap") {
        return;
    }
    let imgs = images(&engine).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let opts = images::BaseOptions {
        rebuild: true,
        mirror: Some(format!("http://127.0.0.1:{port}/debian")),
        security_mirror: None,
    };
    let t = Instant::now();
    let err = images::build_base_with(&engine, &opts, &quiet)
        .await
        .unwrap_err();
    let EngineError::Build {
        message, log_tail, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert!(message.contains("debootstrap exited"), "{message}");
    assert!(!log_tail.is_empty(), "{err}");
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
    let base = engine
        .docker()
        .inspect_image(images::BASE_IMAGE)
        .await
        .unwrap();
    assert_eq!(
        base.id.as_deref(),
        Some(imgs.base.id.as_str()),
        "the base is untouched"
    );
    let leftovers: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("panther-rootfs-{}-", std::process::id()))
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
