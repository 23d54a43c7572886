//! The experiment screen: opening, saving, the editor's two modes and the form, and the question asked before unsaved work could be lost.

use super::*;

impl App {
    /// `experiments/quickstart.yaml` when it is here, else the built-in copy (unsaved).
    pub fn open_quickstart(&mut self) {
        let on_disk = std::path::Path::new("experiments/quickstart.yaml");
        let mut ed =
            Editor::open(on_disk).unwrap_or_else(|_| Editor::new(None, QUICKSTART.to_string()));
        ed.validate(&self.reg);
        self.editor = Some(ed);
        self.form = None;
    }

    /// Opens a file in the editor (the palette's `:open`).
    pub fn open_file(&mut self, path: &std::path::Path) -> Result<(), String> {
        let mut ed =
            Editor::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        ed.validate(&self.reg);
        self.editor = Some(ed);
        self.form = None;
        self.go(Screen::Editor);
        Ok(())
    }

    /// Quit, `:new` and `:open` ask first when the experiment has unsaved changes.
    pub(super) fn guard(&mut self, p: Pending) -> Vec<Effect> {
        let settled = p == Pending::Quit && self.discard_on_quit;
        if !settled && self.editor.as_ref().is_some_and(|e| e.is_dirty()) {
            self.pending = Some(p);
            return Vec::new();
        }
        self.carry_out(p)
    }

    pub(super) fn carry_out(&mut self, p: Pending) -> Vec<Effect> {
        match p {
            Pending::Quit => return vec![Effect::Quit],
            Pending::New => self.new_experiment(),
            Pending::Open(path) => {
                if let Err(e) = self.open_file(&path) {
                    self.message = Some(e);
                }
            }
        }
        Vec::new()
    }

    /// The question shown while something waits on unsaved changes.
    pub fn question(&self) -> Option<String> {
        let p = self.pending.as_ref()?;
        let name = self.editor.as_ref().map(|e| e.name()).unwrap_or_default();
        let short = std::path::Path::new(&name)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or(name);
        Some(format!(
            "{}? {short} has unsaved changes · s save · d discard · n/Esc keep editing",
            p.what()
        ))
    }

    pub(super) fn answer_unsaved(&mut self, a: Unsaved) -> Vec<Effect> {
        let Some(p) = self.pending.take() else {
            return Vec::new();
        };
        match a {
            Unsaved::Keep => self.message = Some("kept editing; nothing lost".into()),
            Unsaved::Discard => {
                self.discard_on_quit = p == Pending::Quit;
                return self.carry_out(p);
            }
            Unsaved::Save => match self.save_editor() {
                Ok(()) => return self.carry_out(p),
                Err(e) => self.message = Some(e),
            },
        }
        Vec::new()
    }

    /// Saves the open experiment (`:w`, Ctrl-S, "s" when asked).
    pub(super) fn save_editor(&mut self) -> Result<(), String> {
        let Some(ed) = self.editor.as_mut() else {
            return Err("no experiment is open".into());
        };
        match ed.save() {
            Ok(p) => {
                ed.validate(&self.reg);
                self.message = Some(format!("saved {}", p.display()));
                Ok(())
            }
            Err(e) => Err(format!("cannot save: {e}")),
        }
    }

    /// A new, empty experiment, straight in the form (built by adding services).
    pub(super) fn new_experiment(&mut self) {
        let mut ed = Editor::new(None, Form::new_empty().to_yaml());
        ed.validate(&self.reg);
        self.form = Form::from_text(&ed.text(), &self.reg).ok();
        self.editor = Some(ed);
        self.go(Screen::Editor);
    }

    /// A key on the experiment screen: F2 switches YAML and form; the form takes its keys
    /// (run and save act on the YAML it writes); else the editor.
    pub(super) fn experiment_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        if k.code == crossterm::event::KeyCode::F(2) {
            self.toggle_form();
            return Vec::new();
        }
        let Some(form) = self.form.as_mut().filter(|_| !is_ctrl(&k, &['r', 's'])) else {
            return self.editor_key(k);
        };
        match form.handle_key(k, &self.reg) {
            FormOutcome::Changed => self.form_changed(),
            FormOutcome::Close => self.form = None,
            FormOutcome::None => {}
        }
        Vec::new()
    }

    /// The form changed the experiment: the YAML is patched where the change is, so its
    /// comments and layout stay; else rewritten from the form, as one undoable edit.
    fn form_changed(&mut self) {
        let (Some(form), Some(ed)) = (self.form.as_mut(), self.editor.as_mut()) else {
            return;
        };
        let yaml = form.to_yaml();
        let old = ed.text();
        let reg = &self.reg;
        let same = |t: &String| Form::from_text(t, reg).is_ok_and(|f| f.to_yaml() == yaml);
        let patched = form
            .take_change()
            .and_then(|c| crate::tui::form_patch::apply(&old, &c, &yaml))
            .filter(same);
        let rewrote = patched.is_none() && old.contains('#');
        ed.edit_text(patched.as_deref().unwrap_or(&yaml), reg);
        if rewrote {
            self.message = Some(
                "the form rewrote the YAML (its comments too); Ctrl-Z in the YAML view (F2) brings them back"
                    .into(),
            );
        }
    }

    /// F2: the form view of the same experiment, or back to its YAML.
    fn toggle_form(&mut self) {
        if self.form.take().is_some() {
            return;
        }
        if let Some(ed) = self.editor.as_ref() {
            match Form::from_text(&ed.text(), &self.reg) {
                Ok(f) => self.form = Some(f),
                Err(e) => self.message = Some(format!("the form needs YAML that parses: {e}")),
            }
        }
    }

    /// A key for the editor: typed in insert mode, a command in view mode.
    pub(super) fn editor_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        use crossterm::event::KeyCode;
        use ratatui_textarea::CursorMove;
        let Some(ed) = self.editor.as_mut() else {
            return Vec::new();
        };
        if ed.is_searching() {
            ed.search_key(k);
            return Vec::new();
        }
        if !ed.is_insert() && !is_ctrl(&k, &['r', 's', 'y', 'z']) {
            let m = match k.code {
                KeyCode::Char('/') => {
                    ed.start_search();
                    return Vec::new();
                }
                KeyCode::Char(c @ ('n' | 'N')) => {
                    ed.find_next(c == 'n');
                    return Vec::new();
                }
                KeyCode::Char('i') | KeyCode::Enter => {
                    ed.set_insert(true);
                    return Vec::new();
                }
                KeyCode::Char('u') => return self.editor_key(ctrl('z')),
                KeyCode::Down | KeyCode::Char('j') => CursorMove::Down,
                KeyCode::Up | KeyCode::Char('k') => CursorMove::Up,
                KeyCode::Left | KeyCode::Char('h') => CursorMove::Back,
                KeyCode::Right | KeyCode::Char('l') => CursorMove::Forward,
                KeyCode::Char('g') => CursorMove::Top,
                KeyCode::Char('G') => CursorMove::Bottom,
                KeyCode::Home | KeyCode::Char('0') => CursorMove::Head,
                KeyCode::End | KeyCode::Char('$') => CursorMove::End,
                KeyCode::PageDown | KeyCode::PageUp => {
                    ed.page(k.code == KeyCode::PageDown);
                    return Vec::new();
                }
                KeyCode::F(_) => {
                    ed.handle_key(k, &self.reg);
                    return Vec::new();
                }
                _ => return Vec::new(),
            };
            ed.motion(m);
            return Vec::new();
        }
        match ed.handle_key(k, &self.reg) {
            EditorOutcome::Launch => vec![Effect::Launch {
                text: ed.text(),
                path: ed.path().map(|p| p.to_path_buf()),
                only_test: None,
            }],
            EditorOutcome::Saved(_) | EditorOutcome::None => Vec::new(),
        }
    }
}
