//! Sequence view at scale: a synthetic 1,000,000-event run (3 services, message pairs through
//! the link relay, notes, an idle gap now and then).
//!
//! * push throughput (events/s) and memory (heap bytes per event, from allocated capacity;
//!   target ≤ 200),
//! * render time per frame at 200×50 into a ratatui `Buffer`, at the top, middle and bottom
//!   (target ≤ 4 ms),
//! * building a filtered view (lane hidden + text regex) and rendering it.
//!
//! `cargo bench --bench sequence` prints the figures; without `--bench` (as `cargo test
//! --all-targets` runs it) it does a small smoke run.

use std::hint::black_box;
use std::time::{Duration, Instant};

use panther::events::model::{Event, Kind, Level, Message};
use panther::events::timeline::{Filter, Timeline};
use panther::tui::widgets::sequence::{SequenceStyle, SequenceView, SequenceViewState};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::StatefulWidget;
use regex::Regex;

const LANES: [&str; 3] = ["client", "server", "cache"];

fn synthetic(n: usize) -> Vec<Event> {
    let mut out = Vec::with_capacity(n);
    let mut t = 0u64;
    let mut id = 0u64;
    while out.len() < n {
        let i = out.len();
        // Every 5,000 events, two seconds of silence.
        t += if i % 5_000 == 4_999 { 2_000_000 } else { 137 };
        let seq = i as u64;
        let e = match i % 10 {
            0..=7 => {
                // sent/delivered pairs; one message in 50 lost.
                let pair = (i % 10) / 2;
                let (from, to) = match pair {
                    0 => (0, 1),
                    1 => (1, 0),
                    2 => (1, 2),
                    _ => (2, 1),
                };
                let delivered = i % 2 == 1;
                if !delivered {
                    id += 1;
                }
                let lost = !delivered && id.is_multiple_of(50);
                let mut e = Event::new(
                    "link",
                    Kind::Message,
                    if delivered { "delivered" } else { "sent" },
                );
                e.message = Some(Message {
                    from: LANES[from].into(),
                    to: LANES[to].into(),
                    protocol: "minip".into(),
                    summary: format!(
                        "{} seq={} len=16",
                        if from < to { "PING" } else { "PONG" },
                        id
                    ),
                    bytes: 23,
                    id: Some(id),
                    lost,
                    hex: None,
                });
                if delivered {
                    e.data = serde_json::json!({"sent_us": t - 120, "delay_us": 120});
                }
                e
            }
            8 => {
                let mut e = Event::new(
                    LANES[i % 3],
                    Kind::Log,
                    format!("handled request {}", i / 10),
                );
                e.level = Some(Level::Debug);
                e
            }
            _ => Event::new("orchestrator", Kind::Lifecycle, "heartbeat"),
        };
        let mut e = e;
        e.seq = seq;
        e.t = t;
        out.push(e);
    }
    out
}

fn frame(
    tl: &Timeline,
    style: &SequenceStyle,
    state: &mut SequenceViewState,
    buf: &mut Buffer,
) -> Duration {
    let area = *buf.area();
    buf.reset();
    let start = Instant::now();
    SequenceView::new(tl, style).render(area, buf, state);
    start.elapsed()
}

/// Median of `reps` frames at `offset`.
fn time_frames(
    tl: &Timeline,
    style: &SequenceStyle,
    state: &mut SequenceViewState,
    offset: usize,
    reps: usize,
) -> Duration {
    let mut buf = Buffer::empty(Rect::new(0, 0, 200, 50));
    let mut times: Vec<Duration> = (0..reps)
        .map(|_| {
            state.follow = false;
            state.offset = offset;
            frame(tl, style, state, &mut buf)
        })
        .collect();
    black_box(&buf);
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { 1_000_000 } else { 20_000 };
    let reps = if full { 200 } else { 5 };
    let events = synthetic(n);

    let start = Instant::now();
    let mut tl = Timeline::new();
    for e in &events {
        tl.push(e);
    }
    let push = start.elapsed();
    let bytes = tl.heap_bytes();
    println!(
        "push: {n} events → {} rows in {:.1} ms ({:.2} M events/s)",
        tl.len(),
        ms(push),
        n as f64 / push.as_secs_f64() / 1e6
    );
    println!(
        "memory: {bytes} heap bytes, {:.1} bytes/event (target ≤ 200)",
        bytes as f64 / n as f64
    );
    drop(events);

    let style = SequenceStyle::default();
    let mut state = SequenceViewState::new();
    let start = Instant::now();
    state.sync(&tl);
    println!(
        "view (unfiltered, gaps): {} display rows, built in {:.1} ms",
        state.len(),
        ms(start.elapsed())
    );
    let len = state.len();
    for (name, offset) in [
        ("top", 0),
        ("middle", len / 2),
        ("bottom", len.saturating_sub(48)),
    ] {
        let d = time_frames(&tl, &style, &mut state, offset, reps);
        println!(
            "render 200×50 at {name:<6} (row {offset:>7}): {:.3} ms/frame (target ≤ 4)",
            ms(d)
        );
    }

    let mut filtered = SequenceViewState::new();
    let filter = Filter {
        hidden_lanes: vec![tl.lane("cache").expect("cache lane")],
        text: Some(Regex::new(r"seq=\d*7 ").expect("regex")),
        ..Filter::default()
    };
    filtered.set_filter(filter);
    let start = Instant::now();
    filtered.sync(&tl);
    println!(
        "filtered view (cache hidden, /seq=\\d*7 /): {} display rows, built in {:.1} ms",
        filtered.len(),
        ms(start.elapsed())
    );
    let flen = filtered.len();
    for (name, offset) in [
        ("top", 0),
        ("middle", flen / 2),
        ("bottom", flen.saturating_sub(48)),
    ] {
        let d = time_frames(&tl, &style, &mut filtered, offset, reps);
        println!("filtered render at {name:<6}: {:.3} ms/frame", ms(d));
    }

    let re = Regex::new("seq=99999 ").expect("regex");
    let start = Instant::now();
    let hit = tl.find_next(&re, 0);
    println!(
        "search /seq=99999 / from the top: row {hit:?} in {:.2} ms",
        ms(start.elapsed())
    );
}
