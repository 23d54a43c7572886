//! Every bad config fixture yields its expected message at its expected position, and no
//! input makes the loader panic. Positions are 1-based line:column, as editors show them.

use std::path::Path;

use panther::diag::Diagnostic;
use panther::experiment::{self, Loaded};
use panther::plugin::{LoadOptions, Registry};

fn registry() -> Registry {
    let reg = Registry::load(&LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![],
        availability: false,
    });
    assert!(
        reg.diagnostics.is_empty(),
        "bundled plugins have problems: {:#?}",
        reg.diagnostics
    );
    reg
}

fn load(name: &str, reg: &Registry) -> Loaded {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/configs")
        .join(name);
    experiment::load_file(&p, reg)
}

fn first_error(l: &Loaded) -> &Diagnostic {
    l.diagnostics
        .iter()
        .find(|d| d.is_error())
        .unwrap_or_else(|| panic!("expected an error, got {:#?}", l.diagnostics))
}

/// (fixture, line, column, message contains, expected-or-help contains)
const CASES: &[(&str, u32, u32, &str, &str)] = &[
    (
        "tabs.yaml",
        3,
        1,
        "tab character in indentation",
        "replace the tab with spaces",
    ),
    (
        "wrong_type.yaml",
        4,
        17,
        "wrong type: found the string \"many\"",
        "a whole number",
    ),
    (
        "unknown_key.yaml",
        4,
        5,
        "unknown key `servics`",
        "did you mean `services`?",
    ),
    (
        "duplicate_test_names.yaml",
        6,
        11,
        "test name `smoke` is already used (line 2)",
        "unique test names",
    ),
    (
        "missing_target.yaml",
        8,
        19,
        "client `tester` has no `target`",
        "`server`",
    ),
    (
        "unknown_target.yaml",
        8,
        55,
        "target `sever` is not a service of test `t`",
        "did you mean `server`?",
    ),
    (
        "cyclic_targets.yaml",
        7,
        19,
        "cycle: server → tester → server",
        "no loop",
    ),
    (
        "self_target.yaml",
        7,
        55,
        "service `tester` targets itself",
        "another service",
    ),
    (
        "unknown_plugin.yaml",
        5,
        39,
        "unknown iut `ping_pnog`",
        "did you mean `ping_pong`?",
    ),
    (
        "wrong_kind.yaml",
        5,
        39,
        "`minip_tester` is a tester plugin, not an iut",
        "type: tester",
    ),
    (
        "wrong_role.yaml",
        6,
        98,
        "`minip_tester` cannot be a server",
        "`client`",
    ),
    (
        "bad_version.yaml",
        5,
        95,
        "does not support minip version `functionnal`",
        "did you mean `functional`?",
    ),
    (
        "wrong_protocol.yaml",
        5,
        79,
        "`ping_pong` does not speak `http`",
        "`minip`",
    ),
    (
        "unknown_network.yaml",
        3,
        33,
        "unknown network environment `localhots`",
        "did you mean `localhost`?",
    ),
    (
        "unknown_exec_env.yaml",
        5,
        15,
        "unknown execution environment `strase`",
        "did you mean `strace`?",
    ),
    (
        "plugin_config_unknown.yaml",
        10,
        11,
        "`minip_tester` has no parameter `cuont`",
        "did you mean `count`?",
    ),
    (
        "plugin_config_type.yaml",
        10,
        18,
        "`count`: expected an integer, found the string \"twenty\"",
        "an integer",
    ),
    ("duplicate_keys.yaml", 6, 7, "duplicate key `server`", ""),
    ("link_percent.yaml", 5, 34, "`loss` is 30", "write 0.3"),
    (
        "bad_role_value.yaml",
        5,
        92,
        "unknown value `sever`",
        "did you mean `server`?",
    ),
    (
        "missing_required.yaml",
        2,
        5,
        "missing required key `network_environment`",
        "",
    ),
    (
        "two_documents.yaml",
        2,
        1,
        "more than one YAML document",
        "remove the extra `---`",
    ),
    (
        "include_tag.yaml",
        1,
        10,
        "unsupported YAML tag `!include`",
        "write the value inline",
    ),
    (
        "bad_ports.yaml",
        8,
        17,
        "bad port mapping `8080:99999`",
        "host:container",
    ),
    (
        "unclosed_bracket.yaml",
        4,
        13,
        "invalid YAML: while parsing a flow mapping",
        "is not closed",
    ),
    ("alias_bomb.yaml", 0, 0, "alias bomb", ""),
];

#[test]
fn each_bad_config_reports_its_error_at_its_position() {
    let reg = registry();
    let mut failures = Vec::new();
    for &(name, line, col, msg, more) in CASES {
        let l = load(&format!("bad/{name}"), &reg);
        assert!(!l.is_ok(), "{name} should not validate");
        let d = first_error(&l);
        let extra = format!(
            "{} {}",
            d.expected.as_deref().unwrap_or(""),
            d.help.as_deref().unwrap_or("")
        );
        let pos_ok = line == 0 || (d.line, d.column) == (line, col);
        if !pos_ok || !d.message.contains(msg) || !extra.contains(more) || !d.file.ends_with(name) {
            failures.push(format!(
                "{name}: expected {line}:{col} `{msg}` / `{more}`, got\n{d}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_bad_fixture_is_covered() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/configs/bad");
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        assert!(
            CASES.iter().any(|c| c.0 == name),
            "fixture {name} has no expectation in CASES"
        );
    }
}

#[test]
fn panther_style_config_validates_with_alias_warnings() {
    let reg = registry();
    let l = load("good/panther_style.yaml", &reg);
    let errors: Vec<_> = l.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let warnings: Vec<&str> = l.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("execution_environments")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("a list is expected")),
        "{warnings:?}"
    );
    // `IUT` and `testers` are PANTHER's own spellings (its enum is `iut|testers`, input
    // lower-cased): accepted without advice to write a spelling PANTHER would reject.
    assert!(
        warnings
            .iter()
            .all(|w| !w.contains("`type: IUT`") && !w.contains("`type: testers`")),
        "{warnings:?}"
    );
    let e = l.experiment.unwrap();
    assert_eq!(e.tests.len(), 2);
    let order = experiment::plan::start_order(&e.tests[0]).unwrap();
    assert_eq!(order, ["minip_server", "minip_client"]);
    assert_eq!(e.tests[0].execution_environment[0].kind, "time");
}

#[test]
fn a_ten_megabyte_file_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("huge.yaml");
    let mut s = String::from("tests:\n");
    while s.len() < 10 * 1024 * 1024 {
        s.push_str("  - name: padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&p, s).unwrap();
    let l = experiment::load_file(&p, &registry());
    let d = first_error(&l);
    assert!(d.message.contains("over the 4 MiB limit"), "{d}");
    assert_eq!((d.line, d.column), (1, 1));
}

#[test]
fn invalid_utf8_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("latin1.yaml");
    std::fs::write(&p, b"tests:\n  - name: caf\xe9\n").unwrap();
    let l = experiment::load_file(&p, &registry());
    let d = first_error(&l);
    assert!(d.message.contains("not valid UTF-8"), "{d}");
    assert_eq!((d.line, d.column), (2, 14));
}

/// Truncations and byte flips of a valid config: any outcome but a panic is fine.
#[test]
fn mangled_configs_never_panic() {
    let reg = registry();
    let good = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/configs/good/panther_style.yaml"),
    )
    .unwrap();
    let bytes = good.as_bytes();
    let junk = [
        b'\t', b':', b'-', b'[', b'{', b'"', b'&', b'*', b'!', b'\n', b' ', b'#', b'|', b'>',
    ];
    let mut n = 0;
    for cut in (0..bytes.len()).step_by(7) {
        let text = String::from_utf8_lossy(&bytes[..cut]).to_string();
        let _ = experiment::load_str(&text, "cut.yaml", &reg);
        for (k, j) in junk.iter().enumerate() {
            let mut b = bytes.to_vec();
            b[(cut + k * 13) % bytes.len()] = *j;
            let _ = experiment::load_str(&String::from_utf8_lossy(&b), "flip.yaml", &reg);
            n += 1;
        }
    }
    assert!(n > 1000);
}
