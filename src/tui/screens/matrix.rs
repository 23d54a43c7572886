//! The matrix screen: rows are clients, columns servers, one letter per case coloured by its
//! verdict, filled as cells finish; the selected cell's verdict and reason below.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::matrix::{CellResult, CellVerdict};
use crate::tui::app::App;
use crate::tui::matrix_screen::MatrixScreen;

use super::{fg, frame, status_bar};

fn verdict_color(app: &App, v: CellVerdict) -> Color {
    let t = &app.theme;
    match v {
        CellVerdict::Pass => t.ok,
        CellVerdict::Flaky => t.warn,
        CellVerdict::Fail => t.error,
        CellVerdict::Unsupported => t.muted,
        CellVerdict::Error => super::verdict_error(app),
    }
}

pub fn draw(f: &mut Frame, app: &App) {
    let [body, foot] = frame(f, app);
    let Some(m) = app.matrix.as_ref() else {
        f.render_widget(
            Paragraph::new(
                "No matrix yet. Start one with `:matrix --protocol minip` (the same flags as \
                 `panther matrix`), or open a finished one with `:matrix DIR`.",
            )
            .wrap(Wrap { trim: true })
            .block(Block::default().borders(Borders::ALL).title(" matrix ")),
            body,
        );
        status_bar(f, app, foot);
        return;
    };
    let [grid, detail] = Layout::vertical([Constraint::Min(4), Constraint::Length(5)]).areas(body);
    f.render_widget(
        Paragraph::new(grid_lines(app, m)).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {} · {} ", m.title, m.status())),
        ),
        grid,
    );
    f.render_widget(
        Paragraph::new(detail_lines(app, m))
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(" cell ")),
        detail,
    );
    status_bar(f, app, foot);
}

fn letter_style(app: &App, m: &MatrixScreen, r: Option<&CellResult>, selected: bool) -> Style {
    let base = match r {
        Some(r) if m.shows(Some(r)) => fg(app, verdict_color(app, r.verdict)),
        Some(_) => fg(app, app.theme.muted),
        None => fg(app, app.theme.muted),
    };
    if selected {
        base.add_modifier(Modifier::REVERSED)
    } else {
        base
    }
}

fn grid_lines(app: &App, m: &MatrixScreen) -> Vec<Line<'static>> {
    let letters = m.letters();
    let cols = m.columns();
    let rows = m.rows();
    let sel = m.selected();
    let corner = "client \\ server";
    let name_w = rows
        .iter()
        .map(|r| r.chars().count())
        .chain([corner.chars().count()])
        .max()
        .unwrap_or(6)
        .min(24);
    let col_w = |s: &str| s.chars().count().max(letters.len() * 2).min(24) + 2;
    let mut out = Vec::new();
    let mut head = vec![Span::raw(format!("{corner:<name_w$}  "))];
    for s in &cols {
        let w = col_w(s);
        let label: String = s.chars().take(w - 2).collect();
        head.push(Span::styled(
            format!("{label:<w$}"),
            Style::default().add_modifier(Modifier::BOLD),
        ));
    }
    out.push(Line::from(head));
    for client in &rows {
        let label: String = client.chars().take(name_w).collect();
        let mut spans = vec![Span::raw(format!("{label:<name_w$}  "))];
        for s in &cols {
            let w = col_w(s);
            let mut used = 0;
            for (letter, case) in &letters {
                let r = m.result(s, client, case);
                let here = sel
                    .as_ref()
                    .is_some_and(|c| &c.server == s && &c.client == client && &c.case == case);
                let shown = match r {
                    Some(r) if m.shows(Some(r)) => glyph(app, *letter, r.verdict),
                    Some(_) => '·',
                    None if m
                        .rerunning
                        .iter()
                        .any(|c| &c.server == s && &c.client == client && &c.case == case) =>
                    {
                        '…'
                    }
                    None => '·',
                };
                spans.push(Span::styled(
                    shown.to_string(),
                    letter_style(app, m, r, here),
                ));
                spans.push(Span::raw(" "));
                used += 2;
            }
            spans.push(Span::raw(" ".repeat(w.saturating_sub(used))));
        }
        out.push(Line::from(spans));
    }
    if rows.is_empty() {
        out.push(Line::from(Span::styled(
            format!("no cell is {} here", m.show.label()),
            fg(app, app.theme.muted),
        )));
    }
    out.push(Line::from(""));
    let legend: Vec<String> = letters.iter().map(|(l, c)| format!("{l} {c}")).collect();
    out.push(Line::from(Span::styled(
        legend.join("  "),
        fg(app, app.theme.muted),
    )));
    out.push(if app.color {
        Line::from(vec![
            Span::styled("pass ", fg(app, app.theme.ok)),
            Span::styled("fail ", fg(app, app.theme.error)),
            Span::styled("flaky ", fg(app, app.theme.warn)),
            Span::styled("error ", fg(app, super::verdict_error(app))),
            Span::styled("- unsupported ", fg(app, app.theme.muted)),
            Span::styled("· not run yet", fg(app, app.theme.muted)),
        ])
    } else {
        Line::from("letter pass · ✗ fail · ~ flaky · E error · - unsupported · · not run yet")
    });
    out
}

/// What a finished case shows: its letter in its verdict's colour; without colour the
/// letter means pass and the other verdicts have their own marks.
fn glyph(app: &App, letter: char, v: CellVerdict) -> char {
    match v {
        CellVerdict::Unsupported => '-',
        CellVerdict::Pass => letter,
        _ if app.color => letter,
        other => other.letter(),
    }
}

fn detail_lines(app: &App, m: &MatrixScreen) -> Vec<Line<'static>> {
    let Some(c) = m.selected() else {
        return vec![Line::from("no cell selected")];
    };
    let head = format!("{} × {} × {}", c.server, c.client, c.case);
    match m.matrix.get(&c) {
        None => vec![
            Line::from(head),
            Line::from(Span::styled(
                if m.live {
                    "not finished yet"
                } else {
                    "not run (another shard?)"
                },
                fg(app, app.theme.muted),
            )),
        ],
        Some(r) => {
            let runs = if r.runs > 1 {
                format!(" ({}/{} runs passed)", r.passes, r.runs)
            } else {
                String::new()
            };
            vec![
                Line::from(vec![
                    Span::raw(format!("{head}: ")),
                    Span::styled(
                        r.verdict.as_str().to_string(),
                        fg(app, verdict_color(app, r.verdict)),
                    ),
                    Span::raw(format!("{runs} in {:.1} s", r.duration_ms as f64 / 1000.0)),
                ]),
                Line::from(r.reason.clone()),
                Line::from(Span::styled(
                    "Enter opens its sequence · r runs it again",
                    fg(app, app.theme.muted),
                )),
            ]
        }
    }
}
