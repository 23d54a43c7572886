//! Foundation benchmarks: plugin discovery at scale and validation of a large experiment.
//! Targets (issue 2, 2-core machine): 1,000 plugins discovered ≤ 100 ms; a 200-test
//! experiment validated ≤ 50 ms. Figures go in docs/PERFORMANCE.md.

use std::hint::black_box;
use std::path::Path;

#[path = "support/experiment.rs"]
mod generated;
use generated::generate_experiment;

use criterion::{Criterion, criterion_group, criterion_main};
use panther::experiment;
use panther::plugin::{LoadOptions, Registry};

/// Writes `n` plugins shaped like real ones (manifest with parameters, run spec, events and
/// a README), spread over every kind.
fn generate_plugins(root: &Path, n: usize) {
    for i in 0..n {
        let (dir, body) = match i % 5 {
            0 | 1 => (
                format!("services/iut/minip/iut_{i}"),
                format!(
                    "name: iut_{i}\nkind: iut\nversion: \"1.0.{i}\"\ndescription: generated MinIP server number {i}\n\
protocols: [{{name: minip, versions: [functional, flaky]}}]\nroles: [server]\n\
parameters:\n  drop_rate: {{type: number, default: 0.1, min: 0, max: 1, description: fraction dropped}}\n  \
seed: {{type: integer, default: 7, description: random seed}}\n\
requires: {{binaries: [python3]}}\ninstall: {{apt: [python3]}}\n\
run:\n  server:\n    argv: [\"python3\", \"{{{{ plugin_dir }}}}/server.py\", \"--port\", \"{{{{ port }}}}\", \"--seed\", \"{{{{ seed }}}}\"]\n    \
ready: {{udp_port: \"{{{{ port }}}}\", timeout_s: 5}}\n\
events:\n  - {{match: '^PONG seq=(?P<seq>\\d+)$', kind: log, summary: \"pong {{{{ seq }}}}\"}}\n"
                ),
            ),
            2 => (
                format!("services/testers/tester_{i}"),
                format!(
                    "name: tester_{i}\nkind: tester\nversion: \"0.{i}\"\ndescription: generated tester {i}\n\
protocols: [{{name: minip}}]\nroles: [client]\n\
parameters:\n  count: {{type: integer, default: 10, min: 1, description: requests}}\n\
run:\n  client:\n    argv: [\"{{{{ panther }}}}\", \"builtin\", \"minip-tester\", \"--target\", \"{{{{ target_host }}}}:{{{{ target_port }}}}\", \"--count\", \"{{{{ count }}}}\"]\n"
                ),
            ),
            3 => (
                format!("environments/execution_environment/exec_{i}"),
                format!(
                    "name: exec_{i}\nkind: execution_environment\nversion: \"1\"\ndescription: generated wrapper {i}\n\
wrapper: {{argv_prefix: [\"nice\", \"-n\", \"5\"], parser: none}}\nrequires: {{binaries: [nice]}}\n"
                ),
            ),
            _ => (
                format!("protocols/client_server/proto_{i}"),
                format!(
                    "name: proto_{i}\nkind: protocol\nversion: \"1\"\ndescription: generated protocol {i}\n\
protocol:\n  family: client_server\n  transport: udp\n  default_port: 9000\n  versions: [\"1\", \"2\"]\n  default_version: \"1\"\n  roles: [server, client]\n  \
properties:\n    - {{name: answers, description: answers every request}}\n"
                ),
            ),
        };
        let d = root.join(dir);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("plugin.yaml"), body).unwrap();
        std::fs::write(
            d.join("README.md"),
            format!("# plugin {i}\n\nGenerated for the discovery benchmark.\n"),
        )
        .unwrap();
    }
}

fn benches(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    generate_plugins(tmp.path(), 1000);
    let opts = |availability| LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![tmp.path().to_path_buf()],
        availability,
    };
    let reg = Registry::load(&opts(false));
    assert!(
        reg.diagnostics.is_empty(),
        "{:#?}",
        &reg.diagnostics[..reg.diagnostics.len().min(3)]
    );
    assert!(reg.plugins().len() >= 1000);

    let mut g = c.benchmark_group("discovery");
    g.sample_size(20);
    g.bench_function("1000_plugins_validated", |b| {
        b.iter(|| black_box(Registry::load(&opts(false))))
    });
    g.bench_function("1000_plugins_with_availability", |b| {
        b.iter(|| black_box(Registry::load(&opts(true))))
    });
    g.finish();

    let reg = Registry::load(&LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![],
        availability: false,
    });
    let text = generate_experiment(200);
    let l = experiment::load_str(&text, "bench.yaml", &reg);
    assert!(
        l.is_ok(),
        "{:#?}",
        &l.diagnostics[..l.diagnostics.len().min(3)]
    );
    let mut g = c.benchmark_group("experiment");
    g.bench_function("validate_200_tests", |b| {
        b.iter(|| black_box(experiment::load_str(black_box(&text), "bench.yaml", &reg)))
    });
    g.finish();
}

criterion_group!(foundation, benches);
criterion_main!(foundation);
