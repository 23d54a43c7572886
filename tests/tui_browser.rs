//! The plugin browser, driven through `update` as the event loop does, drawn on a
//! `TestBackend`, compared with committed snapshots at 120×40 and 80×24.

mod common;
use common::draw_text;
use panther::plugin::{LoadOptions, Registry};
use panther::tui::app::{Action, App, Effect};

fn app() -> App {
    // Requirements unchecked, so the snapshots do not depend on what this machine has.
    let reg = common::bundled();
    App::new(&reg, false)
}

fn render(app: &mut App, w: u16, h: u16) -> String {
    app.update(Action::Resize(w, h));
    draw_text(w, h, |f| panther::tui::screens::draw(f, app))
}

fn select(app: &mut App, name: &str) {
    app.update(Action::Top);
    for _ in 0..app.plugins.len() {
        if app.selected_plugin().is_some_and(|p| p.name() == name) {
            return;
        }
        app.update(Action::Down);
    }
    panic!("{name} not reachable");
}

#[test]
fn browser_shows_the_tree_by_category_and_the_readme() {
    let mut a = app();
    select(&mut a, "ping_pong");
    insta::assert_snapshot!("browser_ping_pong_120x40", render(&mut a, 120, 40));
    insta::assert_snapshot!("browser_ping_pong_80x24", render(&mut a, 80, 24));
}

#[test]
fn filter_narrows_the_tree_and_keeps_a_plugin_selected() {
    let mut a = app();
    a.update(Action::StartFilter);
    for c in "http".chars() {
        a.update(Action::FilterChar(c));
    }
    let names: Vec<&str> = a
        .tree
        .iter()
        .filter_map(|r| match r {
            panther::tui::app::TreeRow::Plugin(i) => Some(a.plugins[*i].name()),
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        // The QUIC IUTs that speak HTTP/3 match too (their tags and descriptions say so).
        [
            "aioquic",
            "nginx",
            "ngtcp2",
            "python_http",
            "quiche",
            "http_conformance",
            "http"
        ],
        "{names:?}"
    );
    assert!(a.selected_plugin().is_some());
    a.update(Action::FilterAccept);
    insta::assert_snapshot!("browser_filter_http_80x24", render(&mut a, 80, 24));
    // Esc clears the filter and everything is back.
    a.update(Action::Cancel);
    assert_eq!(a.filter, "");
    assert!(a.tree.len() > 12);
}

#[test]
fn help_is_built_from_the_keymap_and_q_quits() {
    let mut a = app();
    a.update(Action::ToggleHelp);
    let screen = render(&mut a, 120, 40);
    for (title, bindings) in a.bindings() {
        assert!(screen.contains(&title), "help names `{title}`");
        for b in bindings {
            assert!(screen.contains(&b.what), "help lists `{}`", b.what);
        }
    }
    insta::assert_snapshot!("browser_help_120x40", screen);
    // At 80×24 it scrolls: the last binding comes into view.
    let small = render(&mut a, 80, 24);
    assert!(small.contains("scroll"), "{small}");
    insta::assert_snapshot!("browser_help_80x24", small);
    for _ in 0..10 {
        a.update(Action::ScrollHelp(1));
    }
    let last = a.bindings().last().unwrap().1.last().unwrap().what.clone();
    assert!(render(&mut a, 80, 24).contains(&last), "{last}");
    a.update(Action::Cancel);
    assert!(!a.show_help);
    assert_eq!(a.update(Action::Quit), vec![Effect::Quit]);
}

#[test]
fn moving_skips_category_rows_and_stops_at_the_ends() {
    let mut a = app();
    a.update(Action::Top);
    let first = a.selected_plugin().unwrap().name().to_string();
    a.update(Action::Up);
    assert_eq!(a.selected_plugin().unwrap().name(), first);
    for _ in 0..100 {
        a.update(Action::Down);
    }
    let last = a.selected_plugin().unwrap().name().to_string();
    a.update(Action::Bottom);
    assert_eq!(a.selected_plugin().unwrap().name(), last);
    a.update(Action::PageUp);
    assert!(a.selected_plugin().is_some());
}

/// A real quickstart run into a fresh results root.
fn record_quickstart() -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_panther"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "--no-user-plugins",
            "run",
            "experiments/quickstart.yaml",
            "--output",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    out
}

#[test]
fn runs_screen_lists_past_runs_with_their_verdicts() {
    let out = record_quickstart();
    let mut a = app();
    a.outputs = out.path().to_path_buf();
    a.update(Action::NextScreen);
    assert_eq!(a.screen, panther::tui::app::Screen::History);
    assert_eq!(a.runs.len(), 1);
    let screen = render(&mut a, 120, 40);
    assert!(
        screen.contains("pass") && screen.contains("✓ pass quickstart"),
        "{screen}"
    );
    assert!(
        screen.contains("││quickstart") && screen.contains("verdict pass"),
        "the report is shown, without its Markdown marks:\n{screen}"
    );
    assert!(!screen.contains("**") && !screen.contains("# "), "{screen}");
    a.update(Action::GoTo(panther::tui::app::Screen::Plugins));
    assert_eq!(a.screen, panther::tui::app::Screen::Plugins);
}

#[test]
fn the_palette_opens_files_and_runs_and_explains_typos() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let key = |c: KeyCode| Action::PaletteKey(KeyEvent::new(c, KeyModifiers::NONE));
    let mut a = app();
    a.update(Action::OpenPalette);
    for c in "qiut".chars() {
        a.update(key(KeyCode::Char(c)));
    }
    assert_eq!(a.update(key(KeyCode::Enter)), vec![]);
    assert!(
        a.message
            .as_deref()
            .unwrap_or("")
            .contains("did you mean `quit`?"),
        "{:?}",
        a.message
    );

    let quickstart = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/quickstart.yaml");
    assert_eq!(a.command(&format!("open {quickstart}")), vec![]);
    assert_eq!(a.screen, panther::tui::app::Screen::Editor);
    assert!(a.editor.as_ref().unwrap().can_launch());
    match a.command("run").as_slice() {
        [Effect::Launch { text, .. }] => assert!(text.contains("minip_quickstart")),
        other => panic!("{other:?}"),
    }
    // One test of it, by name; a typo gets a suggestion and runs nothing.
    match a.command("run minip_quickstart").as_slice() {
        [Effect::Launch { only_test, .. }] => {
            assert_eq!(only_test.as_deref(), Some("minip_quickstart"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(a.command("run minip_quickstrat"), vec![]);
    assert!(
        a.message
            .as_deref()
            .unwrap_or("")
            .contains("did you mean `minip_quickstart`?"),
        "{:?}",
        a.message
    );
    // `:new` opens an empty experiment in the form view, untitled.
    assert_eq!(a.command("new"), vec![]);
    assert_eq!(a.screen, panther::tui::app::Screen::Editor);
    assert!(a.form.is_some());
    assert!(a.editor.as_ref().unwrap().path().is_none());
    assert_eq!(a.command("quit"), vec![Effect::Quit]);
}

#[test]
fn a_recorded_run_opens_in_the_sequence_view() {
    let out = record_quickstart();
    let dir = std::fs::read_dir(out.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut a = app();
    a.command(&format!("replay {}", dir.display()));
    assert_eq!(
        a.screen,
        panther::tui::app::Screen::Sequence,
        "{:?}",
        a.message
    );
    let screen = render(&mut a, 120, 40);
    assert!(
        screen.contains("PING seq=") || screen.contains("PONG seq="),
        "{screen}"
    );
    assert!(screen.contains("pass: expectations met"), "{screen}");

    // A service's logs: select one of its rows, press l.
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let key = |c: char| Action::SequenceKey(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    a.update(key('g'));
    for _ in 0..50 {
        if a.sequence.as_ref().unwrap().selected_service().as_deref() == Some("server") {
            break;
        }
        a.update(key('j'));
    }
    a.update(key('l'));
    let (svc, text) = a
        .sequence
        .as_ref()
        .unwrap()
        .logs
        .clone()
        .expect("logs open");
    assert_eq!(svc, "server");
    assert!(text.contains("listening on"), "{text}");
    // Tab in the logs shows the next service's.
    a.update(Action::SequenceKey(KeyEvent::new(
        KeyCode::Tab,
        KeyModifiers::NONE,
    )));
    assert_eq!(
        a.sequence.as_ref().unwrap().logs.as_ref().unwrap().0,
        "tester"
    );
    a.update(key('l'));
    // `>` moves the server's lane one place right (past the link relay's); `<` brings it back.
    let lanes = |a: &App| a.sequence.as_ref().unwrap().timeline.lanes().to_vec();
    assert_eq!(lanes(&a), ["server", "link", "tester"]);
    a.update(key('>'));
    assert_eq!(lanes(&a), ["link", "server", "tester"]);
    let moved = render(&mut a, 120, 40);
    let header = moved.lines().find(|l| l.contains("orchestrator")).unwrap();
    assert!(
        header.find("link").unwrap() < header.find("server").unwrap(),
        "{header}"
    );
    a.update(key('<'));
    assert_eq!(lanes(&a), ["server", "link", "tester"]);
    a.update(key('l'));
    // Hiding the server's lane hides its arrows; H brings them back.
    a.update(key('l'));
    a.update(key('h'));
    let hidden = render(&mut a, 120, 40);
    assert!(!hidden.contains(" PING seq=1 len"), "{hidden}");
    a.update(key('H'));
    // The detail of a message shows its bytes, read back from events.jsonl.
    // Anchored at both ends: the server logs "PING seq=1 len=15 from …" too, sometimes
    // before the link delivers the message.
    for c in "/^PING seq=1 len=15$".chars() {
        a.update(key(c));
    }
    a.update(Action::SequenceKey(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    a.update(Action::SequenceKey(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    let detail = render(&mut a, 120, 40);
    assert!(
        detail.contains("bytes on the wire; first bytes: 01 00 00 00 01"),
        "{detail}"
    );
    a.update(Action::SequenceKey(KeyEvent::new(
        KeyCode::Esc,
        KeyModifiers::NONE,
    )));
    // `/PONG` then `f` keeps only the matching rows; `F` shows everything again.
    for c in "/PONG".chars() {
        a.update(key(c));
    }
    a.update(Action::SequenceKey(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    a.update(key('f'));
    let filtered = render(&mut a, 120, 40);
    assert!(
        filtered.contains(" PONG seq=1 len") && !filtered.contains("─ PING seq=1 len"),
        "{filtered}"
    );
    a.update(key('F'));
    assert!(render(&mut a, 120, 40).contains("testing the minip server"));
    // Filter by kind and by service, then back to everything.
    let enter = || Action::SequenceKey(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    for c in "/kind:message".chars() {
        a.update(key(c));
    }
    a.update(enter());
    a.update(key('f'));
    let only_messages = render(&mut a, 120, 40);
    assert!(
        only_messages.contains("─ PING seq=1 len") && !only_messages.contains("listening on"),
        "{only_messages}"
    );
    a.update(key('F'));
    for c in "/service:tester".chars() {
        a.update(key(c));
    }
    a.update(enter());
    a.update(key('f'));
    let only_tester = render(&mut a, 120, 40);
    assert!(
        !only_tester.contains("listening on") && only_tester.contains("testing the minip server"),
        "{only_tester}"
    );
    a.update(key('F'));
    // m writes the Mermaid diagram beside the run's own, which it leaves alone, and says
    // where (issue 14 #12: it overwrote sequence.mmd).
    let own = dir.join("sequence.mmd");
    std::fs::write(&own, "the run's own diagram").unwrap();
    a.update(key('m'));
    assert_eq!(
        std::fs::read_to_string(&own).unwrap(),
        "the run's own diagram"
    );
    let view = dir.join("sequence-view.mmd");
    assert!(
        std::fs::read_to_string(&view)
            .unwrap()
            .starts_with("sequenceDiagram")
    );
    let note = a.sequence.as_ref().unwrap().note.clone().unwrap();
    assert!(note.contains("sequence-view.mmd"), "{note}");
}

#[test]
fn user_key_bindings_drive_the_keymap_and_its_help() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let cfg = panther::tui::config::parse_str(
        "[keys]\ndown = \"n\"\nup = \"e\"\nnext-match = \"ctrl-n\"\n",
        "config.toml",
    )
    .unwrap();
    let mut a = app();
    a.keymap = panther::tui::keymap::Keymap::from_config(&cfg).unwrap();
    let n = KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE);
    assert_eq!(panther::tui::keymap::action(n, &a), Some(Action::Down));
    let j = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
    assert_eq!(
        panther::tui::keymap::action(j, &a),
        None,
        "j is no longer bound"
    );
    assert!(
        a.bindings()[0]
            .1
            .iter()
            .any(|b| b.keys.split(' ').any(|k| k == "n") && b.what == "move down")
    );
}

#[test]
fn a_bad_user_config_stops_the_workbench_with_its_position() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_panther"))
        .env(
            "PANTHER_CONFIG",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/config/bad_clash_default.toml"
            ),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("bad_clash_default.toml:") && e.contains("is bound to both"),
        "{e}"
    );
}

#[test]
fn installing_a_plugin_shows_the_commands_and_asks_first() {
    let reg = Registry::load(&LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/plugins").into()],
        availability: true,
    });
    let mut a = App::new(&reg, false);
    select(&mut a, "needs_missing");
    a.update(Action::AskInstall);
    let screen = render(&mut a, 100, 30);
    assert!(
        screen.contains("apt-get install -y --no-install-recommends panther-test-missing-package"),
        "{screen}"
    );
    assert!(screen.contains("y run them"), "{screen}");
    // No: nothing runs.
    assert_eq!(a.update(Action::Answer(false)), vec![]);
    assert!(a.confirm_install.is_none());
    // Yes: the exact argv goes to the loop, and a failure is reported and re-checked.
    a.update(Action::AskInstall);
    match a.update(Action::Answer(true)).as_slice() {
        [Effect::Install { plugin, commands }] => {
            assert_eq!(plugin, "needs_missing");
            // apt-get (after `apt-get update` when this machine's lists are stale).
            let last = commands.last().unwrap();
            assert!(last.contains(&"apt-get".to_string()), "{commands:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(a.installing.is_some(), "the install's progress is shown");
    a.update(Action::Installed {
        plugin: "needs_missing".into(),
        outcome: Err("no such package".into()),
    });
    assert!(a.message.as_deref().unwrap().contains("failed"));
    assert!(a.selected_plugin().unwrap().availability.reason().is_some());
    // An available plugin says so instead of asking…
    select(&mut a, "minip");
    a.update(Action::AskInstall);
    assert!(a.confirm_install.is_none());
    // …unless it has a Docker image: then `i` offers to build it, as `panther images build`.
    select(&mut a, "ping_pong");
    a.update(Action::AskInstall);
    let (plugin, cmds) = a.confirm_install.clone().expect("asks to build the image");
    assert_eq!(plugin, "ping_pong");
    assert_eq!(cmds[0][1..], ["images", "build", "ping_pong"]);
    assert_eq!(a.update(Action::Answer(false)), vec![]);
    select(&mut a, "docker_compose");
    a.update(Action::AskInstall);
    assert_eq!(
        a.confirm_install.clone().unwrap().1[0][1..],
        ["images", "build"]
    );
}

#[test]
fn a_click_selects_the_plugin_under_it() {
    let mut a = app();
    let screen = render(&mut a, 120, 40);
    // Find the screen row of `python_http` and click on it.
    let row = screen
        .lines()
        .position(|l| l.contains("✓ python_http"))
        .expect("listed") as u16;
    a.update(Action::Click(5, row));
    assert_eq!(a.selected_plugin().unwrap().name(), "python_http");
    // A click on a category heading or outside the list changes nothing.
    let heading = screen
        .lines()
        .position(|l| l.contains("services/testers"))
        .unwrap() as u16;
    a.update(Action::Click(5, heading));
    a.update(Action::Click(110, row));
    assert_eq!(a.selected_plugin().unwrap().name(), "python_http");
}

#[test]
fn f2_switches_between_the_yaml_and_the_form_of_the_same_experiment() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let f2 = || Action::EditorKey(KeyEvent::new(KeyCode::F(2), KeyModifiers::NONE));
    let mut a = app();
    a.update(Action::GoTo(panther::tui::app::Screen::Editor));
    a.update(f2());
    let form = a.form.as_ref().expect("form view");
    assert_eq!(form.experiment().tests[0].services.len(), 2);
    let screen = render(&mut a, 120, 40);
    assert!(
        screen.contains("ping_pong") && screen.contains("minip_tester"),
        "{screen}"
    );
    a.update(f2());
    assert!(a.form.is_none());
    // YAML that does not parse has no form; the message says why.
    let ed = a.editor.as_mut().unwrap();
    ed.replace_text("tests: [", &a.reg);
    a.update(f2());
    assert!(a.form.is_none());
    assert!(
        a.message
            .as_deref()
            .unwrap_or("")
            .contains("the form needs YAML that parses"),
        "{:?}",
        a.message
    );
}

#[test]
fn runs_screen_snapshot_of_a_finished_and_a_crashed_run() {
    let mut a = app();
    // Relative (tests run in the package root), so the snapshot does not depend on where the
    // repository is checked out.
    a.outputs = "tests/fixtures/outputs".into();
    a.update(Action::GoTo(panther::tui::app::Screen::History));
    assert_eq!(a.runs.len(), 2);
    insta::assert_snapshot!("runs_120x40", render(&mut a, 120, 40));
    a.update(Action::Down);
    insta::assert_snapshot!("runs_crashed_80x24", render(&mut a, 80, 24));
    // The crashed run still opens in the sequence view.
    a.update(Action::OpenRun);
    assert_eq!(a.screen, panther::tui::app::Screen::Sequence);
    assert!(
        a.sequence
            .as_ref()
            .unwrap()
            .status
            .starts_with("incomplete run"),
        "{}",
        a.sequence.as_ref().unwrap().status
    );
}

/// The tutorial panel: the current step, the tab it points at marked; the picker with
/// progress. (`tests/tutorials.rs` follows every tutorial to its end.)
#[test]
fn the_tutorial_panel_and_the_picker() {
    let t = panther::tutorial::bundled()
        .into_iter()
        .find(|t| t.name == "first_run")
        .unwrap();
    let steps = t.steps.len();
    let mut a = app();
    a.tutorial = Some(panther::tutorial::Session::new(t.clone(), 0));
    a.update(Action::Down); // on the plugins screen: nothing done yet
    assert_eq!(a.tutorial.as_ref().unwrap().step, 0);
    assert!(
        render(&mut a, 120, 40).contains("▸3 experiment◂"),
        "the step points at the experiment tab"
    );
    a.update(Action::GoTo(panther::tui::app::Screen::Editor)); // opens the valid quickstart
    assert_eq!(
        a.tutorial.as_ref().unwrap().step,
        2,
        "on the experiment screen, and it validates"
    );
    let screen = render(&mut a, 120, 40);
    assert!(
        screen.contains("tutorial: Your first run · step 3 of 4")
            && screen.contains("Press Ctrl-R")
            && screen.contains("▸4 sequence◂"),
        "{screen}"
    );
    a.tutorial = Some(panther::tutorial::Session::new(t, steps));
    assert!(render(&mut a, 80, 24).contains("Done: every step completed."));

    let mut a = app();
    a.update(Action::GoTo(panther::tui::app::Screen::Editor));
    a.command("tutor");
    insta::assert_snapshot!("tutor_picker_80x24", render(&mut a, 80, 24));
}

fn missing_plugin_app() -> App {
    let reg = Registry::load(&LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/plugins").into()],
        availability: true,
    });
    App::new(&reg, false)
}

/// `i` without root: apt under `sudo -n` (an argv; -n, since sudo cannot ask for a password
/// over the workbench), `apt-get update` first when the lists are stale; without sudo, a
/// clear refusal (issue 14 #10).
#[test]
fn install_uses_sudo_without_root_and_updates_stale_lists_first() {
    use panther::cli::as_root::Privilege;
    use panther::tui::app::browser_install_plan as plan;
    let mut a = missing_plugin_app();
    select(&mut a, "needs_missing");
    let p = a.selected_plugin().unwrap().clone();
    let pkg = "panther-test-missing-package";
    let user = Privilege {
        root: false,
        sudo: true,
    };
    let cmds = plan(&p, user, false).unwrap();
    assert_eq!(cmds[0], ["sudo", "-n", "apt-get", "update"]);
    assert_eq!(
        cmds[1],
        [
            "sudo",
            "-n",
            "apt-get",
            "install",
            "-y",
            "--no-install-recommends",
            pkg
        ]
    );
    let root = Privilege {
        root: true,
        sudo: false,
    };
    assert_eq!(
        plan(&p, root, true).unwrap(),
        [vec![
            "apt-get",
            "install",
            "-y",
            "--no-install-recommends",
            pkg
        ]]
    );
    let bare = Privilege {
        root: false,
        sudo: false,
    };
    let e = plan(&p, bare, true).unwrap_err();
    assert!(e.contains("needs root and sudo is not installed"), "{e}");
}

/// The install's commands are real processes whose lines stream into the status line as they
/// come (never the raw terminal); a failing command ends the install with its last line.
#[test]
fn an_install_streams_its_output_into_the_status_line() {
    let mut a = missing_plugin_app();
    select(&mut a, "needs_missing");
    a.update(Action::AskInstall);
    a.update(Action::Answer(true));
    let (tx, rx) = std::sync::mpsc::channel();
    let cmds = vec![
        vec![
            "printf".to_string(),
            "fetching 1 of 2\\nunpacking thing\\n".to_string(),
        ],
        vec!["ls".to_string(), "/no/such/dir/for/install".to_string()],
    ];
    panther::tui::spawn_install("needs_missing".into(), cmds, &tx)
        .join()
        .unwrap();
    drop(tx);
    let actions: Vec<Action> = rx.iter().collect();
    let mut shown = Vec::new();
    for act in actions {
        let end = matches!(act, Action::Installed { .. });
        if !end {
            a.update(act);
            shown.push(render(&mut a, 100, 30));
        } else {
            a.update(act);
        }
    }
    assert!(
        shown
            .iter()
            .any(|s| s.contains("installing needs_missing (1/2): fetching 1 of 2")),
        "{}",
        shown.join("\n")
    );
    assert!(
        shown
            .iter()
            .any(|s| s.contains("installing needs_missing (1/2): unpacking thing")),
        "{}",
        shown.join("\n")
    );
    assert!(shown.iter().any(|s| s.contains("(2/2): $ ls /no/such/dir")));
    // The failing step ends it: its last line, and no progress left on screen.
    let m = a.message.clone().unwrap();
    assert!(
        m.contains("install of needs_missing failed") && m.contains("No such file"),
        "{m}"
    );
    assert!(a.installing.is_none());
    assert!(!render(&mut a, 100, 30).contains("installing needs_missing ("));
}

const LONG: &str = "tests:\n  - name: long\n    network_environment: {type: localhost}\n    services:\n      server: {implementation: {name: ping_pong, type: iut}, protocol: {name: minip, role: server}}\n      tester:\n        implementation: {name: minip_tester, type: tester}\n        protocol: {name: minip, role: client, target: server}\n        plugin_config: {count: 100000, interval_ms: 10}\n    timeout: 120\n";

/// A real run interrupted (SIGINT, as Ctrl-C; `x x` sends the same cancel) once its
/// services are up: its results folder, and what `panther run` printed.
fn record_cancelled() -> (tempfile::TempDir, std::path::PathBuf, String) {
    use std::time::{Duration, Instant};
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("long.yaml");
    std::fs::write(&f, LONG).unwrap();
    let out = tmp.path().join("out");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_panther"))
        .args(["--no-user-plugins", "run"])
        .arg(&f)
        .arg("--output")
        .arg(&out)
        .args(["--grace-ms", "300"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    let dir = loop {
        let d = std::fs::read_dir(&out)
            .ok()
            .and_then(|mut r| r.next())
            .and_then(|e| e.ok())
            .map(|e| e.path());
        if let Some(d) = d
            && std::fs::read_to_string(d.join("events.jsonl"))
                .is_ok_and(|t| t.contains("\"step\":\"running\""))
        {
            break d;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the run never got going"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130));
    let printed =
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    (tmp, dir, printed)
}

/// A cancelled run is `cancelled` everywhere (issue 14 #10): the runs list, its report, the
/// run's summary lines, the sequence view's status, and the JUnit (an error of type
/// `cancelled`, so CI goes red), not "error" here and "inconcl." there.
#[test]
fn a_cancelled_run_is_cancelled_everywhere() {
    let (_tmp, dir, printed) = record_cancelled();
    assert!(
        printed
            .lines()
            .any(|l| l.contains("long") && l.contains("cancelled")),
        "{printed}"
    );
    let mut a = app();
    a.outputs = dir.parent().unwrap().to_path_buf();
    a.update(Action::GoTo(panther::tui::app::Screen::History));
    assert_eq!(a.runs.len(), 1);
    assert_eq!(a.runs[0].state(), "cancelled");
    let screen = render(&mut a, 120, 40);
    assert!(screen.contains("✗ cancelled long"), "{screen}");
    assert!(screen.contains("verdict cancelled"), "{screen}");
    assert!(
        screen.contains("long · cancelled ✗"),
        "the report's test row:\n{screen}"
    );
    assert!(
        !screen.contains("inconcl.") && !screen.contains("│✗ error"),
        "{screen}"
    );
    // The runs filter knows the word too.
    a.update(Action::StartFilter);
    for c in "cancel".chars() {
        a.update(Action::FilterChar(c));
    }
    a.update(Action::FilterAccept);
    assert_eq!(a.runs.len(), 1);
    a.update(Action::OpenRun);
    let status = &a.sequence.as_ref().unwrap().status;
    assert!(status.starts_with("cancelled"), "{status}");
    let junit = std::process::Command::new(env!("CARGO_BIN_EXE_panther"))
        .arg("export")
        .arg(&dir)
        .args(["--format", "junit"])
        .output()
        .unwrap();
    let xml = String::from_utf8_lossy(&junit.stdout);
    assert!(xml.contains("type=\"cancelled\""), "{xml}");
    assert!(xml.contains("<error message=\"cancelled: "), "{xml}");
    assert_eq!(junit.status.code(), Some(1));
}

/// An unavailable plugin's install recipe is said once (issue 14 #12: in the reason and again
/// as the commands).
#[test]
fn the_install_command_is_printed_once() {
    let mut a = missing_plugin_app();
    select(&mut a, "needs_missing");
    let s = render(&mut a, 120, 40);
    assert_eq!(
        s.matches("apt-get install").count(),
        1,
        "the recipe once:\n{s}"
    );
    assert!(s.contains("unavailable: "), "{s}");
    assert!(
        s.contains("install: apt-get install -y --no-install-recommends"),
        "{s}"
    );
}
