//! Real QUIC implementations against each other through panther's link: every server ×
//! client pair that shares an ALPN does a handshake (GET /index.html) and a transfer (100 KiB
//! checked byte for byte) and passes; each endpoint's qlog files appear and parse. The
//! peers are installed by `panther plugins install` (scripts/test does it); a missing one
//! skips locally and fails under CI=true.

mod support;

use std::path::{Path, PathBuf};

use panther::quic::qlog;
use support::{needs, panther, results_dir, summary, verdicts};

const BLOB: usize = 102_400;

struct Peer {
    name: &'static str,
    server: bool,
    alpn: &'static [&'static str],
    /// A file under the tools folder, or a program on PATH, that says it is installed.
    installed: &'static str,
    /// Writes qlog.
    qlog: bool,
    /// Its client checks the body itself (`size`); else the test compares the download.
    checks_size: bool,
    /// Runs only where each service has its own namespace.
    netns_only: bool,
}

const PEERS: &[Peer] = &[
    Peer {
        name: "ngtcp2",
        server: true,
        alpn: &["h3"],
        installed: "gtlsserver",
        qlog: true,
        checks_size: false,
        netns_only: false,
    },
    Peer {
        name: "aioquic",
        server: true,
        alpn: &["h3", "hq-interop"],
        installed: "aioquic/venv/bin/python3",
        qlog: true,
        checks_size: true,
        netns_only: false,
    },
    Peer {
        name: "picoquic",
        server: true,
        alpn: &["hq-interop"],
        installed: "picoquic/venv/bin/python3",
        qlog: true,
        checks_size: true,
        netns_only: false,
    },
    Peer {
        name: "quinn",
        server: true,
        alpn: &["hq-interop"],
        installed: "quinn/bin/hq-server",
        qlog: true,
        checks_size: true,
        netns_only: false,
    },
    Peer {
        name: "quiche",
        server: true,
        alpn: &["h3", "hq-interop"],
        installed: "quiche/bin/http3-server",
        qlog: false,
        checks_size: false,
        netns_only: true,
    },
];

fn tools() -> PathBuf {
    panther::plugin::install::tools_dir()
}

fn installed(test: &str, p: &Peer) -> bool {
    let ok = if p.installed.contains('/') {
        tools().join(p.installed).is_file()
    } else {
        which::which(p.installed).is_ok()
    };
    needs(
        test,
        ok,
        &format!(
            "{} is not installed (panther plugins install {})",
            p.name, p.name
        ),
    )
}

fn client_config(c: &Peer, alpn: &str, path: &str, size: usize) -> String {
    let mut cfg = vec![format!("path: {path}")];
    if c.alpn.len() > 1 || c.name == "picoquic" {
        cfg.push(format!("alpn: {alpn}"));
    }
    if c.checks_size && size > 0 {
        cfg.push(format!("size: {size}"));
    }
    format!("{{{}}}", cfg.join(", "))
}

fn experiment(s: &Peer, c: &Peer, alpn: &str, env: &str, loss: f64) -> String {
    let mut tests = String::new();
    for (name, path, size) in [
        ("handshake", "/index.html", 0),
        ("transfer", "/blob.bin", BLOB),
    ] {
        tests.push_str(&format!(
            "  - name: {name}
    network_environment:
      type: {env}
      link: {{delay_ms: 5, loss: {loss}, seed: 7}}
    services:
      server:
        implementation: {{name: {}, type: iut}}
        protocol: {{name: quic, version: rfc9000, role: server}}
        plugin_config: {{blob_size: {BLOB}{}}}
      client:
        implementation: {{name: {}, type: iut}}
        protocol: {{name: quic, version: rfc9000, role: client, target: server}}
        plugin_config: {}
    timeout: 60
",
            s.name,
            if s.alpn.len() > 1 {
                format!(", alpn: {alpn}")
            } else {
                String::new()
            },
            c.name,
            client_config(c, alpn, path, size)
        ));
    }
    format!("metadata: {{name: pair}}\ntests:\n{tests}")
}

/// Runs one pair; the reasons it did not pass (empty when it did).
fn run_pair(s: &Peer, c: &Peer, alpn: &str, env: &str, loss: f64) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("pair.yaml");
    std::fs::write(&file, experiment(s, c, alpn, env, loss)).unwrap();
    let out = panther()
        .arg("run")
        .arg(&file)
        .arg("--output")
        .arg(tmp.path().join("out"))
        .args(["--json"])
        .output()
        .unwrap();
    let label = format!("{} → {} ({alpn}, {env})", c.name, s.name);
    let mut bad = Vec::new();
    let sm = summary(&out);
    for (t, v) in verdicts(&sm) {
        if v != "pass" {
            let reason = sm["tests"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["name"] == t.as_str())
                .map(|x| x["reason"].to_string())
                .unwrap_or_default();
            bad.push(format!("{label}: {t} {v}: {reason}"));
        }
    }
    let dir = results_dir(&tmp.path().join("out"));
    let got = download(&dir.join("transfer").join("client"), c);
    let want = pattern(BLOB);
    if got.as_deref() != Some(&want[..]) {
        bad.push(format!(
            "{label}: the client got {:?} bytes, not the {BLOB} served",
            got.map(|g| g.len())
        ));
    }
    for (peer, svc) in [(s, "server"), (c, "client")] {
        if peer.qlog {
            bad.extend(
                qlog_problems(&dir.join("transfer").join(svc).join("qlog"))
                    .into_iter()
                    .map(|p| format!("{label}: {svc} qlog: {p}")),
            );
        }
    }
    if loss > 0.0 {
        let lost = support::events(&dir)
            .iter()
            .filter(|e| e["message"]["lost"] == true)
            .count();
        if lost == 0 {
            bad.push(format!("{label}: a {loss} loss link lost no packet"));
        }
    }
    if bad.is_empty() {
        eprintln!("ok {label}");
    }
    bad
}

/// What the client saved: downloads/blob.bin, or the body quiche's example prints.
fn download(client_dir: &Path, c: &Peer) -> Option<Vec<u8>> {
    if c.name == "quiche" {
        return std::fs::read(client_dir.join("stdout.log")).ok();
    }
    std::fs::read(client_dir.join("downloads").join("blob.bin")).ok()
}

fn pattern(n: usize) -> Vec<u8> {
    b"panther\n".iter().copied().cycle().take(n).collect()
}

/// Every qlog file of the folder parses, whole, with packets sent and received.
fn qlog_problems(dir: &Path) -> Vec<String> {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    if files.is_empty() {
        return vec![format!("no qlog file in {}", dir.display())];
    }
    let mut out = Vec::new();
    for f in files {
        match qlog::read_file(&f) {
            Err(e) => out.push(e.to_string()),
            Ok(t) => {
                let sent = t
                    .packets()
                    .filter(|(_, p)| p.direction == qlog::Direction::Sent)
                    .count();
                let recv = t.packets().count() - sent;
                if t.truncated || sent == 0 || recv == 0 {
                    out.push(format!(
                        "{}: truncated {}, {sent} sent, {recv} received",
                        f.display(),
                        t.truncated
                    ));
                }
            }
        }
    }
    out
}

/// Every server × client pair sharing `alpn`, on `env`.
fn matrix(test: &str, alpn: &str, env: &str, loss: f64) {
    let peers: Vec<&Peer> = PEERS
        .iter()
        .filter(|p| p.alpn.contains(&alpn) && (env == "netns" || !p.netns_only))
        .collect();
    let mut bad = Vec::new();
    let mut ran = 0;
    for s in peers.iter().filter(|p| p.server) {
        for c in &peers {
            if !installed(test, s) || !installed(test, c) {
                continue;
            }
            ran += 1;
            bad.extend(run_pair(s, c, alpn, env, loss));
        }
    }
    assert!(
        bad.is_empty(),
        "{test}: {} of {ran} pairs failed:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn every_h3_pair_does_handshake_and_transfer_on_localhost() {
    matrix(
        "every_h3_pair_does_handshake_and_transfer_on_localhost",
        "h3",
        "localhost",
        0.0,
    );
}

#[test]
fn every_hq_interop_pair_does_handshake_and_transfer_on_localhost() {
    matrix(
        "every_hq_interop_pair_does_handshake_and_transfer_on_localhost",
        "hq-interop",
        "localhost",
        0.0,
    );
}

/// The same pairs in network namespaces (a namespace per service, panther's switch as the
/// link) with 5 % loss each way: handshake and transfer still pass, and the qlog files are
/// whole.
#[test]
fn every_pair_survives_five_percent_loss_in_netns() {
    let test = "every_pair_survives_five_percent_loss_in_netns";
    if !support::root_or_skip(test) {
        return;
    }
    matrix(test, "h3", "netns", 0.05);
    matrix(test, "hq-interop", "netns", 0.05);
}

/// quiche's example servers bind 127.0.0.1:4433: the plugin is refused on localhost, at
/// validation, with the reason.
#[test]
fn quiche_is_refused_on_localhost() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("pair.yaml");
    let quiche = &PEERS[4];
    std::fs::write(&file, experiment(quiche, &PEERS[1], "h3", "localhost", 0.0)).unwrap();
    let out = panther().arg("validate").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`quiche` cannot be used with `localhost`"),
        "{err}"
    );
}

/// `panther plugins install`: a second run skips what is present and runs nothing; an
/// unknown name is bad input (exit 2) with a suggestion; `--help` says what it does.
#[test]
fn plugins_install_skips_what_is_present_and_refuses_unknown_names() {
    let test = "plugins_install_skips_what_is_present_and_refuses_unknown_names";
    let aioquic = &PEERS[1];
    if installed(test, aioquic) {
        let out = panther()
            .args(["plugins", "install", "aioquic", "--dry-run"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        assert_eq!(text.matches("present, skipped").count(), 2, "{text}");
        assert!(!text.contains("would run"), "{text}");
        let out = panther()
            .args(["plugins", "install", "aioquic"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("installed (0 steps run"), "{text}");
    }
    let out = panther()
        .args(["plugins", "install", "aioquik"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no plugin named `aioquik`") && err.contains("aioquic"),
        "{err}"
    );
    let out = panther()
        .args(["plugins", "install", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("--dry-run") && help.contains("tools folder"),
        "{help}"
    );
}

/// The bundled QUIC experiments run as shipped: `quic_handshake` (ngtcp2 server, aioquic
/// client, 20 ms link) and `quic_lossy` (the same pair and quinn against picoquic through a
/// 20 ms link losing 5 % each way): every test passes, the link really dropped datagrams in
/// the lossy one, and the 100 KiB downloads arrived whole.
#[test]
fn the_bundled_quic_experiments_pass_as_shipped() {
    let t = "the_bundled_quic_experiments_pass_as_shipped";
    let need = ["ngtcp2", "aioquic", "picoquic", "quinn"];
    if !PEERS
        .iter()
        .filter(|p| need.contains(&p.name))
        .all(|p| installed(t, p))
    {
        return;
    }
    for (file, tests) in [
        (
            "experiments/quic_handshake.yaml",
            &["handshake", "transfer"][..],
        ),
        (
            "experiments/quic_lossy.yaml",
            &["handshake_h3", "transfer_h3", "transfer_hq_interop"][..],
        ),
    ] {
        let (out, dir, _root) = support::run(&support::repo(file));
        let s = summary(&out);
        let want: Vec<(String, String)> = tests
            .iter()
            .map(|t| (t.to_string(), "pass".to_string()))
            .collect();
        assert_eq!(
            verdicts(&s),
            want,
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lost = support::events(&dir)
            .iter()
            .filter(|e| e["source"] == "link" && e["message"]["lost"] == true)
            .count();
        if file.contains("lossy") {
            assert!(lost > 0, "{file}: the link dropped nothing");
        }
    }
}
