//! Keys → actions. The rebindable actions come from the user's effective bindings
//! (`config.toml` `[keys]` over the defaults, clashes refused); the help overlay and the
//! status bar are built from the same table, so what is shown is what works.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};

use super::app::{Action, App, Screen};
use super::config::{self, KeySpec, UserConfig};

/// One line of help: keys, what they do, and whether the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub keys: String,
    pub what: String,
    pub short: bool,
}

/// The keys of the app: rebindable actions plus the fixed screen keys.
#[derive(Debug, Clone)]
pub struct Keymap {
    bound: Vec<(String, KeySpec)>,
    help: Vec<Binding>,
}

/// Actions marked as everyday ones in the help.
const SHORT: &[&str] = &["down", "filter", "palette", "help", "quit"];

impl Keymap {
    /// The defaults.
    pub fn default_keys() -> Keymap {
        Keymap::from_config(&UserConfig::default()).expect("the default bindings do not clash")
    }

    pub fn from_config(cfg: &UserConfig) -> Result<Keymap, Vec<crate::diag::Diagnostic>> {
        let bound = config::effective_bindings(cfg)?;
        let mut help = vec![Binding {
            keys: "Tab 1-4".into(),
            what: "screens: plugins, runs, experiment, sequence".into(),
            short: true,
        }];
        for (name, _, what) in config::ACTIONS {
            let keys: Vec<String> = bound
                .iter()
                .filter(|(a, _)| a == name)
                .map(|(_, k)| k.to_string())
                .collect();
            help.push(Binding {
                keys: keys.join(" "),
                what: (*what).to_string(),
                short: SHORT.contains(name),
            });
        }
        help.push(Binding {
            keys: "Enter".into(),
            what: "runs: open the run's sequence".into(),
            short: false,
        });
        help.push(Binding {
            keys: "Ctrl-R".into(),
            what: "experiment: run it (when it validates)".into(),
            short: false,
        });
        help.push(Binding {
            keys: "Ctrl-P".into(),
            what: "command palette, on any screen (editor too)".into(),
            short: false,
        });
        help.push(Binding {
            keys: "F2".into(),
            what: "experiment: form view / YAML view".into(),
            short: false,
        });
        help.push(Binding {
            keys: "i".into(),
            what: "plugins: install (shows the commands, asks)".into(),
            short: false,
        });
        Ok(Keymap { bound, help })
    }

    pub fn help(&self) -> &[Binding] {
        &self.help
    }

    /// The status bar's short list: the first key of each everyday action.
    pub fn status(&self) -> String {
        let first = |a: &str| {
            self.bound
                .iter()
                .find(|(n, _)| n == a)
                .map(|(_, k)| k.to_string())
                .unwrap_or_default()
        };
        let mut parts = vec![
            "Tab screens".to_string(),
            format!("{}/{} move", first("down"), first("up")),
        ];
        for (a, label) in [
            ("filter", "filter"),
            ("palette", "commands"),
            ("help", "help"),
            ("quit", "quit"),
        ] {
            parts.push(format!("{} {label}", first(a)));
        }
        parts.join(" · ")
    }

    fn lookup(&self, k: &KeyEvent) -> Option<&str> {
        self.bound
            .iter()
            .find(|(_, spec)| spec.matches(k))
            .map(|(a, _)| a.as_str())
    }
}

fn named(action: &str) -> Option<Action> {
    Some(match action {
        "up" => Action::Up,
        "down" => Action::Down,
        "top" => Action::Top,
        "bottom" => Action::Bottom,
        "page-up" => Action::PageUp,
        "page-down" => Action::PageDown,
        "filter" => Action::StartFilter,
        "cancel" => Action::Cancel,
        "help" => Action::ToggleHelp,
        "scroll-detail-down" => Action::ScrollDetail(3),
        "scroll-detail-up" => Action::ScrollDetail(-3),
        "quit" => Action::Quit,
        "palette" => Action::OpenPalette,
        _ => return None,
    })
}

/// The action for a key in the app's current state.
pub fn action(k: KeyEvent, app: &App) -> Option<Action> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && k.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    if app.palette.is_some() {
        return Some(Action::PaletteKey(k));
    }
    if app.tutor_picker.is_some() {
        return Some(Action::TutorKey(k));
    }
    if app.confirm_install.is_some() {
        return match k.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => Some(Action::Answer(true)),
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => Some(Action::Answer(false)),
            _ => None,
        };
    }
    // Ctrl-P opens the palette everywhere, the editor included (where `:` types a colon);
    // the sequence view has no use of its own for `:`.
    if ctrl && k.code == KeyCode::Char('p')
        || app.screen == Screen::Sequence && k.code == KeyCode::Char(':')
    {
        return Some(Action::OpenPalette);
    }
    // The editor has its own keys (Tab indents, letters type); Esc leaves it. The sequence
    // view has its own too (n/N search, t time mode, x cancel).
    match app.screen {
        Screen::Editor => return Some(Action::EditorKey(k)),
        Screen::Sequence => return Some(Action::SequenceKey(k)),
        _ => {}
    }
    if app.typing_filter {
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
    if let Some(a) = app.keymap.lookup(&k).and_then(named) {
        return Some(a);
    }
    match k.code {
        KeyCode::Tab => Some(Action::NextScreen),
        KeyCode::Char('1') => Some(Action::GoTo(Screen::Plugins)),
        KeyCode::Char('2') => Some(Action::GoTo(Screen::History)),
        KeyCode::Char('3') => Some(Action::GoTo(Screen::Editor)),
        KeyCode::Char('4') => Some(Action::GoTo(Screen::Sequence)),
        KeyCode::Enter if app.screen == Screen::History => Some(Action::OpenRun),
        KeyCode::Char('i') if app.screen == Screen::Plugins => Some(Action::AskInstall),
        _ => None,
    }
}

/// The wheel moves the selection (or scrolls the sequence view) like the arrow keys; a left
/// click selects a row of the plugin or run list.
pub fn mouse(m: MouseEvent, app: &App) -> Option<Action> {
    let key = match m.kind {
        MouseEventKind::ScrollUp => KeyCode::Up,
        MouseEventKind::ScrollDown => KeyCode::Down,
        MouseEventKind::Down(crossterm::event::MouseButton::Left)
            if matches!(app.screen, Screen::Plugins | Screen::History)
                && app.palette.is_none()
                && app.tutor_picker.is_none() =>
        {
            return Some(Action::Click(m.column, m.row));
        }
        _ => return None,
    };
    if app.palette.is_some() || app.confirm_install.is_some() {
        return None;
    }
    if app.tutor_picker.is_some() {
        return Some(Action::TutorKey(KeyEvent::new(key, KeyModifiers::NONE)));
    }
    match app.screen {
        Screen::Sequence => Some(Action::SequenceKey(KeyEvent::new(key, KeyModifiers::NONE))),
        Screen::Editor => Some(Action::EditorKey(KeyEvent::new(key, KeyModifiers::NONE))),
        _ => Some(if key == KeyCode::Up {
            Action::Up
        } else {
            Action::Down
        }),
    }
}
