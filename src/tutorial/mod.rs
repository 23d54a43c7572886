//! Interactive tutorials, headless: a tutorial is a list of steps, each finished by a check
//! against what the user actually did (the app's state as observed after each action), with
//! a hint after a while. Progress is saved so a tutorial can be resumed. The workbench shows
//! the current step in a panel and feeds [`Observed`] after every action; `panther tutorial`
//! lists them and opens one.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::verdict::Verdict;

/// The bundled tutorials.
pub const BUNDLED: &[&str] = &[
    include_str!("../../tutorials/first_run.yaml"),
    include_str!("../../tutorials/build_with_the_form.yaml"),
    include_str!("../../tutorials/find_the_bug.yaml"),
    include_str!("../../tutorials/write_a_service_plugin.yaml"),
    include_str!("../../tutorials/write_an_environment_plugin.yaml"),
    include_str!("../../tutorials/write_a_protocol_plugin.yaml"),
    include_str!("../../tutorials/configuration.yaml"),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tutorial {
    pub name: String,
    pub title: String,
    pub summary: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub title: String,
    pub text: String,
    /// The screen element to draw attention to.
    #[serde(default)]
    pub highlight: Option<String>,
    pub check: Check,
    #[serde(default)]
    pub hint: Option<String>,
    #[serde(default)]
    pub hint_after_s: Option<u64>,
}

/// What finishes a step.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// The named screen is showing (plugins, runs, experiment, sequence), or the named
    /// overlay is open over it (help, detail, logs, tutorials).
    Screen(String),
    /// This plugin is selected in the browser.
    PluginSelected(String),
    /// The open experiment validates (or, with false, has errors).
    ExperimentValid(bool),
    /// The open experiment validates and names this plugin (an implementation, an
    /// environment or a protocol).
    ExperimentUses(String),
    /// A run finished with this verdict (for this test, and using this plugin, if given).
    RunFinished(RunCheck),
    /// A file exists and validates (a manifest or an experiment). A path starting with
    /// `plugins/` means the user's plugins folder (where `--create-plugin` writes), so a
    /// tutorial names the file the way PANTHER's tree does.
    FileValidates(PathBuf),
    /// The workbench has this plugin loaded (after `:create` or `:reload`), with this
    /// property declared when one is given (protocols).
    PluginLoaded(PluginCheck),
    /// A palette command was used (`theme`, `open`, …).
    Command(String),
    /// The colour theme in use.
    Theme(String),
    /// The config file was read by the last `:reload` (or at start) and sets what is given.
    ConfigLoaded(ConfigCheck),
    /// Every one of these holds at once.
    All(Vec<Check>),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunCheck {
    pub verdict: Verdict,
    #[serde(default)]
    pub test: Option<String>,
    /// A plugin the test used: an implementation, an environment or a protocol.
    #[serde(default)]
    pub uses: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginCheck {
    pub name: String,
    #[serde(default)]
    pub property: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigCheck {
    #[serde(default)]
    pub theme: Option<String>,
    /// An action the config's `[keys]` table binds.
    #[serde(default)]
    pub key: Option<String>,
}

/// A test of a run launched from the workbench that finished.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub test: String,
    pub verdict: Verdict,
    /// The plugins the test used (implementations, environments, protocols).
    pub plugins: Vec<String>,
}

/// The user's config as last read: its theme and the actions its `[keys]` bind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigSeen {
    pub theme: Option<String>,
    pub keys: Vec<String>,
}

/// What the app looks like after an action, as far as checks care.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub screen: String,
    /// Overlays open over the screen: `help`, `detail` (an event's detail), `logs`.
    pub overlays: Vec<String>,
    pub selected_plugin: Option<String>,
    pub experiment_valid: Option<bool>,
    /// The plugins the open experiment names, when it validates.
    pub experiment_uses: Vec<String>,
    pub finished: Vec<Finished>,
    pub commands: Vec<String>,
    pub theme: String,
    /// The config file, when one was read without errors.
    pub config: Option<ConfigSeen>,
    /// Where the user's plugins live (`plugins/…` paths in checks resolve here).
    pub plugin_home: Option<PathBuf>,
}

impl Check {
    /// Whether the check holds; `reg` is the app's registry: files are validated against the
    /// plugins already loaded (no rescan of the plugin folders on every action).
    pub fn holds(&self, o: &Observed, reg: &crate::plugin::Registry) -> bool {
        match self {
            Check::Screen(s) => o.screen == *s || o.overlays.contains(s),
            Check::PluginSelected(p) => o.selected_plugin.as_deref() == Some(p.as_str()),
            Check::ExperimentValid(v) => o.experiment_valid == Some(*v),
            Check::ExperimentUses(p) => o.experiment_uses.contains(p),
            Check::RunFinished(r) => o.finished.iter().any(|f| {
                f.verdict == r.verdict
                    && r.test.as_ref().is_none_or(|want| *want == f.test)
                    && r.uses.as_ref().is_none_or(|p| f.plugins.contains(p))
            }),
            Check::FileValidates(p) => file_validates(&resolve(p, o), reg),
            Check::PluginLoaded(c) => reg.plugins().iter().any(|p| {
                p.name() == c.name
                    && c.property.as_ref().is_none_or(|want| {
                        p.manifest
                            .protocol
                            .as_ref()
                            .is_some_and(|s| s.properties.iter().any(|x| x.name == *want))
                    })
            }),
            Check::Command(c) => o.commands.iter().any(|x| x == c),
            Check::Theme(t) => o.theme == *t,
            Check::ConfigLoaded(c) => o.config.as_ref().is_some_and(|seen| {
                c.theme
                    .as_ref()
                    .is_none_or(|t| seen.theme.as_ref() == Some(t))
                    && c.key.as_ref().is_none_or(|k| seen.keys.contains(k))
            }),
            Check::All(all) => all.iter().all(|c| c.holds(o, reg)),
        }
    }
}

/// `plugins/…` is the user's plugins folder; `~/` the home folder; anything else as given.
pub fn resolve(p: &std::path::Path, o: &Observed) -> PathBuf {
    if let (Ok(rest), Some(home)) = (p.strip_prefix("plugins"), &o.plugin_home) {
        return home.join(rest);
    }
    if let (Ok(rest), Some(home)) = (p.strip_prefix("~"), dirs::home_dir()) {
        return home.join(rest);
    }
    p.to_path_buf()
}

/// A plugin manifest (`plugin.yaml`) or an experiment that loads without errors.
fn file_validates(p: &std::path::Path, reg: &crate::plugin::Registry) -> bool {
    let Ok(text) =
        crate::plugin::loader::read_text_limited(p, crate::yaml::Limits::default().max_bytes)
    else {
        return false;
    };
    let file = p.display().to_string();
    if p.file_name()
        .is_some_and(|n| n == crate::plugin::loader::MANIFEST_FILE)
    {
        return crate::plugin::loader::load_manifest(&text, &file).is_ok();
    }
    crate::experiment::load_str(&text, &file, reg).is_ok()
}

/// Parses a tutorial file, with file:line:column on mistakes.
pub fn parse(text: &str, file: &str) -> Result<Tutorial, crate::diag::Diagnostic> {
    let root = crate::yaml::parse(text, crate::yaml::Limits::default())
        .map_err(|e| crate::diag::Diagnostic::error(file, e.span, e.message).help_opt(e.help))?;
    let t: Tutorial = crate::yaml::from_node(&root).map_err(|e| {
        let mut d = crate::diag::Diagnostic::error(
            file,
            e.span.unwrap_or(crate::yaml::Span::START),
            e.message,
        )
        .help_opt(e.help);
        d.expected = e.expected;
        d
    })?;
    // What serde cannot say: a name `tutorial run` can take, and something to do.
    let at = |key: &str| {
        root.get(key)
            .map(|n| n.span)
            .unwrap_or(crate::yaml::Span::START)
    };
    if !crate::plugin::check::valid_name(&t.name) {
        return Err(crate::diag::Diagnostic::error(
            file,
            at("name"),
            format!(
                "`{}` is not a tutorial name: use a lowercase identifier (a-z, 0-9, _)",
                t.name
            ),
        ));
    }
    if t.steps.is_empty() {
        return Err(crate::diag::Diagnostic::error(
            file,
            at("steps"),
            "a tutorial needs at least one step",
        ));
    }
    let steps = root.get("steps").and_then(|n| n.as_seq()).unwrap_or(&[]);
    for (i, step) in t.steps.iter().enumerate() {
        if let Some(bad) = unknown_screen(&step.check) {
            let span = steps
                .get(i)
                .and_then(|n| n.get("check"))
                .map_or(at("steps"), |n| n.span);
            let mut d = crate::diag::Diagnostic::error(
                file,
                span,
                format!("`{bad}` is not a screen or an overlay of the workbench"),
            )
            .help_opt(crate::suggest::did_you_mean(bad, SCREENS.iter().copied()));
            d.expected = Some(format!("one of {}", SCREENS.join(", ")));
            return Err(d);
        }
    }
    Ok(t)
}

/// What a `screen:` check can name: the workbench's screens, then the overlays.
pub const SCREENS: &[&str] = &[
    "plugins",
    "runs",
    "experiment",
    "sequence",
    "matrix",
    "help",
    "detail",
    "logs",
    "tutorials",
];

fn unknown_screen(c: &Check) -> Option<&str> {
    match c {
        Check::Screen(s) if !SCREENS.contains(&s.as_str()) => Some(s),
        Check::All(all) => all.iter().find_map(unknown_screen),
        _ => None,
    }
}

pub fn bundled() -> Vec<Tutorial> {
    BUNDLED
        .iter()
        .map(|t| parse(t, "tutorials").expect("bundled tutorials are valid"))
        .collect()
}

/// Your own tutorials: `~/.config/panther/tutorials/*.yaml`.
pub fn user_dir() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("panther").join("tutorials"))
}

/// The bundled tutorials, then the `*.yaml` files of `dir` in name order. A user tutorial
/// with a bundled one's name replaces it (as user themes do). A file that does not load is
/// a diagnostic; the others still load.
pub fn load_all(dir: Option<&std::path::Path>) -> (Vec<Tutorial>, Vec<crate::diag::Diagnostic>) {
    let mut all = bundled();
    let mut diags = Vec::new();
    let Some(entries) = dir.and_then(|d| std::fs::read_dir(d).ok()) else {
        return (all, diags);
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    for f in files {
        let file = f.display().to_string();
        let loaded =
            crate::plugin::loader::read_limited(&f, crate::yaml::Limits::default().max_bytes)
                .map_err(|e| e.into_diagnostic(&file))
                .and_then(|text| parse(&text, &file));
        match loaded {
            Ok(t) => match all.iter_mut().find(|x| x.name == t.name) {
                Some(x) => *x = t,
                None => all.push(t),
            },
            Err(d) => diags.push(d),
        }
    }
    (all, diags)
}

/// The tutorial about writing a plugin of this category (`services/iut`, `protocols/…`), as
/// the category's `plugins/<category>/tutorials/README.md` names it.
pub fn for_category(category: &str) -> Option<&'static str> {
    match category.split('/').next()? {
        "services" => Some("write_a_service_plugin"),
        "environments" => Some("write_an_environment_plugin"),
        "protocols" => Some("write_a_protocol_plugin"),
        _ => None,
    }
}

/// The bundled tutorial called `name`.
pub fn find(name: &str) -> Option<Tutorial> {
    bundled().into_iter().find(|t| t.name == name)
}

/// `no tutorial named X; did you mean Y?`, or the list when nothing is close.
pub fn unknown(name: &str, all: &[Tutorial]) -> String {
    let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
    let help = crate::suggest::did_you_mean(name, names.iter().copied())
        .map(|h| format!("; {h}"))
        .unwrap_or_else(|| format!("; tutorials: {}", names.join(", ")));
    format!("no tutorial named `{name}`{help}")
}

/// Where to resume `t` given the saved progress: its next step, or the start again once
/// it was finished.
pub fn resume_step(t: &Tutorial, progress: &std::collections::BTreeMap<String, usize>) -> usize {
    match progress.get(&t.name) {
        Some(&n) if n < t.steps.len() => n,
        _ => 0,
    }
}

/// One tutorial being followed.
#[derive(Debug)]
pub struct Session {
    pub tutorial: Tutorial,
    pub step: usize,
    step_started: Instant,
}

impl Session {
    pub fn new(tutorial: Tutorial, step: usize) -> Self {
        let step = step.min(tutorial.steps.len());
        Session {
            tutorial,
            step,
            step_started: Instant::now(),
        }
    }

    pub fn current(&self) -> Option<&Step> {
        self.tutorial.steps.get(self.step)
    }

    pub fn done(&self) -> bool {
        self.step >= self.tutorial.steps.len()
    }

    /// Checks the current step against what the app looks like now; advances through every
    /// step that holds. Returns how many steps were completed.
    pub fn observe(&mut self, o: &Observed, reg: &crate::plugin::Registry) -> usize {
        let mut n = 0;
        while let Some(s) = self.current() {
            if !s.check.holds(o, reg) {
                break;
            }
            self.step += 1;
            self.step_started = Instant::now();
            n += 1;
        }
        n
    }

    /// The current step's hint, once its delay has passed.
    pub fn hint(&self, now: Instant) -> Option<&str> {
        let s = self.current()?;
        let after = Duration::from_secs(s.hint_after_s.unwrap_or(30));
        (now.duration_since(self.step_started) >= after)
            .then_some(s.hint.as_deref())
            .flatten()
    }
}

/// Where progress is kept: `~/.local/state/panther/tutorials.json` (name → next step).
pub fn progress_file() -> Option<PathBuf> {
    let base = dirs::state_dir().or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))?;
    Some(base.join("panther").join("tutorials.json"))
}

pub fn load_progress(file: &std::path::Path) -> std::collections::BTreeMap<String, usize> {
    crate::plugin::loader::read_text_limited(file, 1 << 20)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

pub fn save_progress(file: &std::path::Path, name: &str, step: usize) -> std::io::Result<()> {
    let mut all = load_progress(file);
    all.insert(name.to_string(), step);
    if let Some(d) = file.parent() {
        std::fs::create_dir_all(d)?;
    }
    let json = serde_json::to_string_pretty(&all).map_err(std::io::Error::other)?;
    crate::results::atomic::write(file, json.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> crate::plugin::Registry {
        crate::plugin::Registry::default()
    }

    fn obs(screen: &str) -> Observed {
        Observed {
            screen: screen.into(),
            ..Default::default()
        }
    }

    #[test]
    fn first_run_completes_on_what_the_user_does() {
        let t = bundled()
            .into_iter()
            .find(|t| t.name == "first_run")
            .unwrap();
        let mut s = Session::new(t, 0);
        assert_eq!(s.observe(&obs("plugins"), &reg()), 0);
        let mut o = obs("experiment");
        assert_eq!(s.observe(&o, &reg()), 1, "on the experiment screen");
        o.experiment_valid = Some(true);
        assert_eq!(s.observe(&o, &reg()), 1, "valid");
        o.screen = "sequence".into();
        o.finished.push(Finished {
            test: "minip_quickstart".into(),
            verdict: Verdict::Fail,
            plugins: vec![],
        });
        assert_eq!(s.observe(&o, &reg()), 0, "a failed run does not count");
        o.finished.push(Finished {
            test: "minip_quickstart".into(),
            verdict: Verdict::Pass,
            plugins: vec![],
        });
        assert_eq!(s.observe(&o, &reg()), 1, "run passed");
        o.overlays.push("detail".into());
        assert_eq!(s.observe(&o, &reg()), 1, "an event's detail is open");
        assert!(s.done());
    }

    /// The `tutorials/` folders of the plugin categories point at the tutorial the browser
    /// names for that category, and it exists.
    #[test]
    fn plugin_categories_point_at_their_tutorials() {
        for cat in ["services", "environments", "protocols"] {
            let t = for_category(&format!("{cat}/x")).unwrap();
            assert!(find(t).is_some(), "{t}");
            let readme = std::fs::read_to_string(format!(
                "{}/plugins/{cat}/tutorials/README.md",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            assert!(
                readme.contains(&format!("panther tutorial run {t}")),
                "{cat}"
            );
            assert!(readme.contains(&format!(":tutor {t}")), "{cat}");
        }
    }

    #[test]
    fn checks_on_plugins_config_and_combinations() {
        let home = std::path::PathBuf::from("/home/u/.config/panther/plugins");
        let o = Observed {
            plugin_home: Some(home.clone()),
            experiment_uses: vec!["my_iut".into()],
            finished: vec![Finished {
                test: "t".into(),
                verdict: Verdict::Pass,
                plugins: vec!["my_nice".into()],
            }],
            theme: "light".into(),
            config: Some(ConfigSeen {
                theme: Some("light".into()),
                keys: vec!["down".into()],
            }),
            ..Default::default()
        };
        assert_eq!(
            resolve(std::path::Path::new("plugins/services/x/plugin.yaml"), &o),
            home.join("services/x/plugin.yaml")
        );
        assert_eq!(
            resolve(std::path::Path::new("experiments/q.yaml"), &o),
            std::path::PathBuf::from("experiments/q.yaml")
        );
        let c = |y: &str| -> Check {
            crate::yaml::from_node(&crate::yaml::parse(y, Default::default()).unwrap()).unwrap()
        };
        let r = reg();
        assert!(c("{experiment_uses: my_iut}").holds(&o, &r));
        assert!(!c("{experiment_uses: ping_pong}").holds(&o, &r));
        assert!(c("{run_finished: {verdict: pass, uses: my_nice}}").holds(&o, &r));
        assert!(!c("{run_finished: {verdict: pass, uses: my_iut}}").holds(&o, &r));
        assert!(c("{config_loaded: {theme: light, key: down}}").holds(&o, &r));
        assert!(!c("{config_loaded: {key: up}}").holds(&o, &r));
        assert!(c("{all: [{theme: light}, {experiment_uses: my_iut}]}").holds(&o, &r));
        assert!(!c("{all: [{theme: dark}, {experiment_uses: my_iut}]}").holds(&o, &r));
        assert!(
            !c("{plugin_loaded: {name: ping_pong}}").holds(&o, &r),
            "empty registry"
        );
        assert!(!c("{file_validates: plugins/nothing/plugin.yaml}").holds(&o, &r));
        let no_config = Observed::default();
        assert!(!c("{config_loaded: {}}").holds(&no_config, &r));
    }

    #[test]
    fn hints_come_after_their_delay_and_progress_is_saved() {
        let t = bundled().remove(0);
        let mut s = Session::new(t, 1);
        assert_eq!(s.hint(Instant::now()), None);
        assert!(s.hint(Instant::now() + Duration::from_secs(31)).is_some());
        s.observe(
            &Observed {
                experiment_valid: Some(true),
                ..Default::default()
            },
            &reg(),
        );
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("state/tutorials.json");
        save_progress(&f, "first_run", s.step).unwrap();
        assert_eq!(load_progress(&f).get("first_run"), Some(&2));
    }

    #[test]
    fn user_tutorials_load_beside_the_bundled_and_a_broken_one_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let ok = "name: mine\ntitle: Mine\nsummary: s\nsteps:\n  - title: a\n    text: b\n    check: {screen: runs}\n";
        let nowhere = ok.replace("screen: runs", "screen: nowhere");
        let e = parse(&nowhere, "t.yaml").unwrap_err();
        assert!(
            e.message.contains("`nowhere` is not a screen"),
            "{}",
            e.message
        );
        assert_eq!(e.line, 7, "at the step's check");
        std::fs::write(dir.path().join("a_mine.yaml"), ok).unwrap();
        std::fs::write(
            dir.path().join("b_broken.yaml"),
            "name: Broken One\ntitle: t\nsummary: s\nsteps: []\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("c_empty.yaml"),
            "name: empty\ntitle: t\nsummary: s\nsteps: []\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("first_run.yaml"),
            ok.replace("name: mine", "name: first_run"),
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a tutorial").unwrap();
        let (all, diags) = load_all(Some(dir.path()));
        assert_eq!(all.len(), BUNDLED.len() + 1);
        assert!(all.iter().any(|t| t.name == "mine"));
        let first = all.iter().find(|t| t.name == "first_run").unwrap();
        assert_eq!(
            first.title, "Mine",
            "the user's copy replaces the bundled one"
        );
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert!(
            diags[0].to_string().contains("b_broken.yaml:1:7"),
            "{}",
            diags[0]
        );
        assert!(diags[0].message.contains("not a tutorial name"));
        assert!(
            diags[1].to_string().contains("c_empty.yaml:4:8"),
            "{}",
            diags[1]
        );
        assert!(unknown("mien", &all).contains("did you mean `mine`?"));
    }

    /// The example in tutorials/README.md is a tutorial that loads.
    #[test]
    fn the_readme_example_loads() {
        let readme = include_str!("../../tutorials/README.md");
        let start = readme.find("```yaml\n").expect("an example") + 8;
        let len = readme[start..].find("```").unwrap();
        let t = parse(&readme[start..start + len], "tutorials/README.md").unwrap();
        assert_eq!(t.steps.len(), 2);
    }

    #[test]
    fn a_bad_tutorial_is_located() {
        let d = parse("name: x\ntitle: t\nsummary: s\nsteps:\n  - title: a\n    text: b\n    check: {screan: plugins}\n", "t.yaml").unwrap_err();
        assert_eq!(d.line, 7, "{d}");
        assert!(
            d.help
                .as_deref()
                .unwrap_or("")
                .contains("did you mean `screen`?"),
            "{d}"
        );
    }
}
