//! The sequence view with more lanes than columns (issue 13 #5): the quickstart replayed at
//! 20 columns and less, a 40-service run at 60 columns, drawn through the whole workbench as
//! the terminal would, at every size down to one cell. It used to panic with "index outside
//! of buffer" (and live, killed the workbench mid-run).

mod common;
use std::path::PathBuf;

use panther::events::model::{Event, Kind, Message};
use panther::events::timeline::Timeline;
use panther::tui::app::{Action, App};
use panther::tui::widgets::sequence::{SequenceStyle, SequenceView, SequenceViewState};

const RECORDED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/outputs/2026-11-25_10-00-00_quickstart"
);

fn app() -> App {
    let reg = common::bundled();
    let mut a = App::new(&reg, false);
    a.outputs = PathBuf::from("tests/fixtures/outputs");
    a
}

fn screen(a: &mut App, w: u16, h: u16) -> String {
    a.update(Action::Resize(w, h));
    common::draw_text(w, h, |f| panther::tui::screens::draw(f, a))
}

#[test]
fn the_quickstart_replayed_at_20_columns_and_less_draws() {
    let mut a = app();
    a.command(&format!("replay {RECORDED}"));
    let wide = screen(&mut a, 120, 40);
    assert!(wide.contains("tester"), "the replay is open:\n{wide}");
    for w in 1..=30 {
        for h in [1, 2, 3, 5, 8, 12, 24] {
            screen(&mut a, w, h);
        }
    }
    let narrow = screen(&mut a, 20, 24);
    assert!(
        !narrow.trim().is_empty(),
        "something is drawn at 20 columns"
    );
}

/// A run with `n` services, each sending one message to the next.
fn many_lanes(n: usize) -> Timeline {
    let mut events = Vec::new();
    for i in 0..n {
        let mut e = Event::new(format!("svc{i:02}"), Kind::Message, "sent");
        e.seq = i as u64 + 1;
        e.t = 1000 * i as u64;
        e.message = Some(Message {
            from: format!("svc{i:02}"),
            to: format!("svc{:02}", (i + 1) % n),
            protocol: "minip".into(),
            summary: format!("PING {i}"),
            bytes: 8,
            id: Some(i as u64),
            lost: false,
            hex: None,
        });
        events.push(e);
    }
    Timeline::from_events(&events)
}

#[test]
fn forty_lanes_at_60_columns_draw() {
    let tl = many_lanes(40);
    assert_eq!(tl.lanes().len(), 40);
    let style = SequenceStyle::no_color();
    for (w, h) in [(60, 24), (60, 40), (40, 10), (20, 24), (1, 1), (80, 24)] {
        let mut st = SequenceViewState::new();
        common::draw_text(w, h, |f| {
            f.render_stateful_widget(SequenceView::new(&tl, &style), f.area(), &mut st)
        });
        st.select_first();
        st.select_next();
        common::draw_text(w, h, |f| {
            f.render_stateful_widget(SequenceView::new(&tl, &style), f.area(), &mut st)
        });
    }
}

#[test]
fn lanes_that_do_not_fit_are_counted_in_the_header() {
    let tl = many_lanes(40);
    let style = SequenceStyle::no_color();
    let mut st = SequenceViewState::new();
    st.follow = false; // the first rows, whose lanes fit
    let screen = common::draw_text(60, 12, |f| {
        f.render_stateful_widget(SequenceView::new(&tl, &style), f.area(), &mut st)
    });
    let mut lines = screen.lines();
    let (header, rule) = (lines.next().unwrap(), lines.next().unwrap());
    let drawn = rule.matches('┬').count();
    assert!(
        drawn > 0 && drawn < 40,
        "some lanes fit, not all:\n{screen}"
    );
    assert!(
        header.ends_with(&format!("+{}▸", 40 - drawn)),
        "the header counts the lanes cut at the right:\n{screen}"
    );
    insta::assert_snapshot!("forty_lanes_60x12", screen);

    // Hiding a lane brings the next one in.
    st.toggle_lane(0);
    let hidden = common::draw_text(60, 12, |f| {
        f.render_stateful_widget(SequenceView::new(&tl, &style), f.area(), &mut st)
    });
    assert!(
        hidden
            .lines()
            .next()
            .unwrap()
            .ends_with(&format!("+{}▸", 39 - drawn)),
        "{hidden}"
    );
}

#[test]
fn the_quickstart_at_20_columns_keeps_its_lanes_and_drops_the_orchestrator_column() {
    let mut a = app();
    a.command(&format!("replay {RECORDED}"));
    let narrow = screen(&mut a, 20, 24);
    assert!(!narrow.contains("orchestrat"), "{narrow}");
    let rule = narrow.lines().nth(3).unwrap();
    assert_eq!(
        rule.matches('┬').count(),
        3,
        "server, link, tester:\n{narrow}"
    );
    insta::assert_snapshot!("quickstart_20x24", narrow);
}

#[test]
fn every_screen_draws_at_every_small_size() {
    use panther::tui::app::Screen;
    let mut a = app();
    a.command(&format!("replay {RECORDED}"));
    for s in Screen::ALL {
        a.update(Action::GoTo(s));
        for w in (1..=40).chain([60, 80]) {
            for h in [1, 2, 3, 4, 6, 10, 24] {
                screen(&mut a, w, h);
            }
        }
    }
    // Help and the palette over a tiny screen.
    a.update(Action::GoTo(Screen::Sequence));
    for cmd in ["?", ":"] {
        let key = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(
            cmd.chars().next().unwrap(),
        ));
        if let Some(act) = panther::tui::keymap::action(key, &a) {
            a.update(act);
        }
        for w in 1..=30 {
            for h in [1, 3, 5, 10] {
                screen(&mut a, w, h);
            }
        }
    }
}

/// The help box's text, its borders and indentation stripped, its lines joined by spaces.
fn help_text(screen: &str) -> String {
    screen
        .lines()
        .filter_map(|l| {
            let a = l.find('│')?;
            let b = l.rfind('│')?;
            (b > a).then(|| l[a + '│'.len_utf8()..b].trim().to_string())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn help_at_80_columns_shows_every_description_whole() {
    use panther::tui::app::Screen;
    let mut a = app();
    a.command(&format!("replay {RECORDED}"));
    for s in Screen::ALL {
        a.update(Action::GoTo(s));
        let q = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('?'));
        let act = panther::tui::keymap::action(q, &a).expect("? is bound");
        a.update(act);
        // Tall enough that nothing scrolls; 80 columns wide.
        let text = help_text(&screen(&mut a, 80, 120));
        let squeezed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for (_, bindings) in a.bindings() {
            for b in bindings {
                assert!(
                    squeezed.contains(&b.what),
                    "{s:?}: “{}” is not whole in the help:\n{}",
                    b.what,
                    screen(&mut a, 80, 120)
                );
            }
        }
        let esc = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Esc);
        let act = panther::tui::keymap::action(esc, &a).expect("Esc is bound");
        a.update(act);
    }
}
