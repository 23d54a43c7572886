//! The sequence view of a run, live or recorded: lifelines, arrows with protocol summaries,
//! notes and verdict banners (the widget), a status line, and the selected row's detail.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::events::timeline::{DisplayRow, Row};
use crate::tui::app::App;
use crate::tui::widgets::sequence::{SequenceStyle, SequenceView};

use super::{fg, frame};

pub fn draw(f: &mut Frame, app: &mut App) {
    let [body, foot] = frame(f, app);
    let color = app.color;
    let app_theme = app.theme.sequence.clone();
    let Some(seq) = app.sequence.as_mut() else {
        f.render_widget(
            Paragraph::new("No run open. Launch the experiment from the editor (3, then Ctrl-R), or open a past run from the runs screen (2, Enter).")
                .wrap(Wrap { trim: true })
                .block(Block::default().borders(Borders::ALL).title(" sequence ")),
            body,
        );
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
        let lines = text.lines().count() as u16;
        let scroll = lines.saturating_sub(main.height.saturating_sub(2));
        f.render_widget(ratatui::widgets::Clear, main);
        f.render_widget(
            Paragraph::new(text.as_str()).scroll((scroll, 0)).block(
                Block::default().borders(Borders::ALL).title(format!(
                    " {svc}: logs (Tab next service · l or Esc closes) "
                )),
            ),
            main,
        );
    }
    if let Some(d) = detail {
        let text = match seq.state.selected_row(&seq.timeline) {
            Some(DisplayRow::Row { row, .. }) => {
                let mut text = describe(&seq.timeline, &row);
                if let (Row::Message { seq: n, .. }, Some(dir)) = (&row, seq.dir.as_ref())
                    && let Some((bytes, hex)) = message_bytes(dir, *n)
                {
                    text.push_str(&format!("\n{bytes} bytes on the wire; first bytes: {hex}"));
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
    let status = format!(
        "{}  ·  {} rows{}{}  ·  j/k move · Enter detail · / search · n/N · t time · G follow · f/F filter · h/H </> lanes · l logs · m mermaid{}",
        seq.status,
        seq.state.len(),
        if seq.state.follow {
            " · following"
        } else {
            ""
        },
        seq.search
            .as_ref()
            .map(|s| format!(" · search “{s}”"))
            .unwrap_or_default(),
        if seq.live { " · x cancel run" } else { "" },
    );
    let status = if seq.typing_search {
        format!("search: {}▏  Enter find · Esc cancel", seq.search_input)
    } else {
        status
    };
    f.render_widget(
        Paragraph::new(Line::from(status)).style(if color {
            Style::default().fg(Color::Gray)
        } else {
            fg(app, Color::Gray)
        }),
        foot,
    );
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

/// The wire size and leading bytes (hex) of message event `seq`, read from the run's
/// `events.jsonl` (the timeline keeps only what it draws).
fn message_bytes(dir: &std::path::Path, seq: u64) -> Option<(u32, String)> {
    use std::io::BufRead;
    let f = std::fs::File::open(dir.join(crate::events::store::FILE_NAME)).ok()?;
    let prefix = format!("{{\"seq\":{seq},");
    let line = std::io::BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with(&prefix))?;
    let e: crate::events::Event = serde_json::from_str(&line).ok()?;
    let m = e.message?;
    let hex: String = m
        .hex?
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    Some((m.bytes, hex))
}
