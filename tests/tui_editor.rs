//! The experiment editor, driven by keys as the event loop would, validated against the
//! bundled plugins, drawn on a `TestBackend` and compared with committed snapshots.

mod common;
use common::draw_text;
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use panther::plugin::{LoadOptions, Registry};
use panther::tui::editor::{Editor, EditorOutcome};

fn registry() -> Registry {
    Registry::load(&LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![],
        availability: false,
    })
}

fn quickstart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/quickstart.yaml")
}

/// A copy of the quickstart in a fresh temporary folder, so saves touch nothing real.
fn quickstart_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("quickstart.yaml");
    std::fs::copy(quickstart(), &p).unwrap();
    (dir, p)
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn press(e: &mut Editor, reg: &Registry, code: KeyCode, n: usize) {
    for _ in 0..n {
        assert_eq!(e.handle_key(key(code), reg), EditorOutcome::None);
    }
}

/// Puts the cursor just after `needle` on the first line containing it; returns that
/// 0-based line.
fn cursor_after(e: &mut Editor, reg: &Registry, needle: &str) -> usize {
    let text = e.text();
    let (row, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(needle))
        .expect("needle in text");
    let col = line[..line.find(needle).unwrap() + needle.len()]
        .chars()
        .count();
    press(e, reg, KeyCode::Up, 200);
    press(e, reg, KeyCode::Down, row);
    press(e, reg, KeyCode::Home, 1);
    press(e, reg, KeyCode::Right, col);
    assert_eq!(e.cursor(), (row, col));
    row
}

fn render(e: &mut Editor, w: u16, h: u16) -> String {
    render_with(e, w, h, false)
}

fn render_with(e: &mut Editor, w: u16, h: u16, color: bool) -> String {
    draw_text(w, h, |f| {
        e.draw(
            f,
            f.area(),
            &panther::tui::theme::Theme::default_theme(),
            color,
        )
    })
}

/// Snapshots name the file by its base name, not the machine's absolute path.
fn opened_relative(reg: &Registry) -> Editor {
    let text = std::fs::read_to_string(quickstart()).unwrap();
    let mut e = Editor::new(Some(PathBuf::from("experiments/quickstart.yaml")), text);
    e.validate(reg);
    e
}

#[test]
fn quickstart_opens_valid_and_launchable() {
    let reg = registry();
    let mut e = Editor::open(&quickstart()).unwrap();
    assert!(!e.can_launch(), "not validated yet");
    e.validate(&reg);
    assert!(
        e.diagnostics().iter().all(|d| !d.is_error()),
        "{:?}",
        e.diagnostics()
    );
    assert!(e.can_launch());
    assert!(!e.is_dirty());
    assert_eq!(
        e.text(),
        std::fs::read_to_string(quickstart()).unwrap(),
        "text round-trips byte for byte"
    );
    assert_eq!(e.handle_key(ctrl('r'), &reg), EditorOutcome::Launch);
}

#[test]
fn a_typo_is_reported_at_its_line_and_blocks_launch_until_undone() {
    let reg = registry();
    let mut e = opened_relative(&reg);
    insta::assert_snapshot!("editor_quickstart_120x40", render(&mut e, 120, 40));
    insta::assert_snapshot!("editor_quickstart_80x24", render(&mut e, 80, 24));

    let row = cursor_after(&mut e, &reg, "ping_pong");
    assert!(e.can_launch(), "moving the cursor changes nothing");
    e.handle_key(key(KeyCode::Char('x')), &reg);
    assert!(e.text().contains("name: ping_pongx,"));
    assert!(e.is_dirty());

    let errors: Vec<_> = e.diagnostics().iter().filter(|d| d.is_error()).collect();
    assert!(!errors.is_empty());
    let d = errors
        .iter()
        .find(|d| d.message.contains("ping_pongx"))
        .unwrap_or_else(|| panic!("{errors:?}"));
    assert_eq!(d.line as usize, row + 1, "{d}");
    assert!(
        d.help
            .as_deref()
            .is_some_and(|h| h.contains("did you mean `ping_pong`?")),
        "{d}"
    );
    assert!(!e.can_launch());
    assert_eq!(e.handle_key(ctrl('r'), &reg), EditorOutcome::None);
    assert!(
        e.message().unwrap().starts_with("fix "),
        "{:?}",
        e.message()
    );
    assert!(e.message().unwrap().ends_with(" first"));

    insta::assert_snapshot!("editor_typo_120x40", render(&mut e, 120, 40));
    insta::assert_snapshot!("editor_typo_80x24", render(&mut e, 80, 24));
    // In colour the gutter marks the line with a dot instead of a letter.
    let coloured = render_with(&mut e, 80, 24, true);
    assert!(
        coloured.lines().any(|l| l.starts_with("│● 15 ")),
        "{coloured}"
    );

    // Undo restores validity (and the saved text, so nothing is modified any more).
    e.handle_key(ctrl('z'), &reg);
    assert!(e.text().contains("name: ping_pong,"));
    assert!(e.can_launch(), "{:?}", e.diagnostics());
    assert!(!e.is_dirty());
    // Redo brings the typo back.
    e.handle_key(ctrl('y'), &reg);
    assert!(e.text().contains("name: ping_pongx,"));
    assert!(!e.can_launch());
}

#[test]
fn ctrl_s_saves_atomically_to_the_opened_file() {
    let reg = registry();
    let (dir, path) = quickstart_copy();
    let mut e = Editor::open(&path).unwrap();
    e.validate(&reg);
    cursor_after(&mut e, &reg, "timeout: 30");
    e.handle_key(key(KeyCode::Char('0')), &reg);
    assert!(e.is_dirty());
    assert_eq!(
        e.handle_key(ctrl('s'), &reg),
        EditorOutcome::Saved(path.clone())
    );
    assert!(!e.is_dirty());
    let on_disk = std::fs::read_to_string(&path).unwrap();
    assert_eq!(on_disk, e.text());
    assert!(on_disk.contains("timeout: 300\n"));
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|d| d.unwrap().file_name())
        .collect();
    assert_eq!(names, ["quickstart.yaml"]);
}

#[test]
fn esc_leaves_insert_mode_and_keeps_the_text() {
    let reg = registry();
    let mut e = opened_relative(&reg);
    assert!(!e.is_insert(), "the editor opens in view mode");
    e.set_insert(true);
    e.handle_key(key(KeyCode::Char('#')), &reg);
    assert_eq!(e.handle_key(key(KeyCode::Esc), &reg), EditorOutcome::None);
    assert!(!e.is_insert());
    assert!(e.is_dirty() && e.text().starts_with('#'), "the edit stays");
    // The mode is on screen.
    assert!(
        render(&mut e, 80, 24)
            .lines()
            .next()
            .unwrap()
            .starts_with("VIEW")
    );
    e.set_insert(true);
    assert!(
        render(&mut e, 80, 24)
            .lines()
            .next()
            .unwrap()
            .starts_with("-- INSERT --")
    );
}

#[test]
fn a_tab_in_the_indentation_is_reported() {
    let reg = registry();
    let mut e = opened_relative(&reg);
    // The Tab key indents with spaces, which stays valid YAML.
    let row = cursor_after(&mut e, &reg, "    timeout: 30");
    press(&mut e, &reg, KeyCode::Home, 1);
    press(&mut e, &reg, KeyCode::Delete, 4);
    e.handle_key(key(KeyCode::Tab), &reg);
    e.handle_key(key(KeyCode::Tab), &reg);
    assert_eq!(e.text().lines().nth(row), Some("    timeout: 30"));
    assert!(e.can_launch(), "{:?}", e.diagnostics());
    // A literal tab typed (or pasted) into the indentation is the classic YAML mistake.
    press(&mut e, &reg, KeyCode::Home, 1);
    press(&mut e, &reg, KeyCode::Delete, 4);
    e.handle_key(key(KeyCode::Char('\t')), &reg);
    assert_eq!(e.text().lines().nth(row), Some("\ttimeout: 30"));
    let d = &e.diagnostics()[0];
    assert!(d.is_error());
    assert!(d.message.contains("tab"), "{d}");
    assert!(!e.can_launch());
    assert_eq!(e.handle_key(ctrl('r'), &reg), EditorOutcome::None);
    // Pasted text goes through the same validation.
    e.handle_key(ctrl('z'), &reg);
    let mut pasted = opened_relative(&reg);
    pasted.paste("x:\n\ty: 1\n", &reg);
    assert!(
        pasted
            .diagnostics()
            .iter()
            .any(|d| d.is_error() && d.message.contains("tab")),
        "{:?}",
        pasted.diagnostics()
    );
}

#[test]
fn f8_jumps_to_the_next_problem() {
    let reg = registry();
    let mut e = opened_relative(&reg);
    let row = cursor_after(&mut e, &reg, "ping_pong");
    e.handle_key(key(KeyCode::Char('x')), &reg);
    press(&mut e, &reg, KeyCode::Up, 200);
    e.handle_key(key(KeyCode::F(8)), &reg);
    assert_eq!(e.cursor().0, row);
}

#[test]
fn open_refuses_oversized_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.yaml");
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(4 * 1024 * 1024 + 1).unwrap();
    let err = Editor::open(&p).err().expect("refused");
    assert!(err.to_string().contains("larger than 4 MiB"), "{err}");
}

#[test]
fn arbitrary_keys_never_panic() {
    let reg = registry();
    let (_dir, path) = quickstart_copy();
    let mut e = Editor::open(&path).unwrap();
    e.validate(&reg);
    let codes = [
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::Home,
        KeyCode::End,
        KeyCode::PageUp,
        KeyCode::PageDown,
        KeyCode::Backspace,
        KeyCode::Delete,
        KeyCode::Enter,
        KeyCode::Tab,
        KeyCode::BackTab,
        KeyCode::Esc,
        KeyCode::F(8),
        KeyCode::Char('\t'),
        KeyCode::Char(':'),
        KeyCode::Char('-'),
        KeyCode::Char(' '),
        KeyCode::Char('{'),
        KeyCode::Char('é'),
        KeyCode::Char('界'),
    ];
    let mods = [
        KeyModifiers::NONE,
        KeyModifiers::NONE,
        KeyModifiers::NONE,
        KeyModifiers::SHIFT,
        KeyModifiers::CONTROL,
        KeyModifiers::ALT,
    ];
    let mut seed: u64 = 0x5eed_1234;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    for i in 0..600 {
        let r = next();
        let code = if r % 3 == 0 {
            KeyCode::Char((b'a' + (next() % 26) as u8) as char)
        } else {
            codes[next() % codes.len()]
        };
        let m = mods[next() % mods.len()];
        let out = e.handle_key(KeyEvent::new(code, m), &reg);
        if let EditorOutcome::Saved(p) = &out {
            assert_eq!(p, &path);
        }
        if out == EditorOutcome::Launch {
            assert!(e.can_launch());
        }
        if i % 50 == 0 {
            render(&mut e, 80, 24);
            render(&mut e, 20, 6);
            render_with(&mut e, 100, 30, true);
        }
    }
    // Whatever happened, the diagnostics describe the current text.
    let mut fresh = Editor::new(Some(path.clone()), e.text());
    fresh.validate(&reg);
    assert_eq!(fresh.diagnostics(), e.diagnostics());
    render(&mut e, 120, 40);
    render(&mut e, 1, 1);
}

#[test]
fn big_buffers_are_validated_on_demand() {
    let reg = registry();
    let mut text = std::fs::read_to_string(quickstart()).unwrap();
    let filler = "# a comment line that pads the experiment out\n";
    while text.len() <= panther::tui::editor::LIVE_LIMIT {
        text.push_str(filler);
    }
    let mut e = Editor::new(None, text);
    e.validate(&reg);
    assert!(e.can_launch());
    e.handle_key(key(KeyCode::Char('#')), &reg);
    assert!(!e.can_launch(), "the edit is not validated yet");
    assert!(render(&mut e, 80, 24).contains("not validated"));
    e.handle_key(key(KeyCode::F(5)), &reg);
    assert!(e.can_launch(), "{:?}", e.diagnostics());
    // Ctrl-R validates before deciding.
    e.handle_key(key(KeyCode::Char('#')), &reg);
    assert_eq!(e.handle_key(ctrl('r'), &reg), EditorOutcome::Launch);
}

#[test]
fn replacing_the_text_revalidates_and_marks_it_modified() {
    let reg = registry();
    let original = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/quickstart.yaml"),
    )
    .unwrap();
    let mut ed = Editor::new(None, original.clone());
    ed.validate(&reg);
    assert!(!ed.is_dirty());
    let changed = original.replace("count: 10", "count: 12");
    ed.replace_text(&changed, &reg);
    assert_eq!(ed.text(), changed);
    assert!(ed.can_launch() && ed.is_dirty());
    ed.replace_text(&changed.replace("ping_pong", "ping_pnog"), &reg);
    assert!(!ed.can_launch());
    ed.replace_text(&original, &reg);
    assert!(!ed.is_dirty(), "back to the saved text");
}
