//! Run-engine benchmarks (issue 3): events through the collector into `events.jsonl`
//! (target ≥ 1,000,000 events/s), and the orchestration overhead of a quickstart-shaped test
//! beyond the time its services spend working (target ≤ 50 ms per service).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use panther::events::{Bus, Clock, Event, Kind, Message};
use panther::experiment;
use panther::plugin::{LoadOptions, Registry};

fn message_event(i: u64) -> Event {
    let mut e = Event::new("link", Kind::Message, "delivered");
    e.message = Some(Message {
        from: "tester".into(),
        to: "server".into(),
        protocol: "minip".into(),
        summary: format!("PING seq={i} len=16"),
        bytes: 23,
        id: Some(i),
        lost: false,
        hex: Some("01000000010010".into()),
    });
    e.data = serde_json::json!({"sent_us": i, "delay_us": 20_000});
    e
}

fn bus_and_store(c: &mut Criterion) {
    const N: u64 = 200_000;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("events");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N));
    g.bench_function("bus_to_store_200k", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let path = dir.path().join("events.jsonl");
                let events: Vec<Event> = (0..N).map(message_event).collect();
                total += rt.block_on(async {
                    let t0 = Instant::now();
                    let bus = Bus::start(&path, Clock::start()).unwrap();
                    for e in events {
                        bus.tx.emit(e);
                    }
                    let store = bus.finish().await.unwrap();
                    assert_eq!(store.len() as u64, N);
                    t0.elapsed()
                });
            }
            total
        })
    });
    g.finish();
}

/// Orchestration overhead: total wall time of a one-test run minus the time between the
/// tester's start and its exit (its own work), divided by the number of services.
fn orchestration(c: &mut Criterion) {
    // SAFETY: set before any thread of this benchmark reads the environment.
    unsafe { std::env::set_var("PANTHER_EXE", env!("CARGO_BIN_EXE_panther")) };
    let reg = Registry::load(&LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![],
        availability: true,
    });
    let text = "tests:\n  - name: overhead\n    network_environment: {type: localhost}\n    services:\n      server: {implementation: {name: ping_pong, type: iut}, protocol: {name: minip, role: server}}\n      tester: {implementation: {name: minip_tester, type: tester}, protocol: {name: minip, role: client, target: server}, plugin_config: {count: 1, interval_ms: 0, malformed: false}}\n";
    let loaded = experiment::load_str(text, "overhead.yaml", &reg);
    assert!(loaded.is_ok(), "{:?}", loaded.diagnostics);
    let exp = loaded.experiment.unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("orchestration");
    g.sample_size(10);
    g.bench_function("overhead_per_service", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let opts = panther::run::Options {
                    output_root: out.path().to_path_buf(),
                    grace: Duration::from_millis(500),
                    ..Default::default()
                };
                let t0 = Instant::now();
                let (summary, dir) = rt.block_on(async {
                    let run =
                        panther::run::start(exp.clone(), "overhead", reg.clone(), opts).unwrap();
                    let dir = run.dir.clone();
                    (run.finish().await.unwrap(), dir)
                });
                let wall = t0.elapsed();
                assert!(summary.ok, "{summary:?}");
                let (events, _) =
                    panther::events::store::read_all(&dir.join("events.jsonl")).unwrap();
                let step = |src: &str, step: &str| {
                    events
                        .iter()
                        .find(|e| e.source == src && e.data["step"] == step)
                        .map(|e| e.t)
                        .unwrap()
                };
                let work =
                    Duration::from_micros(step("tester", "exited") - step("tester", "started"));
                total += wall.saturating_sub(work) / 2;
                black_box(&summary);
            }
            total
        })
    });
    g.finish();
}

criterion_group!(run_engine, bus_and_store, orchestration);
criterion_main!(run_engine);
