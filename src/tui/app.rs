//! The workbench's state and its one way of changing: `update(Action) -> Vec<Effect>`.
//! Input, timers and background work all become actions, so tests drive the app exactly as a
//! user does, without a terminal.

use std::path::PathBuf;

use crate::plugin::{Plugin, Registry};
use crate::results::history::{self, PastRun};

use super::keymap::{Binding, KEYMAP};

/// Something the app should do outside itself (the loop carries it out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
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
    ScrollDetail(i16),
    /// Tab: the next screen.
    NextScreen,
    GoTo(Screen),
    Quit,
    Resize(u16, u16),
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
}

impl Screen {
    pub const ALL: [Screen; 2] = [Screen::Plugins, Screen::History];

    pub fn title(self) -> &'static str {
        match self {
            Screen::Plugins => "plugins",
            Screen::History => "runs",
        }
    }
}

pub struct App {
    pub screen: Screen,
    /// Where `panther run` writes results; the runs screen lists it.
    pub outputs: PathBuf,
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

impl App {
    pub fn new(reg: &Registry, color: bool) -> App {
        let mut plugins: Vec<Plugin> = reg.plugins().to_vec();
        plugins.sort_by(|a, b| a.name().cmp(b.name()));
        let problems = reg
            .diagnostics
            .iter()
            .map(|d| d.to_string().lines().next().unwrap_or("").to_string())
            .collect();
        let mut app = App {
            screen: Screen::Plugins,
            outputs: PathBuf::from("outputs"),
            runs: Vec::new(),
            run_selected: 0,
            plugins,
            problems,
            tree: Vec::new(),
            selected: 0,
            filter: String::new(),
            typing_filter: false,
            show_help: false,
            detail_scroll: 0,
            color,
            size: (80, 24),
        };
        app.rebuild_tree();
        app
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

    fn go(&mut self, s: Screen) {
        self.screen = s;
        self.detail_scroll = 0;
        if s == Screen::History {
            self.refresh_runs();
        }
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
        }
    }

    pub fn update(&mut self, a: Action) -> Vec<Effect> {
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
                Action::Quit => return vec![Effect::Quit],
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
            Action::NextScreen => {
                let i = Screen::ALL
                    .iter()
                    .position(|s| *s == self.screen)
                    .unwrap_or(0);
                self.go(Screen::ALL[(i + 1) % Screen::ALL.len()]);
            }
            Action::GoTo(s) => self.go(s),
            Action::FilterChar(_) | Action::FilterBackspace | Action::FilterAccept => {}
            Action::Cancel => {
                if self.show_help {
                    self.show_help = false;
                } else if !self.filter.is_empty() {
                    self.filter.clear();
                    self.rebuild_tree();
                }
            }
            Action::ToggleHelp => self.show_help = !self.show_help,
            Action::ScrollDetail(d) => {
                self.detail_scroll = (self.detail_scroll as i32 + d as i32).max(0) as u16
            }
            Action::Resize(w, h) => self.size = (w, h),
            Action::Quit => return vec![Effect::Quit],
        }
        Vec::new()
    }

    /// The bindings the help overlay and status bar show (built from the live keymap).
    pub fn bindings(&self) -> &'static [Binding] {
        KEYMAP
    }
}
