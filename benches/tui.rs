//! Workbench benchmarks (issues 4, 5): start to first frame, live ingestion while drawing,
//! and what a tutorial's check adds to each action.
//! Targets: first frame ≤ 100 ms; 100,000 events/s arriving while drawing at 30 frames/s
//! with no growing backlog, so a frame's ingest + draw must stay well under 33 ms.

use std::hint::black_box;

#[path = "support/experiment.rs"]
mod generated;

use criterion::{Criterion, criterion_group, criterion_main};
use panther::events::timeline::Timeline;
use panther::events::{Event, Kind, Message};
use panther::plugin::{LoadOptions, Registry};
use panther::tui::app::{Action, App, Screen};
use panther::tui::widgets::sequence::{SequenceStyle, SequenceView, SequenceViewState};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::StatefulWidget;

fn first_frame(c: &mut Criterion) {
    let mut g = c.benchmark_group("tui");
    g.sample_size(20);
    // What `panther` does before its first frame: load plugins (with availability checks),
    // build the app, open and validate the quickstart, draw.
    g.bench_function("start_to_first_frame", |b| {
        b.iter(|| {
            let reg = Registry::load(&LoadOptions {
                bundled: true,
                user: false,
                dirs: vec![],
                availability: true,
            });
            let mut app = App::new(&reg, true);
            app.update(Action::Resize(120, 40));
            app.update(Action::GoTo(Screen::Editor));
            let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
            t.draw(|f| panther::tui::screens::draw(f, &mut app))
                .unwrap();
            black_box(t.backend().buffer().area);
        })
    });
    g.finish();
}

fn event(i: u64) -> Event {
    let mut e = Event::new("link", Kind::Message, "delivered");
    e.t = i * 10;
    e.seq = i;
    let (from, to) = if i.is_multiple_of(2) {
        ("tester", "server")
    } else {
        ("server", "tester")
    };
    e.message = Some(Message {
        from: from.into(),
        to: to.into(),
        protocol: "minip".into(),
        summary: format!("PING seq={i} len=16"),
        bytes: 23,
        id: Some(i),
        lost: false,
        hex: None,
    });
    e.data = serde_json::json!({"sent_us": i * 10, "delay_us": 20});
    e
}

fn live_ingest(c: &mut Criterion) {
    // 100,000 events/s at 30 frames/s: 3,334 events arrive between two frames.
    const PER_FRAME: u64 = 3_334;
    let style = SequenceStyle::default();
    let area = Rect::new(0, 0, 200, 50);
    let mut g = c.benchmark_group("tui");
    g.bench_function("frame_with_3334_new_events_200x50", |b| {
        let mut tl = Timeline::new();
        let mut state = SequenceViewState::new();
        let mut buf = Buffer::empty(area);
        let mut next = 0u64;
        b.iter(|| {
            for i in next..next + PER_FRAME {
                tl.push(&event(i));
            }
            next += PER_FRAME;
            state.sync(&tl);
            SequenceView::new(&tl, &style).render(area, &mut buf, &mut state);
            black_box(&buf);
        })
    });
    g.finish();
}

/// What a tutorial adds to every action: its current step's check runs after each one. The
/// heaviest check reads and validates a file (here an experiment, the quickstart); the step
/// never completes, so every iteration pays it.
fn tutorial_check(c: &mut Criterion) {
    let reg = Registry::load(&LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![],
        availability: false,
    });
    let quickstart = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/quickstart.yaml");
    let mut g = c.benchmark_group("tui");
    for (name, check) in [
        ("action_without_tutorial", None),
        (
            "action_with_screen_check",
            Some("{screen: runs}".to_string()),
        ),
        (
            "action_with_file_validates_check",
            Some(format!(
                "{{all: [{{file_validates: {quickstart}}}, {{theme: none}}]}}"
            )),
        ),
    ] {
        let mut app = App::new(&reg, true);
        app.update(Action::Resize(120, 40));
        if let Some(check) = check {
            let t = panther::tutorial::parse(
                &format!("name: b\ntitle: b\nsummary: b\nsteps:\n  - title: s\n    text: t\n    check: {check}\n"),
                "bench.yaml",
            )
            .unwrap();
            app.tutorial = Some(panther::tutorial::Session::new(t, 0));
        }
        let mut down = true;
        g.bench_function(name, |b| {
            b.iter(|| {
                down = !down;
                app.update(if down { Action::Down } else { Action::Up });
                black_box(app.selected);
            })
        });
    }
    g.finish();
}

/// One form edit on a 200-test experiment (issue 14, target ≤ 5 ms): Enter on test 0's
/// network row cycles its environment, and the app patches the YAML text at that node,
/// checks the patch reads back as the form, and revalidates the file in the editor.
fn form_edit(c: &mut Criterion) {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let reg = Registry::load(&LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![],
        availability: false,
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.yaml");
    std::fs::write(&file, generated::generate_experiment(200)).unwrap();
    let mut app = App::new(&reg, true);
    app.update(Action::Resize(120, 40));
    app.command(&format!("open {}", file.display()));
    let press = |app: &mut App, code: KeyCode| {
        if let Some(a) = panther::tui::keymap::action(KeyEvent::new(code, KeyModifiers::NONE), app)
        {
            app.update(a);
        }
    };
    press(&mut app, KeyCode::F(2));
    assert!(app.form.is_some(), "the form opened: {:?}", app.message);
    press(&mut app, KeyCode::Down);
    let before = app.editor.as_ref().unwrap().text();
    press(&mut app, KeyCode::Enter);
    assert_ne!(
        app.editor.as_ref().unwrap().text(),
        before,
        "Enter edited the YAML"
    );
    let mut g = c.benchmark_group("tui");
    g.bench_function("form_edit_200_tests", |b| {
        b.iter(|| {
            press(&mut app, KeyCode::Enter);
            black_box(app.editor.as_ref().map(|e| e.text().len()));
        })
    });
    g.finish();
}

criterion_group!(tui, first_frame, live_ingest, tutorial_check, form_edit);
criterion_main!(tui);
