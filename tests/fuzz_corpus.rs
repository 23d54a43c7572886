//! The fuzz targets (`fuzz/`, cargo-fuzz) as a plain regression test: every target over its
//! seed corpus (`fuzz/corpus/<target>/`, seeded from the fixtures, plus any crash kept there),
//! each seed also cut short and sprinkled with junk bytes. Must not panic. The real fuzzing
//! runs with `cargo +nightly fuzz run <target>` (see docs/RELIABILITY.md).

#[path = "../fuzz/targets.rs"]
mod targets;

use std::path::Path;

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds for {target}");
    out
}

/// Cuts and junk, deterministically: a few hundred variants per seed at most.
fn variants(seed: &[u8]) -> Vec<Vec<u8>> {
    const JUNK: &[u8] = b"\t:-{}[]\"'#&*!|>%@`\n \x00\xff\xc3";
    let mut v = vec![seed.to_vec()];
    let step = (seed.len() / 16).max(1);
    for cut in (0..seed.len()).step_by(step) {
        v.push(seed[..cut].to_vec());
        let j = JUNK[cut % JUNK.len()];
        let mut s = seed.to_vec();
        s.insert(cut, j);
        v.push(s);
        let mut s = seed.to_vec();
        s[cut] = j;
        v.push(s);
    }
    v
}

#[test]
fn every_fuzz_target_survives_its_corpus() {
    for (name, f) in targets::ALL {
        let mut n = 0;
        for seed in seeds(name) {
            for input in variants(&seed) {
                f(&input);
                n += 1;
            }
        }
        eprintln!("{name}: {n} inputs");
    }
}
