//! The command palette: its line, the commands it runs, the new-plugin wizard.

use super::*;

impl App {
    pub(super) fn palette_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        use crossterm::event::KeyCode;
        let Some(line) = self.palette.as_mut() else {
            return Vec::new();
        };
        if k.code != KeyCode::Tab {
            self.palette_matches.clear();
        }
        match k.code {
            KeyCode::Esc => {
                self.palette = None;
                if self.wizard.take().is_some() {
                    self.message = Some("no plugin created".into());
                }
            }
            KeyCode::Backspace => {
                line.pop();
            }
            KeyCode::Up if self.wizard.is_none() => {
                if let Some(past) = self.palette_history.back() {
                    *line = past.to_string();
                }
            }
            KeyCode::Down if self.wizard.is_none() => {
                *line = self.palette_history.forward().to_string();
            }
            KeyCode::Tab
                if self.wizard.is_none() && crate::tui::palette::complete_path(line).is_some() =>
            {
                if let Some((longer, matches)) = crate::tui::palette::complete_path(line) {
                    *line = longer;
                    self.palette_matches = if matches.len() > 1 {
                        matches
                    } else {
                        Vec::new()
                    };
                }
            }
            KeyCode::Tab => {
                let choices = match &self.wizard {
                    Some(w) => w.complete(line, &self.reg),
                    None => crate::tui::palette::complete(line)
                        .into_iter()
                        .map(|c| format!("{c} "))
                        .collect(),
                };
                if let [only] = choices.as_slice() {
                    *line = only.clone();
                }
            }
            KeyCode::Char(c) if !is_ctrl(&k, &[c]) => line.push(c),
            KeyCode::Enter => {
                let input = self.palette.take().unwrap_or_default();
                if self.wizard.is_some() {
                    self.wizard_answer(&input);
                    return Vec::new();
                }
                self.palette_history.push(&input);
                return self.command(&input);
            }
            _ => {}
        }
        Vec::new()
    }

    /// Carries out a palette command (`:open FILE`, `:run`, `:replay DIR`, …).
    pub fn command(&mut self, input: &str) -> Vec<Effect> {
        use crate::tui::palette::Command;
        if let Some(word) = input
            .trim()
            .trim_start_matches(':')
            .split_whitespace()
            .next()
        {
            self.commands_used.push(word.to_ascii_lowercase());
        }
        match crate::tui::palette::parse(input) {
            Err(e) => self.message = Some(e),
            Ok(Command::Quit) => return self.guard(Pending::Quit),
            Ok(Command::ForceQuit) => return vec![Effect::Quit],
            Ok(Command::New) => return self.guard(Pending::New),
            Ok(Command::Open(p)) => return self.guard(Pending::Open(p)),
            Ok(Command::Write) => {
                if let Err(e) = self.save_editor() {
                    self.message = Some(e);
                }
            }
            Ok(Command::WriteAs(p)) => self.save_as(&p),
            Ok(Command::WriteQuit) => match self.save_editor() {
                Ok(()) => return vec![Effect::Quit],
                Err(e) => self.message = Some(e),
            },
            Ok(Command::Run) => return self.run_command(None),
            Ok(Command::RunTest(name)) => return self.run_command(Some(name)),
            Ok(Command::Replay(dir)) => match SequenceScreen::open(&dir) {
                Ok(s) => {
                    self.show_sequence(s);
                }
                Err(e) => self.message = Some(e),
            },
            Ok(Command::Plugins) => self.go(Screen::Plugins),
            Ok(Command::Help) => {
                self.show_help = true;
                self.help_scroll = 0;
            }
            Ok(Command::Theme(name)) => self.set_theme(&name),
            Ok(Command::Tutor(None)) => self.open_tutor_picker(),
            Ok(Command::Tutor(Some(name))) if name == "off" => self.close_tutorial(),
            Ok(Command::Tutor(Some(name))) => self.start_tutorial(&name),
            Ok(Command::Create(None)) => {
                self.wizard = Some(crate::tui::create_wizard::CreateWizard::new());
                self.palette = Some(String::new());
            }
            Ok(Command::Create(Some(a))) => match crate::plugin::creator::parse_type(&a.kind) {
                Ok(kind) => self.create_plugin(crate::plugin::creator::Request {
                    kind,
                    name: a.name,
                    protocol: a.protocol,
                    dir: None,
                }),
                Err(e) => self.message = Some(e),
            },
            Ok(Command::Reload) => self.reload(),
            Ok(Command::Matrix(args)) => return self.matrix_command(&args),
        }
        Vec::new()
    }

    /// `:w FILE`: saved under that name (never over another file).
    fn save_as(&mut self, p: &std::path::Path) {
        self.message = Some(match self.editor.as_mut().map(|e| e.save_as(p)) {
            Some(Ok(p)) => format!("saved {}", p.display()),
            Some(Err(e)) => format!("cannot save: {e}"),
            None => "no experiment is open".into(),
        });
        if let Some(ed) = self.editor.as_mut() {
            ed.validate(&self.reg);
        }
    }

    /// `:run [TEST]`: the open experiment (the quickstart if none), when it validates and
    /// has that test.
    fn run_command(&mut self, only: Option<String>) -> Vec<Effect> {
        if self.editor.is_none() {
            self.open_quickstart();
        }
        let ed = self.editor.as_mut().expect("just opened");
        ed.validate(&self.reg);
        if !ed.can_launch() {
            self.message = Some(format!(
                "fix {} error(s) in the experiment first",
                ed.error_count()
            ));
            self.go(Screen::Editor);
            return Vec::new();
        }
        if let Some(name) = &only {
            let loaded = crate::experiment::load_str(&ed.text(), "experiment", &self.reg);
            let names: Vec<String> = loaded
                .experiment
                .iter()
                .flat_map(|e| e.tests.iter().map(|t| t.name.clone()))
                .collect();
            if !names.contains(name) {
                let help = crate::suggest::did_you_mean(name, names.iter().map(String::as_str))
                    .unwrap_or_default();
                self.message = Some(format!("no test named `{name}` {help}"));
                return Vec::new();
            }
        }
        vec![Effect::Launch {
            text: ed.text(),
            path: ed.path().map(|p| p.to_path_buf()),
            only_test: only,
        }]
    }

    /// `:tutor off`.
    fn close_tutorial(&mut self) {
        self.message = Some(match self.tutorial.take() {
            Some(t) => format!(
                "tutorial {} closed; `:tutor {}` resumes it",
                t.tutorial.title, t.tutorial.name
            ),
            None => "no tutorial is open".into(),
        })
    }

    /// Takes the wizard's answer: the next question, the plugin created, or the mistake
    /// shown with the answer kept for fixing.
    pub(super) fn wizard_answer(&mut self, input: &str) {
        let Some(w) = self.wizard.as_mut() else {
            return;
        };
        match w.answer(input, &self.reg) {
            Ok(crate::tui::create_wizard::Step::Next) => self.palette = Some(String::new()),
            Ok(crate::tui::create_wizard::Step::Done(req)) => {
                self.wizard = None;
                self.create_plugin(req);
            }
            Err(e) => {
                self.message = Some(e);
                self.palette = Some(input.to_string());
            }
        }
    }

    /// Scaffolds a plugin in the user's plugins folder (as `panther --create-plugin`), loads
    /// it and selects it in the browser.
    pub fn create_plugin(&mut self, mut req: crate::plugin::creator::Request) {
        if req.dir.is_none() {
            req.dir = self.plugin_home.clone();
        }
        match crate::plugin::creator::create(&req, &self.reg) {
            Ok(c) => {
                self.reload_plugins();
                self.filter.clear();
                self.rebuild_tree();
                if let Some(row) = self.tree.iter().position(
                    |r| matches!(r, TreeRow::Plugin(i) if self.plugins[*i].name() == req.name),
                ) {
                    self.selected = row;
                }
                self.go(Screen::Plugins);
                let files: Vec<String> = c
                    .files
                    .iter()
                    .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .collect();
                self.message = Some(format!(
                    "created {} plugin `{}` in {} ({}); edit it, then :reload",
                    req.kind,
                    req.name,
                    c.dir.display(),
                    files.join(", ")
                ));
            }
            Err(e) => self.message = Some(e),
        }
    }
}
