//! The matrix screen's state: the grid (rows clients, columns servers, a letter per case),
//! filled as cells finish, its cursor and filters. Rendering is in `screens/matrix.rs`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent};

use crate::matrix::spec::Spec;
use crate::matrix::{Cell, CellResult, CellVerdict, Matrix};

/// Which cells the grid shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    All,
    Only(CellVerdict),
    /// Everything that did not pass (fail, flaky, error).
    NotPassed,
}

impl Show {
    /// `f` cycles: all → not passed → fail → flaky → error → unsupported → pass → all.
    fn next(self) -> Show {
        use CellVerdict::*;
        match self {
            Show::All => Show::NotPassed,
            Show::NotPassed => Show::Only(Fail),
            Show::Only(Fail) => Show::Only(Flaky),
            Show::Only(Flaky) => Show::Only(Error),
            Show::Only(Error) => Show::Only(Unsupported),
            Show::Only(Unsupported) => Show::Only(Pass),
            Show::Only(Pass) => Show::All,
        }
    }

    pub fn label(self) -> String {
        match self {
            Show::All => "all".into(),
            Show::NotPassed => "not passed".into(),
            Show::Only(v) => v.as_str().into(),
        }
    }

    fn keeps(self, r: Option<&CellResult>) -> bool {
        match (self, r) {
            (Show::All, _) => true,
            (_, None) => false,
            (Show::NotPassed, Some(r)) => matches!(
                r.verdict,
                CellVerdict::Fail | CellVerdict::Flaky | CellVerdict::Error
            ),
            (Show::Only(v), Some(r)) => r.verdict == v,
        }
    }
}

/// What a key on the matrix screen asks of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatrixOutcome {
    None,
    /// Enter: open this cell's results folder in the sequence view.
    Open(PathBuf),
    /// `r`: run this cell again.
    Rerun(Cell),
    /// A sentence for the message line.
    Say(String),
}

pub struct MatrixScreen {
    pub title: String,
    /// The matrix folder (cells/, matrix.json).
    pub dir: PathBuf,
    /// How the matrix was made, so a cell can run again (None when opened from disk).
    pub spec: Option<Spec>,
    pub matrix: Matrix,
    /// Cells this run will have, and how many have finished.
    pub total: usize,
    pub done: usize,
    pub started: Instant,
    pub live: bool,
    /// Cells being re-run.
    pub rerunning: Vec<Cell>,
    /// Cursor: a client (row) and a (server, case) slot (column).
    pub row: usize,
    pub slot: usize,
    pub show: Show,
    /// Rows and columns whose implementation contains this text.
    pub filter: String,
    pub typing: bool,
}

impl MatrixScreen {
    /// A matrix about to run.
    pub fn new(spec: Spec, dir: PathBuf, total: usize) -> MatrixScreen {
        let (_, started_at) = crate::results::timestamp(std::time::SystemTime::now());
        let matrix = crate::matrix::runner::empty(&spec, started_at);
        MatrixScreen {
            title: format!("matrix {} on {}", spec.protocol, spec.network_environment),
            dir,
            spec: Some(spec),
            matrix,
            total,
            done: 0,
            started: Instant::now(),
            live: true,
            rerunning: Vec::new(),
            row: 0,
            slot: 0,
            show: Show::All,
            filter: String::new(),
            typing: false,
        }
    }

    /// A finished matrix, from its folder (or its matrix.json).
    pub fn open(path: &Path) -> Result<MatrixScreen, String> {
        let dir = if path.is_dir() {
            path.to_path_buf()
        } else {
            path.parent().unwrap_or(Path::new(".")).to_path_buf()
        };
        let matrix = crate::matrix::output::read(&dir.join("matrix.json"))?;
        let total = matrix.iter().count();
        Ok(MatrixScreen {
            title: format!(
                "matrix {} on {}",
                matrix.protocol, matrix.network_environment
            ),
            dir,
            spec: None,
            done: total,
            total,
            matrix,
            started: Instant::now(),
            live: false,
            rerunning: Vec::new(),
            row: 0,
            slot: 0,
            show: Show::All,
            filter: String::new(),
            typing: false,
        })
    }

    /// A cell finished (from the run, or from a re-run of that cell).
    pub fn record(&mut self, cell: &Cell, r: CellResult) {
        if let Some(i) = self.rerunning.iter().position(|c| c == cell) {
            self.rerunning.remove(i);
        } else {
            self.done += 1;
        }
        self.matrix.insert(cell, r);
    }

    /// The time left, from the mean time per finished cell so far.
    pub fn eta(&self) -> Option<Duration> {
        if !self.live || self.done == 0 || self.done >= self.total {
            return None;
        }
        let per = self.started.elapsed() / self.done as u32;
        Some(per * (self.total - self.done) as u32)
    }

    /// One letter per case (`matrix::output::case_letters`, shared with `panther matrix`).
    pub fn letters(&self) -> Vec<(char, String)> {
        crate::matrix::output::case_letters(&self.matrix.cases)
    }

    fn matches(&self, name: &str) -> bool {
        self.filter.is_empty() || name.to_lowercase().contains(&self.filter.to_lowercase())
    }

    /// Clients shown: those matching the filter with at least one cell the verdict filter keeps.
    pub fn rows(&self) -> Vec<String> {
        let servers = self.columns();
        self.matrix
            .clients
            .iter()
            .filter(|c| self.matches(c) || servers.iter().any(|s| self.matches(s)))
            .filter(|c| {
                self.show == Show::All
                    || servers.iter().any(|s| {
                        self.matrix
                            .cases
                            .iter()
                            .any(|k| self.show.keeps(self.result(s, c, k)))
                    })
            })
            .cloned()
            .collect()
    }

    /// Servers shown.
    pub fn columns(&self) -> Vec<String> {
        let any_client = self.matrix.clients.iter().any(|c| self.matches(c));
        self.matrix
            .servers
            .iter()
            .filter(|s| self.filter.is_empty() || any_client || self.matches(s))
            .cloned()
            .collect()
    }

    pub fn result(&self, server: &str, client: &str, case: &str) -> Option<&CellResult> {
        self.matrix.get(&Cell {
            server: server.into(),
            client: client.into(),
            case: case.into(),
        })
    }

    /// Whether the verdict filter shows this cell's letter.
    pub fn shows(&self, r: Option<&CellResult>) -> bool {
        self.show.keeps(r)
    }

    /// The cell under the cursor.
    pub fn selected(&self) -> Option<Cell> {
        let rows = self.rows();
        let cols = self.columns();
        let n = self.matrix.cases.len().max(1);
        let client = rows.get(self.row.min(rows.len().saturating_sub(1)))?;
        let slot = self.slot.min((cols.len() * n).saturating_sub(1));
        Some(Cell {
            server: cols.get(slot / n)?.clone(),
            client: client.clone(),
            case: self.matrix.cases.get(slot % n)?.clone(),
        })
    }

    pub fn key(&mut self, k: KeyEvent) -> MatrixOutcome {
        if self.typing {
            match k.code {
                KeyCode::Enter => self.typing = false,
                KeyCode::Esc => {
                    self.typing = false;
                    self.filter.clear();
                }
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) => self.filter.push(c),
                _ => {}
            }
            self.clamp();
            return MatrixOutcome::None;
        }
        let slots = self.columns().len() * self.matrix.cases.len().max(1);
        match k.code {
            KeyCode::Up | KeyCode::Char('k') => self.row = self.row.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.row += 1,
            KeyCode::Left | KeyCode::Char('h') => self.slot = self.slot.saturating_sub(1),
            KeyCode::Right | KeyCode::Char('l') => {
                self.slot = (self.slot + 1).min(slots.saturating_sub(1))
            }
            KeyCode::Char('f') => self.show = self.show.next(),
            KeyCode::Char('/') => self.typing = true,
            KeyCode::Enter => return self.open_selected(),
            KeyCode::Char('r') => return self.rerun_selected(),
            _ => {}
        }
        self.clamp();
        MatrixOutcome::None
    }

    fn clamp(&mut self) {
        self.row = self.row.min(self.rows().len().saturating_sub(1));
        let slots = self.columns().len() * self.matrix.cases.len().max(1);
        self.slot = self.slot.min(slots.saturating_sub(1));
    }

    fn open_selected(&self) -> MatrixOutcome {
        let Some(cell) = self.selected() else {
            return MatrixOutcome::Say("no cell here".into());
        };
        match self.matrix.get(&cell).and_then(|r| r.dir.clone()) {
            Some(d) => MatrixOutcome::Open(self.dir.join(d)),
            None => MatrixOutcome::Say(format!(
                "{} × {} × {} has no results folder yet",
                cell.server, cell.client, cell.case
            )),
        }
    }

    fn rerun_selected(&mut self) -> MatrixOutcome {
        let Some(cell) = self.selected() else {
            return MatrixOutcome::Say("no cell here".into());
        };
        if self.spec.is_none() {
            return MatrixOutcome::Say(
                "this matrix was opened from disk: run it with :matrix to re-run cells".into(),
            );
        }
        if self.live && self.done < self.total {
            return MatrixOutcome::Say("the matrix is still running".into());
        }
        if self.rerunning.contains(&cell) {
            return MatrixOutcome::Say("that cell is already running again".into());
        }
        self.rerunning.push(cell.clone());
        MatrixOutcome::Rerun(cell)
    }

    /// The status line: progress, time left, the filter.
    pub fn status(&self) -> String {
        let mut s = format!("{}/{} cells", self.done, self.total);
        if let Some(eta) = self.eta() {
            s.push_str(&format!(", ~{} s left", eta.as_secs().max(1)));
        } else if self.live && self.done < self.total {
            s.push_str(", running");
        }
        if !self.rerunning.is_empty() {
            s.push_str(&format!(", {} re-running", self.rerunning.len()));
        }
        if self.show != Show::All {
            s.push_str(&format!(" · showing {}", self.show.label()));
        }
        if !self.filter.is_empty() || self.typing {
            s.push_str(&format!(" · /{}", self.filter));
        }
        s
    }
}
