//! The sequence screen's state: a run, live or recorded, its timeline and view, the search,
//! the detail and logs overlays; and what its keys do.

use std::path::PathBuf;

use crossterm::event::KeyEvent;

use super::app::Effect;
use super::widgets::sequence::SequenceViewState;
use crate::events::timeline::Timeline;

/// A run on the sequence screen: live (events still arriving) or recorded.
pub struct SequenceScreen {
    pub title: String,
    /// The results folder the events come from (for exports).
    pub dir: Option<PathBuf>,
    pub timeline: Timeline,
    pub state: SequenceViewState,
    pub live: bool,
    pub status: String,
    pub show_detail: bool,
    pub search: Option<String>,
    pub search_input: String,
    pub typing_search: bool,
    /// First press of `x` on a live run asks; the second cancels.
    pub confirm_cancel: bool,
    /// `l`: a service's logs (service name, its log text), shown over the view.
    pub logs: Option<(String, String)>,
    /// The first line of the logs shown.
    pub logs_scroll: usize,
    /// What the last key did (shown until the next key, then `status` again).
    pub note: Option<String>,
    /// The test whose logs are shown (from the selected row when `l` was pressed).
    pub logs_test: Option<String>,
}

/// The test folder of `dir` most recently written that holds `slug`'s logs.
fn newest_holding(dir: &std::path::Path, slug: &str) -> Option<PathBuf> {
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let d = e.path().join(slug);
        let t = std::fs::metadata(d.join("stdout.log")).and_then(|m| m.modified());
        if let Ok(t) = t
            && best.as_ref().is_none_or(|(bt, _)| t > *bt)
        {
            best = Some((t, d));
        }
    }
    best.map(|(_, d)| d)
}

impl SequenceScreen {
    pub fn new(title: impl Into<String>, timeline: Timeline, live: bool) -> Self {
        let mut state = SequenceViewState::new();
        state.follow = live;
        state.sync(&timeline);
        SequenceScreen {
            title: title.into(),
            dir: None,
            timeline,
            state,
            live,
            status: if live {
                "running".into()
            } else {
                "recorded".into()
            },
            show_detail: false,
            search: None,
            search_input: String::new(),
            typing_search: false,
            confirm_cancel: false,
            logs: None,
            logs_scroll: 0,
            logs_test: None,
            note: None,
        }
    }

    /// Shows a service's logs, the last page of them (the newest lines).
    pub fn open_logs(&mut self, service: String, text: String) {
        self.logs_scroll = text.lines().count().saturating_sub(10);
        self.logs = Some((service, text));
    }

    /// A key in the logs overlay (canonical keys of the logs context).
    fn logs_key(&mut self, k: KeyEvent, page: usize) {
        use crossterm::event::KeyCode;
        let n = self
            .logs
            .as_ref()
            .map(|(_, t)| t.lines().count())
            .unwrap_or(0);
        let last = n.saturating_sub(1);
        let at = self.logs_scroll.min(last);
        self.logs_scroll = match k.code {
            KeyCode::Char('j') | KeyCode::Down => (at + 1).min(last),
            KeyCode::Char('k') | KeyCode::Up => at.saturating_sub(1),
            KeyCode::PageDown => (at + page).min(last),
            KeyCode::PageUp => at.saturating_sub(page),
            KeyCode::Char('g') => 0,
            KeyCode::Char('G') => last.saturating_sub(page.saturating_sub(1)),
            KeyCode::Char('l') => {
                self.logs = None;
                0
            }
            KeyCode::Tab => {
                self.next_service_logs();
                return;
            }
            _ => at,
        };
    }

    /// Tab in the logs: the next service that has logs (the link relay's lane has none).
    fn next_service_logs(&mut self) {
        let lanes = self.timeline.lanes().to_vec();
        let cur = self
            .logs
            .as_ref()
            .map(|(n, _)| n.clone())
            .unwrap_or_default();
        let start = lanes.iter().position(|n| *n == cur).unwrap_or(0);
        for k in 1..=lanes.len() {
            let next = &lanes[(start + k) % lanes.len()];
            if let Ok(text) = self.service_logs(next) {
                self.open_logs(next.clone(), text);
                break;
            }
        }
    }

    /// The selected row's lane: a note's lane, or a message's sender.
    pub fn selected_lane(&self) -> Option<u16> {
        use crate::events::timeline::{DisplayRow, Row};
        match self.state.selected_row(&self.timeline)? {
            DisplayRow::Row {
                row: Row::Message { from_lane, .. },
                ..
            } => Some(from_lane),
            DisplayRow::Row {
                row: Row::Note { lane, .. },
                ..
            } => lane,
            _ => None,
        }
    }

    /// The selected row's service: a note's lane, or a message's sender.
    pub fn selected_service(&self) -> Option<String> {
        let lane = self.selected_lane()?;
        self.timeline.lanes().get(lane as usize).cloned()
    }

    /// The last 200 lines of a service's stdout and stderr, from the results folder: the
    /// folder of `test` when known, else the most recently written one holding the service.
    pub fn service_logs_in(&self, service: &str, test: Option<&str>) -> Result<String, String> {
        let dir = self.dir.as_ref().ok_or("this view has no results folder")?;
        let slug = crate::results::slug(service);
        let d = match test.map(|t| dir.join(test_folder(t)).join(&slug)) {
            Some(d) if d.is_dir() => d,
            _ => newest_holding(dir, &slug).ok_or_else(|| {
                format!(
                    "no logs for {service} (yet): services write stdout.log and stderr.log; panther's link relay has none"
                )
            })?,
        };
        let tail = |name: &str| {
            let text = log_tail(&d.join(name));
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(200)..].join("\n")
        };
        Ok(format!(
            "── {} ──\n── stdout ──\n{}\n── stderr ──\n{}",
            d.strip_prefix(dir).unwrap_or(&d).display(),
            tail("stdout.log"),
            tail("stderr.log")
        ))
    }

    /// The logs of a service in the test whose logs are open (Tab), or the newest test.
    pub fn service_logs(&self, service: &str) -> Result<String, String> {
        self.service_logs_in(service, self.logs_test.as_deref())
    }

    /// Whether `dir` is a results folder (it holds `events.jsonl`), said plainly if not.
    pub fn check_dir(dir: &std::path::Path) -> Result<(), String> {
        if !dir.is_dir() {
            return Err(format!("{}: no such folder", dir.display()));
        }
        if !dir.join(crate::events::store::FILE_NAME).is_file() {
            return Err(format!(
                "{} is not a results folder (it has no {}); give a folder made by `panther run`, such as outputs/<date>_<name>",
                dir.display(),
                crate::events::store::FILE_NAME
            ));
        }
        Ok(())
    }

    /// A results folder's events (a finished run, or one that crashed half-way).
    pub fn open(dir: &std::path::Path) -> Result<Self, String> {
        Self::check_dir(dir)?;
        let (tl, torn) = Timeline::load(&dir.join(crate::events::store::FILE_NAME))
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut s = SequenceScreen::new(name, tl, false);
        s.dir = Some(dir.to_path_buf());
        s.status = match crate::results::read_summary(dir) {
            Ok(sum) => format!(
                "{}: {}",
                sum.outcome(),
                if sum.ok {
                    "expectations met"
                } else {
                    "expectations not met"
                }
            ),
            Err(_) => format!(
                "incomplete run{}",
                if torn > 0 {
                    format!(", {torn} torn line(s) skipped")
                } else {
                    String::new()
                }
            ),
        };
        Ok(s)
    }
}

/// What `m` writes, beside the run's own `sequence.mmd`.
pub const VIEW_MERMAID: &str = "sequence-view.mmd";

impl SequenceScreen {
    /// A key on the sequence screen (the canonical keys of the sequence and logs contexts,
    /// or what is typed into the search line); `rows` is the screen's height.
    pub fn key(&mut self, k: KeyEvent, rows: u16) -> Vec<Effect> {
        use crossterm::event::KeyCode;
        // Keys act on every row that has arrived, drawn yet or not.
        self.state.sync(&self.timeline);
        self.note = None;
        // `x` asks, and only an `x` straight after cancels.
        let confirming = std::mem::take(&mut self.confirm_cancel);
        let page = (rows as usize).saturating_sub(8).max(1);
        if self.logs.is_some() {
            self.logs_key(k, page);
            return Vec::new();
        }
        if self.typing_search {
            self.search_key(k);
            return Vec::new();
        }
        let st = &mut self.state;
        match k.code {
            KeyCode::Char('j') | KeyCode::Down => st.select_next(),
            KeyCode::Char('k') | KeyCode::Up => {
                st.follow = false;
                st.select_prev()
            }
            KeyCode::PageDown => st.scroll_by(page as isize),
            KeyCode::PageUp => {
                st.follow = false;
                st.scroll_by(-(page as isize))
            }
            KeyCode::Char('g') | KeyCode::Home => {
                st.follow = false;
                st.select_first()
            }
            KeyCode::Char('G') | KeyCode::End => {
                st.select_last();
                st.follow = true;
            }
            KeyCode::Char('t') => st.toggle_time_mode(),
            KeyCode::Enter => self.toggle_detail(),
            KeyCode::Char('/') => {
                self.typing_search = true;
                self.search_input.clear();
            }
            KeyCode::Char(c @ ('n' | 'N')) => self.next_match(c == 'n'),
            KeyCode::Char('x') if self.live => return self.cancel_key(confirming),
            KeyCode::Char('l') => self.show_logs(),
            KeyCode::Char('h') => self.hide_lane(),
            KeyCode::Char('H') => self.show_lanes(),
            KeyCode::Char(c @ ('<' | '>')) => self.move_lane(c == '>'),
            KeyCode::Char('m') => self.note = Some(self.write_mermaid()),
            KeyCode::Char('f') => self.filter_rows(),
            KeyCode::Char('F') => {
                self.set_filter_keeping_selection(crate::events::timeline::Filter::default());
                self.note = Some("all rows shown".into());
            }
            _ => {}
        }
        Vec::new()
    }

    /// Enter: the selected row's detail (the last row if none is selected).
    fn toggle_detail(&mut self) {
        if self.state.selected.is_none() {
            self.state.follow = false;
            self.state.select_last();
        }
        self.show_detail = !self.show_detail;
        self.state.reveal = true;
    }

    /// A key typed into the search line: every printable key is text, `:` included.
    fn search_key(&mut self, k: KeyEvent) {
        use crossterm::event::KeyCode;
        let plain = !k.modifiers.intersects(
            crossterm::event::KeyModifiers::CONTROL | crossterm::event::KeyModifiers::ALT,
        );
        match k.code {
            KeyCode::Char(c) if plain => self.search_input.push(c),
            KeyCode::Backspace => {
                self.search_input.pop();
            }
            KeyCode::Esc => self.typing_search = false,
            KeyCode::Enter if self.search_input.is_empty() => self.typing_search = false,
            KeyCode::Enter => {
                self.typing_search = false;
                self.search = Some(self.search_input.clone());
                self.next_match(true);
            }
            _ => {}
        }
    }

    /// n / N: the next or previous row the search matches: `kind:KIND` rows of that kind,
    /// `service:NAME` rows on that lane, anything else a regex over the row's text.
    fn next_match(&mut self, forward: bool) {
        let Some(pattern) = self.search.clone() else {
            self.note = Some("search first: / then TEXT, kind:message or service:NAME".into());
            return;
        };
        let found = if pattern.starts_with("kind:") || pattern.starts_with("service:") {
            self.find_row(&pattern, forward)
        } else {
            match regex::Regex::new(&pattern) {
                Ok(re) => self.state.search(&self.timeline, &re, forward),
                Err(e) => {
                    let why = e.to_string();
                    self.note = Some(format!("bad regex: {}", why.lines().last().unwrap_or("")));
                    return;
                }
            }
        };
        self.state.follow = false;
        if found.is_none() {
            self.note = Some(format!("no match for “{pattern}”"));
            return;
        }
        // The row may be drawn cut (`started, pid 11…`) with the match in the cut part: its
        // whole text is shown in the status line, so what matched is always visible.
        if let Some(crate::events::timeline::DisplayRow::Row { row, .. }) =
            self.state.selected_row(&self.timeline)
        {
            self.note = Some(format!("match: {}", row.text()));
        }
    }

    /// The next (or previous) shown row a `kind:` or `service:` search matches, selected.
    fn find_row(&mut self, pattern: &str, forward: bool) -> Option<usize> {
        let n = self.state.len();
        let from = self.state.selected;
        let order: Vec<usize> = if forward {
            (from.map_or(0, |s| s + 1)..n).collect()
        } else {
            (0..from.unwrap_or(n)).rev().collect()
        };
        let lane = pattern
            .strip_prefix("service:")
            .and_then(|s| self.timeline.lane(s.trim()));
        let kind = pattern.strip_prefix("kind:").map(str::trim);
        let found = order.into_iter().find(|&i| self.row_is(i, kind, lane))?;
        self.state.select(found);
        Some(found)
    }

    /// Whether shown row `i` is of `kind` (when given) or on `lane` (when given).
    fn row_is(&self, i: usize, kind: Option<&str>, lane: Option<u16>) -> bool {
        use crate::events::timeline::{DisplayRow, Row};
        let Some(DisplayRow::Row { row, .. }) = self.state.view().get(&self.timeline, i) else {
            return false;
        };
        match (kind, lane, row) {
            (Some(k), _, Row::Message { summary, .. }) => {
                k == "message" || crate::quic::wire::frame::summary_has_kind(summary, k)
            }
            (Some(k), _, Row::Verdict { .. }) => k == "verdict",
            (Some(k), _, Row::Note { kind, .. }) => {
                serde_json::to_value(kind)
                    .ok()
                    .and_then(|v| v.as_str().map(|s| s == k))
                    == Some(true)
            }
            (
                None,
                Some(l),
                Row::Message {
                    from_lane, to_lane, ..
                },
            ) => from_lane == l || to_lane == l,
            (None, Some(l), Row::Note { lane, .. }) => lane == Some(l),
            _ => false,
        }
    }

    /// A left click: selects the row under it (no longer following); the detail pane, when
    /// open, shows that row.
    pub fn click(&mut self, col: u16, row: u16) {
        if self.logs.is_some() || self.typing_search {
            return;
        }
        if let Some(d) = self.state.row_at(col, row) {
            self.state.select(d);
            self.state.follow = false;
        }
    }

    /// x on a live run: the first asks, a second straight after cancels.
    fn cancel_key(&mut self, confirming: bool) -> Vec<Effect> {
        if confirming {
            self.status = "cancelling: tearing the services down".into();
            return vec![Effect::CancelRun];
        }
        self.confirm_cancel = true;
        self.note = Some("press x again to cancel the run (any other key: no)".into());
        Vec::new()
    }

    /// l: the selected row's service's logs, from the selected row's test.
    fn show_logs(&mut self) {
        let Some(svc) = self.selected_service() else {
            self.note = Some("select a service's row first (j/k), then l".into());
            return;
        };
        let test = self.selected_test();
        match self.service_logs_in(&svc, test.as_deref()) {
            Ok(text) => {
                self.logs_test = test;
                self.open_logs(svc, text);
            }
            Err(e) => self.note = Some(e),
        }
    }

    /// The test the selected row belongs to (read from the run's events).
    fn selected_test(&self) -> Option<String> {
        let seq = match self.state.selected_row(&self.timeline)? {
            crate::events::timeline::DisplayRow::Row { row, .. } => row.seq(),
            _ => return None,
        };
        let dir = self.dir.as_ref()?;
        event_at(dir, seq).map(|e| e.test).filter(|t| !t.is_empty())
    }

    /// h: hides the selected row's lane (its sender for a message).
    fn hide_lane(&mut self) {
        match self.selected_lane() {
            Some(l) => {
                let name = self
                    .timeline
                    .lanes()
                    .get(l as usize)
                    .cloned()
                    .unwrap_or_default();
                self.state.toggle_lane(l);
                self.note = Some(format!("lane {name} hidden (H shows all)"));
            }
            None => self.note = Some("select a message or a service's note first (j/k)".into()),
        }
    }

    fn show_lanes(&mut self) {
        let mut f = self.state.view().filter().clone();
        f.hidden_lanes.clear();
        self.set_filter_keeping_selection(f);
        self.note = Some("all lanes shown".into());
    }

    /// < / >: moves the selected row's lane one place left or right.
    fn move_lane(&mut self, right: bool) {
        let Some(l) = self.selected_lane() else {
            self.note = Some("select a message or a service's note first (j/k)".into());
            return;
        };
        let n = self.timeline.lanes().len() as u16;
        let other = if right {
            (l + 1 < n).then_some(l + 1)
        } else {
            l.checked_sub(1)
        };
        let Some(o) = other else {
            return;
        };
        self.timeline.swap_lanes(l, o);
        let mut f = self.state.view().filter().clone();
        for h in f.hidden_lanes.iter_mut() {
            *h = if *h == l {
                o
            } else if *h == o {
                l
            } else {
                *h
            };
        }
        self.set_filter_keeping_selection(f);
    }

    /// A new filter, keeping the selected event selected when it is still shown (else the
    /// nearest row).
    fn set_filter_keeping_selection(&mut self, f: crate::events::timeline::Filter) {
        let keep = match self.state.selected_row(&self.timeline) {
            Some(crate::events::timeline::DisplayRow::Row { row, .. }) => Some(row.seq()),
            _ => None,
        };
        let at = self.state.selected;
        self.state.set_filter(f);
        self.state.sync(&self.timeline);
        let found = keep.and_then(|seq| {
            (0..self.state.len()).find(|&i| {
                matches!(self.state.view().get(&self.timeline, i),
                    Some(crate::events::timeline::DisplayRow::Row { row, .. }) if row.seq() == seq)
            })
        });
        match (found, at) {
            (Some(i), _) => self.state.select(i),
            (None, Some(i)) if !self.state.is_empty() => {
                self.state.select(i.min(self.state.len() - 1))
            }
            _ => {}
        }
    }

    /// m: the Mermaid diagram, written beside the run's own `sequence.mmd` (which the run
    /// wrote and is never overwritten) as `sequence-view.mmd`; the note says where.
    fn write_mermaid(&self) -> String {
        let Some(dir) = &self.dir else {
            return "this view has no results folder".into();
        };
        let out = dir.join(VIEW_MERMAID);
        let events = dir.join(crate::events::store::FILE_NAME);
        match crate::results::mermaid::write_file(&events, &out) {
            Ok(_) => format!("wrote {}", out.display()),
            Err(e) => format!("cannot write {}: {e}", out.display()),
        }
    }

    /// f: keeps only the rows matching the last search: `kind:message` (or lifecycle, log,
    /// metric, marker, verdict, or a QUIC frame type such as `kind:ACK`), `service:NAME`, or a
    /// text regex. `F` shows all.
    fn filter_rows(&mut self) {
        let pattern = self.search.clone().unwrap_or_default();
        match self.filter_for(&pattern) {
            Ok((flt, msg)) => {
                self.set_filter_keeping_selection(flt);
                self.note = Some(format!("{msg} (F shows all)"));
            }
            Err(e) => self.note = Some(e),
        }
    }

    fn filter_for(
        &self,
        pattern: &str,
    ) -> Result<(crate::events::timeline::Filter, String), String> {
        let mut flt = self.state.view().filter().clone();
        if let Some(k) = pattern.strip_prefix("kind:") {
            // A QUIC frame type ("kind:ACK"): the packets whose summary lists it.
            if let Some(frame) = crate::quic::wire::frame::kind_named(k.trim()) {
                let re = regex::Regex::new(&format!(r"(?i): (?:.*, )?{frame}(?:,|$)"))
                    .expect("frame names are plain words");
                flt.kinds = Some(vec![crate::events::Kind::Message]);
                flt.text = Some(re);
                return Ok((flt, format!("showing packets with {frame} frames only")));
            }
            let kind = serde_json::from_value::<crate::events::Kind>(serde_json::Value::String(
                k.trim().into(),
            ))
            .map_err(|_| {
                format!("unknown kind `{k}`: lifecycle, message, log, metric, marker or verdict, or a QUIC frame type (ACK, CRYPTO, STREAM…)")
            })?;
            flt.kinds = Some(vec![kind]);
            return Ok((flt, format!("showing {k} rows only")));
        }
        if let Some(name) = pattern.strip_prefix("service:") {
            let keep = self.timeline.lane(name.trim()).ok_or_else(|| {
                format!(
                    "no lane `{}`: {}",
                    name.trim(),
                    self.timeline.lanes().join(", ")
                )
            })?;
            flt.hidden_lanes = (0..self.timeline.lanes().len() as u16)
                .filter(|l| *l != keep)
                .collect();
            flt.hide_orchestrator = true;
            return Ok((flt, format!("showing {} only", name.trim())));
        }
        match regex::Regex::new(pattern) {
            Ok(re) if !pattern.is_empty() => {
                flt.text = Some(re);
                Ok((flt, format!("showing rows matching “{pattern}”")))
            }
            _ => Err("search first (/TEXT, /kind:message or /service:NAME), then f filters".into()),
        }
    }
}

/// The event numbered `seq` in a results folder's `events.jsonl`.
pub fn event_at(dir: &std::path::Path, seq: u64) -> Option<crate::events::Event> {
    use std::io::BufRead;
    let f = std::fs::File::open(dir.join(crate::events::store::FILE_NAME)).ok()?;
    let prefix = format!("{{\"seq\":{seq},");
    let line = std::io::BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with(&prefix))?;
    serde_json::from_str(&line).ok()
}

/// A test's folder name: `name` (slugged), or `name_K` for iteration K (`name #K`).
fn test_folder(test: &str) -> String {
    match test.rsplit_once(" #") {
        Some((name, k)) if k.parse::<u32>().is_ok() => {
            format!("{}_{k}", crate::results::slug(name))
        }
        _ => crate::results::slug(test),
    }
}

/// The end of a service's log (its last MiB at most): a log can be gigabytes, and the
/// overlay shows its last lines. Only a regular file is read.
fn log_tail(path: &std::path::Path) -> String {
    use std::io::{Read, Seek, SeekFrom};
    use std::os::unix::fs::OpenOptionsExt;
    const TAIL: u64 = 1 << 20;
    // Non-blocking, so a FIFO in a copied results folder cannot hang the open.
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path);
    let Ok(mut f) = opened else {
        return String::new();
    };
    let len = match f.metadata() {
        Ok(m) if m.is_file() => m.len(),
        _ => return String::new(),
    };
    if f.seek(SeekFrom::Start(len.saturating_sub(TAIL))).is_err() {
        return String::new();
    }
    let mut bytes = Vec::new();
    let _ = f.take(TAIL).read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    // A cut in the middle of a line starts at the next one.
    match (len > TAIL, text.find('\n')) {
        (true, Some(i)) => text[i + 1..].to_string(),
        _ => text,
    }
}
