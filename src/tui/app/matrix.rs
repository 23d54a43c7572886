//! The matrix screen's side of the app: `:matrix`, its keys, and cells arriving.

use super::*;
use crate::tui::matrix_screen::{MatrixOutcome, MatrixScreen};

/// `:matrix`'s flags: exactly those of `panther matrix` (without a file or shards).
#[derive(Debug, clap::Parser)]
#[command(name = "matrix", no_binary_name = true)]
struct MatrixLine {
    #[command(flatten)]
    run: crate::cli::matrix::RunArgs,
}

impl App {
    /// `:matrix` shows the screen; `:matrix DIR` opens a finished matrix; `:matrix FLAGS`
    /// starts one with `panther matrix`'s flags, into the runs folder.
    pub(super) fn matrix_command(&mut self, args: &str) -> Vec<Effect> {
        let words: Vec<&str> = args.split_whitespace().collect();
        if words.is_empty() {
            self.go(Screen::Matrix);
            return Vec::new();
        }
        if let [one] = words.as_slice()
            && !one.starts_with('-')
        {
            let path = crate::tui::config::expand_tilde(one);
            if path.join("matrix.json").is_file() || path.is_file() {
                match MatrixScreen::open(&path) {
                    Ok(m) => {
                        self.matrix = Some(m);
                        self.go(Screen::Matrix);
                    }
                    Err(e) => self.message = Some(e),
                }
                return Vec::new();
            }
        }
        if self.matrix.as_ref().is_some_and(|m| m.live) {
            self.message = Some("a matrix is already running".into());
            return Vec::new();
        }
        let line = match <MatrixLine as clap::Parser>::try_parse_from(&words) {
            Ok(l) => l,
            Err(e) => {
                let first = e.to_string().lines().next().unwrap_or("").to_string();
                self.message = Some(format!("matrix: {}", first.trim_start_matches("error: ")));
                return Vec::new();
            }
        };
        if line.run.file.is_some() {
            self.message = Some(
                "matrix: a FILE with a matrix: block runs with `panther matrix FILE`; here give the flags"
                    .into(),
            );
            return Vec::new();
        }
        let (spec, _) =
            match crate::cli::matrix::spec_from(&line.run, &self.reg, Default::default()) {
                Ok(s) => s,
                Err(e) => {
                    self.message = Some(format!("matrix: {e}"));
                    return Vec::new();
                }
            };
        let name = format!("matrix_{}", spec.protocol);
        let dir = match crate::results::new_dir(&self.outputs, &name) {
            Ok((d, _)) => d,
            Err(e) => {
                self.message = Some(format!("{}: {e}", self.outputs.display()));
                return Vec::new();
            }
        };
        let total = crate::matrix::runner::cell_count(&spec);
        self.matrix = Some(MatrixScreen::new(spec, dir, total));
        self.go(Screen::Matrix);
        vec![Effect::RunMatrix { only: None }]
    }

    pub(super) fn matrix_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let Some(m) = self.matrix.as_mut() else {
            self.message = Some("no matrix yet: `:matrix --protocol minip` runs one".into());
            return Vec::new();
        };
        match m.key(k) {
            MatrixOutcome::None => {}
            MatrixOutcome::Say(s) => self.message = Some(s),
            MatrixOutcome::Open(dir) => match SequenceScreen::open(&dir) {
                Ok(s) => {
                    self.show_sequence(s);
                }
                Err(e) => self.message = Some(e),
            },
            MatrixOutcome::Rerun(cell) => {
                self.message = Some(format!(
                    "running {} × {} × {} again",
                    cell.server, cell.client, cell.case
                ));
                return vec![Effect::RunMatrix { only: Some(cell) }];
            }
        }
        Vec::new()
    }

    pub(super) fn matrix_cell(&mut self, cell: crate::matrix::Cell, r: crate::matrix::CellResult) {
        if let Some(m) = self.matrix.as_mut() {
            m.record(&cell, r);
        }
    }

    /// The matrix (or a re-run) ended: its outputs are written again from the grid, so a
    /// re-run cell shows in matrix.json, matrix.md, junit.xml and matrix.html too.
    pub(super) fn matrix_done(&mut self, outcome: Result<(), String>) {
        let Some(m) = self.matrix.as_mut() else {
            return;
        };
        m.live = false;
        m.rerunning.clear();
        m.matrix.duration_ms = m.started.elapsed().as_millis() as u64;
        self.message = Some(match outcome {
            Err(e) => format!("matrix: {e}"),
            Ok(()) => match crate::matrix::output::write_all(&m.dir, &m.matrix, None) {
                Ok(()) => format!("matrix written to {}", m.dir.display()),
                Err(e) => format!("matrix: writing {}: {e}", m.dir.display()),
            },
        });
    }
}
