//! The help overlay: the keys of the focused screen in its mode, then the global keys it
//! takes, read from the live keymap. `?` or Esc closes it; j/k scroll when it is taller than
//! the screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::app::App;
use crate::tui::keys::Context;

/// Columns before a binding's description: "  " and the keys padded to 16, then a space.
const KEYS_W: usize = 19;

/// The help's lines for an inner width: a title per section, then "keys  what", a long
/// description wrapped under itself (never cut at the box's edge).
fn lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut lines: Vec<Line> = Vec::new();
    for (title, bindings) in app.bindings() {
        if !lines.is_empty() {
            lines.push(Line::from(""));
        }
        lines.push(Line::styled(format!(" {title}"), bold));
        for b in bindings {
            let keys = if b.keys.is_empty() {
                "(unbound)".to_string()
            } else {
                b.keys
            };
            let what = super::wrap_words(&b.what, width.saturating_sub(KEYS_W).max(12));
            for (i, part) in what.into_iter().enumerate() {
                let head = if i == 0 { keys.as_str() } else { "" };
                lines.push(Line::from(format!("  {head:16} {part}")));
            }
        }
    }
    lines
}

/// The widest line the help would have unwrapped.
fn widest(app: &App) -> usize {
    lines(app, usize::MAX / 2)
        .iter()
        .map(Line::width)
        .max()
        .unwrap_or(0)
}

pub fn draw(f: &mut Frame, app: &App, area: Rect) {
    let k = |a: &str| app.keymap.first(Context::Help, a);
    // As wide as its widest line (at least 74, so the box does not jump between screens),
    // within the screen; what does not fit wraps.
    let w = (widest(app).max(72) as u16 + 2).min(area.width);
    let all = lines(app, w.saturating_sub(2) as usize);
    let h = (all.len() as u16 + 2).min(area.height);
    let inner_h = h.saturating_sub(2) as usize;
    let max_scroll = all.len().saturating_sub(inner_h);
    let scroll = (app.help_scroll as usize).min(max_scroll);
    let bottom = if max_scroll > 0 {
        format!(
            " {}/{} scroll ({}/{}) · {} or {} closes ",
            k("down"),
            k("up"),
            scroll + inner_h,
            all.len(),
            k("help"),
            k("cancel")
        )
    } else {
        format!(" {} or {} closes this help ", k("help"), k("cancel"))
    };
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" keys: {} ", app.focus().title()))
        .title_bottom(bottom);
    f.render_widget(
        Paragraph::new(all).scroll((scroll as u16, 0)).block(block),
        r,
    );
}
