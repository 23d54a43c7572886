//! qlog reading on files real implementations wrote (tests/fixtures/qlog: aioquic's JSON
//! 0.3, ngtcp2's and quinn's JSON-SEQ, picoquic's draft-00), cut the way a killed writer
//! cuts them, and on files that are not qlog at all.

use std::path::{Path, PathBuf};

use panther::quic::qlog::{self, Dialect, Direction, QlogError};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/qlog")
        .join(name)
}

#[test]
fn each_dialect_reads_into_packets_with_types_numbers_and_frames() {
    for (file, dialect, vantage, implementation) in [
        ("aioquic_client.qlog", Dialect::Json, "client", "aioquic"),
        ("ngtcp2_server.sqlog", Dialect::JsonSeq, "server", "ngtcp2"),
        ("quinn_client.sqlog", Dialect::JsonSeq, "unknown", ""),
        (
            "picoquic_server.qlog",
            Dialect::Draft00,
            "server",
            "backend-67",
        ),
    ] {
        let t = qlog::read_file(&fixture(file)).unwrap();
        assert_eq!(t.dialect, dialect, "{file}");
        assert_eq!(t.vantage.as_deref(), Some(vantage), "{file}");
        if !implementation.is_empty() {
            assert_eq!(t.implementation.as_deref(), Some(implementation), "{file}");
        }
        assert!(!t.truncated, "{file} is whole");
        let sent: Vec<_> = t
            .packets()
            .filter(|(_, p)| p.direction == Direction::Sent)
            .collect();
        let recv: Vec<_> = t
            .packets()
            .filter(|(_, p)| p.direction == Direction::Received)
            .collect();
        assert!(
            sent.len() >= 3 && recv.len() >= 3,
            "{file}: {} sent, {} received",
            sent.len(),
            recv.len()
        );
        // The connection opens with Initial #0: the client sends it, the server receives it.
        let first = if vantage == "server" {
            recv[0].1
        } else {
            sent[0].1
        };
        assert_eq!(
            (first.packet_type.as_str(), first.number),
            ("initial", Some(0)),
            "{file}"
        );
        // Every endpoint here ends up in 1-RTT.
        assert!(
            t.packets()
                .any(|(_, p)| p.packet_type.eq_ignore_ascii_case("1rtt")),
            "{file} has 1-RTT packets"
        );
        if file != "quinn_client.sqlog" {
            assert!(
                t.packets()
                    .any(|(_, p)| p.frames.iter().any(|f| f == "crypto")),
                "{file}: CRYPTO frames are listed"
            );
        }
    }
}

#[test]
fn draft00_times_are_microseconds_converted_to_milliseconds() {
    let t = qlog::read_file(&fixture("picoquic_server.qlog")).unwrap();
    let last = t.events.last().unwrap().time_ms;
    let raw: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("picoquic_server.qlog")).unwrap()).unwrap();
    let events = raw["traces"][0]["events"].as_array().unwrap();
    let raw_last = events.last().unwrap()[0].as_f64().unwrap();
    assert_eq!(t.events.len(), events.len());
    assert!((last - raw_last / 1000.0).abs() < 1e-9);
}

/// A JSON-SEQ file cut inside a record: every complete record before the cut, the torn one
/// left out, and the trace marked truncated (SIGTERM cut ngtcp2's at 8192 bytes).
#[test]
fn a_torn_json_seq_record_is_left_out() {
    let whole = std::fs::read(fixture("ngtcp2_server.sqlog")).unwrap();
    let full = qlog::parse(&whole).unwrap().remove(0);
    for cut in [whole.len() / 3, whole.len() / 2, whole.len() - 5] {
        let starts: Vec<usize> = (0..cut).filter(|&i| whole[i] == 0x1e).collect();
        // Records wholly before the cut, minus the header record.
        let complete = starts.len() - 1 - 1;
        let t = qlog::parse(&whole[..cut]).unwrap().remove(0);
        assert!(t.truncated, "cut at {cut}");
        assert_eq!(t.events.len(), complete, "cut at {cut}");
        assert_eq!(
            t.events[..],
            full.events[..complete],
            "the same events, in order"
        );
        assert_eq!(t.vantage.as_deref(), Some("server"));
    }
}

/// Classic JSON cut mid-file (picoquic's `.server.qlog` at 8192 bytes, aioquic's anywhere):
/// the complete events before the cut are recovered, the same as in the whole file.
#[test]
fn a_classic_json_file_cut_midway_gives_its_complete_events() {
    for file in ["picoquic_server.qlog", "aioquic_client.qlog"] {
        let whole = std::fs::read(fixture(file)).unwrap();
        let full = qlog::parse(&whole).unwrap().remove(0);
        for cut in [
            8192.min(whole.len() - 10),
            whole.len() * 2 / 3,
            whole.len() - 3,
        ] {
            let t = qlog::parse(&whole[..cut]).unwrap().remove(0);
            assert!(t.truncated, "{file} cut at {cut}");
            assert!(!t.events.is_empty(), "{file} cut at {cut}");
            // A cut after the last event (in the closing brackets) loses none.
            assert!(
                t.events.len() < full.events.len() || cut + 10 > whole.len(),
                "{file} cut at {cut}"
            );
            assert_eq!(
                t.events[..],
                full.events[..t.events.len()],
                "{file} cut at {cut}"
            );
            assert_eq!(t.dialect, full.dialect);
        }
    }
    // picoquic names its vantage point before the events, so a cut file still says it.
    let whole = std::fs::read(fixture("picoquic_server.qlog")).unwrap();
    let t = qlog::parse(&whole[..8192]).unwrap().remove(0);
    assert_eq!(t.vantage.as_deref(), Some("server"));
}

#[test]
fn what_is_not_qlog_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, says) in [
        ("text.qlog", &b"GET / HTTP/1.1\r\n"[..], "not a JSON object"),
        ("empty.qlog", &b"  \n"[..], "empty"),
        (
            "other.qlog",
            &br#"{"hello": "world"}"#[..],
            "no `traces` array",
        ),
        ("broken.qlog", &br#"{"traces": [}"#[..], "not JSON"),
        (
            "seq.sqlog",
            &b"\x1enot json\n\x1e{also not\n"[..],
            "no JSON-SEQ record",
        ),
        (
            "early.qlog",
            &br#"{"qlog_version": "0.3", "tra"#[..],
            "before its first event",
        ),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        match qlog::read_file(&p) {
            Err(QlogError::NotQlog { path, reason }) => {
                assert_eq!(path, p);
                assert!(reason.contains(says), "{name}: {reason}");
                let msg = QlogError::NotQlog { path, reason }.to_string();
                assert!(
                    msg.contains(name) && msg.contains("not a qlog file"),
                    "{msg}"
                );
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(matches!(
        qlog::read_file(&dir.path().join("missing.qlog")),
        Err(QlogError::Io { .. })
    ));
}

/// Both endpoints' views of one connection (picoquic server, quinn client): what one sent
/// the other received, matched on number space and packet number.
#[test]
fn both_endpoints_of_one_connection_correlate() {
    let server = qlog::read_file(&fixture("picoquic_server.qlog")).unwrap();
    let client = qlog::read_file(&fixture("quinn_client.sqlog")).unwrap();
    let c = qlog::correlate(&client, &server);
    let matched = c.a_to_b.iter().filter(|(_, r)| r.is_some()).count();
    assert!(matched >= 3, "{matched} client packets found at the server");
    for (s, r) in &c.a_to_b {
        if let Some(r) = r {
            let (ps, pr) = (
                client.events[*s].packet.as_ref().unwrap(),
                server.events[*r].packet.as_ref().unwrap(),
            );
            assert_eq!(ps.number, pr.number);
            assert_eq!(
                qlog::correlate::number_space(&ps.packet_type),
                qlog::correlate::number_space(&pr.packet_type)
            );
        }
    }
    // Drop one packet the server received from its trace: that packet is now lost.
    let mut cut = server.clone();
    let (i, _) = c.a_to_b.iter().find(|(_, r)| r.is_some()).copied().unwrap();
    let r = c.a_to_b.iter().find(|(s, _)| *s == i).unwrap().1.unwrap();
    cut.events.remove(r);
    let c2 = qlog::correlate(&client, &cut);
    assert!(c2.lost().0.contains(&i), "the removed packet is lost");
    assert_eq!(c2.lost().0.len(), c.lost().0.len() + 1);
}

/// qlog ingestion speed, side by side with Python's json module on the same JSON-SEQ file
/// (figures in docs/PERFORMANCE.md). `cargo test --release --test qlog -- --ignored --nocapture`.
#[test]
#[ignore]
fn ingestion_rate() {
    let one = std::fs::read(fixture("ngtcp2_server.sqlog")).unwrap();
    let first_event = one.iter().skip(1).position(|b| *b == 0x1e).unwrap() + 1;
    let (head, body) = one.split_at(first_event);
    let mut big = head.to_vec();
    while big.len() < 64 << 20 {
        big.extend_from_slice(body);
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.sqlog");
    std::fs::write(&p, &big).unwrap();
    let t0 = std::time::Instant::now();
    let t = qlog::read_file(&p).unwrap();
    let s = t0.elapsed().as_secs_f64();
    println!(
        "panther qlog: {} events, {:.1} MB in {s:.3} s = {:.0} events/s",
        t.events.len(),
        big.len() as f64 / 1e6,
        t.events.len() as f64 / s
    );
    let py = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sys,json,time\nt=time.time()\nd=open(sys.argv[1],'rb').read()\nn=sum(1 for r in d.split(b'\\x1e') if r.strip() and json.loads(r))\ns=time.time()-t\nprint(f'python json: {n-1} events in {s:.3} s = {(n-1)/s:.0f} events/s')")
        .arg(&p)
        .output()
        .unwrap();
    print!("{}", String::from_utf8_lossy(&py.stdout));
}

/// The live tailer: a JSON-SEQ file that appears and grows while the "service" runs (cut
/// mid-record between writes, as a writer's buffer flushes) gives every packet once, in
/// order, as message events from the service to its peer; a classic JSON file written at the
/// end (aioquic) is picked up when the tailer is stopped.
#[tokio::test]
async fn the_tailer_follows_files_as_they_grow() {
    use panther::events::{Clock, tx};
    let dir = tempfile::tempdir().unwrap();
    let (etx, mut rx) = tx::channel(Clock::start());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(qlog::tail::follow(
        dir.path().to_path_buf(),
        "server".into(),
        Some("client".into()),
        etx,
        stopped,
    ));
    let seq = std::fs::read(fixture("ngtcp2_server.sqlog")).unwrap();
    let path = dir.path().join("a.sqlog");
    for part in [
        0..seq.len() / 3 + 7,
        seq.len() / 3 + 7..seq.len() * 2 / 3 + 3,
        seq.len() * 2 / 3 + 3..seq.len(),
    ] {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(&seq[part]).unwrap();
        drop(f);
        tokio::time::sleep(qlog::tail::POLL * 2).await;
    }
    std::fs::copy(fixture("aioquic_client.qlog"), dir.path().join("b.qlog")).unwrap();
    stop.send(true).unwrap();
    let tailed = task.await.unwrap();
    let mut got = Vec::new();
    while let Ok(env) = rx.try_recv() {
        let v: serde_json::Value = serde_json::from_slice(&env.json).unwrap();
        got.push(v);
    }
    let want_seq = qlog::read_file(&fixture("ngtcp2_server.sqlog")).unwrap();
    let want_json = qlog::read_file(&fixture("aioquic_client.qlog")).unwrap();
    let want: Vec<String> = want_seq
        .packets()
        .chain(want_json.packets())
        .map(|(_, p)| p.summary())
        .collect();
    let summaries: Vec<String> = got
        .iter()
        .map(|e| e["message"]["summary"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(summaries, want);
    assert_eq!(tailed.packets, want.len());
    assert_eq!(tailed.files, 2);
    let first = &got[0]["message"];
    // ngtcp2's server first receives the client's Initial.
    assert_eq!(
        (first["from"].as_str(), first["to"].as_str()),
        (Some("client"), Some("server"))
    );
    assert!(
        got.iter()
            .all(|e| e["source"] == "server" && e["kind"] == "message")
    );
}
