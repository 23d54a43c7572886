//! What the TUI test files share: drawing on a `TestBackend` and reading the screen back as
//! text (one line per row, trailing blanks trimmed), which is what the snapshots compare.

use ratatui::Frame;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

/// Draws one frame of `w`×`h` with `draw` and returns the screen's text.
pub fn draw_text(w: u16, h: u16, draw: impl FnOnce(&mut Frame)) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(draw).unwrap();
    text(t.backend().buffer())
}

/// A buffer's text, one line per row with trailing blanks trimmed.
pub fn text(buf: &Buffer) -> String {
    let a = buf.area;
    let mut out = String::new();
    for y in a.y..a.y + a.height {
        let line: String = (a.x..a.x + a.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The bundled plugins only, requirements unchecked: what the TUI tests draw, the same on
/// every machine.
#[allow(dead_code)] // not every test file that shares this module loads plugins
pub fn bundled() -> panther::plugin::Registry {
    panther::plugin::Registry::load(&panther::plugin::LoadOptions {
        bundled: true,
        user: false,
        dirs: vec![],
        availability: false,
    })
}
