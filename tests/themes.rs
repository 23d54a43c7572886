//! Themes: every bundled theme draws the same sequence view in its own colours (snapshots
//! include the styles), and a broken theme is reported with its position while the default
//! is used.

use panther::events::timeline::Timeline;
use panther::plugin::{LoadOptions, Registry};
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
    let reg = Registry::load(&LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![],
        availability: false,
    });
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
