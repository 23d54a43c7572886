//! The help overlay: the keys of the focused screen in its mode, then the global keys it
//! takes, read from the live keymap. `?` or Esc closes it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::app::App;
use crate::tui::keys::Context;

pub fn draw(f: &mut Frame, app: &App, area: Rect) {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut lines: Vec<Line> = Vec::new();
    for (title, bindings) in app.bindings() {
        if !lines.is_empty() {
            lines.push(Line::from(""));
        }
        lines.push(Line::styled(format!(" {title}"), bold));
        for b in bindings {
            let keys = if b.keys.is_empty() { "(unbound)" } else { &b.keys };
            lines.push(Line::from(format!("  {keys:16} {}", b.what)));
        }
    }
    let close = format!(
        " {} or {} closes this help · :help lists the commands",
        app.keymap.first(Context::Help, "help"),
        app.keymap.first(Context::Help, "cancel")
    );
    let w = 72.min(area.width);
    // Two columns when the screen is too short for one.
    let rows = area.height.saturating_sub(3) as usize;
    let wide = lines.len() > rows && area.width >= 120;
    let w = if wide { (w * 2).min(area.width) } else { w };
    let h = (if wide {
        lines.len().div_ceil(2)
    } else {
        lines.len()
    } as u16
        + 3)
    .min(area.height);
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
        .title_bottom(close);
    if wide {
        let inner = block.inner(r);
        f.render_widget(block, r);
        let half = lines.len().div_ceil(2);
        let right = lines.split_off(half);
        let [a, b] = ratatui::layout::Layout::horizontal([
            ratatui::layout::Constraint::Percentage(50),
            ratatui::layout::Constraint::Percentage(50),
        ])
        .areas(inner);
        f.render_widget(Paragraph::new(lines), a);
        f.render_widget(Paragraph::new(right), b);
    } else {
        f.render_widget(Paragraph::new(lines).block(block), r);
    }
}
