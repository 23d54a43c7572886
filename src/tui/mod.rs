//! The full-screen workbench. This first cut is honest about its scope: it lists the plugins
//! the registry loaded, with their availability, and says which screens are still to come.
//! It already keeps terminal etiquette: the terminal is restored on quit, panic and SIGTERM,
//! and `NO_COLOR` is honoured.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph, Wrap};
use ratatui::{DefaultTerminal, Frame};

use crate::plugin::{Plugin, Registry};

static TERMINATE: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigterm(_: nix::libc::c_int) {
    TERMINATE.store(true, Ordering::SeqCst);
}

/// State of the placeholder browser.
pub struct App<'a> {
    plugins: Vec<&'a Plugin>,
    state: ListState,
    color: bool,
}

impl<'a> App<'a> {
    pub fn new(reg: &'a Registry, color: bool) -> Self {
        let mut plugins: Vec<&Plugin> = reg.plugins().iter().collect();
        plugins.sort_by(|a, b| (a.category(), a.name()).cmp(&(b.category(), b.name())));
        let mut state = ListState::default();
        if !plugins.is_empty() {
            state.select(Some(0));
        }
        App {
            plugins,
            state,
            color,
        }
    }

    /// Returns false when the app should quit.
    pub fn key(&mut self, code: KeyCode, mods: KeyModifiers) -> bool {
        match code {
            KeyCode::Char('q') | KeyCode::Esc => return false,
            KeyCode::Char('c') if mods.contains(KeyModifiers::CONTROL) => return false,
            KeyCode::Down | KeyCode::Char('j') => self.state.select_next(),
            KeyCode::Up | KeyCode::Char('k') => self.state.select_previous(),
            KeyCode::Home | KeyCode::Char('g') => self.state.select_first(),
            KeyCode::End | KeyCode::Char('G') => self.state.select_last(),
            _ => {}
        }
        true
    }

    fn style(&self, fg: Color) -> Style {
        if self.color {
            Style::default().fg(fg)
        } else {
            Style::default()
        }
    }

    pub fn draw(&mut self, f: &mut Frame) {
        let [head, body, foot] = Layout::vertical([
            Constraint::Length(3),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .areas(f.area());
        let title = Paragraph::new(vec![
            Line::from(Span::styled("panther — plugin browser (preview)", Style::default().add_modifier(Modifier::BOLD))),
            Line::from("The experiment builder, run launcher and live sequence view are not built yet; use `panther run`, `panther validate` and `panther plugins` meanwhile."),
        ])
        .wrap(Wrap { trim: true });
        f.render_widget(title, head);

        let [left, right] =
            Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)])
                .areas(body);
        let items: Vec<ListItem> = self
            .plugins
            .iter()
            .map(|p| {
                let mark = if p.availability.reason().is_some() {
                    "✗"
                } else {
                    "✓"
                };
                let color = if p.availability.reason().is_some() {
                    Color::Red
                } else {
                    Color::Green
                };
                ListItem::new(Line::from(vec![
                    Span::styled(format!("{mark} "), self.style(color)),
                    Span::raw(p.name().to_string()),
                    Span::styled(format!("  {}", p.category()), self.style(Color::DarkGray)),
                ]))
            })
            .collect();
        let highlight = if self.color {
            Style::default().bg(Color::Blue).fg(Color::White)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        };
        let list = List::new(items)
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" plugins ({}) ", self.plugins.len())),
            )
            .highlight_style(highlight);
        f.render_stateful_widget(list, left, &mut self.state);

        let detail = match self.state.selected().and_then(|i| self.plugins.get(i)) {
            Some(p) => {
                let mut lines = vec![
                    Line::from(Span::styled(
                        format!("{} {}", p.name(), p.manifest.version),
                        Style::default().add_modifier(Modifier::BOLD),
                    )),
                    Line::from(p.manifest.description.clone()),
                    Line::from(format!("kind: {}   file: {}", p.kind(), p.file)),
                    Line::from(match p.availability.reason() {
                        Some(r) => format!("unavailable: {r}"),
                        None => format!("availability: {}", p.availability.label()),
                    }),
                    Line::from(""),
                ];
                if let Some(r) = &p.readme {
                    lines.extend(r.lines().map(|l| Line::from(l.to_string())));
                }
                lines
            }
            None => vec![Line::from("no plugins loaded")],
        };
        f.render_widget(
            Paragraph::new(detail)
                .wrap(Wrap { trim: false })
                .block(Block::default().borders(Borders::ALL).title(" details ")),
            right,
        );
        f.render_widget(
            Paragraph::new("↑/↓ or j/k move · g/G first/last · q quit"),
            foot,
        );
    }
}

/// Runs the workbench until the user quits. The terminal is restored however it ends.
pub fn run(reg: &Registry) -> std::io::Result<()> {
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGTERM,
            nix::sys::signal::SigHandler::Handler(on_sigterm),
        );
    }
    let mut terminal = ratatui::init(); // installs a panic hook that restores the terminal
    let result = event_loop(&mut terminal, App::new(reg, color));
    ratatui::restore();
    result
}

fn event_loop(terminal: &mut DefaultTerminal, mut app: App) -> std::io::Result<()> {
    let mut dirty = true;
    loop {
        if TERMINATE.load(Ordering::SeqCst) {
            return Ok(());
        }
        if dirty {
            terminal.draw(|f| app.draw(f))?;
            dirty = false;
        }
        if event::poll(Duration::from_millis(100))? {
            match event::read()? {
                Event::Key(k) if k.kind == KeyEventKind::Press => {
                    if !app.key(k.code, k.modifiers) {
                        return Ok(());
                    }
                    dirty = true;
                }
                Event::Resize(..) => dirty = true,
                _ => {}
            }
        }
    }
}
