//! The plugin browser: the plugin tree by PANTHER category on the left, the selected plugin's
//! facts, parameters, availability and README on the right.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph, Wrap};

use crate::tui::app::{App, TreeRow};

use super::{fg, frame, status_bar};

pub fn draw(f: &mut Frame, app: &App) {
    let [body, foot] = frame(f, app);

    let [left, right] =
        Layout::horizontal([Constraint::Percentage(38), Constraint::Percentage(62)]).areas(body);
    draw_tree(f, app, left);
    draw_detail(f, app, right);
    status_bar(f, app, foot);
}

fn draw_tree(f: &mut Frame, app: &App, area: Rect) {
    let items: Vec<ListItem> = app
        .tree
        .iter()
        .map(|r| match r {
            TreeRow::Category(c) => ListItem::new(Line::from(Span::styled(
                c.clone(),
                fg(app, app.theme.accent).add_modifier(Modifier::BOLD),
            ))),
            TreeRow::Plugin(i) => {
                let p = &app.plugins[*i];
                let (mark, color) = if p.availability.reason().is_some() {
                    ("✗", app.theme.error)
                } else {
                    ("✓", app.theme.ok)
                };
                ListItem::new(Line::from(vec![
                    Span::raw("  "),
                    Span::styled(mark, fg(app, color)),
                    Span::raw(" "),
                    Span::raw(p.name().to_string()),
                ]))
            }
        })
        .collect();
    let highlight = if app.color {
        app.theme.selection
    } else {
        Style::default().add_modifier(Modifier::REVERSED)
    };
    let shown = app
        .tree
        .iter()
        .filter(|r| matches!(r, TreeRow::Plugin(_)))
        .count();
    let title = if app.filter.is_empty() {
        format!(" plugins ({shown}) ")
    } else {
        format!(
            " plugins ({shown} of {}) matching “{}” ",
            app.plugins.len(),
            app.filter
        )
    };
    let mut state = ListState::default().with_selected(Some(app.selected));
    app.list_area
        .set(Some((area.x, area.y, area.width, area.height)));
    f.render_stateful_widget(
        List::new(items)
            .block(Block::default().borders(Borders::ALL).title(title))
            .highlight_style(highlight),
        area,
        &mut state,
    );
}

fn draw_detail(f: &mut Frame, app: &App, area: Rect) {
    let Some(p) = app.selected_plugin() else {
        let msg = if app.filter.is_empty() {
            "no plugins loaded"
        } else {
            "no plugin matches the filter"
        };
        f.render_widget(
            Paragraph::new(msg).block(Block::default().borders(Borders::ALL).title(" details ")),
            area,
        );
        return;
    };
    let m = &p.manifest;
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{} {}", m.name, m.version), bold),
            Span::raw(format!("  {}", p.category())),
        ]),
        Line::from(m.description.clone()),
        Line::from(Span::styled(p.file.clone(), fg(app, app.theme.muted))),
    ];
    match p.availability.reason() {
        Some(r) => {
            // The reason ends with the install recipe; the commands follow one per line, so
            // the recipe is said once.
            let commands = m.install.commands();
            let why = match r.split_once("; install: ") {
                Some((why, _)) if !commands.is_empty() => why,
                _ => r,
            };
            lines.push(Line::from(Span::styled(
                format!("unavailable: {why}"),
                fg(app, app.theme.error),
            )));
            for c in commands {
                lines.push(Line::from(format!("  install: {}", c.join(" "))));
            }
        }
        None if p.availability.is_available() => lines.push(Line::from(Span::styled(
            "available on this machine",
            fg(app, app.theme.ok),
        ))),
        None => lines.push(Line::from(Span::styled(
            "valid (requirements not checked)",
            fg(app, app.theme.warn),
        ))),
    }
    if !m.protocols.is_empty() {
        let protos: Vec<&str> = m.protocols.iter().map(|x| x.name.as_str()).collect();
        let roles: Vec<&str> = m.roles.iter().map(|r| r.as_str()).collect();
        lines.push(Line::from(format!(
            "protocols: {}   roles: {}",
            protos.join(", "),
            roles.join(", ")
        )));
    }
    if let Some(s) = &m.protocol {
        lines.push(Line::from(format!(
            "versions: {} (default {}), port {}",
            s.versions.join(", "),
            s.default_version,
            s.default_port
        )));
    }
    if let Some(t) = crate::tutorial::for_category(&p.category()) {
        lines.push(Line::from(Span::styled(
            format!("tutorial: :tutor {t}"),
            fg(app, app.theme.muted),
        )));
    }
    if !m.parameters.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled("parameters", bold)));
        let w = m.parameters.keys().map(String::len).max().unwrap_or(4);
        for (k, prm) in &m.parameters {
            lines.push(Line::from(format!(
                "  {k:w$}  {}  {}",
                prm.signature(),
                prm.description
            )));
        }
    }
    if let Some(r) = &p.readme {
        lines.push(Line::from(""));
        // Reflowed, then wrapped once at the pane's width (the file's own line breaks would
        // wrap it a second time).
        lines.extend(
            crate::tui::widgets::reflow::paragraphs(r)
                .into_iter()
                .map(Line::from),
        );
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((app.detail_scroll, 0))
            .block(Block::default().borders(Borders::ALL).title(" details ")),
        area,
    );
}
