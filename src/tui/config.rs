//! The user's workbench settings: `~/.config/panther/config.toml` (or `$PANTHER_CONFIG`).
//!
//! ```toml
//! theme = "dark"                 # a theme name, kept as written
//! plugin-dirs = ["~/my-plugins"] # `~` expanded
//! [keys]                         # action = key spec; replaces the action's main key
//! quit = "q"
//! down = "n"
//! ```
//!
//! Keys are kebab-case and unknown ones are rejected, each problem as a [`Diagnostic`] at its
//! line:column with a "did you mean" when one is close. A binding in `[keys]` replaces the
//! action's *main* key (the first of its defaults); the alternates (arrows, Home/End,
//! Ctrl-C) stay. Two actions on one key are an error naming both, at the offending entry.
//! Headless: nothing here draws; the keymap asks [`effective_bindings`] and
//! [`KeySpec::matches`].

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use serde::Deserialize;
use toml::Spanned;

use super::keys::{self, Context};
use crate::diag::Diagnostic;
use crate::suggest::{did_you_mean, one_of};
use crate::yaml::Span;

/// Environment variable naming the config file to use instead of the default.
pub const CONFIG_ENV: &str = "PANTHER_CONFIG";

/// The action names `[keys]` accepts, in table order ([`super::keys::DEFS`]); an entry
/// may also name one context's action, `"sequence.down" = "n"`.
pub fn action_names() -> impl Iterator<Item = &'static str> {
    super::keys::names().into_iter()
}

/// Whether `[keys]` knows `name`: an action of some context, or `context.action`.
fn known_action(name: &str) -> bool {
    match name.split_once('.') {
        Some((c, a)) => Context::from_name(c).is_some_and(|c| keys::of(c).any(|d| d.name == a)),
        None => action_names().any(|a| a == name),
    }
}

/// Every qualified name, for "did you mean" on a typo'd `context.action`.
fn qualified_names() -> Vec<String> {
    keys::DEFS
        .iter()
        .map(|d| format!("{}.{}", d.ctx.name(), d.name))
        .collect()
}

fn unknown_action(file: &str, at: Span, name: &str) -> Diagnostic {
    let quals = qualified_names();
    let help = if name.contains('.') {
        did_you_mean(name, quals.iter().map(String::as_str))
    } else {
        did_you_mean(name, action_names())
    };
    Diagnostic::error(file, at, format!("unknown action `{name}`"))
        .expected(format!(
            "one of {} (or CONTEXT.ACTION, such as `sequence.down`)",
            one_of(&action_names().collect::<Vec<_>>())
        ))
        .help_opt(help)
}

/// The settings, after `~` expansion. `Default` is what a missing file means.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserConfig {
    pub theme: Option<String>,
    pub plugin_dirs: Vec<PathBuf>,
    /// Action name → key spec, as written (validated by [`load`]).
    pub keys: BTreeMap<String, String>,
    /// Where it came from, so later checks can point at the file and line.
    pub origin: Origin,
}

/// The file a config was read from and where each `[keys]` entry is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    /// Action name → position of its value in the file.
    pub key_at: BTreeMap<String, Span>,
}

/// The config file to read: `$PANTHER_CONFIG` if set and non-empty, else
/// `<config dir>/panther/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    path_from_env(std::env::var_os(CONFIG_ENV))
}

/// [`default_path`] given the value of `$PANTHER_CONFIG` (testable without touching the
/// environment).
pub fn path_from_env(var: Option<std::ffi::OsString>) -> Option<PathBuf> {
    match var {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => dirs::config_dir().map(|d| d.join("panther").join("config.toml")),
    }
}

/// Reads and checks the config at `path`. A missing file is the defaults.
pub fn load(path: &Path) -> Result<UserConfig, Vec<Diagnostic>> {
    let file = path.display().to_string();
    // A FIFO or a device in its place must not hang or exhaust the workbench.
    match crate::plugin::loader::read_text_limited(path, 1 << 20) {
        Ok(text) => parse_str(&text, &file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(UserConfig {
            origin: Origin {
                file,
                key_at: BTreeMap::new(),
            },
            ..UserConfig::default()
        }),
        Err(e) => Err(vec![Diagnostic::error(
            file,
            Span::START,
            format!("cannot read the config file: {e}"),
        )]),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    theme: Option<Spanned<String>>,
    #[serde(default)]
    plugin_dirs: Vec<Spanned<String>>,
    #[serde(default)]
    keys: BTreeMap<Spanned<String>, Spanned<String>>,
}

const TOP_KEYS: &[&str] = &["theme", "plugin-dirs", "keys"];

/// Parses and checks config text; `file` names it in diagnostics.
pub fn parse_str(text: &str, file: &str) -> Result<UserConfig, Vec<Diagnostic>> {
    let raw: Raw = toml::from_str(text).map_err(|e| vec![toml_diagnostic(&e, text, file)])?;
    let at = |r: Range<usize>| span_at(text, r.start);
    let mut diags = Vec::new();

    let theme = raw.theme.map(|t| {
        let name = t.get_ref().trim().to_string();
        if !is_identifier(&name) {
            diags.push(
                Diagnostic::error(
                    file,
                    at(t.span()),
                    format!("`{}` is not a theme name", t.get_ref()),
                )
                .expected("a name made of letters, digits, `-` and `_`, such as `dark`"),
            );
        }
        name
    });

    let mut plugin_dirs = Vec::new();
    for d in raw.plugin_dirs {
        if d.get_ref().trim().is_empty() {
            diags.push(
                Diagnostic::error(file, at(d.span()), "empty plugin directory")
                    .expected("a directory path, such as `~/my-plugins`"),
            );
            continue;
        }
        plugin_dirs.push(expand_tilde(d.get_ref()));
    }

    let mut keys = BTreeMap::new();
    let mut key_at = BTreeMap::new();
    for (action, spec) in raw.keys {
        let name = action.get_ref();
        if !known_action(name) {
            diags.push(unknown_action(file, at(action.span()), name));
            continue;
        }
        if let Err(msg) = parse_key(spec.get_ref()) {
            diags.push(
                Diagnostic::error(
                    file,
                    at(spec.span()),
                    format!("bad key `{}` for `{name}`: {msg}", spec.get_ref()),
                )
                .expected(KEY_FORMS),
            );
            continue;
        }
        key_at.insert(name.clone(), at(spec.span()));
        keys.insert(name.clone(), spec.into_inner());
    }

    let cfg = UserConfig {
        theme,
        plugin_dirs,
        keys,
        origin: Origin {
            file: file.to_string(),
            key_at,
        },
    };
    if diags.is_empty() {
        effective_bindings(&cfg)?;
        Ok(cfg)
    } else {
        Err(diags)
    }
}

/// A key bound to an action of a context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    pub ctx: Context,
    pub action: &'static str,
    pub key: KeySpec,
}

/// The keys of one action after `[keys]`: the entry for `context.action`, else for
/// `action`, else the main default; then the alternates. Each with the entry's position.
fn specs_of(cfg: &UserConfig, def: &keys::Def) -> Vec<(String, Option<Span>)> {
    let qualified = format!("{}.{}", def.ctx.name(), def.name);
    let entry = [qualified.as_str(), def.name].into_iter().find_map(|n| {
        cfg.keys
            .get(n)
            .map(|s| (s.clone(), cfg.origin.key_at.get(n).copied()))
    });
    let mut specs: Vec<(String, Option<Span>)> = Vec::new();
    match entry {
        Some(e) => specs.push(e),
        None => specs.extend(def.keys.first().map(|d| (d.to_string(), None))),
    }
    specs.extend(def.keys.iter().skip(1).map(|d| (d.to_string(), None)));
    specs
}

/// Every (context, action, key) after applying `[keys]` to the defaults, in table order; an
/// action may have several keys. Errors when two actions share a key where both work (one
/// context, or a screen and the global keys it takes), at the entry that caused it.
pub fn effective_bindings(cfg: &UserConfig) -> Result<Vec<Bound>, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    // `load` has checked these already; a hand-built config may not have been.
    for name in cfg.keys.keys() {
        if !known_action(name) {
            let p = cfg.origin.key_at.get(name).copied().unwrap_or(Span::START);
            diags.push(unknown_action(&cfg.origin.file, p, name));
        }
    }
    let mut out: Vec<Bound> = Vec::new();
    let mut positions: Vec<Option<Span>> = Vec::new();
    for def in keys::DEFS {
        for (spec, pos) in specs_of(cfg, def) {
            match parse_key(&spec) {
                Ok(key) => {
                    if !out
                        .iter()
                        .any(|b| b.ctx == def.ctx && b.action == def.name && b.key == key)
                    {
                        out.push(Bound {
                            ctx: def.ctx,
                            action: def.name,
                            key,
                        });
                        positions.push(pos);
                    }
                }
                Err(msg) => diags.push(
                    Diagnostic::error(
                        &cfg.origin.file,
                        pos.unwrap_or(Span::START),
                        format!("bad key `{spec}` for `{}`: {msg}", def.name),
                    )
                    .expected(KEY_FORMS),
                ),
            }
        }
    }
    clashes(&cfg.origin.file, &out, &positions, &mut diags);
    if diags.is_empty() {
        Ok(out)
    } else {
        crate::diag::sort(&mut diags);
        diags.dedup_by(|a, b| a.message == b.message && a.line == b.line && a.column == b.column);
        Err(diags)
    }
}

/// Two actions on one key, checked in each context over the keys that work there; a clash
/// found in several contexts is reported once, naming the first.
fn clashes(file: &str, out: &[Bound], pos: &[Option<Span>], diags: &mut Vec<Diagnostic>) {
    let mut seen: Vec<(KeySpec, &str, &str)> = Vec::new();
    for ctx in Context::ALL {
        let live: Vec<usize> = (0..out.len())
            .filter(|&i| out[i].ctx == ctx || ctx.takes_global() && out[i].ctx == Context::Global)
            .collect();
        let mut taken: BTreeMap<KeySpec, usize> = BTreeMap::new();
        for i in live {
            let Some(&j) = taken.get(&out[i].key) else {
                taken.insert(out[i].key, i);
                continue;
            };
            if out[j].action == out[i].action {
                continue;
            }
            let (a, b) = (
                out[i].action.min(out[j].action),
                out[i].action.max(out[j].action),
            );
            let what = (out[i].key, a, b);
            if !seen.contains(&what) {
                seen.push(what);
                diags.push(clash(file, &out[j], pos[j], &out[i], pos[i], ctx));
            }
        }
    }
}

/// The error for `b` taking `a`'s key.
fn clash(
    file: &str,
    a: &Bound,
    a_pos: Option<Span>,
    b: &Bound,
    b_pos: Option<Span>,
    ctx: Context,
) -> Diagnostic {
    let (other, action, key) = (a.action, b.action, b.key);
    // Point at whichever side comes from the file, the later one if both.
    let here = match (b_pos, a_pos) {
        (Some(x), Some(y)) => Some(later(x, y)),
        (x, y) => x.or(y),
    };
    let by = |a: &str, p: Option<Span>| match p {
        Some(p) => format!("`{a}` (line {})", p.line),
        None => format!("`{a}` (default)"),
    };
    let help = match (b_pos, a_pos) {
        (Some(_), None) => format!(
            "`{key}` is `{other}`'s default key; bind `{other}` to another key too, or pick another key for `{action}`"
        ),
        (None, Some(_)) => format!(
            "`{key}` is `{action}`'s default key; bind `{action}` to another key too, or pick another key for `{other}`"
        ),
        _ => "give each action its own key".to_string(),
    };
    // Name them in file order, a default before an entry.
    let mut pair = [(other, a_pos), (action, b_pos)];
    pair.sort_by_key(|(_, p)| p.map(|p| (p.line, p.col)));
    Diagnostic::error(
        file,
        here.unwrap_or(Span::START),
        format!(
            "key `{key}` is bound to both {} and {} in {}",
            by(pair[0].0, pair[0].1),
            by(pair[1].0, pair[1].1),
            ctx.title()
        ),
    )
    .expected("one action per key")
    .help(help)
}

/// The later of two positions.
fn later(a: Span, b: Span) -> Span {
    if (b.line, b.col) > (a.line, a.col) {
        b
    } else {
        a
    }
}

/// `~` and `~/…` become the home directory; anything else is kept as written.
pub fn expand_tilde(p: &str) -> PathBuf {
    let p = p.trim();
    if p == "~" {
        if let Some(h) = dirs::home_dir() {
            return h;
        }
    } else if let Some(rest) = p.strip_prefix("~/")
        && let Some(h) = dirs::home_dir()
    {
        return h.join(rest);
    }
    PathBuf::from(p)
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// 1-based line and column (in characters) of a byte offset.
pub fn span_at(text: &str, offset: usize) -> Span {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..offset].chars().count() + 1;
    Span::new(line as u32, col as u32)
}

/// The key of the `key = value` line holding `offset`, if that line has one.
fn key_of_line(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let (k, _) = text[start..end].split_once('=')?;
    let k = k.trim().trim_matches('"').trim_matches('\'');
    (!k.is_empty()).then(|| k.to_string())
}

/// The text between the first pair of backticks after `after` in `msg`.
fn backticked<'a>(msg: &'a str, after: &str) -> Option<&'a str> {
    let rest = &msg[msg.find(after)? + after.len()..];
    let rest = &rest[rest.find('`')? + 1..];
    Some(&rest[..rest.find('`')?])
}

/// Turns a toml error (parse or shape) into a diagnostic with a position and a hint.
fn toml_diagnostic(e: &toml::de::Error, text: &str, file: &str) -> Diagnostic {
    let range = e.span().unwrap_or(0..0);
    let pos = span_at(text, range.start);
    let msg = e.message().trim();
    let snippet = text.get(range.clone()).unwrap_or("").trim();

    if msg.starts_with("unknown field") {
        let name = backticked(msg, "unknown field").unwrap_or(snippet);
        // The only structs are the top level; [keys] is a map checked by hand.
        return Diagnostic::error(file, pos, format!("unknown key `{name}`"))
            .expected(format!("one of {}", one_of(TOP_KEYS)))
            .help_opt(did_you_mean(name, TOP_KEYS.iter().copied()));
    }
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let what = key_of_line(text, range.start)
            .map(|k| format!(" for `{k}`"))
            .unwrap_or_default();
        let d = Diagnostic::error(file, pos, format!("wrong type{what}: found {found}"));
        return if expected.is_empty() {
            d
        } else {
            d.expected(expected.to_string())
        };
    }
    if msg.starts_with("duplicate key") {
        let name = if snippet.is_empty() {
            String::new()
        } else {
            format!(" `{snippet}`")
        };
        // Where it was first set: an earlier `key = …` line with the same key.
        let first = text
            .split_inclusive('\n')
            .scan(0usize, |off, l| {
                let start = *off;
                *off += l.len();
                Some(start)
            })
            .take_while(|&start| start < range.start)
            .position(|start| key_of_line(text, start).as_deref() == Some(snippet))
            .filter(|_| !snippet.is_empty());
        let help = match first {
            Some(i) => format!("first set on line {}; remove one of the two", i + 1),
            None => "remove one of the two".to_string(),
        };
        return Diagnostic::error(file, pos, format!("duplicate key{name}"))
            .expected("each key at most once in a table")
            .help(help);
    }
    // Syntax errors: "<what>, expected <…>".
    let (what, expected) = match msg.split_once(", expected ") {
        Some((w, x)) => (w, Some(x)),
        None => (msg, None),
    };
    let mut d = Diagnostic::error(file, pos, format!("invalid TOML: {what}"));
    if let Some(x) = expected {
        d = d.expected(x.to_string());
    }
    d
}

/// What a key spec may look like, for messages.
pub const KEY_FORMS: &str = "a key such as `q`, `Q`, `ctrl-c`, `alt-x`, `f5`, `enter`, `esc`, `tab`, `up`, `pgup`, `home`, `space`, `/` or `?`";

/// A key other than a printable character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Char(char),
    F(u8),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Insert,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
}

/// A key with its modifiers, as a user writes it in `[keys]`. Shift is folded into the
/// character for printable keys (`Q`, not `shift-q`), so it is only set for named keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeySpec {
    pub key: Key,
    pub ctrl: bool,
    pub alt: bool,
    pub shift: bool,
}

/// (name, key) for named keys; the first name of each key is how it is printed.
const NAMED: &[(&str, Key)] = &[
    ("space", Key::Char(' ')),
    ("enter", Key::Enter),
    ("return", Key::Enter),
    ("esc", Key::Esc),
    ("escape", Key::Esc),
    ("tab", Key::Tab),
    ("backtab", Key::BackTab),
    ("backspace", Key::Backspace),
    ("delete", Key::Delete),
    ("del", Key::Delete),
    ("insert", Key::Insert),
    ("ins", Key::Insert),
    ("up", Key::Up),
    ("down", Key::Down),
    ("left", Key::Left),
    ("right", Key::Right),
    ("pgup", Key::PageUp),
    ("pageup", Key::PageUp),
    ("page-up", Key::PageUp),
    ("pgdn", Key::PageDown),
    ("pgdown", Key::PageDown),
    ("pagedown", Key::PageDown),
    ("page-down", Key::PageDown),
    ("home", Key::Home),
    ("end", Key::End),
    ("minus", Key::Char('-')),
];

const MODIFIERS: &[&str] = &["ctrl", "alt", "shift"];

/// Parses a key spec: an optional chain of `ctrl-`, `alt-`, `shift-` and a key, which is a
/// single character (case matters: `q` vs `Q`), a name (`enter`, `pgup`, `space`…) or
/// `f1`…`f24`. The error says what is wrong, without position.
pub fn parse_key(spec: &str) -> Result<KeySpec, String> {
    let spec = spec.trim();
    if spec.is_empty() {
        return Err("empty key".to_string());
    }
    let (mut ctrl, mut alt, mut shift) = (false, false, false);
    let mut rest = spec;
    // Strip modifiers while something follows the dash (so `-` and `ctrl--` are keys).
    while let Some((head, tail)) = rest.split_once('-') {
        let flag = match head.to_ascii_lowercase().as_str() {
            "ctrl" | "control" => &mut ctrl,
            "alt" | "meta" => &mut alt,
            "shift" => &mut shift,
            _ => break,
        };
        if tail.is_empty() {
            return Err(format!(
                "nothing after `{head}-`: expected a key, as in `{head}-x`"
            ));
        }
        if *flag {
            return Err(format!("`{head}` is given twice"));
        }
        *flag = true;
        rest = tail;
    }
    let mut chars = rest.chars();
    let key = match (chars.next(), chars.next()) {
        (Some(c), None) => {
            if c.is_control() {
                return Err("a control character is not a key spec; write it as `ctrl-x`".into());
            }
            Key::Char(c)
        }
        _ => {
            let lower = rest.to_ascii_lowercase();
            if let Some((_, k)) = NAMED.iter().find(|(n, _)| *n == lower) {
                *k
            } else if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
                if !(1..=24).contains(&n) {
                    return Err(format!("no function key `{rest}`: expected `f1` to `f24`"));
                }
                Key::F(n)
            } else {
                let names = NAMED
                    .iter()
                    .map(|(n, _)| *n)
                    .chain(MODIFIERS.iter().copied());
                let mut msg = format!("unknown key name `{rest}`");
                if let Some(h) = did_you_mean(&lower, names) {
                    msg.push_str(&format!("; {h}"));
                }
                return Err(msg);
            }
        }
    };
    let key = match key {
        Key::Char(c) if shift => {
            if !c.is_alphabetic() {
                return Err(format!(
                    "`shift-{c}`: write the shifted character itself (as the terminal sends it)"
                ));
            }
            shift = false;
            Key::Char(c.to_uppercase().next().unwrap_or(c))
        }
        Key::Tab if shift => {
            shift = false;
            Key::BackTab
        }
        // Terminals send Ctrl+letter without case; `ctrl-C` is `ctrl-c`.
        Key::Char(c) if ctrl => Key::Char(c.to_ascii_lowercase()),
        k => k,
    };
    Ok(KeySpec {
        key,
        ctrl,
        alt,
        shift,
    })
}

impl std::str::FromStr for KeySpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_key(s)
    }
}

impl fmt::Display for KeySpec {
    /// The canonical spec, which [`parse_key`] reads back to the same key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        if self.shift {
            f.write_str("shift-")?;
        }
        match self.key {
            Key::Char(' ') => f.write_str("space"),
            Key::Char(c) => write!(f, "{c}"),
            Key::F(n) => write!(f, "f{n}"),
            k => {
                let name = NAMED
                    .iter()
                    .find(|(_, nk)| *nk == k)
                    .map(|(n, _)| *n)
                    .unwrap_or("?");
                f.write_str(name)
            }
        }
    }
}

impl KeySpec {
    /// The spec for a terminal key event, if it is a key a spec can name.
    pub fn from_event(e: &KeyEvent) -> Option<KeySpec> {
        let m = e.modifiers;
        let ctrl = m.contains(KeyModifiers::CONTROL);
        let alt = m.contains(KeyModifiers::ALT);
        let mut shift = m.contains(KeyModifiers::SHIFT);
        let key = match e.code {
            KeyCode::Char(c) => {
                shift = false; // already in the character
                Key::Char(if ctrl { c.to_ascii_lowercase() } else { c })
            }
            KeyCode::F(n) => Key::F(n),
            KeyCode::Enter => Key::Enter,
            KeyCode::Esc => Key::Esc,
            KeyCode::Tab if shift => {
                shift = false;
                Key::BackTab
            }
            KeyCode::Tab => Key::Tab,
            KeyCode::BackTab => {
                shift = false;
                Key::BackTab
            }
            KeyCode::Backspace => Key::Backspace,
            KeyCode::Delete => Key::Delete,
            KeyCode::Insert => Key::Insert,
            KeyCode::Up => Key::Up,
            KeyCode::Down => Key::Down,
            KeyCode::Left => Key::Left,
            KeyCode::Right => Key::Right,
            KeyCode::PageUp => Key::PageUp,
            KeyCode::PageDown => Key::PageDown,
            KeyCode::Home => Key::Home,
            KeyCode::End => Key::End,
            _ => return None,
        };
        Some(KeySpec {
            key,
            ctrl,
            alt,
            shift,
        })
    }

    /// Whether a terminal key event is this key (shift folded as in [`KeySpec`]).
    pub fn matches(&self, e: &KeyEvent) -> bool {
        KeySpec::from_event(e) == Some(*self)
    }

    /// The key event a terminal sends for this key (a press).
    pub fn to_event(&self) -> KeyEvent {
        let code = match self.key {
            Key::Char(c) => KeyCode::Char(c),
            Key::F(n) => KeyCode::F(n),
            Key::Enter => KeyCode::Enter,
            Key::Esc => KeyCode::Esc,
            Key::Tab => KeyCode::Tab,
            Key::BackTab => KeyCode::BackTab,
            Key::Backspace => KeyCode::Backspace,
            Key::Delete => KeyCode::Delete,
            Key::Insert => KeyCode::Insert,
            Key::Up => KeyCode::Up,
            Key::Down => KeyCode::Down,
            Key::Left => KeyCode::Left,
            Key::Right => KeyCode::Right,
            Key::PageUp => KeyCode::PageUp,
            Key::PageDown => KeyCode::PageDown,
            Key::Home => KeyCode::Home,
            Key::End => KeyCode::End,
        };
        let mut m = KeyModifiers::NONE;
        if self.ctrl {
            m |= KeyModifiers::CONTROL;
        }
        if self.alt {
            m |= KeyModifiers::ALT;
        }
        if self.shift || matches!(self.key, Key::BackTab) {
            m |= KeyModifiers::SHIFT;
        }
        if let Key::Char(c) = self.key
            && c.is_uppercase()
        {
            m |= KeyModifiers::SHIFT;
        }
        KeyEvent {
            code,
            modifiers: m,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        }
    }
}

impl From<KeySpec> for KeyEvent {
    fn from(k: KeySpec) -> KeyEvent {
        k.to_event()
    }
}

impl TryFrom<&KeyEvent> for KeySpec {
    type Error = ();
    fn try_from(e: &KeyEvent) -> Result<KeySpec, ()> {
        KeySpec::from_event(e).ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_specs_round_trip() {
        for s in [
            "q", "Q", "ctrl-c", "alt-x", "f5", "enter", "esc", "tab", "up", "down", "pgup", "home",
            "space", "/", "?", "-", "ctrl--", "shift-up", "backtab", ":",
        ] {
            let k = parse_key(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(parse_key(&k.to_string()), Ok(k), "{s}");
            assert!(k.matches(&k.to_event()), "{s}");
        }
        assert_eq!(parse_key("shift-q"), parse_key("Q"));
        assert_eq!(parse_key("ctrl-C"), parse_key("ctrl-c"));
        assert_eq!(parse_key("shift-tab"), parse_key("backtab"));
        assert_eq!(parse_key("PgUp"), parse_key("pgup"));
        assert!(parse_key("ctrl-").is_err());
        assert!(parse_key("f25").is_err());
        assert!(parse_key("").is_err());
        assert!(
            parse_key("entr")
                .unwrap_err()
                .contains("did you mean `enter`?")
        );
    }

    #[test]
    fn positions_are_one_based() {
        let t = "a\nbé = 1\n";
        assert_eq!(span_at(t, 0), Span::new(1, 1));
        assert_eq!(span_at(t, 2), Span::new(2, 1));
        assert_eq!(span_at(t, 6), Span::new(2, 4)); // after the two-byte é
    }
}
