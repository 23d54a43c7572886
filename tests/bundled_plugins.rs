//! The bundled plugin tree (`plugins/`): every manifest loads without a single diagnostic,
//! both compiled into the binary and read from disk; folders follow PANTHER's layout; every
//! README documents its plugin and its example experiments validate; every command template
//! renders with the parameters' defaults. Where the program a plugin runs is installed
//! (python3, nginx, strace, valgrind, GNU time), the rendered command is run for real.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use panther::experiment;
use panther::plugin::loader::Origin;
use panther::plugin::manifest::{Kind, Manifest};
use panther::plugin::{LoadOptions, Plugin, Registry, templates};
use serde_json::{Value, json};

/// Every bundled plugin, with its kind and its folder under `plugins/`.
const EXPECTED: &[(&str, Kind, &str)] = &[
    ("minip", Kind::Protocol, "protocols/client_server/minip"),
    ("http", Kind::Protocol, "protocols/client_server/http"),
    ("quic", Kind::Protocol, "protocols/client_server/quic"),
    ("ping_pong", Kind::Iut, "services/iut/minip/ping_pong"),
    ("python_http", Kind::Iut, "services/iut/http/python_http"),
    ("nginx", Kind::Iut, "services/iut/http/nginx"),
    ("ngtcp2", Kind::Iut, "services/iut/quic/ngtcp2"),
    ("aioquic", Kind::Iut, "services/iut/quic/aioquic"),
    ("picoquic", Kind::Iut, "services/iut/quic/picoquic"),
    ("quinn", Kind::Iut, "services/iut/quic/quinn"),
    ("quiche", Kind::Iut, "services/iut/quic/quiche"),
    (
        "minip_tester",
        Kind::Tester,
        "services/testers/minip_tester",
    ),
    (
        "http_conformance",
        Kind::Tester,
        "services/testers/http_conformance",
    ),
    ("quic_tester", Kind::Tester, "services/testers/quic_tester"),
    (
        "localhost",
        Kind::NetworkEnvironment,
        "environments/network_environment/localhost",
    ),
    (
        "netns",
        Kind::NetworkEnvironment,
        "environments/network_environment/netns",
    ),
    (
        "docker_compose",
        Kind::NetworkEnvironment,
        "environments/network_environment/docker_compose",
    ),
    (
        "strace",
        Kind::ExecutionEnvironment,
        "environments/execution_environment/strace",
    ),
    (
        "memcheck",
        Kind::ExecutionEnvironment,
        "environments/execution_environment/memcheck",
    ),
    (
        "gperf_cpu",
        Kind::ExecutionEnvironment,
        "environments/execution_environment/gperf_cpu",
    ),
    (
        "gperf_heap",
        Kind::ExecutionEnvironment,
        "environments/execution_environment/gperf_heap",
    ),
    (
        "helgrind",
        Kind::ExecutionEnvironment,
        "environments/execution_environment/helgrind",
    ),
    (
        "gdb",
        Kind::ExecutionEnvironment,
        "environments/execution_environment/gdb",
    ),
    (
        "perf",
        Kind::ExecutionEnvironment,
        "environments/execution_environment/perf",
    ),
    (
        "time",
        Kind::ExecutionEnvironment,
        "environments/execution_environment/time",
    ),
];

/// Folders that hold only a README: categories with nothing bundled yet, and tutorials.
const README_ONLY: &[&str] = &[
    "protocols/peer_to_peer",
    "protocols/tutorials",
    "services/tutorials",
    "environments/tutorials",
];

fn plugins_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins")
}

fn bundled() -> Registry {
    Registry::load(&LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![],
        availability: false,
    })
}

fn on_disk() -> Registry {
    Registry::load(&LoadOptions {
        bundled: false,
        user: false,
        dirs: vec![plugins_root()],
        availability: false,
    })
}

fn assert_no_diagnostics(reg: &Registry, what: &str) {
    let all: Vec<String> = reg.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(
        all.is_empty(),
        "{what}: {} diagnostic(s):\n{}",
        all.len(),
        all.join("\n")
    );
}

fn plugin<'a>(reg: &'a Registry, name: &str, kind: Kind) -> &'a Plugin {
    reg.get(&[kind], name)
        .unwrap_or_else(|| panic!("{kind} plugin `{name}` is missing"))
}

fn assert_expected_set(reg: &Registry, what: &str) {
    for &(name, kind, _) in EXPECTED {
        let p = plugin(reg, name, kind);
        assert_eq!(p.kind(), kind, "{what}: {name}");
        let readme = p.readme.as_deref().unwrap_or("");
        assert!(!readme.trim().is_empty(), "{what}: {name} has no README");
        assert!(
            readme.starts_with(&format!("# {name}\n")),
            "{what}: {name}'s README starts with its name as the title"
        );
    }
    let mut names: Vec<&str> = reg.plugins().iter().map(|p| p.name()).collect();
    names.sort_unstable();
    assert_eq!(
        reg.plugins().len(),
        EXPECTED.len(),
        "{what}: unexpected plugin set {names:?}"
    );
}

#[test]
fn bundled_plugins_load_without_diagnostics() {
    let reg = bundled();
    assert_no_diagnostics(&reg, "bundled");
    assert_expected_set(&reg, "bundled");
    for p in reg.plugins() {
        assert_eq!(p.origin, Origin::Bundled, "{}", p.name());
        assert!(
            p.dir.is_none(),
            "{}: bundled plugins live in the binary",
            p.name()
        );
        assert!(
            p.file.starts_with("plugins/") && p.file.ends_with("/plugin.yaml"),
            "{}",
            p.file
        );
    }
}

#[test]
fn the_on_disk_folder_loads_the_same_plugins() {
    let disk = on_disk();
    assert_no_diagnostics(&disk, "plugins/ on disk");
    assert_expected_set(&disk, "plugins/ on disk");
    let bundled = bundled();
    assert_eq!(disk.plugins().len(), bundled.plugins().len());
    for p in disk.plugins() {
        assert_eq!(p.origin, Origin::Dir, "{}", p.name());
        let b = plugin(&bundled, p.name(), p.kind());
        assert_eq!(
            p.readme,
            b.readme,
            "{}: the README compiled in is the one on disk",
            p.name()
        );
        assert_eq!(p.manifest.version, b.manifest.version);
    }
}

/// The bundled copy and the on-disk copy of the same tree are one plugin each, silently.
#[test]
fn bundled_plus_the_same_folder_is_not_a_clash() {
    let reg = Registry::load(&LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![plugins_root()],
        availability: false,
    });
    assert_no_diagnostics(&reg, "bundled + plugins/");
    assert_eq!(reg.plugins().len(), EXPECTED.len());
    assert!(reg.plugins().iter().all(|p| p.dir.is_some()));
}

#[test]
fn folders_follow_panthers_layout() {
    let reg = on_disk();
    let root = plugins_root();
    for &(name, kind, folder) in EXPECTED {
        let p = plugin(&reg, name, kind);
        let dir = p.dir.as_ref().expect("on-disk plugins have a folder");
        let rel = dir.strip_prefix(&root).unwrap();
        assert_eq!(rel, Path::new(folder), "{name}");
        assert_eq!(
            rel.file_name().unwrap().to_str(),
            Some(name),
            "the folder is named after the plugin"
        );
        assert!(
            folder.starts_with(&p.category()),
            "{name}: {folder} is under its category {}",
            p.category()
        );
        if kind == Kind::Iut {
            let proto = &p.manifest.protocols[0].name;
            assert_eq!(
                rel.parent().unwrap().file_name().unwrap().to_str(),
                Some(proto.as_str()),
                "IUTs live in services/iut/<protocol>/<name>"
            );
        }
    }
    // Nothing else in the tree holds a manifest.
    let manifests = walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name() == "plugin.yaml")
        .count();
    assert_eq!(manifests, EXPECTED.len());
    for folder in README_ONLY {
        let d = root.join(folder);
        let readme = std::fs::read_to_string(d.join("README.md"))
            .unwrap_or_else(|e| panic!("{folder}/README.md: {e}"));
        assert!(readme.starts_with("# "), "{folder}");
        assert!(!d.join("plugin.yaml").exists(), "{folder}");
        if folder.ends_with("tutorials") {
            // Each category's tutorials folder points at a bundled tutorial, by a name that
            // `panther tutorial run` takes.
            let names: Vec<String> = panther::tutorial::bundled()
                .into_iter()
                .map(|t| t.name)
                .collect();
            assert!(
                names
                    .iter()
                    .any(|n| readme.contains(&format!("panther tutorial run {n}"))),
                "{folder} names its tutorial"
            );
        }
    }
}

#[test]
fn readmes_document_the_plugin() {
    let reg = on_disk();
    for p in reg.plugins() {
        let name = p.name();
        let readme = p.readme.as_deref().unwrap();
        for heading in ["## Parameters", "## Example", "## Requirements"] {
            assert!(
                readme.contains(heading),
                "{name}'s README lacks `{heading}`"
            );
        }
        for param in p.manifest.parameters.keys() {
            assert!(
                readme.contains(&format!("`{param}`")),
                "{name}'s README does not document parameter `{param}`"
            );
        }
        if let Some(spec) = &p.manifest.protocol {
            for prop in &spec.properties {
                assert!(
                    readme.contains(&format!("`{}`", prop.name)),
                    "{name}'s README does not document property `{}`",
                    prop.name
                );
            }
            for v in &spec.versions {
                assert!(readme.contains(&format!("`{v}`")), "{name}: version {v}");
            }
        }
        for apt in &p.manifest.install.apt {
            assert!(
                readme.contains(&format!("apt-get install -y {apt}")),
                "{name}'s README says how to install {apt}"
            );
        }
    }
}

#[test]
fn protocols_declare_what_the_services_need() {
    let reg = bundled();
    let minip = plugin(&reg, "minip", Kind::Protocol)
        .manifest
        .protocol
        .clone()
        .unwrap();
    assert_eq!(
        minip.versions,
        ["functional", "fail", "flaky", "random", "vulnerable"]
    );
    assert_eq!(minip.default_version, "functional");
    let http = plugin(&reg, "http", Kind::Protocol)
        .manifest
        .protocol
        .clone()
        .unwrap();
    for prop in &http.properties {
        let r = prop.reference.as_deref().unwrap_or("");
        assert!(
            r.starts_with("RFC 9110 §") || r.starts_with("RFC 9112 §"),
            "http property {} cites an RFC section, not `{r}`",
            prop.name
        );
    }
    for must in ["host_required", "head_no_body", "content_length_matches"] {
        assert!(http.properties.iter().any(|p| p.name == must), "{must}");
    }
    // The checks the HTTP tester runs by default are exactly the protocol's properties.
    let tester = plugin(&reg, "http_conformance", Kind::Tester);
    let default = tester.manifest.parameters["checks"]
        .default
        .clone()
        .unwrap();
    let names: Vec<&str> = http.properties.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(default, json!(names));
    // Every QUIC service's ALPNs are ALPNs of the quic protocol.
    let quic = plugin(&reg, "quic", Kind::Protocol)
        .manifest
        .protocol
        .clone()
        .unwrap();
    for p in reg.plugins() {
        for s in p.manifest.protocols.iter().filter(|s| s.name == "quic") {
            for a in &s.alpn {
                assert!(
                    quic.alpn.contains(a),
                    "{}: ALPN {a} is not quic's",
                    p.name()
                );
            }
        }
    }
    // The built-in services need nothing installed.
    for name in ["ping_pong", "minip_tester", "http_conformance"] {
        let m = &reg.service(name).unwrap().manifest;
        assert!(
            m.requires.binaries.is_empty() && m.install.is_empty(),
            "{name}"
        );
        let argv = &m.run.values().next().unwrap().argv;
        assert_eq!(
            argv[0], "{{ panther }}",
            "{name} is served by panther itself"
        );
        assert_eq!(argv[1], "builtin");
    }
}

/// Values for every run variable, as the orchestrator will provide them.
fn context(m: &Manifest, run_dir: &Path, port: u16, version: &str) -> Value {
    let mut ctx = json!({
        "panther": env!("CARGO_BIN_EXE_panther"),
        "plugin_dir": plugins_root().display().to_string(),
        "service": "svc",
        "test": "t",
        "role": m.roles.first().map(|r| r.as_str()).unwrap_or("server"),
        "protocol": m.protocols.first().map(|p| p.name.as_str()).unwrap_or("minip"),
        "version": version,
        "host": "127.0.0.1",
        "port": port,
        "target": "server",
        "target_host": "127.0.0.1",
        "target_port": port,
        "run_dir": run_dir.display().to_string(),
        "artifact_dir": run_dir.display().to_string(),
        "timeout": 30,
        "cert": run_dir.join("certs/cert.pem").display().to_string(),
        "key": run_dir.join("certs/key.pem").display().to_string(),
        "ca": run_dir.join("certs/ca.pem").display().to_string(),
        "qlog_dir": run_dir.join("qlog").display().to_string(),
        "keylog": run_dir.join("keys.log").display().to_string(),
        "tools": run_dir.join("tools").display().to_string(),
        "www": run_dir.join("www").display().to_string(),
        "downloads": run_dir.join("downloads").display().to_string(),
    });
    for (k, p) in &m.parameters {
        let v = p
            .default
            .clone()
            .unwrap_or_else(|| panic!("{}: parameter `{k}` has no default", m.name));
        ctx[k] = v;
    }
    ctx
}

fn render_all(argv: &[String], ctx: &Value, what: &str) -> Vec<String> {
    argv.iter()
        .map(|a| templates::render(a, ctx).unwrap_or_else(|e| panic!("{what}: `{a}`: {e}")))
        .collect()
}

#[test]
fn every_command_template_renders_with_the_defaults() {
    let reg = bundled();
    let dir = Path::new("/tmp/run dir");
    for p in reg.plugins() {
        let m = &p.manifest;
        let ctx = context(m, dir, 4443, "functional");
        for (role, spec) in &m.run {
            let argv = render_all(&spec.argv, &ctx, &format!("{}.run.{role}", m.name));
            assert!(argv.iter().all(|a| !a.contains("{{")), "{argv:?}");
            for v in spec.env.values() {
                templates::render(v, &ctx).unwrap();
            }
            if let Some(r) = &spec.ready
                && let Some(port) = r.tcp_port.as_ref().or(r.udp_port.as_ref())
            {
                assert_eq!(templates::render(port, &ctx).unwrap(), "4443");
            }
        }
        if let Some(w) = &m.wrapper {
            let argv = render_all(&w.argv_prefix, &ctx, &format!("{}.wrapper", m.name));
            assert!(
                argv.iter().any(|a| a.starts_with("/tmp/run dir/")
                    || a.contains(" /tmp/run dir/")
                    || a.contains("=/tmp/run dir/")),
                "{}: the wrapper writes into the artifact folder: {argv:?}",
                m.name
            );
            for a in &w.artifacts {
                assert!(
                    argv.iter().any(|x| x.ends_with(&format!("/{a}"))),
                    "{}: artifact {a} is written by the prefix",
                    m.name
                );
            }
        }
    }
    // Spot checks of what panther will actually execute.
    let tester = &reg.service("minip_tester").unwrap().manifest;
    let argv = render_all(
        &tester.run.values().next().unwrap().argv,
        &context(tester, dir, 5555, "functional"),
        "minip_tester",
    );
    assert_eq!(
        argv[1..],
        [
            "builtin",
            "minip-tester",
            "--target",
            "127.0.0.1:5555",
            "--count",
            "20",
            "--interval-ms",
            "50",
            "--malformed",
            "true",
            "--reply-timeout-ms",
            "500"
        ]
    );
    let memcheck = &plugin(&reg, "memcheck", Kind::ExecutionEnvironment).manifest;
    let argv = render_all(
        &memcheck.wrapper.as_ref().unwrap().argv_prefix,
        &context(memcheck, dir, 1, "x"),
        "memcheck",
    );
    assert!(argv.contains(&"--track-origins=no".to_string()), "{argv:?}");
    let http = &reg.service("http_conformance").unwrap().manifest;
    let argv = render_all(
        &http.run.values().next().unwrap().argv,
        &context(http, dir, 8080, "1.1"),
        "http_conformance",
    );
    let checks = argv.iter().position(|a| a == "--checks").unwrap();
    assert!(argv[checks + 1].starts_with("status_line_well_formed,date_header,"));
}

/// Fenced ```yaml blocks of a README that are whole experiments (they have `tests:`).
fn experiment_examples(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in readme.lines() {
        match &mut cur {
            None if line.trim_start() == "```yaml" => cur = Some(String::new()),
            Some(block) if line.trim_start() == "```" => {
                if block.lines().any(|l| l.starts_with("tests:")) {
                    out.push(std::mem::take(block));
                }
                cur = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn readme_examples_are_valid_experiments() {
    let reg = bundled();
    let mut checked = 0;
    for entry in walkdir::WalkDir::new(plugins_root())
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name() == "README.md")
    {
        let text = std::fs::read_to_string(entry.path()).unwrap();
        for (i, ex) in experiment_examples(&text).into_iter().enumerate() {
            if ex.starts_with("# Not runnable yet") {
                continue;
            }
            let file = format!("{} example {}", entry.path().display(), i + 1);
            let loaded = experiment::load_str(&ex, &file, &reg);
            let problems: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
            assert!(
                loaded.is_ok() && problems.is_empty(),
                "{file} does not validate cleanly:\n{}\n{ex}",
                problems.join("\n")
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} README examples found");
}

// ---- Running the real programs, where they are installed ----------------------------------

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn find_program(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return Path::new(name).is_file().then(|| PathBuf::from(name));
    }
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"])
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// Locally a missing program skips the test with a message; under CI it is a failure,
/// because scripts/test installs everything these tests need.
fn skip(why: &str) {
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "under CI nothing may skip: {why}"
    );
    eprintln!("skipped: {why}");
}

/// A child that is killed (by its own pid) if a test fails half-way.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(argv: &[String], env: &[(String, String)], dir: &Path) -> Running {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(
            std::fs::File::create(dir.join("stdout.log")).unwrap(),
        ))
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("stderr.log")).unwrap(),
        ));
    for (k, v) in env {
        cmd.env(k, v);
    }
    Running(cmd.spawn().unwrap_or_else(|e| panic!("{argv:?}: {e}")))
}

fn wait_for_tcp(port: u16, child: &mut Running, limit: Duration, dir: &Path) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.0.try_wait().unwrap() {
            panic!(
                "exited with {status} before listening:\n{}",
                std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
            );
        }
        assert!(start.elapsed() < limit, "port {port} never opened");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One raw request on a fresh connection (the request closes it); the whole response.
fn exchange(port: u16, request: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

fn start_iut(name: &str, version: &str, dir: &Path) -> (Running, u16) {
    let reg = bundled();
    let m = &reg.service(name).unwrap().manifest;
    let spec = m.run.values().next().unwrap();
    let port = free_port();
    let ctx = context(m, dir, port, version);
    let argv = render_all(&spec.argv, &ctx, name);
    let env: Vec<(String, String)> = spec
        .env
        .iter()
        .map(|(k, v)| (k.clone(), templates::render(v, &ctx).unwrap()))
        .collect();
    // Render `files:` into the run folder, as the orchestrator does before start.
    let plugin_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(&reg.service(name).unwrap().file);
    let plugin_dir = plugin_dir.parent().unwrap();
    for f in &m.files {
        let tmpl = std::fs::read_to_string(plugin_dir.join(&f.template)).unwrap();
        let out = dir.join(&f.path);
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        std::fs::write(&out, templates::render(&tmpl, &ctx).unwrap()).unwrap();
    }
    let mut child = spawn(&argv, &env, dir);
    wait_for_tcp(port, &mut child, Duration::from_secs(30), dir);
    (child, port)
}

#[test]
fn python_http_serves_the_run_folder() {
    let ok = Command::new("python3")
        .args(["-c", "import sys; sys.exit(sys.version_info < (3, 11))"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return skip("python3 3.11 or newer is not installed");
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hello\n").unwrap();
    let (_child, port) = start_iut("python_http", "1.1", dir.path());
    let r = exchange(
        port,
        "GET /hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert!(r.starts_with("HTTP/1.1 200 "), "{r}");
    assert!(r.ends_with("\r\n\r\nhello\n"), "{r}");
    let r = exchange(
        port,
        "HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert!(
        r.starts_with("HTTP/1.1 200 ") && r.ends_with("\r\n\r\n"),
        "{r}"
    );
}

#[test]
fn nginx_serves_on_the_allocated_port_and_stops_on_sigterm() {
    if find_program("nginx").is_none() {
        return skip("nginx is not installed (apt-get install -y nginx)");
    }
    // A run folder with a space, as a user's home might have.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run dir");
    std::fs::create_dir(&dir).unwrap();
    let (mut child, port) = start_iut("nginx", "1.1", &dir);
    let r = exchange(
        port,
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    assert!(r.contains("Served by nginx for panther."), "{r}");
    let r = exchange(port, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 400 "), "no Host: {r}");
    assert!(dir.join("nginx.conf").is_file());
    // The supervised pid is nginx itself (the launcher exec'd it), so SIGTERM stops it.
    let pid = nix::unistd::Pid::from_raw(child.0.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "nginx ignored SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let access = std::fs::read_to_string(dir.join("stdout.log")).unwrap();
    assert!(access.contains("\"GET / HTTP/1.1\" 200 73"), "{access}");
}

/// The file an artifact name stands for; `%p` (valgrind's per-process files) matches a pid.
fn artifact(dir: &Path, pattern: &str) -> PathBuf {
    let Some((pre, post)) = pattern.split_once("%p") else {
        return dir.join(pattern);
    };
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| {
            n.len() > pre.len() + post.len()
                && n.starts_with(pre)
                && n.ends_with(post)
                && n[pre.len()..n.len() - post.len()]
                    .chars()
                    .all(|c| c.is_ascii_digit())
        })
        .map(|n| dir.join(n))
        .unwrap_or_else(|| dir.join(pattern))
}

/// Each execution environment, wrapped around a short command, exits like the command and
/// leaves the files it promises.
#[test]
fn execution_environments_leave_their_artifacts() {
    let reg = bundled();
    let mut ran = 0;
    for (name, expect) in [
        ("time", "Exit status: 3"),
        ("strace", "+++ exited with 3 +++"),
        ("memcheck", "<valgrindoutput>"),
        ("helgrind", "<valgrindoutput>"),
        ("gdb", "exited with code 03"),
    ] {
        let m = &plugin(&reg, name, Kind::ExecutionEnvironment).manifest;
        if let Some(missing) = m
            .requires
            .binaries
            .iter()
            .find(|b| find_program(b).is_none())
        {
            skip(&format!("{name}: {missing} is not installed"));
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let w = m.wrapper.as_ref().unwrap();
        let mut argv = render_all(&w.argv_prefix, &context(m, dir.path(), 1, "x"), name);
        // A script file, not `sh -c "exit 3"`: gdb without a startup shell keeps a
        // backslash before each space of an argument.
        let script = dir.path().join("exit3.sh");
        std::fs::write(&script, "exit 3\n").unwrap();
        argv.extend(["sh".to_string(), script.display().to_string()]);
        let mut child = spawn(&argv, &[], dir.path());
        let status = child.0.wait().unwrap();
        assert_eq!(status.code(), Some(3), "{name}: {argv:?}");
        let first = artifact(dir.path(), &w.artifacts[0]);
        let text = std::fs::read_to_string(&first)
            .unwrap_or_else(|e| panic!("{name}: {}: {e}", first.display()));
        assert!(text.contains(expect), "{name}: {text}");
        for a in &w.artifacts {
            assert!(artifact(dir.path(), a).is_file(), "{name}: {a}");
        }
        ran += 1;
    }
    eprintln!("{ran} execution environments run for real");
}

/// The event rules match the lines the programs really print (captured from python 3.11's
/// http.server, nginx 1.22 and a Rust panic), and their summaries render.
#[test]
fn event_rules_match_real_output_lines() {
    let reg = bundled();
    let cases: &[(&str, &str, &str)] = &[
        (
            "python_http",
            r#"127.0.0.1 - - [25/Nov/2026 10:01:53] "GET / HTTP/1.1" 200 -"#,
            "GET / HTTP/1.1 → 200",
        ),
        (
            "python_http",
            "127.0.0.1 - - [25/Nov/2026 10:01:55] code 501, message Unsupported method ('FOO')",
            "501: Unsupported method ('FOO')",
        ),
        (
            "nginx",
            r#"127.0.0.1 - - [25/Nov/2026:10:02:08 +0000] "HEAD / HTTP/1.1" 200 0 "-" "-""#,
            "HEAD / HTTP/1.1 → 200 (0 bytes)",
        ),
        (
            "nginx",
            r#"2026/11/25 10:02:13 [emerg] 13509#13509: bind() to 127.0.0.1:80 failed (13: Permission denied)"#,
            "bind() to 127.0.0.1:80 failed (13: Permission denied)",
        ),
        (
            "ping_pong",
            "thread 'main' panicked at src/builtin/minip.rs:42:9:",
            "panic in thread main at src/builtin/minip.rs:42:9",
        ),
        (
            "minip_tester",
            "thread 'tokio-runtime-worker' panicked at src/builtin/tester.rs:7:1:",
            "panic in thread tokio-runtime-worker at src/builtin/tester.rs:7:1",
        ),
    ];
    for &(name, line, want) in cases {
        let m = &reg.service(name).unwrap().manifest;
        let summary = m.events.iter().find_map(|rule| {
            let re = regex::Regex::new(&rule.pattern).unwrap();
            let caps = re.captures(line)?;
            let mut ctx = serde_json::Map::new();
            for n in re.capture_names().flatten() {
                if let Some(v) = caps.name(n) {
                    ctx.insert(n.to_string(), json!(v.as_str()));
                }
            }
            ctx.insert("line".into(), json!(line));
            Some(
                templates::render(rule.summary.as_deref().unwrap_or(line), &Value::Object(ctx))
                    .unwrap(),
            )
        });
        assert_eq!(summary.as_deref(), Some(want), "{name}: {line}");
    }
}
