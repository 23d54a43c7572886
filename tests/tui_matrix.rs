//! The matrix screen: a real MinIP matrix started from the palette the way a user types it,
//! its grid filled by the cells as they finish, Enter into a cell's sequence view, `r` to run
//! a cell again; snapshots of the grid at 120×40 and 80×24.

mod common;
use std::time::Duration;

use common::draw_text;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use panther::tui::app::{Action, App, Effect, Screen};

fn app(outputs: &std::path::Path) -> App {
    let reg = common::bundled();
    let mut a = App::new(&reg, false);
    a.outputs = outputs.to_path_buf();
    a.panther_exe = Some(env!("CARGO_BIN_EXE_panther").into());
    a
}

fn key(c: KeyCode) -> Action {
    Action::MatrixKey(KeyEvent::new(c, KeyModifiers::NONE))
}

fn render(app: &mut App, w: u16, h: u16) -> String {
    app.update(Action::Resize(w, h));
    draw_text(w, h, |f| panther::tui::screens::draw(f, app))
}

const MATRIX: &str = ":matrix --protocol minip --servers ping_pong@functional,ping_pong@fail \
    --clients minip_tester --cases ping,robustness --jobs 2 --client-config count=4 \
    --client-config interval_ms=5 --timeout 20";

fn start(a: &mut App) -> Effect {
    let effects = a.command(MATRIX);
    assert_eq!(a.screen, Screen::Matrix, "{:?}", a.message);
    assert_eq!(effects, vec![Effect::RunMatrix { only: None }]);
    effects.into_iter().next().unwrap()
}

#[test]
fn a_matrix_started_from_the_palette_fills_its_grid_and_opens_cells() {
    let root = tempfile::tempdir().unwrap();
    let mut a = app(root.path());
    let run = start(&mut a);
    let m = a.matrix.as_ref().unwrap();
    assert_eq!((m.done, m.total), (0, 4));
    panther::tui::matrix_and_wait(&mut a, &run, Duration::from_secs(120)).unwrap();
    let m = a.matrix.as_ref().unwrap();
    assert_eq!((m.done, m.total, m.live), (4, 4, false));
    let v = |s: &str, k: &str| m.result(s, "minip_tester", k).map(|r| r.verdict.as_str());
    assert_eq!(v("ping_pong@functional", "ping"), Some("pass"));
    assert_eq!(v("ping_pong@functional", "robustness"), Some("pass"));
    assert_eq!(v("ping_pong@fail", "ping"), Some("fail"));
    assert!(
        m.dir.join("matrix.json").is_file(),
        "outputs written at the end"
    );
    // The grid shows a letter per case: P(ing) and R(obustness).
    let screen = render(&mut a, 120, 40);
    assert!(screen.contains("P R"), "{screen}");
    assert!(screen.contains("4/4 cells"), "{screen}");
    // `f` twice shows failures only: the functional server's row keeps no letter.
    a.update(key(KeyCode::Char('f')));
    a.update(key(KeyCode::Char('f')));
    assert!(render(&mut a, 120, 40).contains("showing fail"));
    a.update(key(KeyCode::Char('f')));
    for _ in 0..5 {
        a.update(key(KeyCode::Char('f')));
    }
    // `r` on the first cell runs it again, and the grid keeps its count.
    let effects = a.update(key(KeyCode::Char('r')));
    let again = effects.into_iter().next().expect("a re-run");
    let Effect::RunMatrix { only: Some(cell) } = &again else {
        panic!("{again:?}")
    };
    assert_eq!(
        (cell.server.as_str(), cell.case.as_str()),
        ("ping_pong@functional", "ping")
    );
    panther::tui::matrix_and_wait(&mut a, &again, Duration::from_secs(60)).unwrap();
    let m = a.matrix.as_ref().unwrap();
    assert_eq!((m.done, m.total), (4, 4));
    assert_eq!(
        m.result("ping_pong@functional", "minip_tester", "ping")
            .map(|r| r.verdict.as_str()),
        Some("pass")
    );
    // Enter opens the selected cell's results in the sequence view.
    a.update(key(KeyCode::Enter));
    assert_eq!(a.screen, Screen::Sequence, "{:?}", a.message);
    assert!(!a.sequence.as_ref().unwrap().timeline.is_empty());
}

#[test]
fn bad_matrix_lines_say_why_and_start_nothing() {
    let root = tempfile::tempdir().unwrap();
    let mut a = app(root.path());
    assert!(
        a.command(":matrix --protocol minip --servers nosuch")
            .is_empty()
    );
    let msg = a.message.clone().unwrap_or_default();
    assert!(msg.contains("nosuch"), "{msg}");
    assert!(a.command(":matrix --protocol minip --shard 4/3").is_empty());
    assert!(a.message.clone().unwrap_or_default().contains("4/3"));
    assert!(a.command(":matrix --jobs").is_empty());
    assert!(a.matrix.is_none());
}

/// A matrix folder written by the runner, opened with `:matrix DIR` and drawn.
#[test]
fn matrix_screen_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let cell = |v: &str, reason: &str, passes: u32, runs: u32| {
        serde_json::json!({"verdict": v, "reason": reason, "passes": passes, "runs": runs,
            "duration_ms": 1500, "dir": "cells/x"})
    };
    let m = serde_json::json!({
        "schema_version": 1, "protocol": "quic", "network_environment": "localhost",
        "servers": ["aioquic", "ngtcp2", "quinn"], "clients": ["quic_tester", "aioquic", "ngtcp2"],
        "cases": ["handshake", "transfer", "resumption"], "repeat": 3,
        "started_at": "2026-12-01T23:00:00Z", "duration_ms": 42000,
        "cells": {
            "aioquic": {
                "quic_tester": {"handshake": cell("pass", "client: 7 checks passed", 3, 3),
                                "transfer": cell("pass", "client: 7 checks passed", 3, 3),
                                "resumption": cell("pass", "client: 7 checks passed", 3, 3)},
                "aioquic": {"handshake": cell("pass", "ok", 3, 3), "transfer": cell("flaky", "passed 2 of 3 runs", 2, 3),
                            "resumption": cell("unsupported", "aioquic does not support case resumption", 0, 0)}
            },
            "ngtcp2": {
                "quic_tester": {"handshake": cell("pass", "ok", 3, 3), "transfer": cell("fail", "client: failed: stream_data_intact", 0, 3),
                                "resumption": cell("pass", "ok", 3, 3)},
                "ngtcp2": {"handshake": cell("error", "server: did not become ready in 30 s", 0, 3)}
            }
        }
    });
    std::fs::write(
        dir.path().join("matrix.json"),
        serde_json::to_string(&m).unwrap(),
    )
    .unwrap();
    let mut a = app(dir.path());
    a.command(&format!(":matrix {}", dir.path().display()));
    assert_eq!(a.screen, Screen::Matrix, "{:?}", a.message);
    a.update(key(KeyCode::Char('j')));
    a.update(key(KeyCode::Char('l')));
    insta::assert_snapshot!("matrix_120x40", render(&mut a, 120, 40));
    insta::assert_snapshot!("matrix_80x24", render(&mut a, 80, 24));
    a.update(key(KeyCode::Char('f')));
    insta::assert_snapshot!("matrix_not_passed_80x24", render(&mut a, 80, 24));
}
