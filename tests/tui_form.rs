//! The experiment builder's form view, driven by keys as the event loop would, checked
//! against the bundled plugins, drawn on a `TestBackend` and compared with snapshots.

mod common;
use common::draw_text;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use panther::experiment;
use panther::plugin::{LoadOptions, Registry};
use panther::tui::form::{Form, FormOutcome};

fn registry() -> Registry {
    Registry::load(&LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![],
        availability: false,
    })
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn send(f: &mut Form, reg: &Registry, code: KeyCode) -> FormOutcome {
    f.handle_key(key(code), reg)
}

fn type_text(f: &mut Form, reg: &Registry, s: &str) {
    for c in s.chars() {
        assert_eq!(send(f, reg, KeyCode::Char(c)), FormOutcome::None);
    }
}

/// Moves the open wizard's selection to `option` and chooses it.
fn choose(f: &mut Form, reg: &Registry, option: &str) -> FormOutcome {
    let opts = f.wizard_options().expect("wizard open").to_vec();
    let i = opts
        .iter()
        .position(|o| o == option)
        .unwrap_or_else(|| panic!("`{option}` not among {opts:?}"));
    for _ in 0..10 {
        send(f, reg, KeyCode::Char('k'));
    }
    for _ in 0..i {
        send(f, reg, KeyCode::Char('j'));
    }
    send(f, reg, KeyCode::Enter)
}

fn render(f: &mut Form, w: u16, h: u16) -> String {
    draw_text(w, h, |fr| {
        f.draw(
            fr,
            fr.area(),
            &panther::tui::theme::Theme::default_theme(),
            false,
        )
    })
}

/// An empty form with a ping_pong server and a minip_tester client targeting it, built
/// through the wizard; the cursor is left on the tester.
fn two_services(reg: &Registry) -> Form {
    let mut f = Form::new_empty();
    assert_eq!(send(&mut f, reg, KeyCode::Char('a')), FormOutcome::None);
    assert_eq!(choose(&mut f, reg, "ping_pong"), FormOutcome::None);
    assert_eq!(choose(&mut f, reg, "minip"), FormOutcome::None);
    assert_eq!(
        f.wizard_options().unwrap().first().map(String::as_str),
        Some("functional"),
        "the default version comes first"
    );
    assert_eq!(choose(&mut f, reg, "functional"), FormOutcome::None);
    assert_eq!(choose(&mut f, reg, "server"), FormOutcome::Changed);
    assert!(f.wizard_options().is_none());

    assert_eq!(send(&mut f, reg, KeyCode::Char('a')), FormOutcome::None);
    assert_eq!(choose(&mut f, reg, "minip_tester"), FormOutcome::None);
    assert_eq!(choose(&mut f, reg, "minip"), FormOutcome::None);
    assert_eq!(choose(&mut f, reg, "functional"), FormOutcome::None);
    assert_eq!(choose(&mut f, reg, "client"), FormOutcome::None);
    assert_eq!(f.wizard_options().unwrap(), &["ping_pong".to_string()]);
    assert_eq!(choose(&mut f, reg, "ping_pong"), FormOutcome::Changed);
    f
}

/// Opens the input on the tester's `count` (the cursor is on the tester): Tab to the right
/// pane, past version and target.
fn open_count(f: &mut Form, reg: &Registry) {
    send(f, reg, KeyCode::Tab);
    send(f, reg, KeyCode::Char('j'));
    send(f, reg, KeyCode::Char('j'));
    assert_eq!(send(f, reg, KeyCode::Enter), FormOutcome::None);
}

#[test]
fn wizard_builds_a_valid_experiment() {
    let reg = registry();
    let mut f = two_services(&reg);
    open_count(&mut f, &reg);
    type_text(&mut f, &reg, "5");
    assert_eq!(send(&mut f, &reg, KeyCode::Enter), FormOutcome::Changed);

    let yaml = f.to_yaml();
    let loaded = experiment::load_str(&yaml, "form.yaml", &reg);
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{yaml}");
    let exp = loaded.experiment.unwrap();
    let t = &exp.tests[0];
    assert_eq!(t.name, "test_1");
    assert_eq!(t.network_environment.kind, "localhost");
    assert_eq!(t.services.len(), 2);
    let server = &t.services["ping_pong"];
    assert_eq!(server.protocol.role.as_str(), "server");
    let client = &t.services["minip_tester"];
    assert_eq!(client.protocol.role.as_str(), "client");
    assert_eq!(client.protocol.target.as_deref(), Some("ping_pong"));
    assert_eq!(client.plugin_config["count"], serde_json::json!(5));
}

#[test]
fn bad_input_is_refused_and_empty_resets() {
    let reg = registry();
    let mut f = two_services(&reg);
    open_count(&mut f, &reg);
    type_text(&mut f, &reg, "5");
    assert_eq!(send(&mut f, &reg, KeyCode::Enter), FormOutcome::Changed);

    // The input opens with the current value; replace it with `abc`.
    assert_eq!(send(&mut f, &reg, KeyCode::Enter), FormOutcome::None);
    send(&mut f, &reg, KeyCode::Backspace);
    type_text(&mut f, &reg, "abc");
    assert_eq!(send(&mut f, &reg, KeyCode::Enter), FormOutcome::None);
    let msg = f.message().expect("an error message").to_string();
    assert!(msg.contains("integer"), "{msg}");
    let count = |f: &Form| {
        f.experiment().tests[0].services["minip_tester"]
            .plugin_config
            .get("count")
            .cloned()
    };
    assert_eq!(count(&f), Some(serde_json::json!(5)));

    // Out of range is refused too.
    for _ in 0..3 {
        send(&mut f, &reg, KeyCode::Backspace);
    }
    type_text(&mut f, &reg, "0");
    assert_eq!(send(&mut f, &reg, KeyCode::Enter), FormOutcome::None);
    assert!(f.message().unwrap().contains("minimum"));
    assert_eq!(count(&f), Some(serde_json::json!(5)));

    // Empty goes back to the default.
    send(&mut f, &reg, KeyCode::Backspace);
    assert_eq!(send(&mut f, &reg, KeyCode::Enter), FormOutcome::Changed);
    assert_eq!(count(&f), None);

    // A boolean.
    send(&mut f, &reg, KeyCode::Char('j'));
    send(&mut f, &reg, KeyCode::Char('j'));
    send(&mut f, &reg, KeyCode::Enter);
    type_text(&mut f, &reg, "false");
    assert_eq!(send(&mut f, &reg, KeyCode::Enter), FormOutcome::Changed);
    assert_eq!(
        f.experiment().tests[0].services["minip_tester"].plugin_config["malformed"],
        serde_json::json!(false)
    );
}

#[test]
fn deleting_the_server_clears_the_target() {
    let reg = registry();
    let mut f = two_services(&reg);
    // Cursor on the tester; the server is the row above.
    send(&mut f, &reg, KeyCode::Char('k'));
    assert_eq!(send(&mut f, &reg, KeyCode::Char('d')), FormOutcome::Changed);
    let t = &f.experiment().tests[0];
    assert_eq!(t.services.len(), 1);
    assert_eq!(t.services["minip_tester"].protocol.target, None);
    let loaded = experiment::load_str(&f.to_yaml(), "form.yaml", &reg);
    assert!(
        loaded
            .diagnostics
            .iter()
            .any(|d| d.is_error() && d.message.contains("has no `target`")),
        "{:#?}",
        loaded.diagnostics
    );
}

#[test]
fn tests_are_added_and_deleted() {
    let reg = registry();
    let mut f = Form::new_empty();
    assert_eq!(send(&mut f, &reg, KeyCode::Char('D')), FormOutcome::None);
    assert_eq!(send(&mut f, &reg, KeyCode::Char('T')), FormOutcome::Changed);
    let names: Vec<&str> = f
        .experiment()
        .tests
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, ["test_1", "test_2"]);
    assert_eq!(send(&mut f, &reg, KeyCode::Char('D')), FormOutcome::Changed);
    assert_eq!(f.experiment().tests.len(), 1);
    assert_eq!(f.experiment().tests[0].name, "test_1");
    // Esc at the top level closes; in the wizard it goes back, then cancels.
    send(&mut f, &reg, KeyCode::Char('a'));
    choose(&mut f, &reg, "ping_pong");
    assert_eq!(send(&mut f, &reg, KeyCode::Esc), FormOutcome::None);
    assert!(
        f.wizard_options()
            .unwrap()
            .contains(&"ping_pong".to_string())
    );
    assert_eq!(send(&mut f, &reg, KeyCode::Esc), FormOutcome::None);
    assert!(f.wizard_options().is_none());
    assert_eq!(send(&mut f, &reg, KeyCode::Esc), FormOutcome::Close);
}

#[test]
fn quickstart_round_trips() {
    let reg = registry();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/quickstart.yaml"),
    )
    .unwrap();
    let f = Form::from_text(&text, &reg).unwrap();
    let loaded = experiment::load_str(&f.to_yaml(), "form.yaml", &reg);
    assert!(loaded.is_ok(), "{:#?}", loaded.diagnostics);
    let exp = loaded.experiment.unwrap();
    let names: Vec<&str> = exp.tests[0].services.keys().map(String::as_str).collect();
    assert_eq!(names, ["server", "tester"]);
    assert!(Form::from_text("tests: [", &reg).is_err());
}

#[test]
fn snapshots() {
    let reg = registry();
    let mut f = two_services(&reg);
    insta::assert_snapshot!("form_two_services_120x40", render(&mut f, 120, 40));
    insta::assert_snapshot!("form_two_services_80x24", render(&mut f, 80, 24));
    send(&mut f, &reg, KeyCode::Char('a'));
    choose(&mut f, &reg, "minip_tester");
    insta::assert_snapshot!("form_wizard_80x24", render(&mut f, 80, 24));
}

#[test]
fn an_experiment_without_tests_does_not_panic() {
    let reg = registry();
    let mut f = Form::from_text("tests: []\n", &reg).unwrap();
    render(&mut f, 80, 24);
    for c in ['a', 'd', 'D', 'j', '\t'] {
        send(&mut f, &reg, KeyCode::Char(c));
    }
    send(&mut f, &reg, KeyCode::Enter);
    send(&mut f, &reg, KeyCode::Tab);
    render(&mut f, 80, 24);
    assert_eq!(send(&mut f, &reg, KeyCode::Char('T')), FormOutcome::Changed);
    assert_eq!(f.experiment().tests.len(), 1);
    render(&mut f, 40, 10);
}

#[test]
fn tiny_areas_do_not_panic() {
    let reg = registry();
    let mut f = two_services(&reg);
    send(&mut f, &reg, KeyCode::Char('a'));
    for (w, h) in [(1, 1), (5, 3), (12, 6), (30, 8)] {
        render(&mut f, w, h);
    }
    send(&mut f, &reg, KeyCode::Esc);
    open_count(&mut f, &reg);
    for (w, h) in [(1, 1), (5, 3), (12, 6), (30, 8)] {
        render(&mut f, w, h);
    }
}

mod patches {
    use panther::tui::form_patch::{Change, apply};
    use serde_json::json;

    fn ap(text: &str, c: &Change) -> Option<String> {
        apply(text, c, "")
    }

    const QS: &str = include_str!("../experiments/quickstart.yaml");

    fn param(service: &str, param: &str, value: Option<serde_json::Value>) -> Change {
        Change::Param {
            test: 0,
            service: service.into(),
            param: param.into(),
            value,
        }
    }

    #[test]
    fn a_parameter_in_a_flow_map_changes_only_its_value() {
        let out = ap(QS, &param("tester", "count", Some(json!(5)))).unwrap();
        assert_eq!(
            out,
            QS.replace(
                "plugin_config: {count: 10, interval_ms: 20}",
                "plugin_config: {count: 5, interval_ms: 20}"
            )
        );
        let out = ap(QS, &param("tester", "payload", Some(json!("hello world")))).unwrap();
        assert!(
            out.contains("plugin_config: {count: 10, interval_ms: 20, payload: \"hello world\"}"),
            "{out}"
        );
        // No plugin_config yet: one is added to the service, comments untouched.
        let out = ap(QS, &param("server", "port", Some(json!(9000)))).unwrap();
        assert!(out.starts_with("# The quickstart"), "{out}");
        assert!(
            out.contains("        protocol: {name: minip, version: functional, role: server}\n        plugin_config: {port: 9000}\n"),
            "{out}"
        );
    }

    #[test]
    fn block_maps_keep_their_comments_and_flow_removal_falls_back() {
        let text = "tests:\n  - name: t # the test\n    network_environment:\n      type: localhost  # here\n    services:\n      s:\n        implementation: {name: x, type: iut}\n        plugin_config:\n          a: 1 # one\n          b: \"two\"\n";
        let out = ap(text, &param("s", "b", Some(json!("three")))).unwrap();
        assert!(out.contains("          b: three\n"), "{out}");
        assert!(
            out.contains("a: 1 # one") && out.contains("# the test"),
            "{out}"
        );
        let out = ap(text, &param("s", "c", Some(json!(true)))).unwrap();
        assert!(
            out.contains("          b: \"two\"\n          c: true\n"),
            "{out}"
        );
        let out = ap(text, &param("s", "a", None)).unwrap();
        assert!(!out.contains("a: 1") && out.contains("b: \"two\""), "{out}");
        let out = ap(
            text,
            &Change::Network {
                test: 0,
                kind: "docker".into(),
            },
        )
        .unwrap();
        assert!(out.contains("      type: docker  # here\n"), "{out}");
        // Removing from a flow map is not patched: the caller rewrites instead.
        assert_eq!(ap(QS, &param("tester", "count", None)), None);
        // A string that YAML would read as a number is quoted.
        let out = ap(text, &param("s", "b", Some(json!("1.0")))).unwrap();
        assert!(out.contains("b: \"1.0\""), "{out}");
    }

    #[test]
    fn tests_and_services_are_added_and_removed_as_blocks() {
        let text = "# top\ntests:\n  - name: a # first\n    network_environment: {type: localhost}\n    services:\n      s: {implementation: {name: x, type: iut}}\n      t:\n        implementation: {name: y, type: tester}\n\n        # about t\n        plugin_config: {n: 1}\n  - name: b\n    network_environment: {type: localhost}\n    services:\n      s: {implementation: {name: x, type: iut}}\n";
        let generated = "tests:\n- name: a\n  services:\n    s: {}\n    t: {}\n    u:\n      implementation:\n        name: z\n        type: iut\n- name: b\n- name: c\n  network_environment:\n    type: localhost\n";
        let out = apply(
            text,
            &Change::AddService {
                test: 0,
                service: "u".into(),
            },
            generated,
        )
        .unwrap();
        assert!(
            out.contains("        plugin_config: {n: 1}\n      u:\n        implementation:\n          name: z\n          type: iut\n  - name: b\n"),
            "{out}"
        );
        let out = apply(text, &Change::AddTest, generated).unwrap();
        assert!(
            out.ends_with("      s: {implementation: {name: x, type: iut}}\n  - name: c\n    network_environment:\n      type: localhost\n"),
            "{out}"
        );
        let out = apply(
            text,
            &Change::DeleteService {
                test: 0,
                service: "t".into(),
            },
            "",
        )
        .unwrap();
        assert!(
            !out.contains("about t") && !out.contains("name: y"),
            "{out}"
        );
        assert!(
            out.contains("      s: {implementation: {name: x, type: iut}}\n  - name: b"),
            "{out}"
        );
        let out = apply(text, &Change::DeleteTest { test: 0 }, "").unwrap();
        assert_eq!(
            out,
            "# top\ntests:\n  - name: b\n    network_environment: {type: localhost}\n    services:\n      s: {implementation: {name: x, type: iut}}\n"
        );
        // The last test or service is not removed as a patch (the caller rewrites).
        assert_eq!(apply(&out, &Change::DeleteTest { test: 0 }, ""), None);
    }
}

/// Through the app: an edit in the form keeps the YAML's comments; a structural one
/// rewrites it, says so, and Ctrl-Z in the YAML brings the comments back.
#[test]
fn form_edits_keep_the_yamls_comments() {
    use panther::tui::app::{Action, App, Screen};
    let reg = registry();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("qs.yaml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/quickstart.yaml"),
        &p,
    )
    .unwrap();
    let mut a = App::new(&reg, false);
    a.open_file(&p).unwrap();
    assert_eq!(a.screen, Screen::Editor);
    let send = |a: &mut App, c: KeyCode| a.update(Action::EditorKey(key(c)));
    send(&mut a, KeyCode::F(2));
    assert!(a.form.is_some());
    // The tester's count, edited in the form: only that value changes in the YAML.
    for c in [
        KeyCode::Char('j'),
        KeyCode::Char('j'),
        KeyCode::Char('j'),
        KeyCode::Tab,
    ] {
        send(&mut a, c);
    }
    for c in [KeyCode::Char('j'), KeyCode::Char('j'), KeyCode::Enter] {
        send(&mut a, c);
    }
    for c in [
        KeyCode::Backspace,
        KeyCode::Backspace,
        KeyCode::Char('7'),
        KeyCode::Enter,
    ] {
        send(&mut a, c);
    }
    let text = a.editor.as_ref().unwrap().text();
    let before = std::fs::read_to_string(&p).unwrap();
    assert_eq!(
        text,
        before.replace(
            "{count: 10, interval_ms: 20}",
            "{count: 7, interval_ms: 20}"
        ),
        "{:?}",
        a.form.as_ref().unwrap().message()
    );
    assert!(a.message.is_none(), "{:?}", a.message);
    send(&mut a, KeyCode::Esc);
    // A service added with the wizard goes in as a block; the comments stay.
    send(&mut a, KeyCode::Char('a'));
    for _ in 0..6 {
        if a.form.as_ref().unwrap().is_typing() {
            send(&mut a, KeyCode::Enter);
        }
    }
    let text = a.editor.as_ref().unwrap().text();
    let services = a.form.as_ref().unwrap().experiment().tests[0]
        .services
        .len();
    assert_eq!(services, 3, "{:?}", a.form.as_ref().unwrap().message());
    assert!(
        text.starts_with("# The quickstart"),
        "{:?}\n{text}",
        a.message
    );
    assert!(a.message.is_none(), "{:?}", a.message);
    // A new test is added as a block; the comments stay.
    send(&mut a, KeyCode::Char('T'));
    let text = a.editor.as_ref().unwrap().text();
    assert!(
        text.starts_with("# The quickstart") && text.contains("- name: test_2"),
        "{text}"
    );
    assert!(a.message.is_none(), "{:?}", a.message);
    // Deleting the server also clears the tester's target: not a block removal, so the
    // YAML is rewritten, and the message says how to get the comments back.
    for c in [
        KeyCode::Char('g'),
        KeyCode::Char('j'),
        KeyCode::Char('j'),
        KeyCode::Char('d'),
    ] {
        send(&mut a, c);
    }
    let text = a.editor.as_ref().unwrap().text();
    assert!(!text.contains("# The quickstart"), "{text}");
    assert!(
        a.message.as_deref().unwrap_or("").contains("Ctrl-Z"),
        "{:?}",
        a.message
    );
    send(&mut a, KeyCode::F(2));
    for _ in 0..2 {
        a.update(Action::EditorKey(KeyEvent::new(
            KeyCode::Char('z'),
            crossterm::event::KeyModifiers::CONTROL,
        )));
    }
    let text = a.editor.as_ref().unwrap().text();
    assert!(text.starts_with("# The quickstart"), "{text}");
}

/// Every change on every experiment and config fixture: a patch or None, never a panic.
#[test]
fn patches_never_panic_on_any_fixture() {
    use panther::tui::form_patch::{Change, apply};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        "experiments",
        "tests/fixtures/configs",
        "tests/fixtures/configs/bad",
    ] {
        for e in std::fs::read_dir(root.join(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            if e.path().extension().is_some_and(|x| x == "yaml") {
                files.push(e.path());
            }
        }
    }
    assert!(files.len() > 10, "{files:?}");
    let changes = [
        Change::Network {
            test: 0,
            kind: "x".into(),
        },
        Change::AddTest,
        Change::DeleteTest { test: 1 },
        Change::AddService {
            test: 0,
            service: "server".into(),
        },
        Change::DeleteService {
            test: 0,
            service: "server".into(),
        },
        Change::Param {
            test: 0,
            service: "tester".into(),
            param: "count".into(),
            value: Some(serde_json::json!(3)),
        },
        Change::Param {
            test: 0,
            service: "tester".into(),
            param: "count".into(),
            value: None,
        },
    ];
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for c in &changes {
            let _ = apply(&text, c, &text);
            let _ = apply(&text, c, "");
        }
    }
}
