//! Tutorials on screen: the panel with the current step (over the bottom of any screen) and
//! the picker.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, ListState, Paragraph, Wrap};

use super::fg;
use crate::tui::app::App;
use crate::tui::tutor_picker::TutorPicker;

/// The current step: title, text, and the hint once its delay has passed.
/// The panel's height; the screens leave this many rows for it ([`super::tutor_rows`]).
pub const PANEL_ROWS: u16 = 5;

pub fn draw_panel(f: &mut Frame, app: &App, t: &crate::tutorial::Session) {
    let a = f.area();
    let h = PANEL_ROWS.min(a.height);
    let r = Rect {
        x: a.x,
        y: a.y + a.height.saturating_sub(h + 1),
        width: a.width,
        height: h,
    };
    let n = t.tutorial.steps.len();
    let (title, lines) = match t.current() {
        Some(step) => {
            let mut l = vec![
                Line::from(Span::styled(
                    step.title.clone(),
                    Style::default().add_modifier(Modifier::BOLD),
                )),
                Line::from(step.text.clone()),
            ];
            if let Some(hint) = t.hint(std::time::Instant::now()) {
                l.push(Line::from(Span::styled(
                    format!("hint: {hint}"),
                    fg(app, app.theme.warn),
                )));
            }
            (
                format!(
                    " tutorial: {} · step {} of {n} ",
                    t.tutorial.title,
                    t.step + 1
                ),
                l,
            )
        }
        None => (
            format!(" tutorial: {} ", t.tutorial.title),
            vec![Line::from(
                "Done: every step completed. `:tutor` picks another, `:tutor off` closes this.",
            )],
        ),
    };
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(Block::default().borders(Borders::ALL).title(title)),
        r,
    );
}

/// The tutorials with the user's progress; the selected one's summary underneath.
pub fn draw_picker(f: &mut Frame, app: &App, p: &TutorPicker) {
    let a = f.area();
    let w = 78.min(a.width);
    let h = (p.entries.len() as u16 + 5).min(a.height);
    let tw = p
        .entries
        .iter()
        .map(|e| e.title.chars().count())
        .max()
        .unwrap_or(0);
    let r = Rect {
        x: a.x + (a.width - w) / 2,
        y: a.y + (a.height - h) / 2,
        width: w,
        height: h,
    };
    let items: Vec<ListItem> = p
        .entries
        .iter()
        .map(|e| {
            let mark = if e.done >= e.steps {
                "✓".to_string()
            } else if e.done > 0 {
                format!("{}/{}", e.done, e.steps)
            } else {
                String::new()
            };
            ListItem::new(format!("{:<tw$} {:>4}  {}", e.title, mark, e.name))
        })
        .collect();
    let mut state = ListState::default().with_selected(Some(p.selected));
    let selection = if app.color {
        app.theme.selection
    } else {
        Style::default().add_modifier(Modifier::REVERSED)
    };
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" tutorials · Enter start/resume · Esc close ");
    let inner = block.inner(r);
    f.render_widget(block, r);
    let [list, summary] = ratatui::layout::Layout::vertical([
        ratatui::layout::Constraint::Min(1),
        ratatui::layout::Constraint::Length(2),
    ])
    .areas(inner);
    f.render_stateful_widget(
        List::new(items)
            .highlight_style(selection)
            .highlight_symbol("› "),
        list,
        &mut state,
    );
    if let Some(e) = p.entries.get(p.selected) {
        f.render_widget(
            Paragraph::new(e.summary.as_str())
                .wrap(Wrap { trim: true })
                .style(fg(app, app.theme.text)),
            summary,
        );
    }
}
