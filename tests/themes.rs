//! Themes: every bundled theme draws the same sequence view in its own colours (snapshots
//! include the styles), and a broken theme is reported with its position while the default
//! is used.

#[allow(dead_code)] // the drawing helpers are for the screen tests
mod common;

use panther::events::timeline::Timeline;
use panther::tui::app::App;
use panther::tui::theme::{BUNDLED, Theme};
use panther::tui::widgets::sequence::{SequenceView, SequenceViewState};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::StatefulWidget;

fn fixture() -> Timeline {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/runs/quickstart/events.jsonl"
    );
    let (events, _) = panther::events::store::read_all(std::path::Path::new(p)).unwrap();
    Timeline::from_events(&events)
}

#[test]
fn each_theme_colours_the_same_sequence_view() {
    let tl = fixture();
    let area = Rect::new(0, 0, 80, 24);
    for (name, _) in BUNDLED {
        let theme = Theme::load(name).unwrap();
        let mut state = SequenceViewState::new();
        state.follow = false;
        state.sync(&tl);
        state.select(14);
        let mut buf = Buffer::empty(area);
        SequenceView::new(&tl, &theme.sequence).render(area, &mut buf, &mut state);
        insta::assert_snapshot!(format!("theme_{name}"), format!("{buf:?}"));
    }
}

#[test]
fn a_malformed_theme_is_reported_with_its_position() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/themes");
    let text = std::fs::read_to_string(format!("{dir}/bad_colour.toml")).unwrap();
    let d = Theme::parse(&text, "bad_colour.toml", None).unwrap_err();
    assert_eq!((d.line, d.column), (2, 9), "{d}");
    assert!(
        d.message.contains("`arrow`: `blurple` is not a colour"),
        "{d}"
    );
    let text = std::fs::read_to_string(format!("{dir}/unknown_slot.toml")).unwrap();
    let d = Theme::parse(&text, "unknown_slot.toml", None).unwrap_err();
    assert_eq!(d.line, 2, "{d}");
    assert!(d.message.contains("arows"), "{d}");
}

#[test]
fn switching_to_an_unknown_theme_says_so_and_keeps_the_current_one() {
    let reg = common::bundled();
    let mut a = App::new(&reg, true);
    a.set_theme("okabe-ito");
    assert_eq!(a.theme.name, "okabe-ito");
    a.set_theme("okabe_itoo");
    assert_eq!(
        a.theme.name, "okabe-ito",
        "a typo does not drop the theme in use"
    );
    let m = a.message.clone().unwrap();
    assert!(
        m.contains("no theme named `okabe_itoo`")
            && m.contains("did you mean `okabe-ito`?")
            && m.contains("keeping theme okabe-ito"),
        "{m}"
    );
}

/// Every screen takes its colours from the theme's slots: a theme that renames `ok`, `error`
/// and `muted` recolours the runs list (a passed run, a crashed one selected), and no other colour
/// than the theme's reaches the buffer. A source check keeps literal colours in the theme
/// module.
#[test]
fn the_workbench_draws_with_the_theme_slots_only() {
    use panther::tui::app::{Action, Screen};
    use ratatui::style::Color;
    let reg = common::bundled();
    let mut a = App::new(&reg, true);
    let base = Theme::default_theme();
    a.theme = Theme::parse(
        "ok = \"#010101\"\nerror = \"#020202\"\nmuted = \"#030303\"\ntext = \"#040404\"\n",
        "probe.toml",
        Some(&base),
    )
    .unwrap();
    a.outputs = "tests/fixtures/outputs".into();
    a.update(Action::Resize(120, 40));
    a.update(Action::GoTo(Screen::History));
    // The crashed run selected, so the passed one is drawn in its own colour.
    a.update(Action::Down);
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    t.draw(|f| panther::tui::screens::draw(f, &mut a)).unwrap();
    let buf = t.backend().buffer();
    let colours: std::collections::BTreeSet<String> = buf
        .content()
        .iter()
        .filter(|c| c.fg != Color::Reset)
        .map(|c| format!("{:?}", c.fg))
        .collect();
    for slot in ["Rgb(1, 1, 1)", "Rgb(3, 3, 3)"] {
        assert!(colours.contains(slot), "{slot} not drawn: {colours:?}");
    }
    let theme = &a.theme;
    let allowed: Vec<String> = [
        theme.ok,
        theme.error,
        theme.warn,
        theme.muted,
        theme.text,
        theme.accent,
        theme.info,
    ]
    .iter()
    .copied()
    .chain(theme.selection.fg)
    .chain(theme.sequence.verdict_error.fg)
    .map(|c| format!("{c:?}"))
    .collect();
    for c in &colours {
        assert!(allowed.contains(c), "{c} is not a theme slot: {colours:?}");
    }
    // No literal colour outside src/tui/theme.rs.
    let mut literal = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from("src")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs")
                && !p.ends_with("tui/theme.rs")
                && std::fs::read_to_string(&p).unwrap().contains("Color::")
            {
                literal.push(p.display().to_string());
            }
        }
    }
    assert!(literal.is_empty(), "literal colours in {literal:?}");
}
