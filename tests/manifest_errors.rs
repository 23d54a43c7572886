//! Broken manifests are reported with file:line:column and the reason; the other plugins
//! (bundled and the good one next to the broken ones) still load.

use std::path::{Path, PathBuf};

use panther::plugin::{LoadOptions, Registry};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifests")
}

/// (folder, line, column, message contains)
const CASES: &[(&str, u32, u32, &str)] = &[
    ("tabs", 6, 1, "tab character in indentation"),
    ("unknown_key", 4, 1, "unknown key `descripton`"),
    ("bad_kind", 2, 7, "unknown value `iutt`"),
    ("bad_template", 9, 49, "unknown template variable `prot`"),
    ("unknown_protocol", 5, 20, "unknown protocol `minipp`"),
    (
        "missing_run",
        6,
        9,
        "role `client` is declared but `run.client` is missing",
    ),
    ("bad_name", 1, 7, "invalid plugin name `My-Plugin`"),
    (
        "bad_default",
        10,
        14,
        "default does not fit the parameter: expected an integer, found the string \"many\"",
    ),
    (
        "missing_template",
        8,
        16,
        "template `server.conf.j2` not found next to plugin.yaml",
    ),
    ("bad_regex", 11, 12, "invalid regex"),
    // Groups nested in a repetition are found: only the misspelt one is unknown.
    ("bad_capture", 13, 14, "unknown template variable `stauts`"),
];

#[test]
fn broken_manifests_are_located_and_the_rest_load() {
    let reg = Registry::load(&LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![fixtures()],
        availability: false,
    });
    let mut failures = Vec::new();
    for &(dir, line, col, msg) in CASES {
        let file = fixtures()
            .join(dir)
            .join("plugin.yaml")
            .display()
            .to_string();
        match reg
            .diagnostics
            .iter()
            .find(|d| d.file == file && d.is_error())
        {
            None => failures.push(format!("{dir}: no error reported")),
            Some(d) if (d.line, d.column) != (line, col) || !d.message.contains(msg) => {
                failures.push(format!("{dir}: expected {line}:{col} `{msg}`, got\n{d}"))
            }
            Some(_) => {}
        }
        assert!(
            reg.find(&dir.replace('-', "_"))
                .is_none_or(|p| !p.file.contains(&format!("/{dir}/"))),
            "{dir} must not load"
        );
    }
    assert!(
        failures.is_empty(),
        "{}\nall: {:#?}",
        failures.join("\n\n"),
        reg.diagnostics
    );
    assert!(
        reg.find("good_one").is_some(),
        "the valid plugin next to broken ones loads"
    );
    assert!(
        reg.find("ping_pong").is_some(),
        "bundled plugins still load"
    );
}
