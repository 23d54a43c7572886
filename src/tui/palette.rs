//! The `:` command palette, headless: what a typed line means ([`parse`]) and what it could
//! become ([`complete`]). The screen that shows it only renders and feeds keys.

use std::path::PathBuf;

use crate::suggest::{did_you_mean, one_of};

use super::config::expand_tilde;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Quit; asks first when the experiment has unsaved changes.
    Quit,
    /// `q!`: quit, dropping unsaved changes.
    ForceQuit,
    /// `w`: save the experiment.
    Write,
    /// `w FILE`: save it as FILE.
    WriteAs(PathBuf),
    /// `wq`: save, then quit.
    WriteQuit,
    /// A new, empty experiment in the editor.
    New,
    Open(PathBuf),
    Run,
    /// `run TEST`: only that test of the open experiment.
    RunTest(String),
    Theme(String),
    Replay(PathBuf),
    Plugins,
    Help,
    /// `tutor`: the tutorial picker; `tutor NAME`: follow that one; `tutor off`: stop.
    Tutor(Option<String>),
    /// `create`: the new-plugin wizard; `create TYPE NAME [PROTOCOL]`: straight away.
    Create(Option<CreateArgs>),
    /// Re-read the config file and the plugin folders.
    Reload,
    /// `matrix FLAGS`: run a matrix (the flags of `panther matrix`); `matrix DIR`: open a
    /// finished one; `matrix`: the matrix screen.
    Matrix(String),
}

/// `create TYPE NAME [PROTOCOL]`, as typed (checked by the plugin creator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateArgs {
    pub kind: String,
    pub name: String,
    pub protocol: Option<String>,
}

/// Every command with its one-line help, in the order the palette lists them.
pub const COMMANDS: &[(&str, &str)] = &[
    ("open", "open an experiment file: open FILE (or e FILE)"),
    (
        "write",
        "save the experiment: w [FILE] (wq saves and quits)",
    ),
    (
        "new",
        "a new experiment (one test on localhost) in the form view",
    ),
    (
        "run",
        "run the open experiment, or one test of it: run [TEST]",
    ),
    ("replay", "reopen a finished run: replay DIR"),
    ("plugins", "browse the plugins"),
    (
        "matrix",
        "interop matrix: matrix --protocol P [--servers …] [--clients …] [--cases …], or matrix DIR",
    ),
    (
        "create",
        "scaffold a plugin: create (a wizard) or create TYPE NAME [PROTOCOL]",
    ),
    (
        "reload",
        "re-read config.toml and the plugin folders (after editing them)",
    ),
    (
        "tutor",
        "tutorials: tutor (pick one), tutor NAME, tutor off",
    ),
    ("theme", "switch the colour theme: theme NAME"),
    ("help", "keys and commands"),
    (
        "quit",
        "leave panther (asks about unsaved changes; q! does not)",
    ),
];

/// Short forms accepted as well (not completed, not listed).
const ALIASES: &[(&str, &str)] = &[
    ("q", "quit"),
    ("q!", "quit!"),
    ("w", "write"),
    ("wq", "wq"),
    ("x", "wq"),
    ("e", "open"),
    ("edit", "open"),
    ("exit", "quit"),
    ("?", "help"),
];

fn names() -> impl Iterator<Item = &'static str> {
    COMMANDS.iter().map(|(n, _)| *n)
}

/// The argument, unquoted when wrapped in matching quotes (paths with spaces).
fn unquote(arg: &str) -> &str {
    let a = arg.trim();
    for q in ['"', '\''] {
        if a.len() >= 2
            && a.starts_with(q)
            && a.ends_with(q)
            && let Some(inner) = a.get(1..a.len() - 1)
        {
            return inner;
        }
    }
    a
}

/// Parses a palette line (the leading `:` is optional). The error is a ready-to-show line.
pub fn parse(input: &str) -> Result<Command, String> {
    let line = input.trim();
    let line = line.strip_prefix(':').unwrap_or(line).trim_start();
    if line.is_empty() {
        return Err(format!(
            "type a command: {}",
            one_of(&names().collect::<Vec<_>>())
        ));
    }
    let (word, arg) = match line.split_once(char::is_whitespace) {
        Some((w, a)) => (w, unquote(a)),
        None => (line, ""),
    };
    let lower = word.to_ascii_lowercase();
    let name = ALIASES
        .iter()
        .find(|(a, _)| *a == lower)
        .map(|(_, n)| *n)
        .or_else(|| names().find(|n| *n == lower));
    let Some(name) = name else {
        let mut msg = format!("unknown command `{word}`");
        match did_you_mean(&lower, names()) {
            Some(h) => msg.push_str(&format!("; {h}")),
            None => msg.push_str(&format!(
                "; commands: {}",
                one_of(&names().collect::<Vec<_>>())
            )),
        }
        return Err(msg);
    };
    let no_arg = |c: Command| {
        if arg.is_empty() {
            Ok(c)
        } else {
            Err(format!("`{name}` takes no argument (got `{arg}`)"))
        }
    };
    let needs = |what: &str| -> Result<&str, String> {
        if arg.is_empty() {
            Err(format!(
                "`{name}` needs {what}: `{name} {}`",
                what.to_uppercase()
            ))
        } else {
            Ok(arg)
        }
    };
    match name {
        "quit" => no_arg(Command::Quit),
        "quit!" => no_arg(Command::ForceQuit),
        "write" if arg.is_empty() => Ok(Command::Write),
        "write" => Ok(Command::WriteAs(expand_tilde(arg))),
        "wq" => no_arg(Command::WriteQuit),
        "new" => no_arg(Command::New),
        "run" if arg.is_empty() => Ok(Command::Run),
        "run" => Ok(Command::RunTest(arg.to_string())),
        "plugins" => no_arg(Command::Plugins),
        "help" => no_arg(Command::Help),
        "reload" => no_arg(Command::Reload),
        "matrix" => Ok(Command::Matrix(arg.to_string())),
        "tutor" if arg.is_empty() => Ok(Command::Tutor(None)),
        "tutor" => Ok(Command::Tutor(Some(arg.to_string()))),
        "create" if arg.is_empty() => Ok(Command::Create(None)),
        "create" => {
            let words: Vec<&str> = arg.split_whitespace().collect();
            match words.as_slice() {
                [kind, name] | [kind, name, _] => Ok(Command::Create(Some(CreateArgs {
                    kind: kind.to_string(),
                    name: name.to_string(),
                    protocol: words.get(2).map(|p| p.to_string()),
                }))),
                _ => Err(
                    "`create` takes TYPE NAME [PROTOCOL] (e.g. `create iut my_iut minip`), or nothing for the wizard"
                        .into(),
                ),
            }
        }
        "open" => Ok(Command::Open(expand_tilde(needs("a file")?))),
        "replay" => Ok(Command::Replay(expand_tilde(needs("a run directory")?))),
        "theme" => {
            let t = needs("a theme name")?;
            if t.chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.')
            {
                Ok(Command::Theme(t.to_string()))
            } else {
                Err(format!(
                    "`{t}` is not a theme name: use letters, digits, `-` and `_`"
                ))
            }
        }
        _ => unreachable!("every listed command is handled"),
    }
}

/// Command names that complete `prefix` (leading `:` optional, case-insensitive), in
/// palette order; nothing once an argument is being typed.
pub fn complete(prefix: &str) -> Vec<&'static str> {
    let p = prefix.trim_start();
    let p = p.strip_prefix(':').unwrap_or(p).trim_start();
    if p.contains(char::is_whitespace) {
        return Vec::new();
    }
    let p = p.to_ascii_lowercase();
    names().filter(|n| n.starts_with(&p)).collect()
}

/// Commands whose argument is a path: open FILE, w FILE, replay DIR, matrix DIR.
const PATH_COMMANDS: &[&str] = &["open", "e", "edit", "w", "write", "replay", "matrix"];

/// Completes the path a line ends with (`open exp` → `open experiments/`): the line with as
/// much added as every match shares, and the matches (folders end in `/`). `None` when the
/// command takes no path or nothing matches. `~` is expanded to look, kept in the line.
pub fn complete_path(line: &str) -> Option<(String, Vec<String>)> {
    let body = line.trim_start().trim_start_matches(':');
    let (cmd, arg) = body.split_once(char::is_whitespace)?;
    if !PATH_COMMANDS.contains(&cmd) || arg.trim_start().starts_with("--") {
        return None;
    }
    let arg = arg.trim_start();
    let (dir_part, stem) = match arg.rfind('/') {
        Some(i) => (&arg[..=i], &arg[i + 1..]),
        None => ("", arg),
    };
    let look = if dir_part.is_empty() {
        PathBuf::from(".")
    } else {
        expand_tilde(dir_part)
    };
    let mut matches: Vec<String> = std::fs::read_dir(&look)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let hidden = name.starts_with('.') && !stem.starts_with('.');
            (name.starts_with(stem) && !hidden).then(|| {
                let dir = e.file_type().is_ok_and(|t| t.is_dir());
                if dir { format!("{name}/") } else { name }
            })
        })
        .collect();
    matches.sort();
    let first = matches.first()?;
    let common = matches.iter().fold(first.as_str(), |acc, m| {
        let n = acc
            .char_indices()
            .zip(m.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8());
        &acc[..n]
    });
    let head = &line[..line.len() - stem.len()];
    Some((format!("{head}{common}"), matches))
}

/// The palette's past lines, newest last, and where Up/Down stand in them.
#[derive(Debug, Default, Clone)]
pub struct History {
    lines: Vec<String>,
    at: Option<usize>,
}

impl History {
    const KEEP: usize = 100;

    /// Remembers a line run from the palette (not twice in a row).
    pub fn push(&mut self, line: &str) {
        let l = line.trim();
        if !l.is_empty() && self.lines.last().is_none_or(|x| x != l) {
            self.lines.push(l.to_string());
            if self.lines.len() > Self::KEEP {
                self.lines.remove(0);
            }
        }
        self.at = None;
    }

    /// The line before the one shown (Up).
    pub fn back(&mut self) -> Option<&str> {
        let i = match self.at {
            None => self.lines.len().checked_sub(1)?,
            Some(i) => i.saturating_sub(1),
        };
        self.at = Some(i);
        self.lines.get(i).map(String::as_str)
    }

    /// The line after the one shown (Down); past the newest, an empty line.
    pub fn forward(&mut self) -> &str {
        match self.at {
            Some(i) if i + 1 < self.lines.len() => {
                self.at = Some(i + 1);
                &self.lines[i + 1]
            }
            _ => {
                self.at = None;
                ""
            }
        }
    }

    /// Forgets where Up/Down stood (the palette was closed).
    pub fn reset(&mut self) {
        self.at = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_paths_and_recalls_lines() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("experiments")).unwrap();
        std::fs::write(d.path().join("exp_a.yaml"), "").unwrap();
        std::fs::write(d.path().join("exp_b.yaml"), "").unwrap();
        let root = d.path().display().to_string();
        let (line, all) = complete_path(&format!("open {root}/exp")).unwrap();
        assert_eq!(line, format!("open {root}/exp"));
        assert_eq!(all, ["exp_a.yaml", "exp_b.yaml", "experiments/"]);
        let (line, all) = complete_path(&format!("e {root}/experi")).unwrap();
        assert_eq!(line, format!("e {root}/experiments/"));
        assert_eq!(all, ["experiments/"]);
        assert!(complete_path(&format!("open {root}/nothing")).is_none());
        assert!(complete_path("theme da").is_none(), "not a path command");
        assert!(complete_path("matrix --protocol q").is_none());
        let mut h = History::default();
        assert_eq!(h.back(), None);
        h.push("run");
        h.push("run");
        h.push("theme light");
        assert_eq!(h.back(), Some("theme light"));
        assert_eq!(h.back(), Some("run"));
        assert_eq!(h.back(), Some("run"), "the oldest stays");
        assert_eq!(h.forward(), "theme light");
        assert_eq!(h.forward(), "");
    }

    #[test]
    fn parses_commands() {
        assert_eq!(parse(":quit"), Ok(Command::Quit));
        assert_eq!(parse("q"), Ok(Command::Quit));
        assert_eq!(parse(" :run "), Ok(Command::Run));
        assert_eq!(
            parse(":open exp.yaml"),
            Ok(Command::Open(PathBuf::from("exp.yaml")))
        );
        assert_eq!(
            parse(":open \"my dir/exp.yaml\""),
            Ok(Command::Open(PathBuf::from("my dir/exp.yaml")))
        );
        assert_eq!(
            parse(":replay outputs/x"),
            Ok(Command::Replay(PathBuf::from("outputs/x")))
        );
        assert_eq!(parse(":theme light"), Ok(Command::Theme("light".into())));
        assert_eq!(parse(":plugins"), Ok(Command::Plugins));
        assert_eq!(parse(":help"), Ok(Command::Help));
        assert_eq!(parse(":Help"), Ok(Command::Help));
        assert_eq!(parse(":tutor"), Ok(Command::Tutor(None)));
        assert_eq!(
            parse(":tutor first_run"),
            Ok(Command::Tutor(Some("first_run".into())))
        );
        assert_eq!(parse(":reload"), Ok(Command::Reload));
        assert_eq!(parse(":create"), Ok(Command::Create(None)));
        assert_eq!(
            parse(":create iut my_iut minip"),
            Ok(Command::Create(Some(CreateArgs {
                kind: "iut".into(),
                name: "my_iut".into(),
                protocol: Some("minip".into())
            })))
        );
        assert!(parse(":create iut").unwrap_err().contains("TYPE NAME"));
    }

    #[test]
    fn explains_mistakes() {
        assert!(parse(":qiut").unwrap_err().contains("did you mean `quit`?"));
        assert!(
            parse(":plugns")
                .unwrap_err()
                .contains("did you mean `plugins`?")
        );
        assert!(parse(":open").unwrap_err().contains("needs a file"));
        assert!(
            parse(":replay ")
                .unwrap_err()
                .contains("needs a run directory")
        );
        assert!(parse(":theme").unwrap_err().contains("needs a theme name"));
        assert!(
            parse(":theme a b")
                .unwrap_err()
                .contains("not a theme name")
        );
        assert!(
            parse(":quit now")
                .unwrap_err()
                .contains("takes no argument")
        );
        assert!(parse(":").unwrap_err().contains("type a command"));
        let e = parse(":zzzzzz").unwrap_err();
        assert!(
            e.contains("unknown command `zzzzzz`") && e.contains("`quit`"),
            "{e}"
        );
    }

    #[test]
    fn completes_names() {
        assert_eq!(complete(":r"), vec!["run", "replay", "reload"]);
        assert_eq!(complete("p"), vec!["plugins"]);
        assert_eq!(complete(":").len(), COMMANDS.len());
        assert_eq!(complete(""), names().collect::<Vec<_>>());
        assert!(complete(":open x").is_empty());
        assert!(complete(":x").is_empty());
        for (n, _) in COMMANDS {
            assert_eq!(complete(n), vec![*n]);
        }
    }
}
