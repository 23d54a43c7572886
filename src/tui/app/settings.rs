//! Settings: the config file, key bindings, themes and plugin folders, read again on `:reload`.

use super::*;

impl App {
    /// Loads the plugins again (same folders, plus the config's), keeping the selection,
    /// and re-validates the open experiment against them.
    pub(super) fn reload_plugins(&mut self) {
        let mut opts = self.load_options.clone();
        opts.dirs.extend(self.config_plugin_dirs.iter().cloned());
        if let Some(home) = &self.plugin_home
            && !opts.dirs.contains(home)
            && !(opts.user && crate::plugin::registry::user_plugin_dir().as_ref() == Some(home))
        {
            opts.dirs.push(home.clone());
        }
        self.reg = Registry::load(&opts);
        let (plugins, problems) = Self::browse(&self.reg);
        self.plugins = plugins;
        self.problems = problems;
        self.rebuild_tree();
        if let Some(ed) = self.editor.as_mut() {
            ed.validate(&self.reg);
        }
    }

    /// `:reload`: the config file (theme, keys, plugin folders) and the plugins, read again.
    /// A bad config is reported at file:line:column and the current settings stay.
    pub fn reload(&mut self) {
        let mut notes = Vec::new();
        if let Some(p) = self.config_path.clone() {
            match crate::tui::config::load(&p) {
                Ok(cfg) => match self.apply_config(&cfg, p.exists()) {
                    Ok(()) if p.exists() => notes.push(format!("{} read", p.display())),
                    Ok(()) => notes.push(format!("no {} (defaults)", p.display())),
                    Err(e) => notes.push(e),
                },
                Err(d) => {
                    self.config_seen = None;
                    notes.push(format!(
                        "{} (settings unchanged)",
                        d.first().map(|d| d.to_string()).unwrap_or_default()
                    ))
                }
            }
        }
        self.reload_plugins();
        notes.push(format!(
            "{} plugins{}",
            self.plugins.len(),
            if self.problems.is_empty() {
                String::new()
            } else {
                format!(", {} problem(s)", self.problems.len())
            }
        ));
        let theme_msg = self.message.take().filter(|m| !m.starts_with("theme "));
        self.message = Some(
            std::iter::once(format!("reloaded: {}", notes.join("; ")))
                .chain(theme_msg)
                .collect::<Vec<_>>()
                .join(" · ")
                .replace('\n', " "),
        );
    }

    /// Applies a checked config: keys, then theme. `exists` says a file was really read
    /// (tutorial checks look at what it set).
    pub fn apply_config(
        &mut self,
        cfg: &crate::tui::config::UserConfig,
        exists: bool,
    ) -> Result<(), String> {
        let keymap = Keymap::from_config(cfg).map_err(|d| {
            d.first()
                .map(|d| d.to_string())
                .unwrap_or_else(|| "bad key bindings".into())
        })?;
        self.keymap = keymap;
        self.config_plugin_dirs = cfg.plugin_dirs.clone();
        match &cfg.theme {
            Some(name) => self.set_theme(name),
            None => self.theme = crate::tui::theme::Theme::default_theme(),
        }
        self.config_seen = exists.then(|| crate::tutorial::ConfigSeen {
            theme: cfg.theme.clone(),
            keys: cfg.keys.keys().cloned().collect(),
        });
        Ok(())
    }

    /// Switches the theme; a bad or unknown theme is reported and the current one stays (at
    /// start, that is the default).
    pub fn set_theme(&mut self, name: &str) {
        match crate::tui::theme::Theme::load(name) {
            Ok(t) => {
                self.message = Some(format!("theme {}", t.name));
                self.theme = t;
            }
            Err(d) => {
                let mut m = d.to_string().replace('\n', " ");
                m.push_str(&format!(" — keeping theme {}", self.theme.name));
                self.message = Some(m);
            }
        }
    }
}
