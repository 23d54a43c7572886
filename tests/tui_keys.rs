//! Keys as a newcomer presses them, through the real keymap (`keymap::action`) and `update`,
//! as the event loop does: view and insert modes, the global keys on every screen, help per
//! screen, unsaved work never lost, `[keys]` reaching every context, footers that fit.

mod common;
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use panther::tui::app::{Action, App, Effect, Screen};
use panther::tui::keymap::{self, Keymap};
use panther::tui::keys::Context;

/// An app as the workbench starts it: on the quickstart in the editor, in view mode.
fn app() -> App {
    let reg = common::bundled();
    let mut a = App::new(&reg, false);
    // Relative (tests run in the package root), so no snapshot names the folder the
    // repository is checked out in (CI clones it elsewhere).
    a.outputs = PathBuf::from("tests/fixtures/outputs");
    a.update(Action::Resize(120, 40));
    a.update(Action::GoTo(Screen::Editor));
    a.back_stack.clear();
    a
}

fn k(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn c(ch: char) -> KeyEvent {
    k(KeyCode::Char(ch))
}

fn ctrl(ch: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(ch), KeyModifiers::CONTROL)
}

/// Presses a key as the event loop does; the effects it asked for.
fn press(a: &mut App, key: KeyEvent) -> Vec<Effect> {
    match keymap::action(key, a) {
        Some(act) => a.update(act),
        None => Vec::new(),
    }
}

fn typed(a: &mut App, s: &str) {
    for ch in s.chars() {
        press(a, c(ch));
    }
}

fn screen(a: &mut App, w: u16, h: u16) -> String {
    a.update(Action::Resize(w, h));
    common::draw_text(w, h, |f| panther::tui::screens::draw(f, a))
}

fn text(a: &App) -> String {
    a.editor.as_ref().unwrap().text()
}

/// A copy of the quickstart in a scratch folder, opened in the editor.
fn scratch(a: &mut App) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mine.yaml");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/quickstart.yaml"),
        &p,
    )
    .unwrap();
    a.open_file(&p).unwrap();
    (dir, p)
}

const RECORDED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/outputs/2026-11-25_10-00-00_quickstart"
);

#[test]
fn a_newcomers_first_minute_never_types_into_the_file() {
    let mut a = app();
    let before = text(&a);
    assert_eq!(a.context(), Context::Editor, "it opens in view mode");
    // ? opens the editor's help, Esc closes it where it was.
    press(&mut a, c('?'));
    assert!(a.show_help);
    let s = screen(&mut a, 120, 40);
    assert!(
        s.contains("keys: the editor (view mode)") && s.contains("insert mode"),
        "{s}"
    );
    press(&mut a, k(KeyCode::Esc));
    assert!(!a.show_help);
    assert_eq!(a.screen, Screen::Editor);
    press(&mut a, c('?'));
    press(&mut a, c('?'));
    assert!(!a.show_help, "? closes help too");
    // The screen keys move between screens; Esc goes back where we came from.
    for (key, to) in [
        ('2', Screen::History),
        ('1', Screen::Plugins),
        ('3', Screen::Editor),
        ('4', Screen::Sequence),
    ] {
        press(&mut a, c(key));
        assert_eq!(a.screen, to, "{key}");
    }
    press(&mut a, k(KeyCode::Esc));
    assert_eq!(a.screen, Screen::Editor, "Esc: back to where we came from");
    press(&mut a, k(KeyCode::Esc));
    assert_eq!(a.screen, Screen::Plugins);
    press(&mut a, c('3'));
    // Tab leaves the editor (it does not indent in view mode); : opens the palette.
    press(&mut a, k(KeyCode::Tab));
    assert_eq!(a.screen, Screen::Sequence);
    press(&mut a, k(KeyCode::BackTab));
    assert_eq!(a.screen, Screen::Editor);
    press(&mut a, c(':'));
    assert!(a.palette.is_some());
    press(&mut a, k(KeyCode::Esc));
    assert!(a.palette.is_none());
    for ch in ['x', 'd', 'o', '/', 'q', '?'] {
        press(&mut a, c(ch));
    }
    press(&mut a, k(KeyCode::Esc)); // closes the search line `/` opened
    assert_eq!(text(&a), before, "nothing typed into the file");
    assert!(!a.editor.as_ref().unwrap().is_dirty());
    // i edits, Esc leaves insert mode and keeps the edit.
    press(&mut a, c('i'));
    assert_eq!(a.context(), Context::Insert);
    assert!(
        screen(&mut a, 80, 24)
            .lines()
            .next()
            .unwrap()
            .ends_with("INSERT")
    );
    typed(&mut a, "#?1q");
    assert!(
        text(&a).starts_with("#?1q"),
        "in insert mode ?, 1 and q are text"
    );
    assert_eq!(a.screen, Screen::Editor);
    press(&mut a, k(KeyCode::Esc));
    assert_eq!(a.context(), Context::Editor);
    assert!(a.editor.as_ref().unwrap().is_dirty());
    // q on a modified buffer asks; n keeps editing; Ctrl-C asks too; d discards and quits.
    assert_eq!(press(&mut a, c('q')), vec![]);
    let q = a.question().expect("asks");
    assert!(
        q.starts_with("quit? quickstart.yaml has unsaved changes · s save · d discard"),
        "{q}"
    );
    assert!(screen(&mut a, 120, 40).contains("unsaved changes"));
    // At 80 columns, the question is whole: it wraps instead of being cut.
    let narrow = screen(&mut a, 80, 24);
    let lines: Vec<&str> = narrow.lines().collect();
    let tail = lines[lines.len() - 2..].join(" ");
    assert!(
        tail.starts_with("quit?") && tail.ends_with("n/Esc keep editing"),
        "{narrow}"
    );
    assert_eq!(press(&mut a, c('n')), vec![]);
    assert!(a.pending.is_none());
    assert_eq!(press(&mut a, ctrl('c')), vec![], "Ctrl-C asks too");
    assert_eq!(press(&mut a, c('d')), vec![Effect::Quit]);
    // A live run makes the loop ask once more (q again): the discard is not asked twice.
    assert_eq!(press(&mut a, c('q')), vec![Effect::Quit]);
}

#[test]
fn q_quits_at_once_when_nothing_is_modified() {
    let mut a = app();
    press(&mut a, c('1'));
    assert_eq!(press(&mut a, c('q')), vec![Effect::Quit]);
    assert_eq!(press(&mut a, ctrl('c')), vec![Effect::Quit]);
}

#[test]
fn new_and_open_ask_before_replacing_a_modified_buffer() {
    let mut a = app();
    let (_dir, p) = scratch(&mut a);
    let on_disk = std::fs::read_to_string(&p).unwrap();
    press(&mut a, c('i'));
    typed(&mut a, "# mine\n");
    press(&mut a, k(KeyCode::Esc));
    let edited = text(&a);
    // :open asks; n keeps the buffer as it is.
    a.command("open experiments/quickstart.yaml");
    assert!(
        a.question()
            .unwrap()
            .contains("open experiments/quickstart.yaml")
    );
    press(&mut a, c('n'));
    assert_eq!(text(&a), edited);
    assert_eq!(a.editor.as_ref().unwrap().path(), Some(p.as_path()));
    // :new asks; s saves, then starts the new experiment.
    a.command("new");
    assert!(a.pending.is_some());
    press(&mut a, c('s'));
    assert_eq!(std::fs::read_to_string(&p).unwrap(), edited);
    assert_ne!(edited, on_disk);
    assert!(a.form.is_some() && a.editor.as_ref().unwrap().path().is_none());
    // :e opens (nothing modified now), :w saves.
    a.command(&format!("e {}", p.display()));
    assert_eq!(a.editor.as_ref().unwrap().path(), Some(p.as_path()));
    press(&mut a, c('i'));
    typed(&mut a, "#");
    press(&mut a, k(KeyCode::Esc));
    a.command("w");
    assert!(std::fs::read_to_string(&p).unwrap().starts_with("##"));
    assert!(!a.editor.as_ref().unwrap().is_dirty());
    // :q! quits without asking.
    press(&mut a, c('i'));
    typed(&mut a, "x");
    assert_eq!(a.command("q!"), vec![Effect::Quit]);
    assert_eq!(a.command("q"), vec![]);
    assert!(a.pending.is_some());
}

#[test]
fn the_empty_sequence_screen_takes_the_global_keys() {
    let mut a = app();
    press(&mut a, c('4'));
    assert!(a.sequence.is_none());
    let s = screen(&mut a, 80, 24);
    let foot = s.lines().last().unwrap();
    assert!(foot.contains("? more") && foot.contains("quit"), "{s}");
    assert!(s.contains("3, then Ctrl-R"), "{s}");
    press(&mut a, c('?'));
    assert!(a.show_help);
    assert!(screen(&mut a, 120, 40).contains("keys: the sequence view"));
    press(&mut a, k(KeyCode::Esc));
    for (key, to) in [
        (c('1'), Screen::Plugins),
        (c('4'), Screen::Sequence),
        (c('2'), Screen::History),
        (c('4'), Screen::Sequence),
        (c('3'), Screen::Editor),
        (c('4'), Screen::Sequence),
        (k(KeyCode::Tab), Screen::Matrix),
        (k(KeyCode::Tab), Screen::Plugins),
        (c('5'), Screen::Matrix),
    ] {
        press(&mut a, key);
        assert_eq!(a.screen, to, "{key:?}");
    }
    press(&mut a, c('4'));
    assert_eq!(press(&mut a, c('q')), vec![Effect::Quit]);
}

#[test]
fn the_search_line_takes_colons_kind_and_service_searches_find_rows() {
    let mut a = app();
    a.command(&format!("replay {RECORDED}"));
    assert_eq!(a.screen, Screen::Sequence, "{:?}", a.message);
    press(&mut a, c('/'));
    typed(&mut a, "kind:message");
    press(&mut a, ctrl('p'));
    assert!(
        a.palette.is_none(),
        ": and Ctrl-P do not open the palette while searching"
    );
    assert!(screen(&mut a, 120, 40).contains("search: kind:message"));
    press(&mut a, k(KeyCode::Enter));
    let s = a.sequence.as_ref().unwrap();
    assert_eq!(s.search.as_deref(), Some("kind:message"));
    let seq = |a: &App| {
        let s = a.sequence.as_ref().unwrap();
        match s.state.selected_row(&s.timeline) {
            Some(panther::events::timeline::DisplayRow::Row { row, .. }) => Some(row),
            _ => None,
        }
        .map(|r| format!("{r:?}"))
        .unwrap_or_default()
    };
    assert!(seq(&a).starts_with("Message"), "{}", seq(&a));
    // f keeps the search's rows and the selection stays on the same event.
    let before = seq(&a);
    press(&mut a, c('f'));
    assert_eq!(seq(&a), before, "f keeps the selected event");
    press(&mut a, c('F'));
    press(&mut a, c('/'));
    typed(&mut a, "service:server");
    press(&mut a, k(KeyCode::Enter));
    let s = a.sequence.as_ref().unwrap();
    assert!(s.state.selected.is_some(), "{}", s.status);
    assert!(s.selected_service().is_some());
}

#[test]
fn help_is_the_focused_screens_and_closes_with_esc_or_question_mark_everywhere() {
    let mut a = app();
    let check = |a: &mut App, title: &str, has: &str| {
        let at = a.screen;
        if a.context() == Context::Insert {
            press(a, ctrl('p'));
            typed(a, "help");
            press(a, k(KeyCode::Enter));
        } else {
            press(a, c('?'));
        }
        assert!(a.show_help, "{title}");
        let s = screen(a, 120, 40);
        assert!(
            s.contains(&format!("keys: {title}")) && s.contains(has),
            "{s}"
        );
        press(a, k(KeyCode::Esc));
        assert!(!a.show_help && a.screen == at, "Esc closes help on {title}");
    };
    check(&mut a, "the editor (view mode)", "insert mode");
    press(&mut a, c('i'));
    check(&mut a, "the editor (insert mode)", "back to view mode");
    press(&mut a, k(KeyCode::Esc));
    press(&mut a, k(KeyCode::F(2)));
    check(&mut a, "the form view", "add a service");
    press(&mut a, k(KeyCode::F(2)));
    press(&mut a, c('1'));
    check(&mut a, "the plugins screen", "install the plugin");
    press(&mut a, c('2'));
    check(&mut a, "the runs screen", "open the run's sequence");
    a.command(&format!("replay {RECORDED}"));
    check(&mut a, "the sequence view", "next match");
}

fn rebound() -> Keymap {
    let cfg = panther::tui::config::parse_str(
        "[keys]\ndown = \"n\"\nnext-match = \"ctrl-n\"\n\"palette.complete\" = \"ctrl-t\"\n",
        "config.toml",
    )
    .unwrap();
    Keymap::from_config(&cfg).unwrap()
}

#[test]
fn keys_rebinding_reaches_every_context_and_help_says_so() {
    let mut a = app();
    a.keymap = rebound();
    // Editor, view mode: n moves the cursor down, j no longer does.
    let row = |a: &App| a.editor.as_ref().unwrap().cursor().0;
    press(&mut a, c('n'));
    assert_eq!(row(&a), 1);
    press(&mut a, c('j'));
    assert_eq!(row(&a), 1, "j is unbound now");
    // The form.
    press(&mut a, k(KeyCode::F(2)));
    assert_eq!(
        keymap::action(c('n'), &a),
        Some(Action::EditorKey(c('j'))),
        "the form sees its down key"
    );
    assert_eq!(keymap::action(c('j'), &a), None);
    press(&mut a, k(KeyCode::F(2)));
    // Plugins and runs.
    press(&mut a, c('1'));
    assert_eq!(keymap::action(c('n'), &a), Some(Action::Down));
    press(&mut a, c('2'));
    assert_eq!(keymap::action(c('n'), &a), Some(Action::Down));
    // The sequence view: n moves, Ctrl-N is the next match.
    a.command(&format!("replay {RECORDED}"));
    assert_eq!(
        keymap::action(c('n'), &a),
        Some(Action::SequenceKey(c('j')))
    );
    assert_eq!(
        keymap::action(ctrl('n'), &a),
        Some(Action::SequenceKey(c('n')))
    );
    press(&mut a, c('g'));
    press(&mut a, c('n'));
    assert_eq!(a.sequence.as_ref().unwrap().state.selected, Some(1));
    // The palette: Ctrl-T completes, Tab no longer does.
    press(&mut a, c(':'));
    typed(&mut a, "rel");
    press(&mut a, k(KeyCode::Tab));
    assert_eq!(a.palette.as_deref(), Some("rel"));
    press(&mut a, ctrl('t'));
    assert_eq!(a.palette.as_deref(), Some("reload "));
    press(&mut a, k(KeyCode::Esc));
    // Help and footers say n.
    let help = a.bindings();
    let down = help[0].1.iter().find(|b| b.what == "next row").unwrap();
    assert_eq!(down.keys, "n ↓");
    let s = screen(&mut a, 120, 40);
    assert!(s.lines().last().unwrap().contains("n/k move"), "{s}");
}

#[test]
fn the_logs_overlay_rebinds_scrolls_and_closes() {
    let mut a = app();
    a.keymap = rebound();
    let (_dir, run) = recorded_with_logs();
    a.command(&format!("replay {}", run.display()));
    select_server_row(&mut a);
    press(&mut a, c('l'));
    assert_eq!(a.context(), Context::Logs);
    let top = a.sequence.as_ref().unwrap().logs_scroll;
    press(&mut a, c('g'));
    assert_eq!(a.sequence.as_ref().unwrap().logs_scroll, 0);
    press(&mut a, c('n'));
    assert_eq!(
        a.sequence.as_ref().unwrap().logs_scroll,
        1,
        "n scrolls down (was {top})"
    );
    press(&mut a, c('?'));
    assert!(screen(&mut a, 120, 40).contains("keys: the logs overlay"));
    press(&mut a, k(KeyCode::Esc));
    press(&mut a, k(KeyCode::Esc));
    assert_eq!(a.context(), Context::Sequence, "Esc closes the logs");
    assert_eq!(a.screen, Screen::Sequence);
}

/// The recorded quickstart with service logs in two test folders: its own, and a newer one
/// of another test (what `l` used to show).
fn recorded_with_logs() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("2026-11-25_10-00-00_quickstart");
    std::fs::create_dir_all(run.join("minip_quickstart/server")).unwrap();
    std::fs::copy(
        Path::new(RECORDED).join("events.jsonl"),
        run.join("events.jsonl"),
    )
    .unwrap();
    let mut log = String::new();
    for i in 0..60 {
        log.push_str(&format!(
            "{{\"kind\":\"log\",\"text\":\"answered ping {i}\",\"level\":\"info\"}}\n"
        ));
    }
    std::fs::write(run.join("minip_quickstart/server/stdout.log"), log).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::create_dir_all(run.join("other_test/server")).unwrap();
    std::fs::write(run.join("other_test/server/stdout.log"), "WRONG TEST\n").unwrap();
    (dir, run)
}

fn select_server_row(a: &mut App) {
    press(a, c('g'));
    for _ in 0..200 {
        if a.sequence.as_ref().unwrap().selected_service().as_deref() == Some("server") {
            return;
        }
        a.update(Action::SequenceKey(c('j')));
    }
    panic!("no server row");
}

#[test]
fn l_shows_the_selected_rows_test_readable_and_scrollable() {
    let mut a = app();
    let (_dir, run) = recorded_with_logs();
    a.command(&format!("replay {}", run.display()));
    select_server_row(&mut a);
    press(&mut a, c('l'));
    let s = screen(&mut a, 80, 24);
    assert!(
        !s.contains("WRONG TEST"),
        "the newest test folder is not this row's:\n{s}"
    );
    assert!(
        s.contains("log · answered ping 59 · level=info"),
        "JSON as fields:\n{s}"
    );
    // Scrolling up reaches the top of the file.
    press(&mut a, c('g'));
    let s = screen(&mut a, 80, 24);
    assert!(
        s.contains("minip_quickstart/server") && s.contains("answered ping 0 "),
        "{s}"
    );
}

#[test]
fn footers_fit_80_columns_in_every_context() {
    let km = Keymap::default_keys();
    for ctx in Context::ALL {
        for w in [80u16, 60, 40] {
            let f = km.footer(ctx, w);
            assert!(f.chars().count() <= w as usize, "{ctx:?} at {w}: {f}");
            // Where help can be opened, the footer says how.
            if !matches!(ctx, Context::Palette | Context::Help) {
                assert!(f.ends_with("more"), "{ctx:?} at {w}: {f}");
            }
        }
    }
    // And on screen, every screen's bottom line at 80×24 ends with `? more`.
    let mut a = app();
    for key in ['1', '2', '3', '4'] {
        press(&mut a, c(key));
        let s = screen(&mut a, 80, 24);
        assert!(s.lines().last().unwrap().ends_with("? more"), "{key}:\n{s}");
    }
}

#[test]
fn the_header_hint_is_true_for_the_screen_it_is_on() {
    let mut a = app();
    let head = |a: &mut App| screen(a, 120, 40).lines().next().unwrap().to_string();
    assert!(
        head(&mut a).contains("i edit · Ctrl-R run"),
        "{}",
        head(&mut a)
    );
    press(&mut a, c('i'));
    assert!(head(&mut a).contains("Esc when done"), "{}", head(&mut a));
    press(&mut a, k(KeyCode::Esc));
    press(&mut a, c('1'));
    assert!(head(&mut a).contains("3 experiment"), "{}", head(&mut a));
    for w in [80u16, 100, 120] {
        let first = screen(&mut a, w, 24).lines().next().unwrap().to_string();
        assert!(
            first.ends_with("VIEW"),
            "the mode is shown whole at {w}: {first}"
        );
    }
}

#[test]
fn a_theme_typo_keeps_the_current_theme() {
    let mut a = app();
    a.command("theme okabe-ito");
    assert_eq!(a.theme.name, "okabe-ito");
    a.command("theme okabe-itoo");
    assert_eq!(a.theme.name, "okabe-ito");
    assert!(
        a.message
            .as_deref()
            .unwrap()
            .contains("keeping theme okabe-ito")
    );
    // …and says which themes there are.
    let m = a.message.clone().unwrap();
    for t in ["dark", "light", "high-contrast", "catppuccin-mocha"] {
        assert!(m.contains(t), "{t} in: {m}");
    }
}

#[test]
fn x_cancels_only_when_pressed_twice_in_a_row() {
    let mut a = app();
    a.command(&format!("replay {RECORDED}"));
    a.sequence.as_mut().unwrap().live = true;
    assert_eq!(press(&mut a, c('x')), vec![]);
    press(&mut a, c('j'));
    assert_eq!(press(&mut a, c('x')), vec![], "x j x: the j said no");
    assert_eq!(press(&mut a, c('x')), vec![Effect::CancelRun]);
}

/// Every screen and mode, drawn at 120×40 and 80×24.
#[test]
fn every_screen_and_mode_snapshots() {
    let mut shots: Vec<(&str, App)> = Vec::new();
    let mut a = app();
    shots.push(("editor_view", app()));
    press(&mut a, c('i'));
    shots.push(("editor_insert", a));
    let mut a = app();
    press(&mut a, c('?'));
    shots.push(("editor_help", a));
    let mut a = app();
    press(&mut a, c('/'));
    typed(&mut a, "tester");
    shots.push(("editor_search", a));
    let mut a = app();
    press(&mut a, k(KeyCode::F(2)));
    shots.push(("form", a));
    let mut a = app();
    press(&mut a, c('1'));
    shots.push(("plugins", a));
    let mut a = app();
    press(&mut a, c('1'));
    press(&mut a, c('/'));
    typed(&mut a, "min");
    shots.push(("plugins_filter", a));
    let mut a = app();
    press(&mut a, c('2'));
    shots.push(("runs", a));
    let mut a = app();
    press(&mut a, c('4'));
    shots.push(("sequence_empty", a));
    let mut a = app();
    a.command(&format!("replay {RECORDED}"));
    shots.push(("sequence", a));
    let mut a = app();
    a.command(&format!("replay {RECORDED}"));
    press(&mut a, c('g'));
    press(&mut a, k(KeyCode::Enter));
    shots.push(("sequence_detail", a));
    let mut a = app();
    a.command(&format!("replay {RECORDED}"));
    press(&mut a, c('/'));
    typed(&mut a, "kind:verdict");
    shots.push(("sequence_search", a));
    let mut a = app();
    press(&mut a, c(':'));
    typed(&mut a, "op");
    shots.push(("palette", a));
    let mut a = app();
    press(&mut a, c('i'));
    typed(&mut a, "#");
    press(&mut a, k(KeyCode::Esc));
    press(&mut a, c('q'));
    shots.push(("unsaved_question", a));
    let mut a = app();
    press(&mut a, c('2'));
    press(&mut a, c('/'));
    typed(&mut a, "quick");
    shots.push(("runs_filter", a));
    let mut a = app();
    a.command(&format!("replay {RECORDED}"));
    press(&mut a, c('?'));
    shots.push(("sequence_help", a));
    let (_keep, run) = recorded_with_logs();
    let mut a = app();
    a.command(&format!("replay {}", run.display()));
    select_server_row(&mut a);
    press(&mut a, c('l'));
    shots.push(("logs", a));
    for (name, mut a) in shots {
        for (w, h) in [(120, 40), (80, 24)] {
            insta::assert_snapshot!(format!("screen_{name}_{w}x{h}"), screen(&mut a, w, h));
        }
    }
}

#[test]
fn a_letter_in_view_mode_says_how_to_type_and_w_file_saves_as() {
    let mut a = app();
    press(&mut a, c('x'));
    let m = a.message.clone().unwrap_or_default();
    assert!(m.contains("view mode: i (or Enter) to type"), "{m}");
    assert!(screen(&mut a, 80, 24).contains("view mode: i (or Enter)"));
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("copy.yaml");
    a.command(&format!("w {}", to.display()));
    assert_eq!(std::fs::read_to_string(&to).unwrap(), text(&a));
    assert_eq!(a.editor.as_ref().unwrap().path(), Some(to.as_path()));
    // An existing other file is not overwritten.
    let other = dir.path().join("other.yaml");
    std::fs::write(&other, "keep me").unwrap();
    a.command(&format!("w {}", other.display()));
    assert!(
        a.message.as_deref().unwrap().contains("exists"),
        "{:?}",
        a.message
    );
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "keep me");
}

#[test]
fn the_detail_pane_keeps_the_selected_row_in_view_and_notes_do_not_go_stale() {
    let mut a = app();
    a.command(&format!("replay {RECORDED}"));
    press(&mut a, c('g'));
    screen(&mut a, 80, 24);
    // A row near the bottom of the screen, selected; the detail pane then takes 8 rows.
    for _ in 0..17 {
        press(&mut a, c('j'));
    }
    let picked = a.sequence.as_ref().unwrap().state.selected.unwrap();
    screen(&mut a, 80, 24);
    press(&mut a, k(KeyCode::Enter));
    screen(&mut a, 80, 24);
    // 24 rows: tab bar, footer, the 8-row detail, borders and the lane header leave 10.
    let st = &a.sequence.as_ref().unwrap().state;
    assert!(
        st.offset > 0 && picked >= st.offset && picked < st.offset + 10,
        "row {picked} in view from {}",
        st.offset
    );
    // A note lasts one key; the run's status comes back.
    press(&mut a, c('H'));
    assert!(screen(&mut a, 120, 40).contains("all lanes shown"));
    press(&mut a, c('j'));
    let s = screen(&mut a, 120, 40);
    assert!(
        !s.contains("all lanes shown") && s.contains("pass: expectations met"),
        "{s}"
    );
}

/// Thousands of keys, from every screen and mode, drawn at several sizes: nothing panics.
/// (On a scratch copy: `:x` saves, and the random keys may type it.)
#[test]
fn any_keys_anywhere_never_panic() {
    let pool: Vec<KeyEvent> = "jkgGhl/?:qinNfFtxHm<>1234aTdD0$u \t"
        .chars()
        .map(c)
        .chain([
            k(KeyCode::Esc),
            k(KeyCode::Enter),
            k(KeyCode::Tab),
            k(KeyCode::BackTab),
            k(KeyCode::Backspace),
            k(KeyCode::Up),
            k(KeyCode::Down),
            k(KeyCode::PageDown),
            k(KeyCode::PageUp),
            k(KeyCode::Home),
            k(KeyCode::End),
            k(KeyCode::F(2)),
            k(KeyCode::F(8)),
            k(KeyCode::F(1)),
            ctrl('z'),
            ctrl('y'),
            ctrl('p'),
        ])
        .collect();
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // A copy of the recorded run too: `m` writes into it.
    let fresh = || {
        let mut a = app();
        let dir = scratch(&mut a);
        let run = recorded_with_logs();
        // The runs list shows the copy too, so no key writes into tests/fixtures.
        a.outputs = run.0.path().to_path_buf();
        a.command(&format!("replay {}", run.1.display()));
        press(&mut a, c('3'));
        (a, dir, run)
    };
    let (mut a, mut _dir, mut _run) = fresh();
    let mut quits = 0;
    for i in 0..4000 {
        let key = pool[(next() % pool.len() as u64) as usize];
        if press(&mut a, key).contains(&Effect::Quit) {
            quits += 1;
            (a, _dir, _run) = fresh();
        }
        if i % 97 == 0 {
            for (w, h) in [(80, 24), (120, 40), (20, 6), (3, 2)] {
                screen(&mut a, w, h);
            }
        }
    }
    assert!(quits > 0, "q was pressed at some point");
}

#[test]
fn slash_finds_text_in_the_editor_and_n_goes_on() {
    let mut a = app();
    press(&mut a, c('/'));
    assert!(
        screen(&mut a, 80, 24)
            .lines()
            .next()
            .unwrap()
            .ends_with("SEARCH")
    );
    typed(&mut a, "minip_tester");
    press(&mut a, ctrl('p')); // a control key is not text
    assert!(screen(&mut a, 80, 24).contains("/minip_tester▏"));
    press(&mut a, k(KeyCode::Enter));
    let ed = a.editor.as_ref().unwrap();
    let (row, col) = ed.cursor();
    let line = ed.text().lines().nth(row).unwrap().to_string();
    assert_eq!(&line[col..col + 12], "minip_tester", "{line}");
    assert!(!ed.is_dirty(), "a search types nothing");
    // n wraps around to the only match; N too.
    press(&mut a, c('n'));
    assert_eq!(a.editor.as_ref().unwrap().cursor(), (row, col));
    assert!(
        a.editor
            .as_ref()
            .unwrap()
            .message()
            .unwrap()
            .contains("wrapped")
    );
    press(&mut a, c('/'));
    typed(&mut a, "nothing like this");
    press(&mut a, k(KeyCode::Enter));
    assert!(
        a.editor
            .as_ref()
            .unwrap()
            .message()
            .unwrap()
            .contains("no match")
    );
}

#[test]
fn slash_filters_the_runs_and_esc_clears_it() {
    let mut a = app();
    press(&mut a, c('2'));
    assert_eq!(a.runs.len(), 2);
    press(&mut a, c('/'));
    typed(&mut a, "crash");
    assert_eq!(a.runs.len(), 1);
    assert!(screen(&mut a, 80, 24).contains("runs matching “crash” (1)"));
    press(&mut a, k(KeyCode::Enter));
    assert!(!a.typing_filter);
    press(&mut a, c('/'));
    typed(&mut a, "zzz");
    press(&mut a, k(KeyCode::Enter));
    assert!(screen(&mut a, 120, 40).contains("No run matches “crashzzz”"));
    press(&mut a, k(KeyCode::Esc));
    assert_eq!(a.runs.len(), 2, "Esc clears the filter first");
    assert_eq!(a.screen, Screen::History);
}

/// Opening a recorded run while one is live parks the live one (issue 14 #10): its events
/// still reach it, the header says a run is going on every screen, and `L` on the sequence
/// screen brings it back.
#[test]
fn a_recorded_run_opened_over_a_live_one_does_not_hide_it() {
    let mut a = app();
    let live = panther::tui::app::SequenceScreen::new("live: mine", Default::default(), true);
    a.sequence = Some(live);
    a.update(Action::GoTo(Screen::History));
    assert!(!screen(&mut a, 120, 40).contains("● run going"));
    a.update(Action::OpenRun);
    assert_eq!(a.screen, Screen::Sequence);
    assert!(
        !a.sequence.as_ref().unwrap().live,
        "the recorded run is shown"
    );
    // The live run's events go to the live run, not to the recorded one.
    let shown = a.sequence.as_ref().unwrap().timeline.events();
    let parked = a.live_screen().unwrap();
    assert_eq!(parked.title, "live: mine");
    assert!(parked.live);
    let s = screen(&mut a, 120, 40);
    assert!(s.contains("● run going: 4 then L shows it"), "{s}");
    assert_eq!(a.sequence.as_ref().unwrap().timeline.events(), shown);
    // On another screen the header still says it.
    a.update(Action::GoTo(Screen::Plugins));
    let s = screen(&mut a, 80, 24);
    assert!(s.lines().next().unwrap().contains("● L "), "{s}");
    press(&mut a, c('4'));
    press(&mut a, c('L'));
    assert_eq!(a.sequence.as_ref().unwrap().title, "live: mine");
    assert!(a.parked_live.is_none());
    assert!(!screen(&mut a, 120, 40).contains("● run going"));
    // L with nothing parked says so.
    press(&mut a, c('L'));
    assert!(a.message.as_deref().unwrap().contains("no live run"));
    // Help lists the key.
    assert!(
        a.keymap
            .help(Context::Sequence)
            .iter()
            .flat_map(|(_, b)| b)
            .any(|b| b.what.contains("back to the live run"))
    );
}

/// A tutorial does not advance on what was done before it started (issue 14 #10): a run that
/// passed earlier does not finish "Run it"; one that finishes after does.
#[test]
fn a_tutorial_counts_only_what_is_done_after_it_starts() {
    use panther::tutorial::Finished;
    use panther::verdict::Verdict;
    let pass = || Finished {
        test: "minip_quickstart".into(),
        verdict: Verdict::Pass,
        plugins: vec!["ping_pong".into(), "minip_tester".into()],
    };
    let mut a = app();
    a.tutorial_progress = None;
    a.run_finished(vec![pass()]);
    a.start_tutorial("first_run");
    // On the experiment, valid: the first two steps hold now; the run was before.
    a.update(Action::GoTo(Screen::Editor));
    let t = a.tutorial.as_ref().unwrap();
    assert_eq!(
        t.step,
        2,
        "stops at `Run it`: {:?}",
        t.current().map(|s| &s.title)
    );
    a.run_finished(vec![pass()]);
    assert_eq!(
        a.tutorial.as_ref().unwrap().step,
        3,
        "a run after the start counts"
    );
}

/// The tutorial panel takes rows of its own above the status line: the screens are drawn
/// above it, so the verdict banner at the bottom of a followed run stays in view.
#[test]
fn the_tutorial_panel_does_not_hide_the_verdict_banner() {
    let mut a = app();
    a.tutorial_progress = None;
    a.command(&format!("replay {RECORDED}"));
    press(&mut a, c('G'));
    let before = screen(&mut a, 120, 40);
    let banner = before
        .lines()
        .find(|l| l.contains("PASS"))
        .expect("the pass banner at the bottom")
        .to_string();
    a.start_tutorial("first_run");
    let with = screen(&mut a, 120, 40);
    assert!(with.contains("tutorial: "), "{with}");
    assert!(
        with.lines().any(|l| l.contains("PASS")),
        "the banner `{}` is hidden:\n{with}",
        banner.trim()
    );
    // The editor's footer too stays above the panel.
    a.update(Action::GoTo(Screen::Editor));
    let ed = screen(&mut a, 120, 40);
    assert!(ed.contains("i edit"), "{ed}");
}

/// An orchestrator note runs on over the lanes when its row has room (issue 14 #12: it was
/// cut at the orchestrator column, about 20 characters).
#[test]
fn orchestrator_notes_use_the_rooms_width() {
    let mut a = app();
    a.command(&format!("replay {RECORDED}"));
    let s = screen(&mut a, 80, 24);
    assert!(s.contains("test minip_quickstart starting"), "{s}");
    assert!(s.contains("network environment localhost up"), "{s}");
}

/// A search that matches text drawn cut behind `…` reveals it (issue 14 #12): the selected
/// row's whole text goes to the status line.
#[test]
fn a_match_hidden_behind_an_ellipsis_is_revealed() {
    let mut a = app();
    a.command(&format!("replay {RECORDED}"));
    let before = screen(&mut a, 80, 24);
    assert!(
        before.contains("started, pid 11…") && !before.contains("pid 11856"),
        "the pid is cut at 80 columns:\n{before}"
    );
    press(&mut a, c('/'));
    typed(&mut a, "11856");
    press(&mut a, k(KeyCode::Enter));
    let s = screen(&mut a, 80, 24);
    let last = s.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    assert!(last.contains("match: started, pid 11856"), "{s}");
}

/// A status message expires after `MESSAGE_TTL` without a key (issue 14 #12: they went
/// stale); one shown since is kept its full time.
#[test]
fn status_messages_expire() {
    use panther::tui::app::MESSAGE_TTL;
    use std::time::{Duration, Instant};
    let mut a = app();
    a.update(Action::Say("hello there".into()));
    let t0 = Instant::now();
    assert!(!a.expire_message(t0 + Duration::from_secs(1)));
    assert!(screen(&mut a, 80, 24).contains("hello there"));
    assert!(a.expire_message(t0 + MESSAGE_TTL + Duration::from_secs(1)));
    assert_eq!(a.message, None);
    assert!(!screen(&mut a, 80, 24).contains("hello there"));
    // A new message starts its own time.
    a.update(Action::Say("second".into()));
    assert!(!a.expire_message(Instant::now() + Duration::from_secs(2)));
    assert_eq!(a.message.as_deref(), Some("second"));
}

/// A left click on a row of the sequence view selects it (issue 14 #12), through the real
/// mouse mapping; a click outside the rows changes nothing.
#[test]
fn a_click_selects_the_sequence_row_under_it() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let click = |a: &mut App, col: u16, row: u16| {
        let m = MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: col,
            row,
            modifiers: KeyModifiers::NONE,
        };
        if let Some(act) = keymap::mouse(m, a) {
            a.update(act);
        }
    };
    let mut a = app();
    a.command(&format!("replay {RECORDED}"));
    let s = screen(&mut a, 120, 40);
    let (y, line) = s
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("PING seq=3 len"))
        .expect("a PING row");
    let x = line.chars().position(|c| c == 'P').unwrap() as u16;
    click(&mut a, x, y as u16);
    let selected = |a: &App| {
        let seq = a.sequence.as_ref().unwrap();
        match seq.state.selected_row(&seq.timeline) {
            Some(panther::events::timeline::DisplayRow::Row { row, .. }) => row.text().to_string(),
            other => format!("{other:?}"),
        }
    };
    assert!(selected(&a).starts_with("PING seq=3"), "{}", selected(&a));
    assert!(!a.sequence.as_ref().unwrap().state.follow);
    // The header line is no row: the selection stays.
    click(&mut a, x, 1);
    assert!(selected(&a).starts_with("PING seq=3"));
}

/// The palette remembers what was run (Up, Down) and completes paths for the commands that
/// take one (Tab), showing the matches when several remain (issue 14 #12).
#[test]
fn the_palette_recalls_commands_and_completes_paths() {
    let mut a = app();
    press(&mut a, c(':'));
    typed(&mut a, "theme light");
    press(&mut a, k(KeyCode::Enter));
    assert_eq!(a.theme.name, "light");
    press(&mut a, c(':'));
    press(&mut a, k(KeyCode::Up));
    assert_eq!(a.palette.as_deref(), Some("theme light"));
    press(&mut a, k(KeyCode::Down));
    assert_eq!(a.palette.as_deref(), Some(""));
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("runs")).unwrap();
    std::fs::write(d.path().join("quic_a.yaml"), "").unwrap();
    std::fs::write(d.path().join("quic_b.yaml"), "").unwrap();
    typed(&mut a, &format!("open {}/q", d.path().display()));
    press(&mut a, k(KeyCode::Tab));
    assert_eq!(
        a.palette.as_deref(),
        Some(format!("open {}/quic_", d.path().display()).as_str())
    );
    let shown = screen(&mut a, 120, 40);
    assert!(shown.contains("quic_a.yaml quic_b.yaml"), "{shown}");
    typed(&mut a, "b");
    press(&mut a, k(KeyCode::Tab));
    assert_eq!(
        a.palette.as_deref(),
        Some(format!("open {}/quic_b.yaml", d.path().display()).as_str())
    );
}
