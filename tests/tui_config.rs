//! The user config (`config.toml`) and the command palette, headless. Every bad fixture in
//! tests/fixtures/config yields its expected message at its expected 1-based line:column;
//! every good one loads, and its bindings leave no two actions on one key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use panther::diag::Diagnostic;
use panther::tui::config::{self, Bound, Key, KeySpec, UserConfig, effective_bindings, parse_key};
use panther::tui::keys::{self, Context};
use panther::tui::palette::{self, COMMANDS, Command};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name)
}

fn fixtures(prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture(""))
        .expect("fixture dir")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .filter(|n| n.starts_with(prefix) && n.ends_with(".toml"))
        .collect();
    names.sort();
    names
}

fn load_ok(name: &str) -> UserConfig {
    config::load(&fixture(name)).unwrap_or_else(|d| panic!("{name}: {d:#?}"))
}

fn load_err(name: &str) -> Vec<Diagnostic> {
    match config::load(&fixture(name)) {
        Ok(c) => panic!("{name}: expected an error, loaded {c:#?}"),
        Err(d) => d,
    }
}

/// (fixture, line, column, message contains, expected/help contains)
const BAD: &[(&str, u32, u32, &str, &str)] = &[
    (
        "bad_unknown_top.toml",
        2,
        1,
        "unknown key `themes`",
        "did you mean `theme`?",
    ),
    (
        "bad_snake_case.toml",
        2,
        1,
        "unknown key `plugin_dirs`",
        "did you mean `plugin-dirs`?",
    ),
    (
        "bad_wrong_type.toml",
        1,
        9,
        "wrong type for `theme`: found integer `3`",
        "a string",
    ),
    (
        "bad_plugin_dirs_type.toml",
        1,
        15,
        "wrong type for `plugin-dirs`: found string",
        "a sequence",
    ),
    (
        "bad_keys_type.toml",
        2,
        8,
        "wrong type for `quit`: found integer `7`",
        "a string",
    ),
    (
        "bad_theme_name.toml",
        2,
        9,
        "`my theme/dark` is not a theme name",
        "letters, digits",
    ),
    (
        "bad_unknown_action.toml",
        3,
        3,
        "unknown action `fliter`",
        "did you mean `filter`?",
    ),
    (
        "bad_key_spec.toml",
        2,
        8,
        "bad key `ctrl-` for `quit`: nothing after `ctrl-`",
        "`ctrl-c`",
    ),
    (
        "bad_key_name.toml",
        3,
        10,
        "unknown key name `escpe`; did you mean `escape`?",
        "`esc`",
    ),
    (
        "bad_clash_default.toml",
        4,
        8,
        "key `j` is bound to both `down` (default) and `quit` (line 4)",
        "bind `down` to another key too",
    ),
    (
        "bad_clash_two.toml",
        3,
        10,
        "key `x` is bound to both `help` (line 2) and `filter` (line 3)",
        "give each action its own key",
    ),
    (
        "bad_clash_alternate.toml",
        2,
        6,
        "key `down` is bound to both `down` (default) and `up` (line 2)",
        "one action per key",
    ),
    (
        "bad_duplicate.toml",
        4,
        1,
        "duplicate key `quit`",
        "first set on line 2",
    ),
    (
        "bad_syntax.toml",
        1,
        14,
        "invalid TOML: invalid basic string",
        "`\"`",
    ),
];

#[test]
fn bad_configs_are_reported_at_their_position() {
    for (name, line, col, msg, hint) in BAD {
        let all = load_err(name);
        // `x` is also the sequence view's cancel-run: that clash is reported too.
        let n = if *name == "bad_clash_two.toml" { 2 } else { 1 };
        assert_eq!(all.len(), n, "{name}: {n} problem(s) expected: {all:#?}");
        let d = all
            .iter()
            .find(|d| d.message.contains(msg))
            .unwrap_or(&all[0]);
        assert!(d.is_error(), "{name}: {d}");
        assert!(d.file.ends_with(name), "{name}: file is {}", d.file);
        assert_eq!((d.line, d.column), (*line, *col), "{name}: {d}");
        assert!(d.message.contains(msg), "{name}: message: {d}");
        let extra = format!(
            "{} {}",
            d.expected.as_deref().unwrap_or(""),
            d.help.as_deref().unwrap_or("")
        );
        assert!(extra.contains(hint), "{name}: expected/help: {d}");
    }
}

#[test]
fn every_bad_fixture_has_a_case() {
    for n in fixtures("bad_") {
        assert!(
            BAD.iter().any(|(f, ..)| *f == n),
            "{n} has no expected message in BAD"
        );
    }
}

#[test]
fn good_configs_load_without_clashes() {
    let good = fixtures("good_");
    assert!(good.len() >= 3);
    for n in good {
        let c = load_ok(&n);
        let b = effective_bindings(&c).unwrap_or_else(|d| panic!("{n}: {d:#?}"));
        // In each context, over the keys that work there, no key does two things.
        for ctx in Context::ALL {
            let mut seen = BTreeMap::new();
            for x in b
                .iter()
                .filter(|x| x.ctx == ctx || ctx.takes_global() && x.ctx == Context::Global)
            {
                if let Some(prev) = seen.insert(x.key, x.action)
                    && prev != x.action
                {
                    panic!(
                        "{n}: `{}` on both `{prev}` and `{}` in {ctx:?}",
                        x.key, x.action
                    );
                }
            }
        }
        // Every action of every context keeps at least one key.
        for d in keys::DEFS {
            assert!(
                b.iter().any(|x| x.ctx == d.ctx && x.action == d.name),
                "{n}: `{}` of {:?} lost its keys",
                d.name,
                d.ctx
            );
        }
    }
}

/// The keys of an action on the plugins screen, or globally for the global ones.
fn keys_of(b: &[Bound], action: &str) -> Vec<String> {
    keys_in(b, Context::Plugins, action)
        .into_iter()
        .chain(keys_in(b, Context::Global, action))
        .collect()
}

fn keys_in(b: &[Bound], ctx: Context, action: &str) -> Vec<String> {
    b.iter()
        .filter(|x| x.ctx == ctx && x.action == action)
        .map(|x| x.key.to_string())
        .collect()
}

#[test]
fn empty_and_missing_files_are_the_defaults() {
    let empty = load_ok("good_empty.toml");
    assert_eq!(empty.theme, None);
    assert!(empty.plugin_dirs.is_empty() && empty.keys.is_empty());
    let missing = config::load(&fixture("does_not_exist.toml")).expect("missing = defaults");
    assert_eq!(missing.keys, empty.keys);
    let b = effective_bindings(&missing).expect("defaults do not clash");
    assert_eq!(keys_of(&b, "up"), ["k", "up"]);
    assert_eq!(keys_of(&b, "down"), ["j", "down"]);
    assert_eq!(keys_of(&b, "top"), ["g", "home"]);
    assert_eq!(keys_of(&b, "bottom"), ["G", "end"]);
    assert_eq!(keys_of(&b, "page-up"), ["pgup"]);
    assert_eq!(keys_of(&b, "page-down"), ["pgdn"]);
    assert_eq!(keys_of(&b, "filter"), ["/"]);
    assert_eq!(keys_of(&b, "cancel"), ["esc"]);
    assert_eq!(keys_of(&b, "help"), ["?"]);
    assert_eq!(keys_of(&b, "scroll-detail-down"), ["J"]);
    assert_eq!(keys_of(&b, "scroll-detail-up"), ["K"]);
    assert_eq!(keys_of(&b, "quit"), ["q", "ctrl-c"]);
    assert_eq!(keys_of(&b, "palette"), [":", "ctrl-p"]);
    assert_eq!(keys_in(&b, Context::Sequence, "next-match"), ["n"]);
    assert_eq!(keys_in(&b, Context::Editor, "insert"), ["i", "enter"]);
    assert_eq!(keys_in(&b, Context::Insert, "normal"), ["esc"]);
    // Same as UserConfig::default().
    assert_eq!(effective_bindings(&UserConfig::default()), Ok(b));
}

#[test]
fn full_example_is_kept() {
    let c = load_ok("good_full.toml");
    assert_eq!(c.theme.as_deref(), Some("dark"));
    let home = dirs::home_dir().expect("a home directory");
    assert_eq!(
        c.plugin_dirs,
        vec![
            home.join("my-plugins"),
            PathBuf::from("/opt/panther/plugins")
        ]
    );
    assert_eq!(c.keys.get("quit").map(String::as_str), Some("q"));
    assert_eq!(c.keys.len(), 6);
}

#[test]
fn overrides_replace_the_main_key_and_keep_alternates() {
    let b = effective_bindings(&load_ok("good_swap.toml")).expect("no clash");
    assert_eq!(keys_of(&b, "down"), ["n", "down"]);
    assert_eq!(keys_of(&b, "up"), ["e", "up"]);
    // A flat name reaches every context that has the action.
    for ctx in [
        Context::Runs,
        Context::Sequence,
        Context::Logs,
        Context::Editor,
        Context::Form,
    ] {
        assert_eq!(keys_in(&b, ctx, "down"), ["n", "down"], "{ctx:?}");
    }
    assert_eq!(keys_in(&b, Context::Sequence, "next-match"), ["ctrl-n"]);
    assert_eq!(keys_of(&b, "top"), ["k", "home"]);
    assert_eq!(keys_of(&b, "quit"), ["ctrl-q", "ctrl-c"]);
    assert_eq!(keys_of(&b, "help"), ["f1"]);
    let b = effective_bindings(&load_ok("good_exchange.toml")).expect("no clash");
    assert_eq!(keys_of(&b, "down"), ["k", "down"]);
    assert_eq!(keys_of(&b, "up"), ["j", "up"]);
}

#[test]
fn hand_built_config_clash_is_caught() {
    let mut c = UserConfig::default();
    c.keys.insert("palette".into(), "?".into());
    let d = effective_bindings(&c).expect_err("`?` is help's");
    assert!(
        d[0].message.contains("`help` (default) and `palette`"),
        "{}",
        d[0]
    );
    let mut c = UserConfig::default();
    c.keys.insert("qiut".into(), "x".into());
    let d = effective_bindings(&c).expect_err("no such action");
    assert_eq!(d[0].help.as_deref(), Some("did you mean `quit`?"));
}

#[test]
fn config_path_honours_the_environment() {
    assert_eq!(
        config::path_from_env(Some("/tmp/x.toml".into())),
        Some(PathBuf::from("/tmp/x.toml"))
    );
    let default = config::path_from_env(None).expect("a config dir");
    assert!(default.ends_with("panther/config.toml"), "{default:?}");
    assert_eq!(config::path_from_env(Some("".into())), Some(default));
}

fn ev(code: KeyCode, m: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, m)
}

#[test]
fn key_specs_parse_and_match_terminal_events() {
    let cases: &[(&str, KeyEvent)] = &[
        ("q", ev(KeyCode::Char('q'), KeyModifiers::NONE)),
        ("Q", ev(KeyCode::Char('Q'), KeyModifiers::SHIFT)),
        ("ctrl-c", ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        ("alt-x", ev(KeyCode::Char('x'), KeyModifiers::ALT)),
        ("f5", ev(KeyCode::F(5), KeyModifiers::NONE)),
        ("enter", ev(KeyCode::Enter, KeyModifiers::NONE)),
        ("esc", ev(KeyCode::Esc, KeyModifiers::NONE)),
        ("tab", ev(KeyCode::Tab, KeyModifiers::NONE)),
        ("up", ev(KeyCode::Up, KeyModifiers::NONE)),
        ("down", ev(KeyCode::Down, KeyModifiers::NONE)),
        ("pgup", ev(KeyCode::PageUp, KeyModifiers::NONE)),
        ("home", ev(KeyCode::Home, KeyModifiers::NONE)),
        ("space", ev(KeyCode::Char(' '), KeyModifiers::NONE)),
        ("/", ev(KeyCode::Char('/'), KeyModifiers::NONE)),
        // Some terminals report `?` with Shift, some without: both match.
        ("?", ev(KeyCode::Char('?'), KeyModifiers::SHIFT)),
        ("?", ev(KeyCode::Char('?'), KeyModifiers::NONE)),
    ];
    for (spec, event) in cases {
        let k = parse_key(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert!(k.matches(event), "{spec} should match {event:?}");
        assert_eq!(k.to_string(), *spec);
        assert_eq!(KeySpec::from_event(event), Some(k));
    }
    let q = parse_key("q").expect("q");
    assert!(!q.matches(&ev(KeyCode::Char('Q'), KeyModifiers::SHIFT)));
    assert!(!q.matches(&ev(KeyCode::Char('q'), KeyModifiers::CONTROL)));
    assert_eq!(parse_key("ctrl-c").map(|k| k.key), Ok(Key::Char('c')));
    assert!(parse_key("ctrl-c").expect("ok").ctrl);
    let back: KeyEvent = parse_key("ctrl-c").expect("ok").into();
    assert_eq!(back, ev(KeyCode::Char('c'), KeyModifiers::CONTROL));
}

#[test]
fn bad_key_specs_say_why() {
    for (spec, why) in [
        ("ctrl-", "nothing after `ctrl-`"),
        ("", "empty key"),
        ("f0", "expected `f1` to `f24`"),
        ("pgupp", "did you mean `pgup`?"),
        ("ctrl-ctrl-c", "given twice"),
        ("hyper-x", "unknown key name"),
        ("shift-1", "write the shifted character"),
    ] {
        let e = parse_key(spec).expect_err(spec);
        assert!(e.contains(why), "{spec:?}: {e}");
    }
}

#[test]
fn palette_parses_and_explains() {
    assert_eq!(palette::parse(":quit"), Ok(Command::Quit));
    assert_eq!(palette::parse(":run"), Ok(Command::Run));
    assert_eq!(palette::parse(":plugins"), Ok(Command::Plugins));
    assert_eq!(palette::parse(":help"), Ok(Command::Help));
    assert_eq!(
        palette::parse(":open experiments/minip.yaml"),
        Ok(Command::Open(PathBuf::from("experiments/minip.yaml")))
    );
    assert_eq!(
        palette::parse(":replay outputs/run1"),
        Ok(Command::Replay(PathBuf::from("outputs/run1")))
    );
    assert_eq!(
        palette::parse(":theme light"),
        Ok(Command::Theme("light".into()))
    );
    let e = palette::parse(":qiut").expect_err("typo");
    assert!(e.contains("did you mean `quit`?"), "{e}");
    let e = palette::parse(":open").expect_err("no file");
    assert!(e.contains("`open` needs a file"), "{e}");
    assert_eq!(palette::complete(":pl"), vec!["plugins"]);
    assert_eq!(palette::complete(":re"), vec!["replay", "reload"]);
    assert_eq!(palette::complete("").len(), COMMANDS.len());
    for (name, help) in COMMANDS {
        assert!(!help.is_empty());
        // Every listed command parses, given an argument when it needs one.
        let ok = palette::parse(name).or_else(|_| palette::parse(&format!("{name} x")));
        assert!(ok.is_ok(), "{name}: {ok:?}");
    }
}

#[test]
fn clashes_are_refused_per_context_and_name_the_context() {
    // `down = "n"` alone: `n` is the sequence view's next match.
    let d = config::parse_str("[keys]\ndown = \"n\"\n", "c.toml").expect_err("clash");
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(
        d[0].message
            .contains("key `n` is bound to both `next-match` (default) and `down` (line 2) in the sequence view"),
        "{}",
        d[0]
    );
    assert_eq!((d[0].line, d[0].column), (2, 8));
    // The same key in two contexts that never share keys is fine.
    let c = config::parse_str("[keys]\n\"sequence.time\" = \"u\"\n", "c.toml").expect("no clash");
    let b = effective_bindings(&c).unwrap();
    assert_eq!(keys_in(&b, Context::Sequence, "time"), ["u"]);
    assert_eq!(keys_in(&b, Context::Editor, "undo"), ["u", "ctrl-z"]);
    // A context's action only: the other contexts keep their defaults.
    let c = config::parse_str("[keys]\n\"form.down\" = \"n\"\n", "c.toml").expect("no clash");
    let b = effective_bindings(&c).unwrap();
    assert_eq!(keys_in(&b, Context::Form, "down"), ["n", "down"]);
    assert_eq!(keys_in(&b, Context::Plugins, "down"), ["j", "down"]);
    // A global key taken by a screen's action is refused there.
    let d = config::parse_str("[keys]\nlogs = \"q\"\n", "c.toml").expect_err("q quits");
    assert!(
        d[0].message
            .contains("`quit` (default) and `logs` (line 2)"),
        "{}",
        d[0]
    );
    // Unknown context-qualified names get a suggestion.
    let d = config::parse_str("[keys]\n\"sequense.down\" = \"n\"\n", "c.toml").expect_err("typo");
    assert_eq!(
        d[0].help.as_deref(),
        Some("did you mean `sequence.down`?"),
        "{}",
        d[0]
    );
}

/// The README's own `config.toml` example loads, and its bindings are what the help shows.
#[test]
fn the_readmes_config_example_loads_and_reaches_every_screen() {
    let readme = include_str!("../README.md");
    let at = readme
        .find("## Configuration")
        .expect("a Configuration section");
    let block = &readme[at..];
    let start = block.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = start + block[start..].find("```").unwrap();
    let cfg = config::parse_str(&block[start..end], "README.md").unwrap_or_else(|d| {
        panic!(
            "{}",
            d.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    let km = panther::tui::keymap::Keymap::from_config(&cfg).unwrap();
    for ctx in [
        Context::Plugins,
        Context::Runs,
        Context::Sequence,
        Context::Editor,
        Context::Form,
    ] {
        assert_eq!(km.first(ctx, "down"), "n", "{ctx:?}");
    }
    assert_eq!(km.first(Context::Form, "add-service"), "+");
}

#[test]
fn a_config_that_is_a_fifo_or_a_device_is_refused_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("config.toml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    // No writer ever opens the FIFO: a blocking read would hang here.
    let e = config::load(&fifo).unwrap_err();
    assert!(e[0].message.contains("regular file"), "{}", e[0].message);
    let e = config::load(Path::new("/dev/zero")).unwrap_err();
    assert!(!e.is_empty());
}
