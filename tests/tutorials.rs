//! Every bundled tutorial, followed end to end by driving the app with the actions a user
//! takes (palette lines typed key by key, the form's wizard, editor edits, Ctrl-R), with
//! real runs carried out as the event loop does. Each step's check must fire, in order, so a
//! tutorial that stops matching the app fails here first.

use std::path::Path;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use panther::plugin::{LoadOptions, Registry};
use panther::tui::app::{Action, App, Screen};

/// The tutorials this file follows; a bundled tutorial missing here fails
/// `every_bundled_tutorial_is_followed_here`.
const FOLLOWED: &[&str] = &[
    "first_run",
    "build_with_the_form",
    "find_the_bug",
    "write_a_service_plugin",
    "write_an_environment_plugin",
    "write_a_protocol_plugin",
    "configuration",
];

/// An app as the workbench sets it up, but with every folder it writes in `home`.
fn app(home: &Path, tutorial: &str) -> App {
    let opts = LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![],
        availability: false,
    };
    let mut a = App::new(&Registry::load(&opts), false);
    a.load_options = opts;
    a.plugin_home = Some(home.join("plugins"));
    a.config_path = Some(home.join("config.toml"));
    a.tutorial_progress = Some(home.join("state/tutorials.json"));
    a.outputs = home.join("outputs");
    a.panther_exe = Some(env!("CARGO_BIN_EXE_panther").into());
    a.update(Action::Resize(120, 40));
    a.update(Action::OpenPalette);
    type_line(&mut a, &format!("tutor {tutorial}"));
    assert_eq!(
        a.tutorial.as_ref().map(|t| t.tutorial.name.as_str()),
        Some(tutorial),
        "{:?}",
        a.message
    );
    a
}

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

/// Types a line into the open palette (or the wizard's question) and presses Enter.
fn type_line(a: &mut App, line: &str) {
    assert!(a.palette.is_some(), "the palette is open");
    for c in line.chars() {
        a.update(Action::PaletteKey(key(KeyCode::Char(c))));
    }
    a.update(Action::PaletteKey(key(KeyCode::Enter)));
}

fn command(a: &mut App, line: &str) {
    a.update(Action::OpenPalette);
    type_line(a, line);
}

fn step(a: &App) -> usize {
    a.tutorial.as_ref().expect("following a tutorial").step
}

fn done(a: &App) -> bool {
    a.tutorial.as_ref().expect("following a tutorial").done()
}

/// Ctrl-R in the editor, and the run carried out to its end.
fn run_editor(a: &mut App) {
    a.update(Action::GoTo(Screen::Editor));
    let effects = a.update(Action::EditorKey(KeyEvent::new(
        KeyCode::Char('r'),
        KeyModifiers::CONTROL,
    )));
    assert_eq!(
        effects.len(),
        1,
        "Ctrl-R launches: {:?}",
        a.editor.as_ref().unwrap().diagnostics()
    );
    panther::tui::launch_and_wait(a, &effects[0], Duration::from_secs(120)).unwrap();
}

/// The editor's text with `from` replaced by `to`, as the user would type it.
fn edit(a: &mut App, from: &str, to: &str) {
    a.update(Action::GoTo(Screen::Editor));
    let reg = a.reg.clone();
    let ed = a.editor.as_mut().unwrap();
    let text = ed.text();
    assert!(text.contains(from), "{from} in {text}");
    ed.replace_text(&text.replacen(from, to, 1), &reg);
    a.update(Action::Resize(120, 40)); // any action: the app looks again
}

fn select(a: &mut App, name: &str) {
    a.update(Action::GoTo(Screen::Plugins));
    a.update(Action::StartFilter);
    for c in name.chars() {
        a.update(Action::FilterChar(c));
    }
    a.update(Action::FilterAccept);
    assert_eq!(
        a.selected_plugin().map(|p| p.name().to_string()).as_deref(),
        Some(name)
    );
}

#[test]
fn every_bundled_tutorial_is_followed_here() {
    let names: Vec<String> = panther::tutorial::bundled()
        .into_iter()
        .map(|t| t.name)
        .collect();
    for n in &names {
        assert!(
            FOLLOWED.contains(&n.as_str()),
            "tutorial {n} has no test here"
        );
    }
    assert_eq!(names.len(), FOLLOWED.len());
    assert!(names.len() >= 6);
}

#[test]
fn highlights_name_screens_and_every_step_says_what_to_do() {
    for t in panther::tutorial::bundled() {
        for s in &t.steps {
            if let Some(h) = &s.highlight {
                assert!(
                    Screen::ALL.iter().any(|x| x.title() == h),
                    "{}: highlight `{h}` is not a screen",
                    t.name
                );
            }
            assert!(!s.text.trim().is_empty(), "{}: {}", t.name, s.title);
        }
    }
}

#[test]
fn first_run() {
    let home = tempfile::tempdir().unwrap();
    let mut a = app(home.path(), "first_run");
    assert_eq!(step(&a), 0);
    a.update(Action::GoTo(Screen::Editor)); // the quickstart, valid
    assert_eq!(step(&a), 2);
    run_editor(&mut a);
    assert_eq!(step(&a), 3, "the quickstart passed");
    assert_eq!(
        a.screen,
        Screen::Sequence,
        "the run opened the sequence view"
    );
    a.update(Action::SequenceKey(key(KeyCode::Char('k'))));
    a.update(Action::SequenceKey(key(KeyCode::Enter)));
    assert!(done(&a));
    let saved = panther::tutorial::load_progress(&home.path().join("state/tutorials.json"));
    assert_eq!(saved.get("first_run"), Some(&4));
}

#[test]
fn build_with_the_form() {
    let home = tempfile::tempdir().unwrap();
    let mut a = app(home.path(), "build_with_the_form");
    command(&mut a, "new");
    assert_eq!(step(&a), 1);
    let k = |c: KeyCode| Action::EditorKey(key(c));
    // The form's wizard: a, then each question answered by picking the wanted option.
    let add = |a: &mut App, want: &[&str]| {
        a.update(k(KeyCode::Char('a')));
        for _ in 0..20 {
            let Some(opts) = a
                .form
                .as_ref()
                .unwrap()
                .wizard_options()
                .map(|o| o.to_vec())
            else {
                break;
            };
            let pos = opts
                .iter()
                .position(|x| {
                    want.iter().any(|w| {
                        x == w || x.starts_with(&format!("{w} ")) || x.starts_with(&format!("{w}:"))
                    })
                })
                .unwrap_or(0);
            for _ in 0..pos {
                a.update(k(KeyCode::Down));
            }
            a.update(k(KeyCode::Enter));
        }
    };
    add(&mut a, &["ping_pong", "minip", "functional", "server"]);
    assert_eq!(
        step(&a),
        2,
        "{:?}",
        a.editor.as_ref().unwrap().diagnostics()
    );
    add(&mut a, &["minip_tester", "minip", "functional", "client"]);
    a.update(k(KeyCode::F(2))); // the YAML the form wrote
    assert!(a.editor.as_ref().unwrap().text().contains("minip_tester"));
    run_editor(&mut a);
    assert!(
        done(&a),
        "{:?} {:?}",
        a.finished_tests,
        a.sequence.as_ref().map(|s| &s.status)
    );
}

#[test]
fn find_the_bug() {
    let home = tempfile::tempdir().unwrap();
    let mut a = app(home.path(), "find_the_bug");
    command(
        &mut a,
        concat!(
            "open ",
            env!("CARGO_MANIFEST_DIR"),
            "/experiments/minip_versions.yaml"
        ),
    );
    assert_eq!(step(&a), 1);
    run_editor(&mut a);
    assert_eq!(step(&a), 2, "{:?}", a.finished_tests);
    a.update(Action::GoTo(Screen::History));
    assert!(done(&a));
}

#[test]
fn write_a_service_plugin_with_the_wizard() {
    let home = tempfile::tempdir().unwrap();
    let mut a = app(home.path(), "write_a_service_plugin");
    command(&mut a, "create");
    assert!(a.wizard.is_some() && a.palette.is_some());
    type_line(&mut a, "service");
    type_line(&mut a, "My IUT"); // a bad name: said why, kept for fixing
    assert!(
        a.message.as_deref().unwrap_or("").contains("try `my_iut`"),
        "{:?}",
        a.message
    );
    assert_eq!(a.palette.as_deref(), Some("My IUT"));
    a.palette = Some(String::new()); // the user clears the line
    type_line(&mut a, "my_iut");
    type_line(&mut a, ""); // Enter keeps minip
    assert!(a.wizard.is_none(), "{:?}", a.message);
    let manifest = home
        .path()
        .join("plugins/services/iut/minip/my_iut/plugin.yaml");
    assert!(manifest.exists(), "{:?}", a.message);
    // Created, loaded and selected in the browser: two steps at once.
    assert_eq!(step(&a), 2, "{:?}", a.message);
    assert_eq!(a.screen, Screen::Plugins);
    edit(&mut a, "name: ping_pong", "name: my_iut");
    assert_eq!(step(&a), 3);
    run_editor(&mut a);
    assert_eq!(step(&a), 4, "{:?}", a.finished_tests);
    // From the top of the timeline down to one of the server's rows, then l.
    a.update(Action::SequenceKey(key(KeyCode::Char('g'))));
    for _ in 0..200 {
        if a.sequence.as_ref().unwrap().selected_service().as_deref() == Some("server") {
            break;
        }
        a.update(Action::SequenceKey(key(KeyCode::Char('j'))));
    }
    a.update(Action::SequenceKey(key(KeyCode::Char('l'))));
    let s = a.sequence.as_ref().unwrap();
    let (svc, log) = s.logs.clone().unwrap_or_else(|| {
        panic!(
            "logs not open: {} · {} rows · {:?}",
            s.status,
            s.timeline.len(),
            s.selected_service()
        )
    });
    assert_eq!(svc, "server");
    assert!(log.contains("listening on"), "{log}");
    assert!(done(&a));
}

#[test]
fn write_a_service_plugin_from_the_command_line() {
    let home = tempfile::tempdir().unwrap();
    let mut a = app(home.path(), "write_a_service_plugin");
    // PANTHER's spelling, in another terminal, into the same plugins folder.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_panther"))
        .args(["--create-plugin", "service", "my_iut"])
        .env("XDG_CONFIG_HOME", home.path().join("xdg"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    std::fs::rename(
        home.path().join("xdg/panther/plugins"),
        home.path().join("plugins"),
    )
    .unwrap();
    a.update(Action::Down);
    assert_eq!(step(&a), 1, "the file validates");
    select(&mut a, "ping_pong");
    a.update(Action::Cancel);
    assert!(
        !a.plugins.iter().any(|p| p.name() == "my_iut"),
        "not loaded before :reload"
    );
    command(&mut a, "reload");
    select(&mut a, "my_iut");
    assert_eq!(step(&a), 2);
}

#[test]
fn write_an_environment_plugin() {
    let home = tempfile::tempdir().unwrap();
    let mut a = app(home.path(), "write_an_environment_plugin");
    command(&mut a, "create execution_environment my_nice");
    assert_eq!(step(&a), 2, "created and selected: {:?}", a.message);
    edit(
        &mut a,
        "    services:\n",
        "    execution_environment: [{type: my_nice}]\n    services:\n",
    );
    assert_eq!(
        step(&a),
        3,
        "{:?}",
        a.editor.as_ref().unwrap().diagnostics()
    );
    run_editor(&mut a);
    assert_eq!(step(&a), 4, "{:?}", a.finished_tests);
    // The wrapper really ran: each service's recorded command starts with nice.
    let dir = a.sequence.as_ref().unwrap().dir.clone().unwrap();
    let summary = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    assert!(summary.contains("\"verdict\": \"pass\""), "{summary}");
    command(&mut a, "create network_environment my_net");
    assert!(done(&a), "{:?}", a.message);
}

#[test]
fn write_a_protocol_plugin() {
    let home = tempfile::tempdir().unwrap();
    let mut a = app(home.path(), "write_a_protocol_plugin");
    command(&mut a, "create protocol my_proto");
    assert_eq!(step(&a), 2, "{:?}", a.message);
    // The user edits plugin.yaml in their editor: first with a mistake.
    let file = home
        .path()
        .join("plugins/protocols/client_server/my_proto/plugin.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let anchor = "  properties:\n";
    assert!(text.contains(anchor), "{text}");
    let broken = text.replace(
        anchor,
        "  properties:\n    - {nme: echoes_payload, description: x}\n",
    );
    std::fs::write(&file, broken).unwrap();
    command(&mut a, "reload");
    assert_eq!(step(&a), 2);
    assert!(
        a.problems.iter().any(|p| p.contains("plugin.yaml:")),
        "the mistake is shown with its place: {:?}",
        a.problems
    );
    std::fs::write(
        &file,
        text.replace(
            anchor,
            "  properties:\n    - name: echoes_payload\n      description: The answer carries the request's payload.\n",
        ),
    )
    .unwrap();
    command(&mut a, "reload");
    assert_eq!(step(&a), 3, "{:?}", a.problems);
    command(&mut a, "create iut my_proto_server my_proto");
    assert!(done(&a), "{:?}", a.message);
    assert!(
        home.path()
            .join("plugins/services/iut/my_proto/my_proto_server/server.py")
            .exists()
    );
}

#[test]
fn configuration() {
    let home = tempfile::tempdir().unwrap();
    let mut a = app(home.path(), "configuration");
    command(&mut a, "theme okabe-ito");
    assert_eq!(step(&a), 1);
    a.update(Action::ToggleHelp);
    assert_eq!(step(&a), 2);
    a.update(Action::Cancel);
    let cfg = home.path().join("config.toml");
    // A mistake first: reported at its place, settings kept.
    std::fs::write(&cfg, "theme = \"okabe-ito\"\n[keys]\ndwn = \"n\"\n").unwrap();
    command(&mut a, "reload");
    let m = a.message.clone().unwrap_or_default();
    assert!(m.contains("config.toml:3:1"), "{m}");
    assert!(m.contains("did you mean `down`?"), "{m}");
    assert_eq!(step(&a), 2);
    // `n` alone clashes with the sequence view's next match: refused, naming the screen.
    std::fs::write(&cfg, "theme = \"okabe-ito\"\n[keys]\ndown = \"n\"\n").unwrap();
    command(&mut a, "reload");
    let m = a.message.clone().unwrap_or_default();
    assert!(
        m.contains("config.toml:3:8") && m.contains("in the sequence view"),
        "{m}"
    );
    assert_eq!(step(&a), 2);
    std::fs::write(
        &cfg,
        "theme = \"okabe-ito\"\n[keys]\ndown = \"n\"\nnext-match = \"ctrl-n\"\n",
    )
    .unwrap();
    command(&mut a, "reload");
    assert!(done(&a), "{:?}", a.message);
    assert_eq!(a.theme.name, "okabe-ito");
    // The new binding works at once.
    a.update(Action::GoTo(Screen::Plugins));
    let before = a.selected;
    let act = panther::tui::keymap::action(key(KeyCode::Char('n')), &a);
    assert_eq!(act, Some(Action::Down));
    a.update(act.unwrap());
    assert_ne!(a.selected, before);
    // `plugin-dirs` in the config: the folders are loaded at the next `:reload`.
    let extra = home.path().join("my-plugins");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_panther"))
        .args(["plugin", "new", "tester", "my_tester", "--dir"])
        .arg(&extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    std::fs::write(
        &cfg,
        format!(
            "theme = \"okabe-ito\"\nplugin-dirs = [\"{}\"]\n",
            extra.display()
        ),
    )
    .unwrap();
    assert!(!a.plugins.iter().any(|p| p.name() == "my_tester"));
    command(&mut a, "reload");
    assert!(
        a.plugins.iter().any(|p| p.name() == "my_tester"),
        "{:?}",
        a.message
    );
}

#[test]
fn the_picker_starts_and_resumes_tutorials() {
    let home = tempfile::tempdir().unwrap();
    let mut a = app(home.path(), "configuration");
    command(&mut a, "theme okabe-ito");
    assert_eq!(step(&a), 1);
    command(&mut a, "tutor off");
    assert!(a.tutorial.is_none());
    command(&mut a, "tutor");
    let p = a.tutor_picker.as_ref().expect("the picker is open");
    let conf = p
        .entries
        .iter()
        .position(|e| e.name == "configuration")
        .unwrap();
    assert_eq!(p.entries[conf].done, 1, "progress shown");
    for _ in 0..p.entries.len() {
        a.update(Action::TutorKey(key(KeyCode::Up)));
    }
    for _ in 0..conf {
        a.update(Action::TutorKey(key(KeyCode::Down)));
    }
    a.update(Action::TutorKey(key(KeyCode::Enter)));
    assert!(a.tutor_picker.is_none());
    assert_eq!(step(&a), 1, "resumed where it was left");
    // Your own tutorials join the list; a broken one is reported with its place.
    let dir = home.path().join("tutorials");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("mine.yaml"),
        "name: mine\ntitle: Mine\nsummary: s\nsteps:\n  - title: a\n    text: b\n    check: {screen: runs}\n",
    )
    .unwrap();
    std::fs::write(dir.join("broken.yaml"), "name: [\n").unwrap();
    a.tutorial_dir = Some(dir);
    command(&mut a, "tutor");
    let m = a.message.clone().unwrap_or_default();
    assert!(m.contains("broken.yaml:"), "{m}");
    let p = a.tutor_picker.as_ref().expect("the picker is open");
    assert!(p.entries.iter().any(|e| e.name == "mine"));
    a.update(Action::TutorKey(key(KeyCode::Esc)));
    command(&mut a, "tutor mine");
    a.update(Action::GoTo(Screen::History));
    assert!(done(&a));
    command(&mut a, "tutor first_rnu");
    assert!(
        a.message
            .as_deref()
            .unwrap_or("")
            .contains("did you mean `first_run`?"),
        "{:?}",
        a.message
    );
}
