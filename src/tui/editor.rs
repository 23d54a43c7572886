//! The experiment YAML editor: a text area with line numbers, the config re-validated after
//! every edit (`experiment::load_str`), errors marked in the gutter at their line, the cursor
//! line's finding explained in a bottom panel, atomic saves, undo/redo, and a launch request
//! that is only granted when the experiment validates.
//!
//! Self-contained: the app owns an `Editor`, feeds it keys with `handle_key` and acts on the
//! returned `EditorOutcome`; `draw` paints it into any area.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui_textarea::{CursorMove, TextArea};

use crate::diag::{Diagnostic, Severity};
use crate::experiment;
use crate::plugin::Registry;

/// Where a never-saved buffer goes (relative to the working directory), like `panther new`
/// would put it.
pub const DEFAULT_DIR: &str = "experiments";
const DEFAULT_STEM: &str = "untitled";
/// Up to this size the buffer is re-validated after every edit.
pub const LIVE_LIMIT: usize = 256 * 1024;

/// What the app should do after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditorOutcome {
    None,
    /// The buffer was written to this file.
    Saved(PathBuf),
    /// The user asked to run the experiment; only returned when it validates.
    Launch,
}

/// The keys the editor adds to the text area's own (Emacs-like) bindings; shown in the
/// status line.
pub const KEYS: &[(&str, &str)] = &[
    ("Ctrl-S", "save"),
    ("Ctrl-Z/Ctrl-Y", "undo/redo"),
    ("Ctrl-R", "run"),
    ("F8", "next problem"),
    ("Ctrl-P", "commands"),
    ("Esc", "view mode"),
];

pub struct Editor {
    textarea: TextArea<'static>,
    path: Option<PathBuf>,
    diagnostics: Vec<Diagnostic>,
    /// The last validated text parsed into an experiment.
    parsed: bool,
    /// The plugins that experiment names (for tutorial checks).
    uses: Vec<String>,
    /// Hash of the text `diagnostics` describe (`None`: never validated).
    validated: Option<u64>,
    /// Hash of the current text (kept up to date by every edit).
    current: u64,
    /// Hash of the text as last loaded or saved.
    saved: u64,
    dirty: bool,
    /// The text ended with a newline (kept on save).
    trailing_newline: bool,
    /// The text used CRLF line ends (kept on save).
    crlf: bool,
    message: Option<String>,
    /// Insert mode: keys type into the file. Off (view mode) the app reads keys as commands.
    insert: bool,
    /// The footer's keys, set by the app from its keymap (else [`KEYS`]).
    pub hints: Option<String>,
    /// `/` in view mode: the text being typed (Some while typing), and the last search.
    search_input: Option<String>,
    search: Option<String>,
}

fn hash(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

impl Editor {
    /// A buffer holding `text`, to be saved to `path` (or under `experiments/` when `None`).
    /// Not validated yet: call `validate`.
    pub fn new(path: Option<PathBuf>, text: String) -> Editor {
        let crlf = text.contains("\r\n");
        let trailing_newline = text.is_empty() || text.ends_with('\n');
        let lines: Vec<String> = text.lines().map(String::from).collect();
        let mut textarea = TextArea::new(lines);
        // YAML indents with spaces: Tab inserts two of them.
        textarea.set_hard_tab_indent(false);
        textarea.set_tab_length(2);
        textarea.set_max_histories(1000);
        let mut e = Editor {
            textarea,
            path,
            diagnostics: Vec::new(),
            parsed: false,
            uses: Vec::new(),
            validated: None,
            current: 0,
            saved: 0,
            dirty: false,
            trailing_newline,
            crlf,
            message: None,
            insert: false,
            hints: None,
            search_input: None,
            search: None,
        };
        e.current = hash(&e.text());
        e.saved = e.current;
        e
    }

    /// Opens a config, refusing files over the experiment size limit and non-UTF-8 files.
    pub fn open(path: &Path) -> io::Result<Editor> {
        let max = experiment::LIMITS.max_bytes;
        let file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is a folder, not a file", path.display()),
            ));
        }
        let too_big = || {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is larger than {} MiB; experiments are hand-written and much smaller",
                    path.display(),
                    max / (1024 * 1024)
                ),
            )
        };
        if meta.len() > max as u64 {
            return Err(too_big());
        }
        // Bounded even if the file grows between the check and the read.
        let mut bytes = Vec::new();
        file.take(max as u64 + 1).read_to_end(&mut bytes)?;
        if bytes.len() > max {
            return Err(too_big());
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is not UTF-8 (bad byte at offset {})",
                    path.display(),
                    e.utf8_error().valid_up_to()
                ),
            )
        })?;
        Ok(Editor::new(Some(path.to_path_buf()), text))
    }

    /// The buffer as it would be saved.
    pub fn text(&self) -> String {
        let lines = self.textarea.lines();
        let sep = if self.crlf { "\r\n" } else { "\n" };
        let mut s = lines.join(sep);
        let empty = lines.len() == 1 && lines[0].is_empty();
        if self.trailing_newline && !empty {
            s.push_str(sep);
        }
        s
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Insert mode (keys type) or view mode (keys command).
    pub fn is_insert(&self) -> bool {
        self.insert
    }

    pub fn set_insert(&mut self, on: bool) {
        self.insert = on;
    }

    /// The search line is being typed (`/` in view mode).
    pub fn is_searching(&self) -> bool {
        self.search_input.is_some()
    }

    /// `/`: starts typing a search.
    pub fn start_search(&mut self) {
        self.search_input = Some(String::new());
    }

    /// A key typed into the search line: Enter finds, Esc cancels.
    pub fn search_key(&mut self, k: KeyEvent) {
        let Some(line) = self.search_input.as_mut() else {
            return;
        };
        let plain = !k
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        match k.code {
            KeyCode::Char(c) if plain => line.push(c),
            KeyCode::Backspace => {
                line.pop();
            }
            KeyCode::Esc => self.search_input = None,
            KeyCode::Enter => {
                let pattern = self.search_input.take().unwrap_or_default();
                if !pattern.is_empty() {
                    self.search = Some(pattern);
                    self.find_next(true);
                }
            }
            _ => {}
        }
    }

    /// n / N: the next or previous place the last search matches.
    pub fn find_next(&mut self, forward: bool) {
        let Some(pattern) = self.search.clone() else {
            self.message = Some("search first: / then the text".into());
            return;
        };
        let lines = self.textarea.lines().to_vec();
        match super::text_search::find(&lines, self.cursor(), &pattern, forward) {
            Some(((row, col), wrapped)) => {
                self.textarea
                    .move_cursor(CursorMove::Jump(row as u16, col as u16));
                if wrapped {
                    self.message = Some(format!("“{pattern}”: search wrapped around"));
                }
            }
            None => self.message = Some(format!("no match for “{pattern}”")),
        }
    }

    /// Moves the cursor without editing (view mode).
    pub fn motion(&mut self, m: CursorMove) {
        self.textarea.move_cursor(m);
    }

    /// Scrolls a page (view mode).
    pub fn page(&mut self, down: bool) {
        use ratatui_textarea::Scrolling;
        self.textarea.scroll(if down {
            Scrolling::PageDown
        } else {
            Scrolling::PageUp
        });
    }

    /// Sets a status message (shown until the next key).
    pub fn say(&mut self, m: impl Into<String>) {
        self.message = Some(m.into());
    }

    /// The file's name as shown (a never-saved buffer: where it will be saved).
    pub fn name(&self) -> String {
        self.file_name()
    }

    /// The name used in diagnostics and the header.
    fn file_name(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            // Where Ctrl-S will put it, so the header does not promise another name.
            None => untitled_in(Path::new(DEFAULT_DIR)).display().to_string(),
        }
    }

    /// Parses, types and validates the buffer against `reg` (edits call it themselves).
    pub fn validate(&mut self, reg: &Registry) {
        let loaded = experiment::load_str(&self.text(), &self.file_name(), reg);
        self.parsed = loaded.experiment.is_some();
        let mut uses: Vec<String> = loaded
            .experiment
            .iter()
            .flat_map(|e| e.tests.iter().flat_map(|t| t.plugins()))
            .collect();
        uses.sort();
        uses.dedup();
        self.uses = uses;
        self.diagnostics = loaded.diagnostics;
        self.validated = Some(self.current);
    }

    /// The plugins the experiment names, once it validates (else none).
    pub fn uses(&self) -> &[String] {
        if self.can_launch() { &self.uses } else { &[] }
    }

    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }

    fn is_current(&self) -> bool {
        self.validated == Some(self.current)
    }

    /// The current text was validated, parsed, and has no errors (warnings are fine).
    pub fn can_launch(&self) -> bool {
        self.is_current() && self.parsed && self.error_count() == 0
    }

    /// Unsaved changes (undoing back to the saved text clears it).
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// The last status message (save result, why a launch was refused, …).
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The cursor as 0-based (line, column in chars).
    pub fn cursor(&self) -> (usize, usize) {
        let c = self.textarea.cursor();
        (c.0, c.1)
    }

    /// Moves the cursor to a 1-based line and column (as in a diagnostic), clamped.
    pub fn goto(&mut self, line: u32, column: u32) {
        let row = line.saturating_sub(1).min(u16::MAX as u32) as u16;
        let col = column.saturating_sub(1).min(u16::MAX as u32) as u16;
        self.textarea.move_cursor(CursorMove::Jump(row, col));
    }

    /// The findings on a 0-based line, errors first.
    fn diagnostics_on(&self, row: usize) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(move |d| d.line as usize == row + 1)
    }

    /// Replaces the whole buffer (the form view wrote a new version of the experiment), then
    /// re-validates. The buffer's undo history starts again from the new text.
    pub fn replace_text(&mut self, text: &str, reg: &Registry) {
        let fresh = Editor::new(self.path.clone(), text.to_string());
        self.textarea = fresh.textarea;
        self.trailing_newline = fresh.trailing_newline;
        self.crlf = fresh.crlf;
        self.message = None;
        self.after_edit(reg);
    }

    /// Replaces the whole text as one more edit (Ctrl-Z brings the old text back), keeping
    /// the file's line ends and final newline; re-validates.
    pub fn edit_text(&mut self, text: &str, reg: &Registry) {
        if text == self.text() {
            return;
        }
        let sep = if self.crlf { "\r\n" } else { "\n" };
        let body = text.strip_suffix(sep).unwrap_or(text);
        self.textarea.select_all();
        self.textarea.insert_str(body);
        self.message = None;
        self.after_edit(reg);
    }

    /// Inserts pasted text (bracketed paste), re-validating.
    pub fn paste(&mut self, text: &str, reg: &Registry) {
        self.message = None;
        if self.textarea.insert_str(text) {
            self.after_edit(reg);
        }
    }

    fn after_edit(&mut self, reg: &Registry) {
        self.current = hash(&self.text());
        self.dirty = self.current != self.saved;
        // Big buffers are validated on demand (F5, Ctrl-R) so typing stays responsive.
        if self
            .textarea
            .lines()
            .iter()
            .map(|l| l.len() + 1)
            .sum::<usize>()
            <= LIVE_LIMIT
        {
            self.validate(reg);
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent, reg: &Registry) -> EditorOutcome {
        if key.kind == KeyEventKind::Release {
            return EditorOutcome::None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        self.message = None;
        match key.code {
            // Esc ends insert mode; the text stays as it is (Ctrl-Z undoes).
            KeyCode::Esc => {
                self.insert = false;
                return EditorOutcome::None;
            }
            KeyCode::Char('s') if ctrl && !alt => {
                return match self.save() {
                    Ok(p) => {
                        // Findings name the file, and big buffers are checked on save.
                        self.validate(reg);
                        self.message = Some(format!("saved {}", p.display()));
                        EditorOutcome::Saved(p)
                    }
                    Err(e) => {
                        self.message = Some(format!("cannot save: {e}"));
                        EditorOutcome::None
                    }
                };
            }
            KeyCode::Char('r') if ctrl && !alt => {
                self.validate(reg);
                if self.can_launch() {
                    return EditorOutcome::Launch;
                }
                let n = self.error_count();
                self.message = Some(if n == 0 {
                    "the experiment does not parse: fix it first".into()
                } else if n == 1 {
                    "fix 1 error first".into()
                } else {
                    format!("fix {n} errors first")
                });
                return EditorOutcome::None;
            }
            KeyCode::Char('z') if ctrl && !alt => {
                if self.textarea.undo() {
                    self.after_edit(reg);
                }
                return EditorOutcome::None;
            }
            KeyCode::Char('y') if ctrl && !alt => {
                if self.textarea.redo() {
                    self.after_edit(reg);
                }
                return EditorOutcome::None;
            }
            KeyCode::F(5) => {
                self.validate(reg);
                return EditorOutcome::None;
            }
            KeyCode::F(8) => {
                self.next_problem();
                return EditorOutcome::None;
            }
            _ => {}
        }
        if self.textarea.input(key) {
            self.after_edit(reg);
        }
        EditorOutcome::None
    }

    /// Moves the cursor to the next finding after it (wrapping), by position.
    fn next_problem(&mut self) {
        let (row, col) = self.cursor();
        let here = (row as u32 + 1, col as u32 + 1);
        let mut places: Vec<(u32, u32)> = self
            .diagnostics
            .iter()
            .map(|d| (d.line.max(1), d.column.max(1)))
            .collect();
        places.sort();
        places.dedup();
        let next = places
            .iter()
            .find(|&&p| p > here)
            .or_else(|| places.first())
            .copied();
        match next {
            Some((l, c)) => self.goto(l, c),
            None => self.message = Some("no problems".into()),
        }
    }

    /// Saves under a new name (`:w FILE`), refusing to overwrite another file.
    pub fn save_as(&mut self, path: &Path) -> io::Result<PathBuf> {
        if path.exists() && self.path.as_deref() != Some(path) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} exists; open it with :e, or pick another name",
                    path.display()
                ),
            ));
        }
        let old = self.path.replace(path.to_path_buf());
        self.save().inspect_err(|_| self.path = old)
    }

    /// Writes the buffer atomically (temporary file in the same folder, then rename). A buffer
    /// without a file goes to `experiments/untitled.yaml` (or `untitled-N.yaml` if taken).
    pub fn save(&mut self) -> io::Result<PathBuf> {
        let path = match &self.path {
            Some(p) => p.clone(),
            None => {
                let dir = Path::new(DEFAULT_DIR);
                std::fs::create_dir_all(dir)?;
                untitled_in(dir)
            }
        };
        write_atomic(&path, self.text().as_bytes())?;
        self.path = Some(path.clone());
        self.saved = self.current;
        self.dirty = false;
        Ok(path)
    }

    pub fn draw(&mut self, f: &mut Frame, area: Rect, th: &super::theme::Theme, color: bool) {
        let fg = |c: Color| super::tint(color, c);
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let (errors, warnings) = (self.error_count(), self.warning_count());
        let (row, col) = self.cursor();
        // Panel: the cursor line's finding, or a summary.
        let on_line: Vec<&Diagnostic> = self.diagnostics_on(row).collect();
        let mut lines: Vec<Line> = Vec::new();
        let title;
        if let Some(d) = on_line.first() {
            title = format!(" line {} ", row + 1);
            let (sev, c) = match d.severity {
                Severity::Error => ("error", th.error),
                Severity::Warning => ("warning", th.warn),
            };
            let mut first = vec![
                Span::raw(format!("{}:{} ", d.line, d.column)),
                Span::styled(format!("{sev}:"), fg(c).add_modifier(Modifier::BOLD)),
                Span::raw(format!(" {}", d.message)),
            ];
            if on_line.len() > 1 {
                first.push(Span::styled(
                    format!("  (+{} more on this line)", on_line.len() - 1),
                    fg(th.muted),
                ));
            }
            lines.push(Line::from(first));
            if let Some(e) = &d.expected {
                lines.push(Line::from(format!("  expected: {e}")));
            }
            if let Some(h) = &d.help {
                lines.push(Line::styled(format!("  help: {h}"), fg(th.accent)));
            }
        } else {
            title = " problems ".to_string();
            if !self.is_current() {
                lines.push(Line::raw("not validated yet: F5 validates"));
            } else if self.diagnostics.is_empty() && self.parsed {
                lines.push(Line::styled(
                    "✓ the experiment validates: Ctrl-R runs it",
                    fg(th.ok),
                ));
            } else {
                if let Some(d) = self.diagnostics.first() {
                    let sev = if d.is_error() { "error" } else { "warning" };
                    lines.push(Line::from(format!(
                        "{}:{} {sev}: {}",
                        d.line, d.column, d.message
                    )));
                }
                lines.push(Line::styled(
                    format!(
                        "{}, {} · F8 jumps to the next one",
                        plural(errors, "error"),
                        plural(warnings, "warning")
                    ),
                    fg(th.muted),
                ));
            }
        }
        // As tall as its wrapped text needs (at least 2 rows), at most a third of the screen.
        let inner_w = area.width.saturating_sub(2).max(1) as usize;
        let rows: usize = lines
            .iter()
            .map(|l| l.width().max(1).div_ceil(inner_w))
            .sum();
        let max = (area.height / 3).max(4) as usize;
        let panel_h = (rows.max(2) + 2).min(max) as u16;
        let [head, body, panel, foot] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(panel_h),
            Constraint::Length(1),
        ])
        .areas(area);

        // Header: file, [modified], validity.
        let mode = if self.insert {
            Span::styled(
                "-- INSERT --",
                fg(th.ok).add_modifier(Modifier::BOLD | Modifier::REVERSED),
            )
        } else {
            Span::styled("VIEW", bold)
        };
        let mut spans = vec![mode, Span::raw(" · "), Span::raw(self.file_name())];
        if self.dirty {
            spans.push(Span::styled(" [modified]", fg(th.warn)));
        }
        // The position and validity on the right, kept whole; a long file name is cut instead.
        let mut right = vec![Span::styled(
            format!("  {}:{}  ", row + 1, col + 1),
            fg(th.muted),
        )];
        if !self.is_current() {
            right.push(Span::styled("not validated", fg(th.muted)));
        } else if errors == 0 && self.parsed {
            right.push(Span::styled("✓ valid", fg(th.ok)));
            if warnings > 0 {
                right.push(Span::styled(
                    format!(", {}", plural(warnings, "warning")),
                    fg(th.warn),
                ));
            }
        } else {
            let mut text = plural(errors, "error");
            if warnings > 0 {
                text.push_str(&format!(", {}", plural(warnings, "warning")));
            }
            right.push(Span::styled(text, fg(th.error)));
        }
        let right = Line::from(right);
        let rw = (right.width() as u16).min(head.width);
        let [hl, hr] = Layout::horizontal([Constraint::Min(0), Constraint::Length(rw)]).areas(head);
        f.render_widget(Paragraph::new(Line::from(spans)), hl);
        f.render_widget(Paragraph::new(right), hr);

        // Body: a one-column gutter of markers, then the text area with line numbers.
        let block = Block::default().borders(Borders::ALL).title(" experiment ");
        let inner = block.inner(body);
        f.render_widget(block, body);
        let [gutter, text] =
            Layout::horizontal([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
        self.textarea.set_line_number_style(fg(th.muted));
        self.textarea
            .set_cursor_line_style(Style::default().add_modifier(Modifier::UNDERLINED));
        self.textarea
            .set_cursor_style(Style::default().add_modifier(Modifier::REVERSED));
        f.render_widget(&self.textarea, text);
        let top = self.textarea.scroll_offset().0 as usize;
        let nlines = self.textarea.lines().len();
        let marks: Vec<Line> = (0..gutter.height as usize)
            .map(|i| {
                let row = top + i;
                if row >= nlines {
                    return Line::raw("");
                }
                match self.diagnostics_on(row).map(|d| d.severity).max() {
                    Some(Severity::Error) => {
                        Line::styled(if color { "●" } else { "E" }, fg(th.error))
                    }
                    Some(Severity::Warning) => {
                        Line::styled(if color { "▲" } else { "W" }, fg(th.warn))
                    }
                    None => Line::raw(""),
                }
            })
            .collect();
        f.render_widget(Paragraph::new(marks), gutter);

        f.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .block(Block::default().borders(Borders::ALL).title(title)),
            panel,
        );

        // Status line: the last message, or the keys.
        let status = match (&self.search_input, &self.message) {
            (Some(s), _) => Line::from(format!("/{s}▏  Enter find · Esc cancel · then n/N")),
            (None, Some(m)) => Line::styled(m.clone(), fg(th.warn).add_modifier(Modifier::BOLD)),
            (None, None) => Line::styled(
                self.hints.clone().unwrap_or_else(|| {
                    KEYS.iter()
                        .map(|(k, w)| format!("{k} {w}"))
                        .collect::<Vec<_>>()
                        .join(" · ")
                }),
                fg(th.text),
            ),
        };
        f.render_widget(Paragraph::new(status), foot);
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `untitled.yaml` in `dir`, or the first free `untitled-N.yaml`, so a new buffer never
/// overwrites a file it did not open.
fn untitled_in(dir: &Path) -> PathBuf {
    let first = dir.join(format!("{DEFAULT_STEM}.yaml"));
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|n| dir.join(format!("{DEFAULT_STEM}-{n}.yaml")))
        .find(|p| !p.exists())
        .expect("some name is free")
}

/// Writes `bytes` to a new temporary file beside `path`, flushes it, keeps the old file's
/// permissions, and renames it over `path`: readers see the old file or the new one, never
/// half of it.
fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?
        .to_string_lossy()
        .into_owned();
    let perms = std::fs::metadata(path).ok().map(|m| m.permissions());
    let mut n = 0u32;
    let (tmp, mut file) = loop {
        let tmp = dir.join(format!(".{name}.panther-{}-{n}.tmp", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(e),
        }
    };
    let result = (|| {
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        if let Some(p) = perms {
            std::fs::set_permissions(&tmp, p)?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 14 #12: the first untitled buffer is `untitled.yaml`; `untitled-2.yaml` only
    /// when that is taken (it used to start at -2).
    #[test]
    fn untitled_buffers_take_the_first_free_name() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(untitled_in(d.path()), d.path().join("untitled.yaml"));
        std::fs::write(d.path().join("untitled.yaml"), "").unwrap();
        assert_eq!(untitled_in(d.path()), d.path().join("untitled-2.yaml"));
        std::fs::write(d.path().join("untitled-2.yaml"), "").unwrap();
        assert_eq!(untitled_in(d.path()), d.path().join("untitled-3.yaml"));
    }
}
