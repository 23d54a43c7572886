//! What can happen to the app (actions: keys, timers, background work) and what it asks the
//! event loop to do (effects).

use std::path::PathBuf;

use crossterm::event::KeyEvent;

use super::Screen;

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
    /// Run the matrix screen's matrix (its spec and folder are on the screen), or only one
    /// of its cells again.
    RunMatrix {
        only: Option<crate::matrix::Cell>,
    },
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
    /// A key on the matrix screen.
    MatrixKey(KeyEvent),
    /// A cell of the running matrix finished.
    MatrixCell {
        cell: crate::matrix::Cell,
        result: Box<crate::matrix::CellResult>,
    },
    /// The running matrix (or re-run) ended; an error says why it could not run.
    MatrixDone(Result<(), String>),
    /// `:` opens the command palette; keys then edit its line.
    OpenPalette,
    PaletteKey(KeyEvent),
    /// A left click at (column, row).
    Click(u16, u16),
    /// `i` on an unavailable plugin: show its install commands and ask.
    AskInstall,
    /// The answer to a question (y / n).
    Answer(bool),
    /// A line an install command printed (stdout or stderr), as it came: its progress.
    InstallOutput {
        plugin: String,
        /// Which command (1-based) of how many.
        step: usize,
        steps: usize,
        line: String,
    },
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
    pub(super) fn what(&self) -> String {
        match self {
            Pending::Quit => "quit".into(),
            Pending::New => "start a new experiment".into(),
            Pending::Open(p) => format!("open {}", p.display()),
        }
    }
}
