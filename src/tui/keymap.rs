//! Keys → actions, through the one table of [`super::keys`] after `[keys]` (clashes refused
//! per context). The focused context decides: a typing mode (insert, filter, search, the
//! palette) takes printable keys; a view takes its own keys, then the global ones. Help and
//! footers are built from the same bindings, so what is shown is what works.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};

use super::app::{Action, App, Screen, Unsaved};
use super::config::{self, Bound, KeySpec, UserConfig};
use super::keys::{self, Context};

/// One line of help: keys and what they do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub keys: String,
    pub what: String,
}

/// The effective bindings of every context.
#[derive(Debug, Clone)]
pub struct Keymap {
    bound: Vec<Bound>,
}

impl Keymap {
    /// The defaults.
    pub fn default_keys() -> Keymap {
        Keymap::from_config(&UserConfig::default()).expect("the default bindings do not clash")
    }

    pub fn from_config(cfg: &UserConfig) -> Result<Keymap, Vec<crate::diag::Diagnostic>> {
        Ok(Keymap {
            bound: config::effective_bindings(cfg)?,
        })
    }

    /// The action a key is bound to in `ctx` alone.
    fn own(&self, ctx: Context, k: &KeyEvent) -> Option<&'static str> {
        self.bound
            .iter()
            .find(|b| b.ctx == ctx && b.key.matches(k))
            .map(|b| b.action)
    }

    /// The action a key does in `ctx`: its own, then the global ones a screen takes.
    pub fn lookup(&self, ctx: Context, k: &KeyEvent) -> Option<(Context, &'static str)> {
        if let Some(a) = self.own(ctx, k) {
            return Some((ctx, a));
        }
        if ctx.takes_global() {
            return self.own(Context::Global, k).map(|a| (Context::Global, a));
        }
        None
    }

    /// The keys bound to an action of a context, as written in help.
    pub fn keys(&self, ctx: Context, action: &str) -> Vec<KeySpec> {
        self.bound
            .iter()
            .filter(|b| b.ctx == ctx && b.action == action)
            .map(|b| b.key)
            .collect()
    }

    /// The main key of an action, as shown in footers and hints ("" when unbound).
    pub fn first(&self, ctx: Context, action: &str) -> String {
        self.keys(ctx, action)
            .first()
            .map(pretty)
            .unwrap_or_default()
    }

    /// The key the screens' handlers understand for an action: its first default key,
    /// whatever the user bound it to.
    pub fn canonical(ctx: Context, action: &str) -> Option<KeyEvent> {
        let def = keys::of(ctx).find(|d| d.name == action)?;
        config::parse_key(def.keys.first()?)
            .ok()
            .map(|s| s.to_event())
    }

    /// A key, translated for the handlers of `ctx`: the canonical key of the action it is
    /// bound to there.
    pub fn translate(&self, ctx: Context, k: &KeyEvent) -> Option<KeyEvent> {
        self.own(ctx, k).and_then(|a| Keymap::canonical(ctx, a))
    }

    /// A key in a typing context: the canonical key of the action it is bound to; else
    /// the key itself (it is typed), unless it is the default key of an action that was
    /// rebound away (None: it does nothing).
    pub fn typing_key(&self, ctx: Context, k: &KeyEvent) -> Option<KeyEvent> {
        if let Some(t) = self.translate(ctx, k) {
            return Some(t);
        }
        let is_default =
            keys::of(ctx).any(|d| Keymap::canonical(ctx, d.name).is_some_and(|c| same(&c, k)));
        (!is_default).then_some(*k)
    }

    /// The help of a context: sections of (title, bindings), the global keys last when the
    /// context takes them.
    pub fn help(&self, ctx: Context) -> Vec<(String, Vec<Binding>)> {
        let section = |c: Context| {
            keys::of(c)
                .map(|d| Binding {
                    keys: self
                        .keys(c, d.name)
                        .iter()
                        .map(pretty)
                        .collect::<Vec<_>>()
                        .join(" "),
                    what: d.what.to_string(),
                })
                .collect::<Vec<_>>()
        };
        let mut out = vec![(ctx.title().to_string(), section(ctx))];
        if ctx.takes_global() {
            out.push((
                Context::Global.title().to_string(),
                section(Context::Global),
            ));
        }
        out
    }

    /// The footer of a context cut to `width`: the most useful keys first, then `? more`.
    pub fn footer(&self, ctx: Context, width: u16) -> String {
        let mut items: Vec<String> = Vec::new();
        let mut push = |c: Context, list: &[(&[&str], &str)]| {
            for (actions, label) in list {
                let ks: Vec<String> = actions.iter().map(|a| self.first(c, a)).collect();
                if ks.iter().all(|k| !k.is_empty()) {
                    items.push(format!("{} {label}", ks.join("/")));
                }
            }
        };
        push(ctx, keys::footer(ctx));
        if ctx.takes_global() {
            push(Context::Global, keys::footer(Context::Global));
        }
        let help_ctx = if ctx.takes_global() {
            Context::Global
        } else {
            ctx
        };
        let more = match self.first(help_ctx, "help") {
            k if k.is_empty() => String::new(),
            k => format!("{k} more"),
        };
        fit(&items, &more, width as usize)
    }
}

/// The same key, whatever else the event carries.
fn same(a: &KeyEvent, b: &KeyEvent) -> bool {
    KeySpec::from_event(a) == KeySpec::from_event(b)
}

/// As many items as fit in `width` joined by " · ", then `last`.
fn fit(items: &[String], last: &str, width: usize) -> String {
    let sep = " · ";
    // Room for " · last" after the items (the separator is 3 characters wide).
    let reserve = if last.is_empty() {
        0
    } else {
        last.chars().count() + 3
    };
    let mut out = String::new();
    for it in items {
        let add = if out.is_empty() { 0 } else { 3 } + it.chars().count();
        if out.chars().count() + add + reserve > width {
            break;
        }
        if !out.is_empty() {
            out.push_str(sep);
        }
        out.push_str(it);
    }
    if !last.is_empty() {
        if !out.is_empty() {
            out.push_str(sep);
        }
        out.push_str(last);
    }
    out
}

/// A key as people read it: `Ctrl-R`, `Esc`, `j`, `Shift-Tab`, `F2`.
pub fn pretty(k: &KeySpec) -> String {
    let bare = KeySpec {
        ctrl: false,
        alt: false,
        shift: false,
        ..*k
    }
    .to_string();
    let key = match bare.as_str() {
        "esc" => "Esc".to_string(),
        "enter" => "Enter".to_string(),
        "tab" => "Tab".to_string(),
        "backtab" => "Shift-Tab".to_string(),
        "space" => "Space".to_string(),
        "backspace" => "Backspace".to_string(),
        "pgup" => "PgUp".to_string(),
        "pgdn" => "PgDn".to_string(),
        "home" => "Home".to_string(),
        "end" => "End".to_string(),
        "up" => "↑".to_string(),
        "down" => "↓".to_string(),
        "left" => "←".to_string(),
        "right" => "→".to_string(),
        s if s.len() > 1 && s.starts_with('f') && s[1..].parse::<u8>().is_ok() => {
            s.to_ascii_uppercase()
        }
        s if k.ctrl => s.to_uppercase(),
        s => s.to_string(),
    };
    let mut out = String::new();
    for (on, m) in [(k.ctrl, "Ctrl-"), (k.alt, "Alt-"), (k.shift, "Shift-")] {
        if on {
            out.push_str(m);
        }
    }
    out + &key
}

/// The global actions, by name.
fn global(action: &str) -> Option<Action> {
    Some(match action {
        "screen-1" => Action::GoTo(Screen::Plugins),
        "screen-2" => Action::GoTo(Screen::History),
        "screen-3" => Action::GoTo(Screen::Editor),
        "screen-4" => Action::GoTo(Screen::Sequence),
        "screen-5" => Action::GoTo(Screen::Matrix),
        "next-screen" => Action::NextScreen,
        "prev-screen" => Action::PrevScreen,
        "help" => Action::ToggleHelp,
        "palette" => Action::OpenPalette,
        "cancel" => Action::Cancel,
        "quit" => Action::Quit,
        _ => return None,
    })
}

/// The list screens' actions, by name.
fn list(action: &str) -> Option<Action> {
    Some(match action {
        "up" => Action::Up,
        "down" => Action::Down,
        "top" => Action::Top,
        "bottom" => Action::Bottom,
        "page-up" => Action::PageUp,
        "page-down" => Action::PageDown,
        "filter" => Action::StartFilter,
        "install" => Action::AskInstall,
        "open" => Action::OpenRun,
        "scroll-detail-down" => Action::ScrollDetail(3),
        "scroll-detail-up" => Action::ScrollDetail(-3),
        _ => return None,
    })
}

/// The action for a key in the app's current state.
pub fn action(k: KeyEvent, app: &App) -> Option<Action> {
    let ctrl_c = k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c');
    if let Some(a) = question(&k, app) {
        return a;
    }
    if ctrl_c {
        return Some(Action::Quit);
    }
    if app.palette.is_some() {
        return app
            .keymap
            .typing_key(Context::Palette, &k)
            .map(Action::PaletteKey);
    }
    if app.tutor_picker.is_some() {
        return Some(Action::TutorKey(k));
    }
    if app.show_help {
        return app.keymap.own(Context::Help, &k).map(|a| match a {
            "down" => Action::ScrollHelp(1),
            "up" => Action::ScrollHelp(-1),
            _ => Action::ToggleHelp,
        });
    }
    if let Some(a) = typing(&k, app) {
        return a;
    }
    let ctx = app.focus();
    let Some((from, name)) = app.keymap.lookup(ctx, &k) else {
        return unbound(ctx, &k, app);
    };
    if (from == Context::Global || ctx == Context::Logs)
        && let Some(a) = global(name)
    {
        return Some(a);
    }
    let canonical = || Keymap::canonical(ctx, name);
    match ctx {
        Context::Plugins | Context::Runs => list(name),
        Context::Sequence | Context::Logs => canonical().map(Action::SequenceKey),
        Context::Matrix => canonical().map(Action::MatrixKey),
        Context::Editor | Context::Form => canonical().map(Action::EditorKey),
        _ => None,
    }
}

/// A key that does nothing here. In the editor's view mode a letter says how to type.
fn unbound(ctx: Context, k: &KeyEvent, app: &App) -> Option<Action> {
    let plain = k.modifiers.difference(KeyModifiers::SHIFT).is_empty();
    match (ctx, k.code) {
        (Context::Editor, KeyCode::Char(_)) if plain => Some(Action::Say(format!(
            "view mode: {} (or {}) to type into the file · {} for the keys",
            app.keymap.first(Context::Editor, "insert"),
            app.keymap
                .keys(Context::Editor, "insert")
                .get(1)
                .map(pretty)
                .unwrap_or_default(),
            app.keymap.first(Context::Global, "help"),
        ))),
        _ => None,
    }
}

/// A question waiting for its answer takes the keys: Some(answer or nothing).
fn question(k: &KeyEvent, app: &App) -> Option<Option<Action>> {
    if app.pending.is_some() {
        return Some(match k.code {
            KeyCode::Char('s') | KeyCode::Char('S') => Some(Action::Unsaved(Unsaved::Save)),
            KeyCode::Char('d') | KeyCode::Char('D') => Some(Action::Unsaved(Unsaved::Discard)),
            KeyCode::Char('n') | KeyCode::Esc => Some(Action::Unsaved(Unsaved::Keep)),
            _ => None,
        });
    }
    if app.confirm_install.is_some() {
        return Some(match k.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => Some(Action::Answer(true)),
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => Some(Action::Answer(false)),
            _ => None,
        });
    }
    None
}

/// A typing mode takes the keys: Some(action or nothing).
fn typing(k: &KeyEvent, app: &App) -> Option<Option<Action>> {
    if app.typing_filter && matches!(app.screen, Screen::Plugins | Screen::History) {
        return Some(match k.code {
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
                Some(Action::FilterChar(c))
            }
            KeyCode::Backspace => Some(Action::FilterBackspace),
            KeyCode::Enter => Some(Action::FilterAccept),
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Up => Some(Action::Up),
            KeyCode::Down => Some(Action::Down),
            _ => None,
        });
    }
    match app.focus() {
        // The search line takes every key, `:` included (`/kind:message`).
        Context::Sequence if app.sequence.as_ref().is_some_and(|s| s.typing_search) => {
            Some(Some(Action::SequenceKey(*k)))
        }
        Context::Matrix if app.matrix.as_ref().is_some_and(|m| m.typing) => {
            Some(Some(Action::MatrixKey(*k)))
        }
        Context::Insert => Some(match app.keymap.own(Context::Insert, k) {
            Some("palette") => Some(Action::OpenPalette),
            Some("help") => Some(Action::ToggleHelp),
            _ => app
                .keymap
                .typing_key(Context::Insert, k)
                .map(Action::EditorKey),
        }),
        Context::Editor if app.editor.as_ref().is_some_and(|e| e.is_searching()) => {
            Some(Some(Action::EditorKey(*k)))
        }
        Context::Form if app.form.as_ref().is_some_and(|f| f.is_typing()) => {
            // The wizard's list still moves with the form's (rebound) keys.
            let k = app.keymap.translate(Context::Form, k).unwrap_or(*k);
            Some(Some(Action::EditorKey(k)))
        }
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
            if matches!(
                app.screen,
                Screen::Plugins | Screen::History | Screen::Sequence
            ) && app.palette.is_none()
                && app.tutor_picker.is_none()
                && !app.show_help =>
        {
            return Some(Action::Click(m.column, m.row));
        }
        _ => return None,
    };
    if app.palette.is_some()
        || app.confirm_install.is_some()
        || app.pending.is_some()
        || app.show_help
    {
        return None;
    }
    if app.tutor_picker.is_some() {
        return Some(Action::TutorKey(KeyEvent::new(key, KeyModifiers::NONE)));
    }
    match app.screen {
        Screen::Sequence => Some(Action::SequenceKey(KeyEvent::new(key, KeyModifiers::NONE))),
        Screen::Matrix => Some(Action::MatrixKey(KeyEvent::new(key, KeyModifiers::NONE))),
        Screen::Editor => Some(Action::EditorKey(KeyEvent::new(key, KeyModifiers::NONE))),
        _ => Some(if key == KeyCode::Up {
            Action::Up
        } else {
            Action::Down
        }),
    }
}
