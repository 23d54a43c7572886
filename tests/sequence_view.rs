//! The sequence view: the headless timeline (lanes, arrows, notes, banners, gaps, filters,
//! search) and its rendering, on a recorded quickstart run (a committed fixture, so the
//! snapshots are stable) and on a fresh run of the real binary.

mod common;
use common::{draw_text, text};
use std::path::Path;
use std::process::Command;

use panther::events::model::{Event, Kind, Level, Message};
use panther::events::store::read_all;
use panther::events::timeline::{DisplayRow, Filter, Row, Timeline, TimelineView};
use panther::tui::widgets::sequence::{SequenceStyle, SequenceView, SequenceViewState, TimeMode};
use panther::verdict::Verdict;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::widgets::StatefulWidget;
use regex::Regex;

fn fixture() -> Timeline {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runs/quickstart/events.jsonl");
    let (events, bad) = read_all(&path).expect("fixture");
    assert_eq!(bad, 0);
    Timeline::from_events(&events)
}

fn render(tl: &Timeline, state: &mut SequenceViewState, w: u16, h: u16) -> String {
    let style = SequenceStyle::no_color();
    draw_text(w, h, |f| {
        f.render_stateful_widget(SequenceView::new(tl, &style), f.area(), state)
    })
}

fn top() -> SequenceViewState {
    let mut s = SequenceViewState::new();
    s.follow = false;
    s
}

fn event(seq: u64, t: u64, source: &str, kind: Kind, text: &str) -> Event {
    let mut e = Event::new(source, kind, text);
    e.seq = seq;
    e.t = t;
    e
}

#[allow(clippy::too_many_arguments)]
fn link(
    seq: u64,
    t: u64,
    text: &str,
    from: &str,
    to: &str,
    summary: &str,
    id: u64,
    lost: bool,
) -> Event {
    let mut e = event(seq, t, "link", Kind::Message, text);
    e.message = Some(Message {
        from: from.into(),
        to: to.into(),
        protocol: "minip".into(),
        summary: summary.into(),
        bytes: 8,
        id: Some(id),
        lost,
        hex: None,
    });
    e
}

// ---- the recorded quickstart run ----

#[test]
fn fixture_lanes_and_rows() {
    let tl = fixture();
    assert_eq!(
        tl.lanes(),
        ["server", "link", "tester"],
        "the link relay has its own lifeline, between the services it joins; the orchestrator is not a lane"
    );
    assert!(tl.has_orchestrator_notes());
    let arrows = tl
        .rows(0..tl.len())
        .filter(|r| matches!(r, Row::Message { .. }))
        .count();
    assert_eq!(arrows, 28, "one arrow per delivered message, 14 each way");
    let banners: Vec<_> = tl
        .rows(0..tl.len())
        .filter_map(|r| match r {
            Row::Verdict { verdict, text, .. } => Some((verdict, text.to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(
        banners,
        [
            (Verdict::Pass, "pass: tester: 5 checks passed".to_string()),
            (Verdict::Pass, "run ok: pass".to_string())
        ]
    );
    // The first arrow: the tester's PING, sent at 24588 µs, delivered at 46219 µs.
    let first = tl
        .rows(0..tl.len())
        .find(|r| matches!(r, Row::Message { .. }))
        .unwrap();
    assert_eq!(
        first,
        Row::Message {
            from_lane: 2,
            to_lane: 0,
            summary: "PING seq=1 len=15",
            lost: false,
            sent_t: 24588,
            t: 46219,
            seq: 12
        }
    );
}

#[test]
fn snapshot_quickstart_top_120x40() {
    let tl = fixture();
    insta::assert_snapshot!("quickstart_top_120x40", render(&tl, &mut top(), 120, 40));
}

#[test]
fn snapshot_quickstart_follow_120x40() {
    let tl = fixture();
    let mut s = SequenceViewState::new();
    assert!(s.follow);
    insta::assert_snapshot!("quickstart_follow_120x40", render(&tl, &mut s, 120, 40));
}

#[test]
fn snapshot_quickstart_80x24() {
    let tl = fixture();
    let mut s = top();
    s.offset = 10;
    s.time_mode = TimeMode::Absolute;
    s.selected = Some(14);
    insta::assert_snapshot!("quickstart_absolute_80x24", render(&tl, &mut s, 80, 24));
}

#[test]
fn snapshot_quickstart_filtered_80x24() {
    let tl = fixture();
    let mut s = top();
    s.set_filter(Filter {
        hide_orchestrator: true,
        kinds: Some(vec![Kind::Message, Kind::Verdict]),
        text: Some(Regex::new("^(PING|PONG) seq=[1-5] |pass").unwrap()),
        ..Filter::default()
    });
    insta::assert_snapshot!("quickstart_filtered_80x24", render(&tl, &mut s, 80, 24));
}

#[test]
fn styles_colour_arrows_and_banners_unless_no_color() {
    let tl = fixture();
    let area = Rect::new(0, 0, 120, 40);
    let mut buf = Buffer::empty(area);
    let style = SequenceStyle::default();
    SequenceView::new(&tl, &style).render(area, &mut buf, &mut SequenceViewState::new());
    let has = |buf: &Buffer, sym: &str, fg: Color| {
        buf.content()
            .iter()
            .any(|c| c.symbol() == sym && c.fg == fg)
    };
    assert!(has(&buf, "▶", style.arrow.fg.unwrap()) || has(&buf, "◀", style.arrow.fg.unwrap()));
    assert!(has(&buf, "═", style.verdict_pass.fg.unwrap()));
    let mut plain = Buffer::empty(area);
    SequenceView::new(&tl, &SequenceStyle::no_color()).render(
        area,
        &mut plain,
        &mut SequenceViewState::new(),
    );
    assert!(
        plain
            .content()
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );
    assert_eq!(text(&buf), text(&plain), "colour changes no symbol");
}

// ---- a fresh run of the real binary ----

#[test]
fn real_quickstart_run_makes_arrows_both_ways_and_a_pass_banner() {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_panther"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "experiments/quickstart.yaml", "--output"])
        .arg(out.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("run panther");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let file = walk(out.path()).expect("events.jsonl in the results folder");
    let (events, bad) = read_all(&file).unwrap();
    assert_eq!(bad, 0);
    let tl = Timeline::from_events(&events);
    let (server, tester) = (tl.lane("server").unwrap(), tl.lane("tester").unwrap());
    let count = |from, to| {
        tl.rows(0..tl.len())
            .filter(|r| matches!(*r, Row::Message { from_lane, to_lane, lost: false, .. } if from_lane == from && to_lane == to))
            .count()
    };
    assert!(
        count(tester, server) >= 10,
        "tester → server: {}",
        count(tester, server)
    );
    assert!(
        count(server, tester) >= 10,
        "server → tester: {}",
        count(server, tester)
    );
    assert!(tl.rows(0..tl.len()).any(|r| matches!(
        r,
        Row::Verdict {
            verdict: Verdict::Pass,
            ..
        }
    )));
    let screen = render(&tl, &mut SequenceViewState::new(), 120, 40);
    assert!(screen.contains("PASS · pass: tester"), "{screen}");
}

fn walk(dir: &Path) -> Option<std::path::PathBuf> {
    for e in std::fs::read_dir(dir).ok()? {
        let p = e.ok()?.path();
        if p.is_dir() {
            if let Some(f) = walk(&p) {
                return Some(f);
            }
        } else if p.file_name().is_some_and(|n| n == "events.jsonl") {
            return Some(p);
        }
    }
    None
}

// ---- headless behaviour ----

fn shown(tl: &Timeline, v: &TimelineView) -> Vec<String> {
    v.rows(tl, 0..v.len())
        .map(|d| match d {
            DisplayRow::Row { row, .. } => row.text().to_string(),
            DisplayRow::Gap { duration_us } => format!("gap {duration_us}"),
        })
        .collect()
}

#[test]
fn idle_gaps_collapse_into_one_row() {
    let mut tl = Timeline::new();
    let ts = [0, 100, 200, 1_500_000, 1_500_100, 1_500_200, 5_000_000];
    for (i, t) in ts.iter().enumerate() {
        tl.push(&event(i as u64, *t, "svc", Kind::Log, &format!("r{i}")));
    }
    let mut v = TimelineView::default();
    v.sync(&tl);
    assert_eq!(
        shown(&tl, &v),
        [
            "r0",
            "r1",
            "r2",
            "gap 1499800",
            "r3",
            "r4",
            "r5",
            "gap 3499800",
            "r6"
        ]
    );
    // Incremental: a row arriving later extends the view without rebuilding it.
    tl.push(&event(7, 5_000_050, "svc", Kind::Log, "r7"));
    tl.push(&event(8, 7_000_000, "svc", Kind::Log, "r8"));
    v.sync(&tl);
    assert_eq!(v.len(), 12);
    assert_eq!(shown(&tl, &v)[9..], ["r7", "gap 1999950", "r8"]);
    // Windows anywhere agree with the whole.
    let all: Vec<_> = v.rows(&tl, 0..v.len()).collect();
    for s in 0..v.len() {
        for e in s..=v.len() {
            assert_eq!(v.rows(&tl, s..e).collect::<Vec<_>>(), all[s..e], "{s}..{e}");
        }
    }
    // Threshold off: no gap rows.
    let mut none = TimelineView::new(Filter::default(), 0);
    none.sync(&tl);
    assert_eq!(none.len(), tl.len());
    // And rendered.
    let screen = render(&tl, &mut top(), 60, 14);
    assert!(screen.contains("… 1.5 s idle …"), "{screen}");
    assert!(screen.contains("… 3.5 s idle …"), "{screen}");
}

#[test]
fn filters_by_lane_kind_and_text_and_gaps_follow_the_filter() {
    let mut tl = Timeline::new();
    let mut seq = 0;
    let mut next = || {
        seq += 1;
        seq - 1
    };
    tl.push(&event(
        next(),
        0,
        "orchestrator",
        Kind::Lifecycle,
        "test starting",
    ));
    tl.push(&link(next(), 10, "sent", "a", "b", "PING 1", 1, false));
    tl.push(&link(next(), 20, "delivered", "a", "b", "PING 1", 1, false));
    tl.push(&link(next(), 30, "sent", "b", "c", "FWD 1", 2, false));
    tl.push(&link(next(), 40, "delivered", "b", "c", "FWD 1", 2, false));
    let mut warn = event(next(), 2_000_000, "c", Kind::Log, "cache cold");
    warn.level = Some(Level::Warn);
    tl.push(&warn);
    tl.push(&link(
        next(),
        2_000_010,
        "sent",
        "b",
        "a",
        "PONG 1",
        3,
        false,
    ));
    tl.push(&link(
        next(),
        2_000_020,
        "delivered",
        "b",
        "a",
        "PONG 1",
        3,
        false,
    ));
    assert_eq!(tl.lanes(), ["a", "b", "c"]);
    let c = tl.lane("c").unwrap();

    let view = |f: Filter| {
        let mut v = TimelineView::new(f, 1_000_000);
        v.sync(&tl);
        shown(&tl, &v)
    };
    assert_eq!(
        view(Filter::default()),
        [
            "test starting",
            "PING 1",
            "FWD 1",
            "gap 1999960",
            "cache cold",
            "PONG 1"
        ]
    );
    assert_eq!(
        view(Filter {
            hidden_lanes: vec![c],
            ..Filter::default()
        }),
        ["test starting", "PING 1", "gap 2000000", "PONG 1"]
    );
    assert_eq!(
        view(Filter {
            hide_orchestrator: true,
            kinds: Some(vec![Kind::Message]),
            ..Filter::default()
        }),
        ["PING 1", "FWD 1", "gap 1999980", "PONG 1"]
    );
    assert_eq!(
        view(Filter {
            text: Some(Regex::new("^P").unwrap()),
            ..Filter::default()
        }),
        ["PING 1", "gap 2000000", "PONG 1"]
    );

    // Hiding a lane in the widget state drops its column.
    let mut s = top();
    s.toggle_lane(c);
    assert_eq!(s.hidden_lanes(), [c]);
    let screen = render(&tl, &mut s, 80, 10);
    assert!(
        !screen.contains("cache cold") && !screen.contains(" c "),
        "{screen}"
    );
    s.toggle_lane(c);
    assert!(s.hidden_lanes().is_empty());
    let screen = render(&tl, &mut s, 80, 10);
    assert!(screen.contains("cache cold"), "{screen}");
}

#[test]
fn search_next_and_prev() {
    let tl = fixture();
    let re = Regex::new(r"^PONG seq=\d+ ").unwrap();
    let first = tl.find_next(&re, 0).unwrap();
    assert_eq!(tl.row(first).text(), "PONG seq=1 len=15");
    let second = tl.find_next(&re, first + 1).unwrap();
    assert_eq!(tl.row(second).text(), "PONG seq=2 len=16");
    assert_eq!(tl.find_prev(&re, second - 1), Some(first));
    assert_eq!(tl.find_prev(&re, first.saturating_sub(1)), None);
    assert_eq!(tl.find_next(&Regex::new("no such thing").unwrap(), 0), None);

    // Through the widget state: selects and scrolls to the hit.
    let mut s = top();
    render(&tl, &mut s, 80, 12);
    let hit = s
        .search(&tl, &Regex::new("^ERROR seq=4294901762").unwrap(), true)
        .unwrap();
    assert_eq!(s.selected, Some(hit));
    assert!(s.offset <= hit && hit < s.offset + 10);
    let Some(DisplayRow::Row { row, .. }) = s.selected_row(&tl) else {
        panic!("a row is selected")
    };
    assert_eq!(row.text(), "ERROR seq=4294901762 len=15");
    let back = s.search(&tl, &re, false).unwrap();
    assert!(back < hit);
    let screen = render(&tl, &mut s, 80, 12);
    assert!(screen.contains("PONG seq=10 len=25"), "{screen}");
}

#[test]
fn lost_messages_are_crossed_arrows() {
    let mut tl = Timeline::new();
    tl.push(&link(
        0,
        10,
        "sent",
        "tester",
        "server",
        "PING seq=1",
        1,
        false,
    ));
    tl.push(&link(
        1,
        20,
        "delivered",
        "tester",
        "server",
        "PING seq=1",
        1,
        false,
    ));
    tl.push(&link(
        2,
        30,
        "sent",
        "tester",
        "server",
        "PING seq=2",
        2,
        true,
    ));
    tl.push(&link(
        3,
        40,
        "sent",
        "server",
        "tester",
        "PONG seq=1",
        3,
        true,
    ));
    assert_eq!(tl.len(), 3);
    assert!(matches!(
        tl.row(1),
        Row::Message {
            lost: true,
            sent_t: 30,
            t: 30,
            summary: "PING seq=2",
            ..
        }
    ));
    let screen = render(&tl, &mut top(), 60, 6);
    let lines: Vec<&str> = screen.lines().collect();
    assert!(
        lines[2].contains('▶') && !lines[2].contains('✕'),
        "{screen}"
    );
    assert!(
        lines[3].contains("PING seq=2") && lines[3].trim_end().ends_with("✕│"),
        "{screen}"
    );
    assert!(
        lines[4].contains("PONG seq=1") && lines[4].trim_end().ends_with("✕│"),
        "{screen}"
    );
    // Lost arrows get the lost colour.
    let area = Rect::new(0, 0, 60, 6);
    let mut buf = Buffer::empty(area);
    let style = SequenceStyle::default();
    SequenceView::new(&tl, &style).render(area, &mut buf, &mut top());
    assert!(
        buf.content()
            .iter()
            .any(|c| c.symbol() == "✕" && c.fg == style.lost.fg.unwrap())
    );
}

#[test]
fn scrolling_selection_and_follow() {
    let tl = fixture();
    let mut s = SequenceViewState::new();
    render(&tl, &mut s, 80, 12); // 10 body rows
    let len = s.len();
    assert_eq!(s.offset, len - 10, "follow shows the last rows");
    s.scroll_by(-5);
    assert!(!s.follow);
    assert_eq!(s.offset, len - 15);
    s.select_first();
    assert_eq!((s.selected, s.offset), (Some(0), 0));
    for _ in 0..12 {
        s.select_next();
    }
    assert_eq!(s.selected, Some(12));
    assert_eq!(s.offset, 3, "selection kept in view");
    s.page_down();
    assert_eq!(s.offset, 13);
    s.select_last();
    assert!(s.follow);
    assert_eq!(s.selected, Some(len - 1));
    s.toggle_time_mode();
    assert_eq!(s.time_mode, TimeMode::Absolute);
    // Tiny areas draw nothing and do not panic.
    for (w, h) in [(1, 1), (5, 3), (13, 3), (20, 4)] {
        render(&tl, &mut SequenceViewState::new(), w, h);
    }
}
