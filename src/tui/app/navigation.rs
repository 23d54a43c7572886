//! Where the keys go: screens, the back stack, the focused context, help and footers.

use super::*;

impl App {
    /// Goes to a screen, remembering this one for Esc.
    pub fn go(&mut self, s: Screen) {
        if s != self.screen {
            self.back_stack.push(self.screen);
            if self.back_stack.len() > 50 {
                self.back_stack.remove(0);
            }
        }
        self.show(s);
    }

    /// What has the keys now: the focused screen in its mode, or an overlay over it.
    pub fn context(&self) -> crate::tui::keys::Context {
        use crate::tui::keys::Context;
        if self.show_help {
            Context::Help
        } else if self.palette.is_some() {
            Context::Palette
        } else {
            self.focus()
        }
    }

    /// The screen (and mode) under any help or palette overlay.
    pub fn focus(&self) -> crate::tui::keys::Context {
        use crate::tui::keys::Context;
        match self.screen {
            Screen::Plugins => Context::Plugins,
            Screen::History => Context::Runs,
            Screen::Sequence if self.sequence.as_ref().is_some_and(|s| s.logs.is_some()) => {
                Context::Logs
            }
            Screen::Sequence => Context::Sequence,
            Screen::Matrix => Context::Matrix,
            Screen::Editor if self.form.is_some() => Context::Form,
            Screen::Editor if self.editor.as_ref().is_some_and(|e| e.is_insert()) => {
                Context::Insert
            }
            Screen::Editor => Context::Editor,
        }
    }

    /// Esc: closes the innermost thing open, else goes back to the screen before.
    pub(super) fn back(&mut self) {
        if self.show_help {
            self.show_help = false;
            return;
        }
        match self.screen {
            Screen::Plugins if !self.filter.is_empty() => {
                self.filter.clear();
                self.rebuild_tree();
                return;
            }
            Screen::History if !self.runs_filter.is_empty() => {
                self.runs_filter.clear();
                self.refresh_runs();
                return;
            }
            Screen::Matrix if self.matrix.as_ref().is_some_and(|m| !m.filter.is_empty()) => {
                if let Some(m) = self.matrix.as_mut() {
                    m.filter.clear();
                }
                return;
            }
            Screen::Sequence => {
                if let Some(s) = self.sequence.as_mut() {
                    if s.logs.take().is_some() {
                        return;
                    }
                    if std::mem::take(&mut s.show_detail) {
                        return;
                    }
                }
            }
            Screen::Editor => {
                if let Some(form) = self.form.as_mut() {
                    if form.handle_key(esc(), &self.reg) == FormOutcome::Close {
                        self.form = None;
                    }
                    return;
                }
            }
            _ => {}
        }
        match self.back_stack.pop() {
            Some(s) => self.show(s),
            None => self.message = Some("nothing to go back to (q quits)".into()),
        }
    }

    /// Shows a screen (no history).
    pub(super) fn show(&mut self, s: Screen) {
        self.screen = s;
        self.detail_scroll = 0;
        if s == Screen::History {
            self.refresh_runs();
        }
        if s == Screen::Editor && self.editor.is_none() {
            self.open_quickstart();
        }
    }

    /// Tab / Shift-Tab: the screen `by` places on, cycling.
    pub(super) fn screen_by(&mut self, by: usize) {
        let i = Screen::ALL
            .iter()
            .position(|s| *s == self.screen)
            .unwrap_or(0);
        self.go(Screen::ALL[(i + by) % Screen::ALL.len()]);
    }

    /// The help of the focused screen in its mode (built from the live keymap).
    pub fn bindings(&self) -> Vec<(String, Vec<Binding>)> {
        self.keymap.help(self.focus())
    }

    /// The footer of the focused context, cut to the screen's width.
    pub fn footer(&self) -> String {
        use crate::tui::keys::Context;
        if self.screen == Screen::Sequence && self.sequence.is_none() && !self.show_help {
            // Nothing to move through yet: where to go instead.
            let k = |a: &str| self.keymap.first(Context::Global, a);
            let head = format!("{} experiment · {} runs · ", k("screen-3"), k("screen-2"));
            let w = self.size.0.saturating_sub(head.chars().count() as u16);
            return head + &self.keymap.footer(Context::Global, w);
        }
        self.keymap.footer(self.context(), self.size.0)
    }
}
