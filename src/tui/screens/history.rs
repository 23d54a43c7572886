//! Past runs: the results folders, newest first, with date, experiment and verdict; the
//! selected run's report beside it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph, Wrap};

use crate::tui::app::App;
use crate::verdict::Verdict;

use super::{fg, frame, status_bar};

pub fn draw(f: &mut Frame, app: &App) {
    let [body, foot] = frame(f, app);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(body);
    let items: Vec<ListItem> = app
        .runs
        .iter()
        .map(|r| {
            let (label, color) = match r.verdict {
                Some(Verdict::Pass) => ("pass", Color::Green),
                Some(Verdict::Inconclusive) => ("inconcl.", Color::Yellow),
                Some(Verdict::Fail) => ("fail", Color::Red),
                Some(Verdict::Error) => ("error", Color::Magenta),
                None => ("incomplete", Color::DarkGray),
            };
            let ok = match r.ok {
                Some(true) => "✓",
                Some(false) => "✗",
                None => "",
            };
            ListItem::new(Line::from(vec![
                Span::styled(r.when.replace('_', " "), fg(app, Color::DarkGray)),
                Span::raw("  "),
                Span::styled(format!("{label:<11}"), fg(app, color)),
                Span::raw(format!("{} {}", r.experiment, ok)),
            ]))
        })
        .collect();
    let highlight = if app.color {
        app.theme.selection
    } else {
        Style::default().add_modifier(Modifier::REVERSED)
    };
    let title = format!(" runs in {} ({}) ", app.outputs.display(), app.runs.len());
    let mut state =
        ListState::default().with_selected((!app.runs.is_empty()).then_some(app.run_selected));
    app.list_area
        .set(Some((left.x, left.y, left.width, left.height)));
    f.render_stateful_widget(
        List::new(items)
            .block(Block::default().borders(Borders::ALL).title(title))
            .highlight_style(highlight),
        left,
        &mut state,
    );
    let text = match app.selected_run() {
        None => "No runs yet. Start one with `panther run experiments/quickstart.yaml`; its results folder appears here.".to_string(),
        Some(r) => std::fs::read_to_string(r.dir.join(crate::results::REPORT)).unwrap_or_else(|_| {
            format!("{}\n\nThis run has no report: it was stopped before it finished. Its events are in events.jsonl.", r.dir.display())
        }),
    };
    f.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .scroll((app.detail_scroll, 0))
            .block(Block::default().borders(Borders::ALL).title(" report ")),
        right,
    );
    status_bar(f, app, foot);
}
