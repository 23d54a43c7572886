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
pub use action::{Action, Effect, Pending, Unsaved};
pub use browser::{Installing, install_plan as browser_install_plan};

/// The built-in quickstart experiment, so the editor has something runnable on any machine.
pub const QUICKSTART: &str = include_str!("../../../experiments/quickstart.yaml");

use super::keymap::{Binding, Keymap};

mod action;
mod browser;
mod commands;
mod experiment;
mod matrix;
mod navigation;
mod settings;
mod tutorials;

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
    Matrix,
}

impl Screen {
    pub const ALL: [Screen; 5] = [
        Screen::Plugins,
        Screen::History,
        Screen::Editor,
        Screen::Sequence,
        Screen::Matrix,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Screen::Plugins => "plugins",
            Screen::History => "runs",
            Screen::Editor => "experiment",
            Screen::Sequence => "sequence",
            Screen::Matrix => "matrix",
        }
    }
}

/// How long a status message stays without a key.
pub const MESSAGE_TTL: std::time::Duration = std::time::Duration::from_secs(10);

pub struct App {
    pub screen: Screen,
    pub reg: Registry,
    /// The open experiment; the quickstart until the user opens another.
    pub editor: Option<Editor>,
    /// The form view of the same experiment (F2 switches), kept in sync with the YAML.
    pub form: Option<Form>,
    pub sequence: Option<SequenceScreen>,
    /// The matrix screen's grid: a running matrix, or one opened from its folder.
    pub matrix: Option<super::matrix_screen::MatrixScreen>,
    /// A one-line message for the user (errors opening things).
    pub message: Option<String>,
    /// The message shown and since when ([`App::expire_message`]).
    pub message_stamp: Option<(String, std::time::Instant)>,
    /// The command palette's line while it is open.
    pub palette: Option<String>,
    /// Lines run from the palette, for Up/Down.
    pub palette_history: crate::tui::palette::History,
    /// The paths Tab found for the palette's last word, shown beside the line.
    pub palette_matches: Vec<String>,
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
    /// How many finished tests and commands there were when the tutorial started: checks
    /// look only at what came after (what was done before does not complete a step).
    pub tutorial_since: (usize, usize),
    /// Palette commands used (for tutorial checks).
    pub commands_used: Vec<String>,
    /// `q` while a run is going asks first; set by the first press.
    pub confirm_quit: bool,
    /// Quit, `:new` or `:open` waiting while the user says what to do with unsaved changes.
    pub pending: Option<Pending>,
    /// The user already said to quit without saving (a live run may still ask first).
    pub discard_on_quit: bool,
    /// The screens visited, for Esc (back to where you came from).
    pub back_stack: Vec<Screen>,
    /// Where the current screen's list was last drawn (x, y, width, height), for clicks.
    pub list_area: std::cell::Cell<Option<(u16, u16, u16, u16)>>,
    /// Install commands waiting for the user's yes (plugin name, commands).
    pub confirm_install: Option<(String, Vec<Vec<String>>)>,
    /// A live run's sequence screen moved aside when a recorded run was opened.
    pub parked_live: Option<SequenceScreen>,
    /// The install going on, and the last lines its commands printed (its progress).
    pub installing: Option<Installing>,
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
    /// The runs screen's filter (experiment name, verdict, date).
    pub runs_filter: String,
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
            matrix: None,
            message: None,
            message_stamp: None,
            palette: None,
            palette_history: Default::default(),
            palette_matches: Vec::new(),
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
            tutorial_since: (0, 0),
            commands_used: Vec::new(),
            confirm_install: None,
            parked_live: None,
            installing: None,
            list_area: std::cell::Cell::new(None),
            confirm_quit: false,
            pending: None,
            discard_on_quit: false,
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
            runs_filter: String::new(),
            show_help: false,
            help_scroll: 0,
            detail_scroll: 0,
            color,
            size: (80, 24),
        };
        app.rebuild_tree();
        app
    }

    pub fn update(&mut self, a: Action) -> Vec<Effect> {
        let effects = self.update_inner(a);
        self.tutorial_tick();
        self.stamp_message(std::time::Instant::now());
        effects
    }

    /// Notes when the status message changed, so it can expire.
    fn stamp_message(&mut self, now: std::time::Instant) {
        if self.message.as_ref() != self.message_stamp.as_ref().map(|(m, _)| m) {
            self.message_stamp = self.message.clone().map(|m| (m, now));
        }
    }

    /// Drops a status message shown for [`MESSAGE_TTL`] (a key drops it sooner), so what the
    /// status line says is never stale; a pending question stays. True when one expired.
    pub fn expire_message(&mut self, now: std::time::Instant) -> bool {
        match &self.message_stamp {
            Some((m, at))
                if now.duration_since(*at) >= MESSAGE_TTL
                    && self.message.as_ref() == Some(m)
                    && self.question().is_none() =>
            {
                self.message = None;
                self.message_stamp = None;
                true
            }
            _ => false,
        }
    }

    fn update_inner(&mut self, a: Action) -> Vec<Effect> {
        // An install's progress arrives whatever the user is doing (typing a filter too), and
        // is no key: it leaves a pending question and the user's message alone.
        let a = match a {
            Action::InstallOutput {
                plugin,
                step,
                steps,
                line,
            } => {
                self.install_output(plugin, step, steps, line);
                return Vec::new();
            }
            Action::Installed { plugin, outcome } => {
                self.installed(&plugin, outcome);
                return Vec::new();
            }
            a => a,
        };
        // A message stays until the next key; so does a pending "quit?" question.
        if !matches!(a, Action::Resize(..)) {
            self.message = None;
        }
        // Answering the unsaved-changes question is part of quitting (a run may still ask).
        let quitting = matches!(a, Action::Quit | Action::Unsaved(_));
        if !quitting && !matches!(a, Action::Resize(..)) {
            self.confirm_quit = false;
        }
        if self.typing_filter {
            return self.filter_action(a);
        }
        match a {
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::Top => self.move_by(isize::MIN / 2),
            Action::Bottom => self.move_by(isize::MAX / 2),
            Action::PageUp => self.move_by(-self.page()),
            Action::PageDown => self.move_by(self.page()),
            Action::StartFilter => {
                self.typing_filter = matches!(self.screen, Screen::Plugins | Screen::History)
            }
            Action::NextScreen => self.screen_by(1),
            Action::PrevScreen => self.screen_by(Screen::ALL.len() - 1),
            Action::Unsaved(u) => return self.answer_unsaved(u),
            Action::Say(m) => self.message = Some(m),
            Action::GoTo(s) => self.go(s),
            Action::OpenRun => self.open_run(),
            Action::SequenceKey(k) => return self.sequence_key(k),
            Action::MatrixKey(k) => return self.matrix_key(k),
            Action::MatrixCell { cell, result } => self.matrix_cell(cell, *result),
            Action::MatrixDone(outcome) => self.matrix_done(outcome),
            Action::OpenPalette => {
                self.palette = Some(String::new());
                self.palette_history.reset();
                self.palette_matches.clear();
                self.message = None;
            }
            Action::PaletteKey(k) => return self.palette_key(k),
            Action::TutorKey(k) => self.tutor_key(k),
            Action::Click(col, row) => self.click(col, row),
            Action::AskInstall => self.ask_install(),
            Action::Answer(yes) => return self.answer_install(yes),
            Action::Installed { .. } | Action::InstallOutput { .. } => {}
            Action::EditorKey(k) => return self.experiment_key(k),
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

    /// Opens a recorded run in the sequence view. A live run shown there is parked, not
    /// dropped: its events keep arriving, the header says so, and `L` brings it back.
    pub fn show_sequence(&mut self, s: SequenceScreen) {
        if let Some(old) = self.sequence.take()
            && old.live
        {
            self.parked_live = Some(old);
        }
        self.sequence = Some(s);
        self.go(Screen::Sequence);
    }

    /// The sequence screen of the run going on (shown, or parked behind a recorded one).
    pub fn live_screen(&mut self) -> Option<&mut SequenceScreen> {
        match self.parked_live.as_mut() {
            Some(p) => Some(p),
            None => self.sequence.as_mut(),
        }
    }

    /// `L`: back to the live run parked behind a recorded one.
    fn back_to_live(&mut self) {
        match self.parked_live.take() {
            Some(p) => {
                self.sequence = Some(p);
                self.go(Screen::Sequence);
            }
            None => self.message = Some("no live run behind this one".into()),
        }
    }

    fn sequence_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        if k.code == crossterm::event::KeyCode::Char('L')
            && !self
                .sequence
                .as_ref()
                .is_some_and(|s| s.typing_search || s.logs.is_some())
        {
            self.back_to_live();
            return Vec::new();
        }
        let rows = self.size.1;
        match self.sequence.as_mut() {
            Some(s) => s.key(k, rows),
            None => Vec::new(),
        }
    }
}
