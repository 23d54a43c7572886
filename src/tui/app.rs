//! The workbench's state and its one way of changing: `update(Action) -> Vec<Effect>`.
//! Input, timers and background work all become actions, so tests drive the app exactly as a
//! user does, without a terminal.

use std::path::PathBuf;

use crossterm::event::KeyEvent;

use crate::plugin::{Plugin, Registry};
use crate::results::history::{self, PastRun};

use super::editor::{Editor, EditorOutcome};
use super::form::{Form, FormOutcome};

pub use super::sequence_screen::SequenceScreen;

/// The built-in quickstart experiment, so the editor has something runnable on any machine.
pub const QUICKSTART: &str = include_str!("../../experiments/quickstart.yaml");

use super::keymap::{Binding, Keymap};

/// Something the app should do outside itself (the loop carries it out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
    /// Run the experiment in the editor (its validated text, and the file it came from).
    Launch {
        text: String,
        path: Option<PathBuf>,
        only_test: Option<String>,
    },
    /// Cancel the live run (teardown, then its results as usual).
    CancelRun,
    /// Run a plugin's install commands (argv arrays), after the user said yes.
    Install {
        plugin: String,
        commands: Vec<Vec<String>>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    /// Start typing a filter (`/`).
    StartFilter,
    FilterChar(char),
    FilterBackspace,
    /// Enter: keep the filter and leave typing mode.
    FilterAccept,
    /// Esc: in filter mode, clear it; elsewhere close an overlay.
    Cancel,
    ToggleHelp,
    /// Scroll the help overlay by lines.
    ScrollHelp(i16),
    ScrollDetail(i16),
    /// Tab: the next screen.
    NextScreen,
    /// Shift-Tab: the previous screen.
    PrevScreen,
    /// The answer to "unsaved changes: save, discard or keep editing?".
    Unsaved(Unsaved),
    /// A key that does nothing here: say what would.
    Say(String),
    GoTo(Screen),
    /// A key for the editor, which has its own bindings.
    EditorKey(KeyEvent),
    /// A key on the sequence screen.
    SequenceKey(KeyEvent),
    /// `:` opens the command palette; keys then edit its line.
    OpenPalette,
    PaletteKey(KeyEvent),
    /// A left click at (column, row).
    Click(u16, u16),
    /// `i` on an unavailable plugin: show its install commands and ask.
    AskInstall,
    /// The answer to a question (y / n).
    Answer(bool),
    /// An install finished: the plugin, and what happened.
    Installed {
        plugin: String,
        outcome: Result<(), String>,
    },
    /// Enter on the runs screen: open the selected run's sequence.
    OpenRun,
    /// A key while the tutorial picker is open.
    TutorKey(KeyEvent),
    Quit,
    Resize(u16, u16),
}

/// How a question about unsaved changes was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsaved {
    Save,
    Discard,
    Keep,
}

/// What waits for the answer about unsaved changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    Quit,
    New,
    Open(PathBuf),
}

impl Pending {
    fn what(&self) -> String {
        match self {
            Pending::Quit => "quit".into(),
            Pending::New => "start a new experiment".into(),
            Pending::Open(p) => format!("open {}", p.display()),
        }
    }
}

/// A line of the plugin tree: a category heading or a plugin (index into `App::plugins`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeRow {
    Category(String),
    Plugin(usize),
}

/// The workbench's screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Plugins,
    History,
    Editor,
    Sequence,
}

impl Screen {
    pub const ALL: [Screen; 4] = [
        Screen::Plugins,
        Screen::History,
        Screen::Editor,
        Screen::Sequence,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Screen::Plugins => "plugins",
            Screen::History => "runs",
            Screen::Editor => "experiment",
            Screen::Sequence => "sequence",
        }
    }
}

pub struct App {
    pub screen: Screen,
    pub reg: Registry,
    /// The open experiment; the quickstart until the user opens another.
    pub editor: Option<Editor>,
    /// The form view of the same experiment (F2 switches), kept in sync with the YAML.
    pub form: Option<Form>,
    pub sequence: Option<SequenceScreen>,
    /// A one-line message for the user (errors opening things).
    pub message: Option<String>,
    /// The command palette's line while it is open.
    pub palette: Option<String>,
    pub keymap: Keymap,
    pub theme: super::theme::Theme,
    /// The tutorial being followed, checked after every action.
    pub tutorial: Option<crate::tutorial::Session>,
    /// Where tutorial progress is saved (set by the workbench; None in tests).
    pub tutorial_progress: Option<PathBuf>,
    /// Your own tutorials' folder (`~/.config/panther/tutorials`), read on each `:tutor`.
    pub tutorial_dir: Option<PathBuf>,
    /// The tutorial picker, while it is open.
    pub tutor_picker: Option<super::tutor_picker::TutorPicker>,
    /// The new-plugin wizard, while it asks its questions on the palette line.
    pub wizard: Option<super::create_wizard::CreateWizard>,
    /// How the plugins were loaded, so `:reload` and `:create` load them the same way.
    pub load_options: crate::plugin::LoadOptions,
    /// Where `:create` writes new plugins (the user's plugins folder).
    pub plugin_home: Option<PathBuf>,
    /// The config file `:reload` reads.
    pub config_path: Option<PathBuf>,
    /// The config as last read, when the file exists and has no errors.
    pub config_seen: Option<crate::tutorial::ConfigSeen>,
    /// The config's `plugin-dirs`, loaded besides `load_options`' folders.
    pub config_plugin_dirs: Vec<PathBuf>,
    /// Tests of runs launched here that finished, with their verdicts (for tutorial checks).
    pub finished_tests: Vec<crate::tutorial::Finished>,
    /// Palette commands used (for tutorial checks).
    pub commands_used: Vec<String>,
    /// `q` while a run is going asks first; set by the first press.
    pub confirm_quit: bool,
    /// Quit, `:new` or `:open` waiting while the user says what to do with unsaved changes.
    pub pending: Option<Pending>,
    /// The screens visited, for Esc (back to where you came from).
    pub back_stack: Vec<Screen>,
    /// Where the current screen's list was last drawn (x, y, width, height), for clicks.
    pub list_area: std::cell::Cell<Option<(u16, u16, u16, u16)>>,
    /// Install commands waiting for the user's yes (plugin name, commands).
    pub confirm_install: Option<(String, Vec<Vec<String>>)>,
    /// Where `panther run` writes results; the runs screen lists it.
    pub outputs: PathBuf,
    /// The panther executable services' manifests call (`{{ panther }}`); None: this one.
    pub panther_exe: Option<PathBuf>,
    pub runs: Vec<PastRun>,
    pub run_selected: usize,
    pub plugins: Vec<Plugin>,
    /// Registry diagnostics, shown so a broken plugin is visible, not silently missing.
    pub problems: Vec<String>,
    pub tree: Vec<TreeRow>,
    /// Index into `tree` of the selected row (always a plugin row when any exists).
    pub selected: usize,
    pub filter: String,
    pub typing_filter: bool,
    pub show_help: bool,
    /// The first line of the help shown.
    pub help_scroll: u16,
    pub detail_scroll: u16,
    pub color: bool,
    pub size: (u16, u16),
}

/// The categories in PANTHER's order.
pub const CATEGORIES: &[&str] = &[
    "services/iut",
    "services/testers",
    "environments/network_environment",
    "environments/execution_environment",
    "protocols/client_server",
    "protocols/peer_to_peer",
];

fn esc() -> KeyEvent {
    KeyEvent::new(
        crossterm::event::KeyCode::Esc,
        crossterm::event::KeyModifiers::NONE,
    )
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(
        crossterm::event::KeyCode::Char(c),
        crossterm::event::KeyModifiers::CONTROL,
    )
}

/// Ctrl with one of `keys`.
fn is_ctrl(k: &KeyEvent, keys: &[char]) -> bool {
    k.modifiers
        .contains(crossterm::event::KeyModifiers::CONTROL)
        && matches!(k.code, crossterm::event::KeyCode::Char(c) if keys.contains(&c.to_ascii_lowercase()))
}

impl App {
    pub fn new(reg: &Registry, color: bool) -> App {
        let (plugins, problems) = Self::browse(reg);
        let mut app = App {
            screen: Screen::Plugins,
            reg: reg.clone(),
            editor: None,
            form: None,
            sequence: None,
            message: None,
            palette: None,
            keymap: Keymap::default_keys(),
            theme: super::theme::Theme::default_theme(),
            tutorial: None,
            tutorial_progress: None,
            tutorial_dir: None,
            tutor_picker: None,
            wizard: None,
            load_options: crate::plugin::LoadOptions::default(),
            plugin_home: None,
            config_path: None,
            config_seen: None,
            config_plugin_dirs: Vec::new(),
            finished_tests: Vec::new(),
            commands_used: Vec::new(),
            confirm_install: None,
            list_area: std::cell::Cell::new(None),
            confirm_quit: false,
            pending: None,
            back_stack: Vec::new(),
            outputs: PathBuf::from("outputs"),
            panther_exe: None,
            runs: Vec::new(),
            run_selected: 0,
            plugins,
            problems,
            tree: Vec::new(),
            selected: 0,
            filter: String::new(),
            typing_filter: false,
            show_help: false,
            help_scroll: 0,
            detail_scroll: 0,
            color,
            size: (80, 24),
        };
        app.rebuild_tree();
        app
    }

    /// The browser's plugins (by name) and the registry's problems, one line each.
    fn browse(reg: &Registry) -> (Vec<Plugin>, Vec<String>) {
        let mut plugins: Vec<Plugin> = reg.plugins().to_vec();
        plugins.sort_by(|a, b| a.name().cmp(b.name()));
        let problems = reg
            .diagnostics
            .iter()
            .map(|d| d.to_string().lines().next().unwrap_or("").to_string())
            .collect();
        (plugins, problems)
    }

    fn matches(&self, p: &Plugin) -> bool {
        if self.filter.is_empty() {
            return true;
        }
        let f = self.filter.to_ascii_lowercase();
        p.name().to_ascii_lowercase().contains(&f)
            || p.manifest.description.to_ascii_lowercase().contains(&f)
            || p.manifest
                .tags
                .iter()
                .any(|t| t.to_ascii_lowercase().contains(&f))
            || p.category().contains(&f)
    }

    /// The tree under the current filter; keeps the selected plugin when it is still shown.
    fn rebuild_tree(&mut self) {
        let keep = self.selected_plugin().map(|p| p.name().to_string());
        let mut tree = Vec::new();
        let mut cats: Vec<String> = CATEGORIES.iter().map(|c| c.to_string()).collect();
        for p in &self.plugins {
            if !cats.contains(&p.category()) {
                cats.push(p.category());
            }
        }
        for c in cats {
            let members: Vec<usize> = (0..self.plugins.len())
                .filter(|&i| self.plugins[i].category() == c && self.matches(&self.plugins[i]))
                .collect();
            if members.is_empty() && !self.filter.is_empty() {
                continue;
            }
            tree.push(TreeRow::Category(c));
            tree.extend(members.into_iter().map(TreeRow::Plugin));
        }
        self.tree = tree;
        self.selected = keep
            .and_then(|n| {
                self.tree
                    .iter()
                    .position(|r| matches!(r, TreeRow::Plugin(i) if self.plugins[*i].name() == n))
            })
            .or_else(|| self.first_plugin_row())
            .unwrap_or(0);
    }

    fn first_plugin_row(&self) -> Option<usize> {
        self.tree
            .iter()
            .position(|r| matches!(r, TreeRow::Plugin(_)))
    }

    pub fn selected_plugin(&self) -> Option<&Plugin> {
        match self.tree.get(self.selected) {
            Some(TreeRow::Plugin(i)) => self.plugins.get(*i),
            _ => None,
        }
    }

    /// Moves the selection by `delta` plugin rows (category rows are skipped).
    fn step(&mut self, delta: isize) {
        let rows: Vec<usize> = self
            .tree
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r, TreeRow::Plugin(_)))
            .map(|(i, _)| i)
            .collect();
        if rows.is_empty() {
            return;
        }
        let cur = rows.iter().position(|&r| r == self.selected).unwrap_or(0) as isize;
        let next = (cur + delta).clamp(0, rows.len() as isize - 1) as usize;
        if rows[next] != self.selected {
            self.selected = rows[next];
            self.detail_scroll = 0;
        }
    }

    fn page(&self) -> isize {
        (self.size.1 as isize - 6).max(1)
    }

    /// Re-reads the results folders (on entering the runs screen).
    pub fn refresh_runs(&mut self) {
        self.runs = history::list(&self.outputs);
        self.run_selected = self.run_selected.min(self.runs.len().saturating_sub(1));
    }

    pub fn selected_run(&self) -> Option<&PastRun> {
        self.runs.get(self.run_selected)
    }

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
    pub fn context(&self) -> super::keys::Context {
        use super::keys::Context;
        if self.show_help {
            Context::Help
        } else if self.palette.is_some() {
            Context::Palette
        } else {
            self.focus()
        }
    }

    /// The screen (and mode) under any help or palette overlay.
    pub fn focus(&self) -> super::keys::Context {
        use super::keys::Context;
        match self.screen {
            Screen::Plugins => Context::Plugins,
            Screen::History => Context::Runs,
            Screen::Sequence if self.sequence.as_ref().is_some_and(|s| s.logs.is_some()) => {
                Context::Logs
            }
            Screen::Sequence => Context::Sequence,
            Screen::Editor if self.form.is_some() => Context::Form,
            Screen::Editor if self.editor.as_ref().is_some_and(|e| e.is_insert()) => {
                Context::Insert
            }
            Screen::Editor => Context::Editor,
        }
    }

    /// Esc: closes the innermost thing open, else goes back to the screen before.
    fn back(&mut self) {
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
    fn show(&mut self, s: Screen) {
        self.screen = s;
        self.detail_scroll = 0;
        if s == Screen::History {
            self.refresh_runs();
        }
        if s == Screen::Editor && self.editor.is_none() {
            self.open_quickstart();
        }
    }

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
    fn guard(&mut self, p: Pending) -> Vec<Effect> {
        if self.editor.as_ref().is_some_and(|e| e.is_dirty()) {
            self.pending = Some(p);
            return Vec::new();
        }
        self.carry_out(p)
    }

    fn carry_out(&mut self, p: Pending) -> Vec<Effect> {
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
        // The keys first, so that 80 columns show them whole.
        Some(format!(
            "unsaved changes in {short} · s save · d discard · n/Esc keep editing — then {}",
            p.what()
        ))
    }

    fn answer_unsaved(&mut self, a: Unsaved) -> Vec<Effect> {
        let Some(p) = self.pending.take() else {
            return Vec::new();
        };
        match a {
            Unsaved::Keep => self.message = Some("kept editing; nothing lost".into()),
            Unsaved::Discard => return self.carry_out(p),
            Unsaved::Save => match self.save_editor() {
                Ok(()) => return self.carry_out(p),
                Err(e) => self.message = Some(e),
            },
        }
        Vec::new()
    }

    /// Saves the open experiment (`:w`, Ctrl-S, "s" when asked).
    fn save_editor(&mut self) -> Result<(), String> {
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
    fn new_experiment(&mut self) {
        let mut ed = Editor::new(None, Form::new_empty().to_yaml());
        ed.validate(&self.reg);
        self.form = Form::from_text(&ed.text(), &self.reg).ok();
        self.editor = Some(ed);
        self.go(Screen::Editor);
    }

    fn move_by(&mut self, delta: isize) {
        match self.screen {
            Screen::Plugins => self.step(delta),
            Screen::History => {
                if !self.runs.is_empty() {
                    let n = (self.run_selected as isize + delta)
                        .clamp(0, self.runs.len() as isize - 1)
                        as usize;
                    if n != self.run_selected {
                        self.run_selected = n;
                        self.detail_scroll = 0;
                    }
                }
            }
            // The editor and the sequence view move their own cursors.
            Screen::Editor | Screen::Sequence => {}
        }
    }

    pub fn update(&mut self, a: Action) -> Vec<Effect> {
        let effects = self.update_inner(a);
        self.tutorial_tick();
        effects
    }

    /// The overlays open now, by the names tutorials use.
    fn overlays(&self) -> Vec<String> {
        let mut o = Vec::new();
        if self.show_help {
            o.push("help".to_string());
        }
        if let Some(s) = self
            .sequence
            .as_ref()
            .filter(|_| self.screen == Screen::Sequence)
        {
            if s.show_detail {
                o.push("detail".to_string());
            }
            if s.logs.is_some() {
                o.push("logs".to_string());
            }
        }
        if self.tutor_picker.is_some() {
            o.push("tutorials".to_string());
        }
        o
    }

    /// What tutorial checks look at.
    pub fn observed(&self) -> crate::tutorial::Observed {
        crate::tutorial::Observed {
            screen: self.screen.title().to_string(),
            overlays: self.overlays(),
            selected_plugin: self.selected_plugin().map(|p| p.name().to_string()),
            experiment_valid: self.editor.as_ref().map(|e| e.can_launch()),
            experiment_uses: self
                .editor
                .as_ref()
                .map(|e| e.uses().to_vec())
                .unwrap_or_default(),
            finished: self.finished_tests.clone(),
            commands: self.commands_used.clone(),
            theme: self.theme.name.clone(),
            config: self.config_seen.clone(),
            plugin_home: self.plugin_home.clone(),
        }
    }

    /// Advances the tutorial through every step whose check now holds, saving progress.
    pub fn tutorial_tick(&mut self) {
        if self.tutorial.as_ref().is_none_or(|t| t.done()) {
            return;
        }
        let o = self.observed();
        if let Some(t) = self.tutorial.as_mut()
            && t.observe(&o, &self.reg) > 0
            && let Some(f) = &self.tutorial_progress
        {
            let _ = crate::tutorial::save_progress(f, &t.tutorial.name, t.step);
        }
    }

    fn update_inner(&mut self, a: Action) -> Vec<Effect> {
        // A message stays until the next key; so does a pending "quit?" question.
        if !matches!(a, Action::Resize(..)) {
            self.message = None;
        }
        let quitting = matches!(a, Action::Quit);
        if !quitting && !matches!(a, Action::Resize(..)) {
            self.confirm_quit = false;
        }
        if self.typing_filter {
            match a {
                Action::FilterChar(c) => {
                    self.filter.push(c);
                    self.rebuild_tree();
                }
                Action::FilterBackspace => {
                    self.filter.pop();
                    self.rebuild_tree();
                }
                Action::FilterAccept => self.typing_filter = false,
                Action::Cancel => {
                    self.typing_filter = false;
                    self.filter.clear();
                    self.rebuild_tree();
                }
                Action::Resize(w, h) => self.size = (w, h),
                Action::Quit => return self.guard(Pending::Quit),
                _ => {}
            }
            return Vec::new();
        }
        match a {
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::Top => self.move_by(isize::MIN / 2),
            Action::Bottom => self.move_by(isize::MAX / 2),
            Action::PageUp => self.move_by(-self.page()),
            Action::PageDown => self.move_by(self.page()),
            Action::StartFilter => self.typing_filter = self.screen == Screen::Plugins,
            Action::NextScreen => self.screen_by(1),
            Action::PrevScreen => self.screen_by(Screen::ALL.len() - 1),
            Action::Unsaved(u) => return self.answer_unsaved(u),
            Action::Say(m) => self.message = Some(m),
            Action::GoTo(s) => self.go(s),
            Action::OpenRun => {
                if let Some(r) = self.selected_run() {
                    match SequenceScreen::open(&r.dir.clone()) {
                        Ok(s) => {
                            self.sequence = Some(s);
                            self.go(Screen::Sequence);
                        }
                        Err(e) => self.message = Some(e),
                    }
                }
            }
            Action::SequenceKey(k) => return self.sequence_key(k),
            Action::OpenPalette => {
                self.palette = Some(String::new());
                self.message = None;
            }
            Action::PaletteKey(k) => return self.palette_key(k),
            Action::TutorKey(k) => {
                use super::tutor_picker::Outcome;
                match self.tutor_picker.as_mut().map(|p| p.key(k)) {
                    Some(Outcome::Close) => self.tutor_picker = None,
                    Some(Outcome::Start(name)) => {
                        self.tutor_picker = None;
                        self.start_tutorial(&name);
                    }
                    Some(Outcome::None) | None => {}
                }
            }
            Action::Click(col, row) => self.click(col, row),
            Action::AskInstall => match self.selected_plugin() {
                Some(p) if p.availability.reason().is_some() && !p.manifest.install.is_empty() => {
                    self.confirm_install =
                        Some((p.name().to_string(), p.manifest.install.commands()));
                }
                Some(p) if p.availability.reason().is_some() => {
                    self.message = Some(format!(
                        "{} has no install recipe; see its README",
                        p.name()
                    ))
                }
                Some(p) => self.message = Some(format!("{} is already available", p.name())),
                None => {}
            },
            Action::Answer(yes) => {
                if let Some((plugin, commands)) = self.confirm_install.take() {
                    if yes {
                        self.message = Some(format!("installing {plugin}…"));
                        return vec![Effect::Install { plugin, commands }];
                    }
                    self.message = Some("nothing installed".into());
                }
            }
            Action::Installed { plugin, outcome } => {
                // Check the plugin's requirements again, now that something changed.
                let mut checker = crate::plugin::availability::Checker::new();
                if let Some(p) = self.plugins.iter_mut().find(|p| p.name() == plugin) {
                    p.availability = match checker.check(&p.manifest) {
                        None => crate::plugin::Availability::Available,
                        Some(r) => crate::plugin::Availability::Unavailable(r),
                    };
                }
                self.message = Some(match outcome {
                    Ok(()) => format!("installed {plugin}"),
                    Err(e) => format!("install of {plugin} failed: {e}"),
                });
            }
            Action::EditorKey(k) if k.code == crossterm::event::KeyCode::F(2) => {
                // F2: the form view of the same experiment, or back to its YAML.
                if self.form.take().is_none()
                    && let Some(ed) = self.editor.as_ref()
                {
                    match Form::from_text(&ed.text(), &self.reg) {
                        Ok(f) => self.form = Some(f),
                        Err(e) => {
                            self.message = Some(format!("the form needs YAML that parses: {e}"))
                        }
                    }
                }
            }
            Action::EditorKey(k) if self.form.is_some() && is_ctrl(&k, &['r', 's']) => {
                // Run and save work from the form too: they act on the YAML it writes.
                return self.editor_key(k);
            }
            Action::EditorKey(k) if self.form.is_some() => {
                let form = self.form.as_mut().expect("checked");
                match form.handle_key(k, &self.reg) {
                    FormOutcome::Changed => {
                        let yaml = form.to_yaml();
                        if let Some(ed) = self.editor.as_mut() {
                            ed.replace_text(&yaml, &self.reg);
                        }
                    }
                    FormOutcome::Close => self.form = None,
                    FormOutcome::None => {}
                }
            }
            Action::EditorKey(k) => return self.editor_key(k),
            Action::FilterChar(_) | Action::FilterBackspace | Action::FilterAccept => {}
            Action::Cancel => self.back(),
            Action::ToggleHelp => {
                self.show_help = !self.show_help;
                self.help_scroll = 0;
            }
            Action::ScrollHelp(d) => {
                self.help_scroll = (self.help_scroll as i32 + d as i32).clamp(0, 200) as u16
            }
            Action::ScrollDetail(d) => {
                self.detail_scroll = (self.detail_scroll as i32 + d as i32).max(0) as u16
            }
            Action::Resize(w, h) => self.size = (w, h),
            Action::Quit => return self.guard(Pending::Quit),
        }
        Vec::new()
    }

    /// Tab / Shift-Tab: the screen `by` places on, cycling.
    fn screen_by(&mut self, by: usize) {
        let i = Screen::ALL
            .iter()
            .position(|s| *s == self.screen)
            .unwrap_or(0);
        self.go(Screen::ALL[(i + by) % Screen::ALL.len()]);
    }

    /// A key for the editor: typed in insert mode, a command in view mode.
    fn editor_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        use crossterm::event::KeyCode;
        use ratatui_textarea::CursorMove;
        let Some(ed) = self.editor.as_mut() else {
            return Vec::new();
        };
        if !ed.is_insert() && !is_ctrl(&k, &['r', 's', 'y', 'z']) {
            let m = match k.code {
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

    fn sequence_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let rows = self.size.1;
        match self.sequence.as_mut() {
            Some(s) => s.key(k, rows),
            None => Vec::new(),
        }
    }

    /// Selects the list row under a click (bordered list: rows start one line in; the list
    /// scrolls so the selection is visible, as ratatui's `List` does from offset 0).
    fn click(&mut self, col: u16, row: u16) {
        let Some((x, y, w, h)) = self.list_area.get() else {
            return;
        };
        if col < x || col >= x + w || row <= y || row + 1 >= y + h {
            return;
        }
        let inner = h.saturating_sub(2) as usize;
        let line = (row - y - 1) as usize;
        match self.screen {
            Screen::Plugins => {
                let offset = (self.selected + 1).saturating_sub(inner);
                if let Some(TreeRow::Plugin(_)) = self.tree.get(offset + line) {
                    self.selected = offset + line;
                    self.detail_scroll = 0;
                }
            }
            Screen::History => {
                let offset = (self.run_selected + 1).saturating_sub(inner);
                if offset + line < self.runs.len() {
                    self.run_selected = offset + line;
                    self.detail_scroll = 0;
                }
            }
            _ => {}
        }
    }

    fn palette_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        use crossterm::event::KeyCode;
        let Some(line) = self.palette.as_mut() else {
            return Vec::new();
        };
        match k.code {
            KeyCode::Esc => {
                self.palette = None;
                if self.wizard.take().is_some() {
                    self.message = Some("no plugin created".into());
                }
            }
            KeyCode::Backspace => {
                line.pop();
            }
            KeyCode::Tab => {
                let choices = match &self.wizard {
                    Some(w) => w.complete(line, &self.reg),
                    None => super::palette::complete(line)
                        .into_iter()
                        .map(|c| format!("{c} "))
                        .collect(),
                };
                if let [only] = choices.as_slice() {
                    *line = only.clone();
                }
            }
            KeyCode::Char(c) => line.push(c),
            KeyCode::Enter => {
                let input = self.palette.take().unwrap_or_default();
                if self.wizard.is_some() {
                    self.wizard_answer(&input);
                    return Vec::new();
                }
                return self.command(&input);
            }
            _ => {}
        }
        Vec::new()
    }

    /// Carries out a palette command (`:open FILE`, `:run`, `:replay DIR`, …).
    pub fn command(&mut self, input: &str) -> Vec<Effect> {
        use super::palette::Command;
        if let Some(word) = input
            .trim()
            .trim_start_matches(':')
            .split_whitespace()
            .next()
        {
            self.commands_used.push(word.to_ascii_lowercase());
        }
        match super::palette::parse(input) {
            Err(e) => self.message = Some(e),
            Ok(Command::Quit) => return self.guard(Pending::Quit),
            Ok(Command::ForceQuit) => return vec![Effect::Quit],
            Ok(Command::New) => return self.guard(Pending::New),
            Ok(Command::Open(p)) => return self.guard(Pending::Open(p)),
            Ok(Command::Write) => {
                if let Err(e) = self.save_editor() {
                    self.message = Some(e);
                }
            }
            Ok(Command::WriteAs(p)) => {
                self.message = Some(match self.editor.as_mut().map(|e| e.save_as(&p)) {
                    Some(Ok(p)) => format!("saved {}", p.display()),
                    Some(Err(e)) => format!("cannot save: {e}"),
                    None => "no experiment is open".into(),
                });
                if let Some(ed) = self.editor.as_mut() {
                    ed.validate(&self.reg);
                }
            }
            Ok(Command::WriteQuit) => match self.save_editor() {
                Ok(()) => return vec![Effect::Quit],
                Err(e) => self.message = Some(e),
            },
            Ok(Command::Run) => {
                if self.editor.is_none() {
                    self.open_quickstart();
                }
                let ed = self.editor.as_mut().expect("just opened");
                ed.validate(&self.reg);
                if ed.can_launch() {
                    return vec![Effect::Launch {
                        text: ed.text(),
                        path: ed.path().map(|p| p.to_path_buf()),
                        only_test: None,
                    }];
                }
                self.message = Some(format!(
                    "fix {} error(s) in the experiment first",
                    ed.error_count()
                ));
                self.go(Screen::Editor);
            }
            Ok(Command::RunTest(name)) => {
                if self.editor.is_none() {
                    self.open_quickstart();
                }
                let ed = self.editor.as_mut().expect("just opened");
                ed.validate(&self.reg);
                let loaded = crate::experiment::load_str(&ed.text(), "experiment", &self.reg);
                let names: Vec<String> = loaded
                    .experiment
                    .iter()
                    .flat_map(|e| e.tests.iter().map(|t| t.name.clone()))
                    .collect();
                if !ed.can_launch() {
                    self.message = Some(format!(
                        "fix {} error(s) in the experiment first",
                        ed.error_count()
                    ));
                } else if !names.contains(&name) {
                    let help =
                        crate::suggest::did_you_mean(&name, names.iter().map(String::as_str))
                            .unwrap_or_default();
                    self.message = Some(format!("no test named `{name}` {help}"));
                } else {
                    return vec![Effect::Launch {
                        text: ed.text(),
                        path: ed.path().map(|p| p.to_path_buf()),
                        only_test: Some(name),
                    }];
                }
            }
            Ok(Command::Replay(dir)) => match SequenceScreen::open(&dir) {
                Ok(s) => {
                    self.sequence = Some(s);
                    self.go(Screen::Sequence);
                }
                Err(e) => self.message = Some(e),
            },
            Ok(Command::Plugins) => self.go(Screen::Plugins),
            Ok(Command::Help) => {
                self.show_help = true;
                self.help_scroll = 0;
            }
            Ok(Command::Theme(name)) => self.set_theme(&name),
            Ok(Command::Tutor(None)) => self.open_tutor_picker(),
            Ok(Command::Tutor(Some(name))) if name == "off" => {
                self.message = Some(match self.tutorial.take() {
                    Some(t) => format!(
                        "tutorial {} closed; `:tutor {}` resumes it",
                        t.tutorial.title, t.tutorial.name
                    ),
                    None => "no tutorial is open".into(),
                })
            }
            Ok(Command::Tutor(Some(name))) => self.start_tutorial(&name),
            Ok(Command::Create(None)) => {
                self.wizard = Some(super::create_wizard::CreateWizard::new());
                self.palette = Some(String::new());
            }
            Ok(Command::Create(Some(a))) => match crate::plugin::creator::parse_type(&a.kind) {
                Ok(kind) => self.create_plugin(crate::plugin::creator::Request {
                    kind,
                    name: a.name,
                    protocol: a.protocol,
                    dir: None,
                }),
                Err(e) => self.message = Some(e),
            },
            Ok(Command::Reload) => self.reload(),
        }
        Vec::new()
    }

    /// The bundled tutorials and the user's; a broken user tutorial is reported (the first
    /// one at file:line:column) and the rest still load.
    fn tutorials(&mut self) -> Vec<crate::tutorial::Tutorial> {
        let (all, diags) = crate::tutorial::load_all(self.tutorial_dir.as_deref());
        if let Some(d) = diags.first() {
            self.message = Some(format!(
                "{} ({} tutorial file(s) skipped)",
                d.to_string().lines().next().unwrap_or(""),
                diags.len()
            ));
        }
        all
    }

    fn saved_progress(&self) -> std::collections::BTreeMap<String, usize> {
        self.tutorial_progress
            .as_deref()
            .map(crate::tutorial::load_progress)
            .unwrap_or_default()
    }

    /// Opens the tutorial picker, with the saved progress.
    pub fn open_tutor_picker(&mut self) {
        let all = self.tutorials();
        self.tutor_picker = Some(super::tutor_picker::TutorPicker::new(
            &all,
            &self.saved_progress(),
        ));
    }

    /// Follows the tutorial `name`, resumed where it was left.
    pub fn start_tutorial(&mut self, name: &str) {
        let all = self.tutorials();
        let Some(t) = all.iter().find(|t| t.name == name).cloned() else {
            self.message = Some(crate::tutorial::unknown(name, &all));
            return;
        };
        let step = crate::tutorial::resume_step(&t, &self.saved_progress());
        self.message = Some(format!("tutorial: {} (`:tutor off` closes it)", t.title));
        self.tutorial = Some(crate::tutorial::Session::new(t, step));
    }

    /// Takes the wizard's answer: the next question, the plugin created, or the mistake
    /// shown with the answer kept for fixing.
    fn wizard_answer(&mut self, input: &str) {
        let Some(w) = self.wizard.as_mut() else {
            return;
        };
        match w.answer(input, &self.reg) {
            Ok(super::create_wizard::Step::Next) => self.palette = Some(String::new()),
            Ok(super::create_wizard::Step::Done(req)) => {
                self.wizard = None;
                self.create_plugin(req);
            }
            Err(e) => {
                self.message = Some(e);
                self.palette = Some(input.to_string());
            }
        }
    }

    /// Scaffolds a plugin in the user's plugins folder (as `panther --create-plugin`), loads
    /// it and selects it in the browser.
    pub fn create_plugin(&mut self, mut req: crate::plugin::creator::Request) {
        if req.dir.is_none() {
            req.dir = self.plugin_home.clone();
        }
        match crate::plugin::creator::create(&req, &self.reg) {
            Ok(c) => {
                self.reload_plugins();
                self.filter.clear();
                self.rebuild_tree();
                if let Some(row) = self.tree.iter().position(
                    |r| matches!(r, TreeRow::Plugin(i) if self.plugins[*i].name() == req.name),
                ) {
                    self.selected = row;
                }
                self.go(Screen::Plugins);
                let files: Vec<String> = c
                    .files
                    .iter()
                    .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .collect();
                self.message = Some(format!(
                    "created {} plugin `{}` in {} ({}); edit it, then :reload",
                    req.kind,
                    req.name,
                    c.dir.display(),
                    files.join(", ")
                ));
            }
            Err(e) => self.message = Some(e),
        }
    }

    /// Loads the plugins again (same folders, plus the config's), keeping the selection,
    /// and re-validates the open experiment against them.
    fn reload_plugins(&mut self) {
        let mut opts = self.load_options.clone();
        opts.dirs.extend(self.config_plugin_dirs.iter().cloned());
        if let Some(home) = &self.plugin_home
            && !opts.dirs.contains(home)
            && !(opts.user && crate::plugin::registry::user_plugin_dir().as_ref() == Some(home))
        {
            opts.dirs.push(home.clone());
        }
        self.reg = Registry::load(&opts);
        let (plugins, problems) = Self::browse(&self.reg);
        self.plugins = plugins;
        self.problems = problems;
        self.rebuild_tree();
        if let Some(ed) = self.editor.as_mut() {
            ed.validate(&self.reg);
        }
    }

    /// `:reload`: the config file (theme, keys, plugin folders) and the plugins, read again.
    /// A bad config is reported at file:line:column and the current settings stay.
    pub fn reload(&mut self) {
        let mut notes = Vec::new();
        if let Some(p) = self.config_path.clone() {
            match super::config::load(&p) {
                Ok(cfg) => match self.apply_config(&cfg, p.exists()) {
                    Ok(()) if p.exists() => notes.push(format!("{} read", p.display())),
                    Ok(()) => notes.push(format!("no {} (defaults)", p.display())),
                    Err(e) => notes.push(e),
                },
                Err(d) => {
                    self.config_seen = None;
                    notes.push(format!(
                        "{} (settings unchanged)",
                        d.first().map(|d| d.to_string()).unwrap_or_default()
                    ))
                }
            }
        }
        self.reload_plugins();
        notes.push(format!(
            "{} plugins{}",
            self.plugins.len(),
            if self.problems.is_empty() {
                String::new()
            } else {
                format!(", {} problem(s)", self.problems.len())
            }
        ));
        let theme_msg = self.message.take().filter(|m| !m.starts_with("theme "));
        self.message = Some(
            std::iter::once(format!("reloaded: {}", notes.join("; ")))
                .chain(theme_msg)
                .collect::<Vec<_>>()
                .join(" · ")
                .replace('\n', " "),
        );
    }

    /// Applies a checked config: keys, then theme. `exists` says a file was really read
    /// (tutorial checks look at what it set).
    pub fn apply_config(
        &mut self,
        cfg: &super::config::UserConfig,
        exists: bool,
    ) -> Result<(), String> {
        let keymap = Keymap::from_config(cfg).map_err(|d| {
            d.first()
                .map(|d| d.to_string())
                .unwrap_or_else(|| "bad key bindings".into())
        })?;
        self.keymap = keymap;
        self.config_plugin_dirs = cfg.plugin_dirs.clone();
        match &cfg.theme {
            Some(name) => self.set_theme(name),
            None => self.theme = super::theme::Theme::default_theme(),
        }
        self.config_seen = exists.then(|| crate::tutorial::ConfigSeen {
            theme: cfg.theme.clone(),
            keys: cfg.keys.keys().cloned().collect(),
        });
        Ok(())
    }

    /// A run launched here finished: its tests count for tutorial checks.
    pub fn run_finished(&mut self, tests: Vec<crate::tutorial::Finished>) {
        self.finished_tests.extend(tests);
        self.tutorial_tick();
    }

    /// Switches the theme; a bad or unknown theme is reported and the current one stays (at
    /// start, that is the default).
    pub fn set_theme(&mut self, name: &str) {
        match super::theme::Theme::load(name) {
            Ok(t) => {
                self.message = Some(format!("theme {}", t.name));
                self.theme = t;
            }
            Err(d) => {
                let mut m = d.to_string().replace('\n', " ");
                m.push_str(&format!(" — keeping theme {}", self.theme.name));
                self.message = Some(m);
            }
        }
    }

    /// The help of the focused screen in its mode (built from the live keymap).
    pub fn bindings(&self) -> Vec<(String, Vec<Binding>)> {
        self.keymap.help(self.focus())
    }

    /// The footer of the focused context, cut to the screen's width.
    pub fn footer(&self) -> String {
        use super::keys::Context;
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
