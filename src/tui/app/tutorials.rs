//! Tutorials: what their checks observe, the picker, progress.

use super::*;

impl App {
    /// The overlays open now, by the names tutorials use.
    pub(super) fn overlays(&self) -> Vec<String> {
        let mut o = Vec::new();
        if self.show_help {
            o.push("help".to_string());
        }
        if let Some(s) = self
            .sequence
            .as_ref()
            .filter(|_| self.screen == Screen::Sequence)
        {
            if s.show_detail {
                o.push("detail".to_string());
            }
            if s.logs.is_some() {
                o.push("logs".to_string());
            }
        }
        if self.tutor_picker.is_some() {
            o.push("tutorials".to_string());
        }
        o
    }

    /// What tutorial checks look at.
    pub fn observed(&self) -> crate::tutorial::Observed {
        crate::tutorial::Observed {
            screen: self.screen.title().to_string(),
            overlays: self.overlays(),
            selected_plugin: self.selected_plugin().map(|p| p.name().to_string()),
            experiment_valid: self.editor.as_ref().map(|e| e.can_launch()),
            experiment_uses: self
                .editor
                .as_ref()
                .map(|e| e.uses().to_vec())
                .unwrap_or_default(),
            finished: self
                .finished_tests
                .get(self.tutorial_since.0..)
                .unwrap_or_default()
                .to_vec(),
            commands: self
                .commands_used
                .get(self.tutorial_since.1..)
                .unwrap_or_default()
                .to_vec(),
            theme: self.theme.name.clone(),
            config: self.config_seen.clone(),
            plugin_home: self.plugin_home.clone(),
        }
    }

    /// Advances the tutorial through every step whose check now holds, saving progress.
    pub fn tutorial_tick(&mut self) {
        if self.tutorial.as_ref().is_none_or(|t| t.done()) {
            return;
        }
        let o = self.observed();
        if let Some(t) = self.tutorial.as_mut()
            && t.observe(&o, &self.reg) > 0
            && let Some(f) = &self.tutorial_progress
        {
            let _ = crate::tutorial::save_progress(f, &t.tutorial.name, t.step);
        }
    }

    /// The bundled tutorials and the user's; a broken user tutorial is reported (the first
    /// one at file:line:column) and the rest still load.
    pub(super) fn tutorials(&mut self) -> Vec<crate::tutorial::Tutorial> {
        let (all, diags) = crate::tutorial::load_all(self.tutorial_dir.as_deref());
        if let Some(d) = diags.first() {
            self.message = Some(format!(
                "{} ({} tutorial file(s) skipped)",
                d.to_string().lines().next().unwrap_or(""),
                diags.len()
            ));
        }
        all
    }

    pub(super) fn saved_progress(&self) -> std::collections::BTreeMap<String, usize> {
        self.tutorial_progress
            .as_deref()
            .map(crate::tutorial::load_progress)
            .unwrap_or_default()
    }

    /// Opens the tutorial picker, with the saved progress.
    pub fn open_tutor_picker(&mut self) {
        let all = self.tutorials();
        self.tutor_picker = Some(crate::tui::tutor_picker::TutorPicker::new(
            &all,
            &self.saved_progress(),
        ));
    }

    /// Follows the tutorial `name`, resumed where it was left.
    pub fn start_tutorial(&mut self, name: &str) {
        let all = self.tutorials();
        let Some(t) = all.iter().find(|t| t.name == name).cloned() else {
            self.message = Some(crate::tutorial::unknown(name, &all));
            return;
        };
        let step = crate::tutorial::resume_step(&t, &self.saved_progress());
        self.message = Some(format!("tutorial: {} (`:tutor off` closes it)", t.title));
        self.tutorial_since = (self.finished_tests.len(), self.commands_used.len());
        self.tutorial = Some(crate::tutorial::Session::new(t, step));
    }

    /// A run launched here finished: its tests count for tutorial checks.
    pub fn run_finished(&mut self, tests: Vec<crate::tutorial::Finished>) {
        self.finished_tests.extend(tests);
        self.tutorial_tick();
    }

    /// A key while the tutorial picker is open.
    pub(super) fn tutor_key(&mut self, k: KeyEvent) {
        use crate::tui::tutor_picker::Outcome;
        match self.tutor_picker.as_mut().map(|p| p.key(k)) {
            Some(Outcome::Close) => self.tutor_picker = None,
            Some(Outcome::Start(name)) => {
                self.tutor_picker = None;
                self.start_tutorial(&name);
            }
            Some(Outcome::None) | None => {}
        }
    }
}
