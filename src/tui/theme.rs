//! Colour themes: semantic slots read from TOML files (`themes/` bundled, user themes in
//! `~/.config/panther/themes/`). A bad theme is reported with file:line:column and the
//! default is used; `NO_COLOR` wins over any theme.

use std::path::PathBuf;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::diag::Diagnostic;

use super::widgets::sequence::SequenceStyle;

/// The bundled themes, compiled in.
pub const BUNDLED: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("okabe-ito", include_str!("../../themes/okabe-ito.toml")),
    (
        "catppuccin-mocha",
        include_str!("../../themes/catppuccin-mocha.toml"),
    ),
];

pub const DEFAULT: &str = "dark";

/// A theme file: every slot optional (missing slots take the default theme's colour).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct ThemeFile {
    name: Option<String>,
    header: Option<String>,
    lifeline: Option<String>,
    time: Option<String>,
    arrow: Option<String>,
    lost: Option<String>,
    note: Option<String>,
    note_warn: Option<String>,
    note_error: Option<String>,
    orchestrator: Option<String>,
    gap: Option<String>,
    verdict_pass: Option<String>,
    verdict_inconclusive: Option<String>,
    verdict_fail: Option<String>,
    verdict_error: Option<String>,
    selection_fg: Option<String>,
    selection_bg: Option<String>,
    muted: Option<String>,
    accent: Option<String>,
    error: Option<String>,
    warn: Option<String>,
    ok: Option<String>,
    info: Option<String>,
    text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub name: String,
    pub sequence: SequenceStyle,
    pub selection: Style,
    /// Secondary text: paths, hints, labels.
    pub muted: Color,
    /// Titles and focused borders.
    pub accent: Color,
    /// Errors, failed checks, a dangling reference.
    pub error: Color,
    /// Warnings, unsaved work, questions waiting for an answer.
    pub warn: Color,
    /// Valid, available, passed.
    pub ok: Color,
    /// Progress and informational status.
    pub info: Color,
    /// Plain text in footers and panels.
    pub text: Color,
}

/// `red`, `lightcyan`, `darkgray`, `#RRGGBB`.
pub fn parse_color(s: &str) -> Result<Color, String> {
    let t = s.trim();
    if let Some(hex) = t.strip_prefix('#') {
        if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            let v = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
            return Ok(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
        }
        return Err(format!("`{s}` is not a #RRGGBB colour"));
    }
    t.parse::<Color>().map_err(|_| {
        format!("`{s}` is not a colour: use a name (red, lightcyan, darkgray, …) or #RRGGBB")
    })
}

impl Theme {
    pub fn default_theme() -> Theme {
        Theme::parse(BUNDLED[0].1, "themes/dark.toml", None)
            .expect("the bundled default theme is valid")
    }

    /// Parses a theme file; missing slots come from `base` (the default theme when None).
    pub fn parse(text: &str, file: &str, base: Option<&Theme>) -> Result<Theme, Diagnostic> {
        let tf: ThemeFile = toml::from_str(text).map_err(|e| {
            let span = e
                .span()
                .map(|r| super::config::span_at(text, r.start))
                .unwrap_or(crate::yaml::Span::START);
            Diagnostic::error(file, span, e.message().to_string())
        })?;
        let base_seq = base.map(|b| b.sequence.clone());
        let slot = |key: &str,
                    v: &Option<String>,
                    fallback: Option<Color>|
         -> Result<Option<Color>, Diagnostic> {
            match v {
                Some(s) => parse_color(s).map(Some).map_err(|m| {
                    let line = text
                        .lines()
                        .position(|l| l.trim_start().starts_with(key))
                        .map(|i| i + 1)
                        .unwrap_or(1);
                    let col = text
                        .lines()
                        .nth(line - 1)
                        .and_then(|l| l.find('='))
                        .map(|c| c + 3)
                        .unwrap_or(1);
                    Diagnostic::error(
                        file,
                        crate::yaml::Span::new(line as u32, col as u32),
                        format!("`{key}`: {m}"),
                    )
                }),
                None => Ok(fallback),
            }
        };
        let fg_of = |s: Option<Style>| s.and_then(|s| s.fg);
        let b = base_seq.as_ref();
        let c = |key: &str, v: &Option<String>, pick: fn(&SequenceStyle) -> Style| {
            slot(key, v, fg_of(b.map(pick)))
        };
        let fg = |c: Option<Color>| match c {
            Some(c) => Style::default().fg(c),
            None => Style::default(),
        };
        let bold = Modifier::BOLD;
        let sel_fg = slot(
            "selection-fg",
            &tf.selection_fg,
            base.and_then(|b| b.selection.fg),
        )?;
        let sel_bg = slot(
            "selection-bg",
            &tf.selection_bg,
            base.and_then(|b| b.selection.bg),
        )?;
        let mut selection = Style::default();
        if let Some(f) = sel_fg {
            selection = selection.fg(f);
        }
        if let Some(bg) = sel_bg {
            selection = selection.bg(bg);
        }
        let sequence = SequenceStyle {
            header: fg(c("header", &tf.header, |s| s.header)?).add_modifier(bold),
            lifeline: fg(c("lifeline", &tf.lifeline, |s| s.lifeline)?),
            time: fg(c("time", &tf.time, |s| s.time)?),
            arrow: fg(c("arrow", &tf.arrow, |s| s.arrow)?),
            lost: fg(c("lost", &tf.lost, |s| s.lost)?),
            note: fg(c("note", &tf.note, |s| s.note)?),
            note_warn: fg(c("note-warn", &tf.note_warn, |s| s.note_warn)?),
            note_error: fg(c("note-error", &tf.note_error, |s| s.note_error)?),
            orchestrator: fg(c("orchestrator", &tf.orchestrator, |s| s.orchestrator)?),
            gap: fg(c("gap", &tf.gap, |s| s.gap)?).add_modifier(Modifier::ITALIC),
            verdict_pass: fg(c("verdict-pass", &tf.verdict_pass, |s| s.verdict_pass)?)
                .add_modifier(bold),
            verdict_inconclusive: fg(c("verdict-inconclusive", &tf.verdict_inconclusive, |s| {
                s.verdict_inconclusive
            })?)
            .add_modifier(bold),
            verdict_fail: fg(c("verdict-fail", &tf.verdict_fail, |s| s.verdict_fail)?)
                .add_modifier(bold),
            verdict_error: fg(c("verdict-error", &tf.verdict_error, |s| s.verdict_error)?)
                .add_modifier(bold),
            selection,
        };
        Ok(Theme {
            name: tf.name.unwrap_or_else(|| file.to_string()),
            selection,
            muted: slot("muted", &tf.muted, base.map(|b| b.muted))?.unwrap_or(Color::DarkGray),
            accent: slot("accent", &tf.accent, base.map(|b| b.accent))?.unwrap_or(Color::Cyan),
            // A theme that does not name these takes the sequence view's matching slot, so
            // every bundled and user theme colours the whole workbench consistently.
            error: slot("error", &tf.error, base.map(|b| b.error))?
                .or(sequence.note_error.fg)
                .unwrap_or(Color::Red),
            warn: slot("warn", &tf.warn, base.map(|b| b.warn))?
                .or(sequence.note_warn.fg)
                .unwrap_or(Color::Yellow),
            ok: slot("ok", &tf.ok, base.map(|b| b.ok))?
                .or(sequence.verdict_pass.fg)
                .unwrap_or(Color::Green),
            info: slot("info", &tf.info, base.map(|b| b.info))?
                .or(sequence.header.fg)
                .unwrap_or(Color::Cyan),
            text: slot("text", &tf.text, base.map(|b| b.text))?
                .or(sequence.note.fg)
                .unwrap_or(Color::Gray),
            sequence,
        })
    }

    /// The user's themes folder.
    pub fn user_dir() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("panther").join("themes"))
    }

    /// Every theme name: bundled, then the user's.
    pub fn names() -> Vec<String> {
        let mut v: Vec<String> = BUNDLED.iter().map(|(n, _)| n.to_string()).collect();
        if let Some(d) = Theme::user_dir()
            && let Ok(rd) = std::fs::read_dir(d)
        {
            for e in rd.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "toml")
                    && let Some(stem) = p.file_stem()
                {
                    let n = stem.to_string_lossy().into_owned();
                    if !v.contains(&n) {
                        v.push(n);
                    }
                }
            }
        }
        v
    }

    /// A theme by name: the user's file first (so a user can restyle a bundled one), then
    /// the bundled. Unknown names suggest the closest.
    pub fn load(name: &str) -> Result<Theme, Diagnostic> {
        let default = Theme::default_theme();
        if let Some(d) = Theme::user_dir() {
            let p = d.join(format!("{name}.toml"));
            if let Ok(text) = crate::plugin::loader::read_text_limited(&p, 1 << 20) {
                return Theme::parse(&text, &p.display().to_string(), Some(&default));
            }
        }
        if let Some((_, text)) = BUNDLED.iter().find(|(n, _)| *n == name) {
            return Theme::parse(text, &format!("themes/{name}.toml"), Some(&default));
        }
        let names = Theme::names();
        let help = crate::suggest::did_you_mean(name, names.iter().map(String::as_str));
        Err(Diagnostic::error(
            "theme",
            crate::yaml::Span::START,
            format!("no theme named `{name}`"),
        )
        .expected(format!("one of {}", crate::suggest::one_of(&names)))
        .help_opt(help))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_theme_parses_and_differs() {
        let mut seen = Vec::new();
        for (name, text) in BUNDLED {
            let t = Theme::parse(text, name, None).unwrap_or_else(|d| panic!("{name}: {d}"));
            assert_eq!(t.name, *name);
            assert!(!seen.contains(&t.sequence), "{name} repeats another theme");
            seen.push(t.sequence);
        }
    }

    #[test]
    fn colours_parse_by_name_and_hex() {
        assert_eq!(parse_color("#0072B2"), Ok(Color::Rgb(0, 0x72, 0xb2)));
        assert_eq!(parse_color("lightcyan"), Ok(Color::LightCyan));
        assert!(parse_color("#12345").is_err());
        assert!(parse_color("blurple").unwrap_err().contains("not a colour"));
    }
}
