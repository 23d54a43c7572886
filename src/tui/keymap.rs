//! Keys → actions, in one table: the event loop reads it, the help overlay and the status bar
//! are built from it, so what is shown is what works.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{Action, Screen};

pub struct Binding {
    pub keys: &'static str,
    pub what: &'static str,
    /// Shown in the status bar.
    pub short: bool,
}

pub const KEYMAP: &[Binding] = &[
    Binding {
        keys: "↑/k ↓/j",
        what: "move",
        short: true,
    },
    Binding {
        keys: "g/Home G/End",
        what: "first / last",
        short: false,
    },
    Binding {
        keys: "PgUp PgDn",
        what: "page",
        short: false,
    },
    Binding {
        keys: "/",
        what: "filter by name, description, tag",
        short: true,
    },
    Binding {
        keys: "Esc",
        what: "clear the filter / close help",
        short: false,
    },
    Binding {
        keys: "J/K",
        what: "scroll the details",
        short: false,
    },
    Binding {
        keys: "?",
        what: "help",
        short: true,
    },
    Binding {
        keys: "q Ctrl-C",
        what: "quit",
        short: true,
    },
];

/// The action for a key on `screen`, given whether the filter or the palette is being typed.
pub fn action(k: KeyEvent, screen: Screen, typing: bool, palette: bool) -> Option<Action> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && k.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    if palette {
        return Some(Action::PaletteKey(k));
    }
    if k.code == KeyCode::Char(':') && !typing && screen != Screen::Editor {
        return Some(Action::OpenPalette);
    }
    // The editor has its own keys (Tab indents, letters type); Esc leaves it. The sequence
    // view has its own too (n/N search, t time mode, x cancel).
    if screen == Screen::Editor {
        return Some(Action::EditorKey(k));
    }
    if screen == Screen::Sequence {
        return Some(Action::SequenceKey(k));
    }
    if screen == Screen::History && k.code == KeyCode::Enter {
        return Some(Action::OpenRun);
    }
    if typing {
        return match k.code {
            KeyCode::Char(c) => Some(Action::FilterChar(c)),
            KeyCode::Backspace => Some(Action::FilterBackspace),
            KeyCode::Enter => Some(Action::FilterAccept),
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Up => Some(Action::Up),
            KeyCode::Down => Some(Action::Down),
            _ => None,
        };
    }
    Some(match k.code {
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::Home | KeyCode::Char('g') => Action::Top,
        KeyCode::End | KeyCode::Char('G') => Action::Bottom,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Char('/') => Action::StartFilter,
        KeyCode::Esc => Action::Cancel,
        KeyCode::Char('?') => Action::ToggleHelp,
        KeyCode::Char('J') => Action::ScrollDetail(3),
        KeyCode::Char('K') => Action::ScrollDetail(-3),
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Tab => Action::NextScreen,
        KeyCode::Char('1') => Action::GoTo(Screen::Plugins),
        KeyCode::Char('2') => Action::GoTo(Screen::History),
        KeyCode::Char('3') => Action::GoTo(Screen::Editor),
        KeyCode::Char('4') => Action::GoTo(Screen::Sequence),
        _ => return None,
    })
}
