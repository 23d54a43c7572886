//! The sequence view of a run, live or recorded: lifelines, arrows with protocol summaries,
//! notes and verdict banners (the widget), a status line, and the selected row's detail.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::events::timeline::{DisplayRow, Row};
use crate::tui::app::App;
use crate::tui::widgets::sequence::{SequenceStyle, SequenceView};

use super::{fg, frame};
use crate::tui::keys::Context;

pub fn draw(f: &mut Frame, app: &mut App) {
    let [body, foot] = frame(f, app);
    let color = app.color;
    let app_theme = app.theme.sequence.clone();
    let footer = app.footer();
    let Some(seq) = app.sequence.as_mut() else {
        let k = |c: Context, a: &str| app.keymap.first(c, a);
        let text = format!(
            "No run open. Launch the experiment from the editor ({}, then {}), or open a past run from the runs screen ({}, then {}).",
            k(Context::Global, "screen-3"),
            k(Context::Editor, "run"),
            k(Context::Global, "screen-2"),
            k(Context::Runs, "open"),
        );
        f.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .block(Block::default().borders(Borders::ALL).title(" sequence ")),
            body,
        );
        f.render_widget(Paragraph::new(footer).style(fg(app, app.theme.text)), foot);
        return;
    };
    let style = if color {
        app_theme.clone()
    } else {
        SequenceStyle::no_color()
    };
    let (main, detail) = if seq.show_detail {
        let [m, d] = Layout::vertical([Constraint::Min(5), Constraint::Length(8)]).areas(body);
        (m, Some(d))
    } else {
        (body, None)
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {} ", seq.title));
    let inner = block.inner(main);
    f.render_widget(block, main);
    seq.state.sync(&seq.timeline);
    f.render_stateful_widget(
        SequenceView::new(&seq.timeline, &style),
        inner,
        &mut seq.state,
    );
    if let Some((svc, text)) = &seq.logs {
        f.render_widget(ratatui::widgets::Clear, main);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(format!(" {svc}: logs, from line {} ", seq.logs_scroll + 1));
        let inner = block.inner(main);
        f.render_widget(block, main);
        let lines = log_lines(text, seq.logs_scroll, inner.width, inner.height);
        f.render_widget(Paragraph::new(lines), inner);
    }
    if let Some(d) = detail {
        let text = match seq.state.selected_row(&seq.timeline) {
            Some(DisplayRow::Row { row, .. }) => {
                let mut text = describe(&seq.timeline, &row);
                if let (Row::Message { seq: n, .. }, Some(dir)) = (&row, seq.dir.as_ref())
                    && let Some(e) = crate::tui::sequence_screen::event_at(dir, *n)
                {
                    if let Some((bytes, hex)) = message_bytes(&e) {
                        text.push_str(&format!("\n{bytes} bytes on the wire; first bytes: {hex}"));
                    }
                    text.push_str(&packet_detail(&e.data));
                }
                text
            }
            Some(DisplayRow::Gap { duration_us }) => {
                format!("{:.3} s without events", duration_us as f64 / 1e6)
            }
            None => "select a row (j/k)".into(),
        };
        f.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: false })
                .block(Block::default().borders(Borders::ALL).title(" event ")),
            d,
        );
    }
    let status = if seq.typing_search {
        format!(
            "search: {}▏  Enter find · Esc cancel · kind:message · service:NAME",
            seq.search_input
        )
    } else {
        let info = format!(
            "{} · {} rows{}{}",
            seq.note.as_deref().unwrap_or(&seq.status),
            seq.state.len(),
            if seq.state.follow {
                " · following"
            } else {
                ""
            },
            seq.search
                .as_ref()
                .map(|s| format!(" · “{s}”"))
                .unwrap_or_default(),
        );
        let room = foot.width.saturating_sub(info.chars().count() as u16 + 3);
        let ctx = app.context();
        format!("{info} · {}", app.keymap.footer(ctx, room))
    };
    f.render_widget(
        Paragraph::new(Line::from(status)).style(if color {
            Style::default().fg(app.theme.text)
        } else {
            fg(app, app.theme.text)
        }),
        foot,
    );
}

/// The log lines from `first` on, wrapped to `width` (nothing is cut off), as many as fit.
/// A JSON record (what built-in services print) is shown as its fields, `kind` and `text`
/// first.
fn log_lines(text: &str, first: usize, width: u16, height: u16) -> Vec<Line<'static>> {
    let w = width.max(1) as usize;
    let mut out = Vec::new();
    for line in text.lines().skip(first) {
        let shown = readable(line);
        let chars: Vec<char> = shown.chars().collect();
        if chars.is_empty() {
            out.push(Line::from(""));
        }
        for chunk in chars.chunks(w) {
            out.push(Line::from(chunk.iter().collect::<String>()));
        }
        if out.len() >= height as usize {
            break;
        }
    }
    out.truncate(height as usize);
    out
}

/// A JSON object line as `kind · text · key=value …`; anything else as it is.
fn readable(line: &str) -> String {
    let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(line) else {
        return line.to_string();
    };
    let mut parts: Vec<String> = Vec::new();
    for k in ["kind", "text"] {
        if let Some(v) = m.get(k) {
            parts.push(
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string()),
            );
        }
    }
    for (k, v) in &m {
        if k != "kind" && k != "text" {
            parts.push(format!(
                "{k}={}",
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            ));
        }
    }
    parts.join(" · ")
}

/// The whole of one row, for the detail pane.
fn describe(tl: &crate::events::timeline::Timeline, row: &Row) -> String {
    let lane = |l: u16| {
        tl.lanes()
            .get(l as usize)
            .cloned()
            .unwrap_or_else(|| "?".into())
    };
    match row {
        Row::Message {
            from_lane,
            to_lane,
            summary,
            lost,
            sent_t,
            t,
            seq,
            ..
        } => format!(
            "message #{seq}: {} → {}{}\n{summary}\nsent at {:.6} s, {} at {:.6} s ({:.3} ms in flight)",
            lane(*from_lane),
            lane(*to_lane),
            if *lost { " (LOST)" } else { "" },
            *sent_t as f64 / 1e6,
            if *lost { "lost" } else { "delivered" },
            *t as f64 / 1e6,
            t.saturating_sub(*sent_t) as f64 / 1e3
        ),
        Row::Note {
            lane: l,
            text,
            kind,
            level,
            t,
            seq,
            ..
        } => format!(
            "{kind:?} #{seq} on {} at {:.6} s{}\n{text}",
            l.map(lane).unwrap_or_else(|| "orchestrator".into()),
            *t as f64 / 1e6,
            level.map(|l| format!(" ({l:?})")).unwrap_or_default()
        ),
        Row::Verdict {
            text,
            verdict,
            t,
            seq,
        } => format!(
            "verdict #{seq} at {:.6} s: {verdict}\n{text}",
            *t as f64 / 1e6
        ),
    }
}

/// The wire size and leading bytes (hex) of a message event (the timeline keeps only what
/// it draws, so the event is read back from the run's `events.jsonl`).
fn message_bytes(e: &crate::events::Event) -> Option<(u32, String)> {
    let m = e.message.as_ref()?;
    let hex: String = m
        .hex
        .as_ref()?
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    Some((m.bytes, hex))
}

/// A decoded packet's fields and its frames, one per line (QUIC from a capture, qlog or the
/// link); empty for other messages.
pub fn packet_detail(data: &serde_json::Value) -> String {
    let Some(frames) = data.get("frames").and_then(|f| f.as_array()) else {
        return String::new();
    };
    let field = |k: &str| {
        data.get(k)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
    };
    let mut out = String::new();
    for (k, name) in [
        ("status", "status"),
        ("version", "version"),
        ("dcid", "DCID"),
        ("scid", "SCID"),
    ] {
        if let Some(v) = field(k) {
            out.push_str(&format!("\n{name}: {v}"));
        }
    }
    if let Some(notes) = data.get("notes").and_then(|n| n.as_array()) {
        for n in notes.iter().filter_map(|n| n.as_str()) {
            out.push_str(&format!("\nnote: {n}"));
        }
    }
    out.push_str(&format!("\n{} frame(s):", frames.len()));
    for f in frames.iter().filter_map(|f| f.as_str()) {
        out.push_str(&format!("\n  {f}"));
    }
    out
}
