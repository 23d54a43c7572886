//! The plugins and runs screens: the plugin tree under the filter, moving through the lists, clicks, installs.

use super::*;
use crate::cli::as_root;

impl App {
    /// The browser's plugins (by name) and the registry's problems, one line each.
    pub(super) fn browse(reg: &Registry) -> (Vec<Plugin>, Vec<String>) {
        let mut plugins: Vec<Plugin> = reg.plugins().to_vec();
        plugins.sort_by(|a, b| a.name().cmp(b.name()));
        let problems = reg
            .diagnostics
            .iter()
            .map(|d| d.to_string().lines().next().unwrap_or("").to_string())
            .collect();
        (plugins, problems)
    }

    pub(super) fn matches(&self, p: &Plugin) -> bool {
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
    pub(super) fn rebuild_tree(&mut self) {
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

    pub(super) fn first_plugin_row(&self) -> Option<usize> {
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
    pub(super) fn step(&mut self, delta: isize) {
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

    pub(super) fn page(&self) -> isize {
        (self.size.1 as isize - 6).max(1)
    }

    /// Re-reads the results folders (on entering the runs screen).
    pub fn refresh_runs(&mut self) {
        let f = self.runs_filter.to_lowercase();
        self.runs = history::list(&self.outputs)
            .into_iter()
            .filter(|r| {
                let verdict = r.state().to_string();
                [r.experiment.to_lowercase(), r.when.clone(), verdict]
                    .iter()
                    .any(|s| s.contains(&f))
            })
            .collect();
        self.run_selected = self.run_selected.min(self.runs.len().saturating_sub(1));
    }

    pub fn selected_run(&self) -> Option<&PastRun> {
        self.runs.get(self.run_selected)
    }

    pub(super) fn move_by(&mut self, delta: isize) {
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
            // The editor and the sequence view move their own cursors.
            Screen::Editor | Screen::Sequence | Screen::Matrix => {}
        }
    }

    /// Selects the list row under a click (bordered list: rows start one line in; the list
    /// scrolls so the selection is visible, as ratatui's `List` does from offset 0).
    pub(super) fn click(&mut self, col: u16, row: u16) {
        if self.screen == Screen::Sequence {
            if let Some(s) = self.sequence.as_mut() {
                s.click(col, row);
            }
            return;
        }
        let Some((x, y, w, h)) = self.list_area.get() else {
            return;
        };
        if col < x || col >= x + w || row <= y || row + 1 >= y + h {
            return;
        }
        let inner = h.saturating_sub(2) as usize;
        let line = (row - y - 1) as usize;
        match self.screen {
            Screen::Plugins => {
                let offset = (self.selected + 1).saturating_sub(inner);
                if let Some(TreeRow::Plugin(_)) = self.tree.get(offset + line) {
                    self.selected = offset + line;
                    self.detail_scroll = 0;
                }
            }
            Screen::History => {
                let offset = (self.run_selected + 1).saturating_sub(inner);
                if offset + line < self.runs.len() {
                    self.run_selected = offset + line;
                    self.detail_scroll = 0;
                }
            }
            _ => {}
        }
    }

    /// Enter on the runs screen: the selected run in the sequence view.
    pub(super) fn open_run(&mut self) {
        let Some(r) = self.selected_run() else {
            return;
        };
        match SequenceScreen::open(&r.dir.clone()) {
            Ok(s) => {
                self.show_sequence(s);
            }
            Err(e) => self.message = Some(e),
        }
    }

    /// A key while the plugins filter is typed.
    pub(super) fn filter_action(&mut self, a: Action) -> Vec<Effect> {
        let runs = self.screen == Screen::History;
        let f = if runs {
            &mut self.runs_filter
        } else {
            &mut self.filter
        };
        match a {
            Action::FilterChar(c) => f.push(c),
            Action::FilterBackspace => {
                f.pop();
            }
            Action::FilterAccept => self.typing_filter = false,
            Action::Cancel => {
                self.typing_filter = false;
                f.clear();
            }
            Action::Resize(w, h) => self.size = (w, h),
            Action::Quit => return self.guard(Pending::Quit),
            _ => {}
        }
        if runs {
            self.refresh_runs();
        } else {
            self.rebuild_tree();
        }
        Vec::new()
    }

    /// The filter of the screen shown.
    pub fn screen_filter(&self) -> &str {
        if self.screen == Screen::History {
            &self.runs_filter
        } else {
            &self.filter
        }
    }

    /// `i` on a plugin: its install commands, waiting for a yes.
    pub(super) fn ask_install(&mut self) {
        match self.selected_plugin() {
            Some(p) if p.availability.reason().is_some() && !p.manifest.install.is_empty() => {
                let here = as_root::Privilege::here();
                let fresh = as_root::apt_lists_fresh(
                    std::path::Path::new(as_root::APT_LISTS),
                    std::time::SystemTime::now(),
                );
                match install_plan(p, here, fresh) {
                    Ok(cmds) => self.confirm_install = Some((p.name().to_string(), cmds)),
                    Err(e) => self.message = Some(e),
                }
            }
            Some(p) if p.availability.reason().is_some() => {
                self.message = Some(format!(
                    "{} has no install recipe; see its README",
                    p.name()
                ))
            }
            Some(p) => match self.image_build(p) {
                // Available, and it runs in a container on docker_compose: `i` builds its image
                // (what `panther images build` does), so the first docker run does not wait.
                Some(cmd) => self.confirm_install = Some((p.name().to_string(), vec![cmd])),
                None => self.message = Some(format!("{} is already available", p.name())),
            },
            None => {}
        }
    }

    /// `panther images build [PLUGIN]` for a plugin that has a Docker image (every image for
    /// the docker_compose environment itself).
    fn image_build(&self, p: &Plugin) -> Option<Vec<String>> {
        let panther = self
            .panther_exe
            .clone()
            .or_else(|| std::env::current_exe().ok())?
            .display()
            .to_string();
        let mut cmd = vec![panther, "images".to_string(), "build".to_string()];
        if p.manifest
            .network
            .as_ref()
            .is_some_and(|n| n.driver == "docker_compose")
        {
            return Some(cmd);
        }
        crate::env::network::docker::images::dockerfile_of(p)?;
        cmd.push(p.name().to_string());
        Some(cmd)
    }

    /// y / n to the install question.
    pub(super) fn answer_install(&mut self, yes: bool) -> Vec<Effect> {
        if let Some((plugin, commands)) = self.confirm_install.take() {
            if yes {
                self.installing = Some(Installing {
                    plugin: plugin.clone(),
                    step: 1,
                    steps: commands.len(),
                    lines: vec![format!("$ {}", commands[0].join(" "))],
                });
                return vec![Effect::Install { plugin, commands }];
            }
            self.message = Some("nothing installed".into());
        }
        Vec::new()
    }

    /// A line of an install's output: kept (the last [`Installing::KEPT`]) and shown.
    pub(super) fn install_output(
        &mut self,
        plugin: String,
        step: usize,
        steps: usize,
        line: String,
    ) {
        let i = self.installing.get_or_insert_with(|| Installing {
            plugin,
            step,
            steps,
            lines: Vec::new(),
        });
        i.step = step;
        i.steps = steps;
        i.lines.push(line);
        let extra = i.lines.len().saturating_sub(Installing::KEPT);
        i.lines.drain(..extra);
    }

    /// An install finished: the plugin's requirements checked again.
    pub(super) fn installed(&mut self, plugin: &str, outcome: Result<(), String>) {
        self.installing = None;
        let mut checker = crate::plugin::availability::Checker::new();
        if let Some(p) = self.plugins.iter_mut().find(|p| p.name() == plugin) {
            p.availability = match checker.check(&p.manifest) {
                None => crate::plugin::Availability::Available,
                Some(r) => crate::plugin::Availability::Unavailable(r),
            };
        }
        self.message = Some(match outcome {
            Ok(()) => format!("installed {plugin}"),
            Err(e) if e.contains("a password is required") => format!(
                "install of {plugin} failed: sudo needs a password the workbench cannot ask for; run `panther plugins install {plugin}` in a terminal"
            ),
            Err(e) => format!("install of {plugin} failed: {e}"),
        });
    }
}

/// An install going on: which command of how many, and the last lines they printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installing {
    pub plugin: String,
    pub step: usize,
    pub steps: usize,
    pub lines: Vec<String>,
}

impl Installing {
    /// Lines kept of an install's output.
    pub const KEPT: usize = 200;

    /// The status line: the plugin, the step and the last line printed.
    pub fn status(&self) -> String {
        format!(
            "installing {} ({}/{}): {}",
            self.plugin,
            self.step,
            self.steps,
            self.lines.last().map(String::as_str).unwrap_or("…")
        )
    }
}

/// The commands `i` runs for an unavailable plugin, as they run on this machine: the
/// manifest's steps (its venv's Python found, its folder named), apt under `sudo -n` when
/// not root and after `apt-get update` when the lists are stale ([`as_root::plan`]).
pub fn install_plan(
    p: &Plugin,
    who: as_root::Privilege,
    lists_fresh: bool,
) -> Result<Vec<Vec<String>>, String> {
    let ctx = crate::plugin::install::Ctx {
        tools: crate::plugin::install::tools_dir(),
        plugin_dir: p.dir.clone(),
        resolve_python: true,
    };
    let commands = match crate::plugin::install::try_steps(&p.manifest.install, &ctx) {
        Ok(steps) if p.dir.is_some() || p.manifest.install.cargo.is_empty() => {
            steps.into_iter().map(|s| s.argv).collect()
        }
        Err(e) => return Err(format!("cannot install {}: {e}", p.name())),
        // A bundled plugin that builds a crate it carries: the headless command writes the
        // crate out first.
        Ok(_) => {
            return Err(format!(
                "{0}: run `panther plugins install {0}` in a terminal (its steps need more than the workbench runs)",
                p.name()
            ));
        }
    };
    as_root::plan(p.name(), commands, who, lists_fresh, as_root::Prompt::Never)
        .map_err(|e| e.to_string())
}
