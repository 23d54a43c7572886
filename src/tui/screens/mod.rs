//! One file per screen; each draws the app state it is given and nothing else.

pub mod help;
pub mod history;
pub mod matrix;
pub mod plugins;
pub mod sequence;
pub mod tutor;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::{App, Screen};
use crate::tui::keys::Context;

/// The app's current screen.
pub fn draw(f: &mut Frame, app: &mut App) {
    match app.screen {
        Screen::Plugins => plugins::draw(f, app),
        Screen::History => history::draw(f, app),
        Screen::Sequence => sequence::draw(f, app),
        Screen::Matrix => matrix::draw(f, app),
        Screen::Editor => {
            // The editor's own footer is its last line: a tutorial panel goes below it.
            let tutor = match tutor_rows(app, f.area()) {
                0 => 0,
                n => n + 1,
            };
            let [head, body, _tutor] = ratatui::layout::Layout::vertical([
                ratatui::layout::Constraint::Length(1),
                ratatui::layout::Constraint::Min(3),
                ratatui::layout::Constraint::Length(tutor),
            ])
            .areas(f.area());
            tab_bar(f, app, head);
            let color = app.color;
            let hints = app.footer();
            let theme = &app.theme;
            if let Some(form) = app.form.as_mut() {
                form.hints = Some(hints);
                form.draw(f, body, theme, color);
            } else if let Some(ed) = app.editor.as_mut() {
                ed.hints = Some(hints);
                ed.draw(f, body, theme, color);
            }
        }
    }
    if app.show_help {
        help::draw(f, app, f.area());
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
    // The palette or a message takes the bottom line; a question or message too long for
    // it takes up to four lines, wrapped at words, so nothing is cut.
    let a = f.area();
    if let Some(q) = app.question() {
        let style = fg(app, app.theme.warn).add_modifier(Modifier::BOLD);
        bottom_text(f, a, &q, style);
    } else if let Some(line) = &app.palette {
        let text = match &app.wizard {
            Some(w) => format!(
                "{}{line}▏   {}",
                w.prompt(),
                w.complete(line, &app.reg).join(" ")
            ),
            None if !app.palette_matches.is_empty() => {
                format!(":{line}▏   {}", app.palette_matches.join(" "))
            }
            None => format!(
                ":{line}▏   {}",
                crate::tui::palette::complete(line).join(" ")
            ),
        };
        let bottom = Rect {
            y: a.y + a.height.saturating_sub(1),
            height: 1.min(a.height),
            ..a
        };
        f.render_widget(ratatui::widgets::Clear, bottom);
        f.render_widget(Paragraph::new(text), bottom);
    } else if let Some(m) = &app.message {
        bottom_text(f, a, m, fg(app, app.theme.warn));
    } else if let Some(i) = &app.installing {
        // An install's progress: its commands' output, never the raw terminal.
        bottom_text(f, a, &i.status(), fg(app, app.theme.accent));
    }
}

/// Most lines a status message or question takes at the bottom.
const MAX_STATUS_LINES: usize = 4;

/// Draws `text` over the bottom of `a`, wrapped at words to its width.
fn bottom_text(f: &mut Frame, a: Rect, text: &str, style: Style) {
    let mut lines = wrap_words(text, a.width as usize);
    lines.truncate(MAX_STATUS_LINES.min(a.height as usize));
    let h = lines.len() as u16;
    let r = Rect {
        y: a.y + a.height - h,
        height: h,
        ..a
    };
    f.render_widget(ratatui::widgets::Clear, r);
    f.render_widget(
        Paragraph::new(lines.into_iter().map(Line::from).collect::<Vec<_>>()).style(style),
        r,
    );
}

/// `text` in lines of at most `width` columns, broken at spaces (a word longer than the
/// width is cut over several lines).
pub(crate) fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let cols = |s: &str| ratatui::text::Span::raw(s).width();
    let width = width.max(1);
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let cur = lines.last_mut().expect("never empty");
        let need = if cur.is_empty() { 0 } else { 1 } + cols(word);
        if cols(cur) + need <= width {
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
            continue;
        }
        let mut rest = word;
        lines.push(String::new());
        while cols(rest) > width {
            let cut = rest
                .char_indices()
                .map(|(i, _)| i)
                .take_while(|&i| cols(&rest[..i]) <= width)
                .last()
                .unwrap_or(rest.len());
            let cut = if cut == 0 {
                rest.chars().next().map_or(0, char::len_utf8)
            } else {
                cut
            };
            lines
                .last_mut()
                .expect("never empty")
                .push_str(&rest[..cut]);
            lines.push(String::new());
            rest = &rest[cut..];
        }
        lines.last_mut().expect("never empty").push_str(rest);
    }
    if lines.len() > 1 && lines[0].is_empty() {
        lines.remove(0);
    }
    lines
}

/// The colour of an `error` verdict (a test that could not run), the sequence view's own.
pub(crate) fn verdict_error(app: &App) -> Color {
    app.theme
        .sequence
        .verdict_error
        .fg
        .unwrap_or(app.theme.error)
}

pub(crate) fn fg(app: &App, c: Color) -> Style {
    crate::tui::tint(app.color, c)
}

/// The frame every screen shares: the tab bar on top (drawn here), then the body and the
/// status line, returned.
pub(crate) fn frame(f: &mut Frame, app: &App) -> [Rect; 2] {
    let [head, body, _tutor, foot] = ratatui::layout::Layout::vertical([
        ratatui::layout::Constraint::Length(1),
        ratatui::layout::Constraint::Min(3),
        ratatui::layout::Constraint::Length(tutor_rows(app, f.area())),
        ratatui::layout::Constraint::Length(1),
    ])
    .areas(f.area());
    tab_bar(f, app, head);
    [body, foot]
}

/// Rows the tutorial panel takes above the status line: the screens are drawn above it, so
/// it hides nothing (a verdict banner at the bottom of a followed run stays in view). 0
/// without a tutorial, or on a screen too small to spare them (the panel then overlays).
pub(crate) fn tutor_rows(app: &App, area: Rect) -> u16 {
    if app.tutorial.is_some() && area.height >= 14 {
        tutor::PANEL_ROWS
    } else {
        0
    }
}

/// "panther [1 plugins] 2 runs …" with the current screen marked, the mode, and a hint
/// that is true for this screen (dropped when it does not fit).
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
        let key = app
            .keymap
            .first(Context::Global, &format!("screen-{}", i + 1));
        let label = format!(" {key} {} ", s.title());
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
            spans.push(Span::styled(label, fg(app, app.theme.muted)));
        }
    }
    let mode = Span::styled(
        format!(" {} ", mode(app)),
        Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
    );
    let used = Line::from(spans.clone()).width() + mode.width();
    let (long, short) = hint(app);
    let fits = |h: &str| used + h.chars().count() + 4 <= area.width as usize;
    match [long, short].into_iter().find(|h| fits(h)) {
        Some(h) => spans.push(Span::styled(format!("  {h}  "), fg(app, app.theme.muted))),
        None => spans.push(Span::raw(" ")),
    }
    let pad =
        (area.width as usize).saturating_sub(Line::from(spans.clone()).width() + mode.width());
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(mode);
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The mode the keys are in, always shown.
pub fn mode(app: &App) -> &'static str {
    if app.pending.is_some() || app.confirm_install.is_some() {
        return "ASK";
    }
    match app.context() {
        Context::Help => "HELP",
        Context::Palette => "COMMAND",
        Context::Insert => "INSERT",
        Context::Plugins | Context::Runs if app.typing_filter => "FILTER",
        Context::Sequence if app.sequence.as_ref().is_some_and(|s| s.typing_search) => "SEARCH",
        Context::Editor if app.editor.as_ref().is_some_and(|e| e.is_searching()) => "SEARCH",
        Context::Form if app.form.as_ref().is_some_and(|f| f.is_typing()) => "FORM INPUT",
        Context::Form => "FORM",
        Context::Logs => "LOGS",
        _ => "VIEW",
    }
}

/// The next useful thing on this screen, with the keys that do it now: a long and a short
/// form (for 80 columns).
fn hint(app: &App) -> (String, String) {
    let k = |c: Context, a: &str| app.keymap.first(c, a);
    let help = format!("{} help", k(Context::Global, "help"));
    // A live run hidden behind a recorded one: said first, on every screen.
    if let Some(p) = &app.parked_live {
        let back = k(Context::Sequence, "live");
        let state = if p.live { "run going" } else { "run done" };
        return (
            format!(
                "● {state}: {} then {back} shows it · {help}",
                k(Context::Global, "screen-4")
            ),
            // 80 columns leave room for this much.
            format!("● {back}"),
        );
    }
    match app.context() {
        Context::Insert => {
            let done = format!("{} when done", k(Context::Insert, "normal"));
            (format!("typing into the file · {done}"), done)
        }
        Context::Editor => {
            let edit = format!("{} edit", k(Context::Editor, "insert"));
            (
                format!("{edit} · {} run · {help}", k(Context::Editor, "run")),
                format!("{edit} · {help}"),
            )
        }
        Context::Sequence if app.sequence.is_none() => (
            format!(
                "{} experiment, then {} runs it",
                k(Context::Global, "screen-3"),
                k(Context::Editor, "run")
            ),
            help.clone(),
        ),
        Context::Help => {
            let close = format!(
                "{} or {} closes",
                k(Context::Help, "help"),
                k(Context::Help, "cancel")
            );
            (close.clone(), close)
        }
        _ => (
            format!(
                "{help} · {} experiment · {} quit",
                k(Context::Global, "screen-3"),
                k(Context::Global, "quit")
            ),
            help.clone(),
        ),
    }
}

/// The focused screen's keys from the keymap, cut to fit (or the filter prompt).
pub(crate) fn status_bar(f: &mut Frame, app: &App, area: Rect) {
    let text = if app.typing_filter {
        format!("filter: {}▏  Enter keep · Esc clear", app.screen_filter())
    } else {
        let problems = if app.problems.is_empty() {
            String::new()
        } else {
            format!(
                "{} plugin problem(s): panther plugins validate · ",
                app.problems.len()
            )
        };
        let w = area.width.saturating_sub(problems.chars().count() as u16);
        format!("{problems}{}", app.keymap.footer(app.context(), w))
    };
    f.render_widget(Paragraph::new(text).style(fg(app, app.theme.text)), area);
}

#[cfg(test)]
mod tests {
    use super::wrap_words;

    #[test]
    fn status_text_wraps_at_words_and_cuts_only_words_wider_than_the_line() {
        assert_eq!(wrap_words("s save · d discard", 80), ["s save · d discard"]);
        assert_eq!(
            wrap_words("quit? a.yaml has unsaved changes", 12),
            ["quit? a.yaml", "has unsaved", "changes"]
        );
        assert_eq!(
            wrap_words("/a/very/long/path ok", 6),
            ["/a/ver", "y/long", "/path", "ok"]
        );
        assert_eq!(wrap_words("ééé", 1), ["é", "é", "é"]);
        assert_eq!(wrap_words("", 5), [""]);
        assert_eq!(wrap_words("a", 0), ["a"]);
    }
}
