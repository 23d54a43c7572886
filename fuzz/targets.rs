//! The fuzz targets' bodies, shared by the cargo-fuzz targets (`fuzz/fuzz_targets/`) and the
//! plain `cargo test` regression run over the seed corpus (`tests/fuzz_corpus.rs`). Each takes
//! arbitrary bytes and must neither panic nor hang.

#![allow(dead_code)]

use std::sync::OnceLock;

fn text(data: &[u8]) -> &str {
    std::str::from_utf8(data).unwrap_or("")
}

fn registry() -> &'static panther::plugin::Registry {
    static REG: OnceLock<panther::plugin::Registry> = OnceLock::new();
    REG.get_or_init(|| {
        panther::plugin::Registry::load(&panther::plugin::LoadOptions {
            bundled: true,
            user: false,
            dirs: vec![],
            availability: false,
        })
    })
}

pub fn yaml(data: &[u8]) {
    let s = text(data);
    let _ = panther::yaml::parse(s, panther::yaml::Limits::default());
    let _ = panther::yaml::parse_lenient(s, panther::yaml::Limits::default());
}

pub fn manifest(data: &[u8]) {
    let _ = panther::plugin::loader::load_manifest(text(data), "fuzz/plugin.yaml");
}

pub fn experiment(data: &[u8]) {
    let _ = panther::experiment::load_str(text(data), "fuzz.yaml", registry());
}

pub fn config(data: &[u8]) {
    let _ = panther::tui::config::parse_str(text(data), "config.toml");
}

pub fn theme(data: &[u8]) {
    let _ = panther::tui::theme::Theme::parse(text(data), "theme.toml", None);
}

pub fn tutorial(data: &[u8]) {
    let _ = panther::tutorial::parse(text(data), "tutorial.yaml");
}

/// A line of events.jsonl (what `events::store::read_all` does per line) and of a tester's
/// stdout (verdict records).
pub fn events_line(data: &[u8]) {
    for line in data.split(|&b| b == b'\n') {
        let _ = serde_json::from_slice::<panther::events::Event>(line);
        let _ = panther::events::record::Record::parse(&String::from_utf8_lossy(line));
    }
}

/// The wire decoders behind message events, and the netns switch's frame parser.
pub fn wire(data: &[u8]) {
    use panther::events::decode;
    let _ = decode::minip(data);
    let _ = decode::http(data, true);
    let _ = decode::http(data, false);
    let _ = decode::quic(data);
    for p in ["minip", "http", "quic", "other"] {
        let _ = decode::summary(p, data, true);
        let _ = decode::summary_head(p, data, data.len() * 2 + 1, false);
    }
    let _ = decode::hex_prefix(data, 16);
    let _ = panther::env::network::netns::frame::parse(data);
    let _ = panther::env::network::netns::frame::dst_mac(data);
}

/// Every target, by name (the corpus folders are named the same).
/// A target's body.
pub type Target = fn(&[u8]);

pub const ALL: &[(&str, Target)] = &[
    ("yaml", yaml),
    ("manifest", manifest),
    ("experiment", experiment),
    ("config", config),
    ("theme", theme),
    ("tutorial", tutorial),
    ("events_line", events_line),
    ("wire", wire),
];
