//! One file per screen; each draws the app state it is given and nothing else.

pub mod history;
pub mod plugins;
pub mod sequence;
pub mod tutor;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::{App, Screen};

/// The app's current screen.
pub fn draw(f: &mut Frame, app: &mut App) {
    match app.screen {
        Screen::Plugins => plugins::draw(f, app),
        Screen::History => history::draw(f, app),
        Screen::Sequence => sequence::draw(f, app),
        Screen::Editor => {
            let [head, body] = ratatui::layout::Layout::vertical([
                ratatui::layout::Constraint::Length(1),
                ratatui::layout::Constraint::Min(3),
            ])
            .areas(f.area());
            tab_bar(f, app, head);
            let color = app.color;
            if let Some(form) = app.form.as_mut() {
                form.draw(f, body, color);
            } else if let Some(ed) = app.editor.as_mut() {
                ed.draw(f, body, color);
            }
        }
    }
    if app.show_help {
        plugins::draw_help(f, app, f.area());
    }
    if let Some(t) = &app.tutorial {
        tutor::draw_panel(f, app, t);
    }
    if let Some(p) = &app.tutor_picker {
        tutor::draw_picker(f, app, p);
    }
    if let Some((plugin, commands)) = &app.confirm_install {
        let a = f.area();
        let w = 76.min(a.width);
        let h = (commands.len() as u16 + 6).min(a.height);
        let r = Rect {
            x: a.x + (a.width - w) / 2,
            y: a.y + (a.height - h) / 2,
            width: w,
            height: h,
        };
        let mut lines = vec![
            Line::from(format!(" Install {plugin} by running:")),
            Line::from(""),
        ];
        lines.extend(
            commands
                .iter()
                .map(|c| Line::from(format!("   {}", c.join(" ")))),
        );
        lines.push(Line::from(""));
        lines.push(Line::from(" y run them · n cancel"));
        f.render_widget(ratatui::widgets::Clear, r);
        f.render_widget(
            Paragraph::new(lines).block(
                ratatui::widgets::Block::default()
                    .borders(ratatui::widgets::Borders::ALL)
                    .title(" install "),
            ),
            r,
        );
    }
    // The palette or a message takes the bottom line.
    let a = f.area();
    let bottom = Rect {
        x: a.x,
        y: a.y + a.height.saturating_sub(1),
        width: a.width,
        height: 1.min(a.height),
    };
    if let Some(line) = &app.palette {
        let text = match &app.wizard {
            Some(w) => format!(
                "{}{line}▏   {}",
                w.prompt(),
                w.complete(line, &app.reg).join(" ")
            ),
            None => format!(
                ":{line}▏   {}",
                crate::tui::palette::complete(line).join(" ")
            ),
        };
        f.render_widget(ratatui::widgets::Clear, bottom);
        f.render_widget(Paragraph::new(text), bottom);
    } else if let Some(m) = &app.message {
        f.render_widget(ratatui::widgets::Clear, bottom);
        f.render_widget(
            Paragraph::new(m.as_str()).style(fg(app, Color::Yellow)),
            bottom,
        );
    }
}

pub(crate) fn fg(app: &App, c: Color) -> Style {
    crate::tui::tint(app.color, c)
}

/// The frame every screen shares: the tab bar on top (drawn here), then the body and the
/// status line, returned.
pub(crate) fn frame(f: &mut Frame, app: &App) -> [Rect; 2] {
    let [head, body, foot] = ratatui::layout::Layout::vertical([
        ratatui::layout::Constraint::Length(1),
        ratatui::layout::Constraint::Min(3),
        ratatui::layout::Constraint::Length(1),
    ])
    .areas(f.area());
    tab_bar(f, app, head);
    [body, foot]
}

/// "panther · [1 plugins] 2 runs" with the current screen marked.
pub(crate) fn tab_bar(f: &mut Frame, app: &App, area: Rect) {
    let mut spans = vec![
        Span::styled("panther", Style::default().add_modifier(Modifier::BOLD)),
        Span::raw(" "),
    ];
    // The tutorial's current step may point at a screen: its tab is marked.
    let pointed = app
        .tutorial
        .as_ref()
        .and_then(|t| t.current())
        .and_then(|s| s.highlight.as_deref());
    for (i, s) in Screen::ALL.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, s.title());
        if *s != app.screen && pointed == Some(s.title()) {
            spans.push(Span::styled(
                format!("▸{}◂", label.trim()),
                crate::tui::tint(app.color, app.theme.accent)
                    .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            ));
        } else if *s == app.screen {
            spans.push(Span::styled(
                format!("[{}]", label.trim()),
                Style::default().add_modifier(Modifier::BOLD),
            ));
        } else {
            spans.push(Span::styled(label, fg(app, Color::DarkGray)));
        }
    }
    spans.push(Span::styled(
        "  ? help · 3 then Ctrl-R runs the experiment",
        fg(app, Color::DarkGray),
    ));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The focused screen's keys, from the keymap (or the filter prompt while typing).
pub(crate) fn status_bar(f: &mut Frame, app: &App, area: Rect) {
    let text = if app.typing_filter {
        format!("filter: {}▏  Enter keep · Esc clear", app.filter)
    } else {
        let keys = app.keymap.status();
        let problems = if app.problems.is_empty() {
            String::new()
        } else {
            format!(
                "  ·  {} plugin problem(s): panther plugins validate",
                app.problems.len()
            )
        };
        format!("{keys}{problems}")
    };
    f.render_widget(Paragraph::new(text).style(fg(app, Color::Gray)), area);
}
