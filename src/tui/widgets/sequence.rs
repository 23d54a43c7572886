//! The live sequence view: one lifeline per service, arrows for messages (summary centred on
//! the arrow, lost ones crossed), notes on their lane, orchestrator notes in a left column,
//! verdict banners across the width, idle gaps collapsed, and a time column (relative to the
//! previous row, or since the run started). Only the visible rows are drawn: a frame costs
//! O(height × width) whatever the length of the run.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::StatefulWidget;
use regex::Regex;

use crate::events::Level;
use crate::events::timeline::{DisplayRow, Filter, LaneId, Row, Timeline, TimelineView};
use crate::verdict::Verdict;

/// Colours of the sequence view. [`SequenceStyle::no_color`] for `NO_COLOR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceStyle {
    pub header: Style,
    pub lifeline: Style,
    pub time: Style,
    pub arrow: Style,
    pub lost: Style,
    pub note: Style,
    pub note_warn: Style,
    pub note_error: Style,
    pub orchestrator: Style,
    pub gap: Style,
    pub verdict_pass: Style,
    pub verdict_inconclusive: Style,
    pub verdict_fail: Style,
    pub verdict_error: Style,
    pub selection: Style,
}

/// The default theme's colours (`themes/dark.toml`): the theme module owns every colour.
impl Default for SequenceStyle {
    fn default() -> Self {
        crate::tui::theme::Theme::default_theme().sequence
    }
}

impl SequenceStyle {
    /// No colours: only bold for headers and banners, reversed for the selection.
    pub fn no_color() -> Self {
        let plain = Style::default();
        let bold = plain.add_modifier(Modifier::BOLD);
        SequenceStyle {
            header: bold,
            lifeline: plain,
            time: plain,
            arrow: plain,
            lost: plain,
            note: plain,
            note_warn: plain,
            note_error: bold,
            orchestrator: plain,
            gap: plain,
            verdict_pass: bold,
            verdict_inconclusive: bold,
            verdict_fail: bold,
            verdict_error: bold,
            selection: plain.add_modifier(Modifier::REVERSED),
        }
    }

    fn verdict(&self, v: Verdict) -> Style {
        match v {
            Verdict::Pass => self.verdict_pass,
            Verdict::Inconclusive => self.verdict_inconclusive,
            Verdict::Fail => self.verdict_fail,
            Verdict::Error => self.verdict_error,
        }
    }
}

/// What the time column shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeMode {
    /// Time since the previous row shown.
    #[default]
    Relative,
    /// Time since the run started.
    Absolute,
}

/// Scroll position, selection, follow mode, time mode and the filtered view.
#[derive(Debug, Clone)]
pub struct SequenceViewState {
    view: TimelineView,
    /// First display row drawn.
    pub offset: usize,
    /// Selected display row.
    pub selected: Option<usize>,
    /// Keep the last rows in view as rows arrive.
    pub follow: bool,
    pub time_mode: TimeMode,
    /// Body height at the last render (for paging and keeping the selection in view).
    viewport: usize,
    /// At the next render, scroll so the selected row is in view (the view's height is
    /// about to change, e.g. the detail pane opened).
    pub reveal: bool,
    /// Where the rows were drawn at the last render (x, y, width, height), for clicks.
    body: Option<(u16, u16, u16, u16)>,
}

impl Default for SequenceViewState {
    fn default() -> Self {
        Self::new()
    }
}

impl SequenceViewState {
    pub fn new() -> Self {
        SequenceViewState {
            view: TimelineView::default(),
            offset: 0,
            selected: None,
            follow: true,
            time_mode: TimeMode::Relative,
            viewport: 1,
            reveal: false,
            body: None,
        }
    }

    pub fn view(&self) -> &TimelineView {
        &self.view
    }

    /// The display row drawn at screen cell (col, row) at the last render, if any.
    pub fn row_at(&self, col: u16, row: u16) -> Option<usize> {
        let (x, y, w, h) = self.body?;
        if col < x || col >= x + w || row < y || row >= y + h {
            return None;
        }
        let d = self.offset + (row - y) as usize;
        (d < self.len()).then_some(d)
    }

    /// Takes in new rows (render does it too).
    pub fn sync(&mut self, tl: &Timeline) {
        self.view.sync(tl);
    }

    /// Display rows (after the last sync).
    pub fn len(&self) -> usize {
        self.view.len()
    }

    pub fn is_empty(&self) -> bool {
        self.view.is_empty()
    }

    pub fn hidden_lanes(&self) -> &[LaneId] {
        &self.view.filter().hidden_lanes
    }

    /// Replaces the filter (lanes, kinds, text); the selection is cleared.
    pub fn set_filter(&mut self, filter: Filter) {
        self.view.set_filter(filter);
        self.selected = None;
        self.offset = 0;
    }

    /// Hides a shown lane, shows a hidden one.
    pub fn toggle_lane(&mut self, lane: LaneId) {
        let mut f = self.view.filter().clone();
        match f.hidden_lanes.iter().position(|&l| l == lane) {
            Some(i) => {
                f.hidden_lanes.remove(i);
            }
            None => f.hidden_lanes.push(lane),
        }
        self.set_filter(f);
    }

    pub fn toggle_time_mode(&mut self) {
        self.time_mode = match self.time_mode {
            TimeMode::Relative => TimeMode::Absolute,
            TimeMode::Absolute => TimeMode::Relative,
        };
    }

    pub fn toggle_follow(&mut self) {
        self.follow = !self.follow;
    }

    fn max_offset(&self) -> usize {
        self.len().saturating_sub(self.viewport)
    }

    /// Scrolls by `delta` rows (negative: up); leaves follow mode unless at the bottom.
    pub fn scroll_by(&mut self, delta: isize) {
        let o = self
            .offset
            .saturating_add_signed(delta)
            .min(self.max_offset());
        self.offset = o;
        self.follow = delta > 0 && o == self.max_offset();
    }

    pub fn page_down(&mut self) {
        self.scroll_by(self.viewport as isize);
    }

    pub fn page_up(&mut self) {
        self.scroll_by(-(self.viewport as isize));
    }

    /// Selects display row `d` (clamped) and scrolls it into view.
    pub fn select(&mut self, d: usize) {
        if self.is_empty() {
            self.selected = None;
            return;
        }
        let d = d.min(self.len() - 1);
        self.selected = Some(d);
        if d < self.offset {
            self.offset = d;
        } else if d >= self.offset + self.viewport {
            self.offset = d + 1 - self.viewport;
        }
        self.follow = d + 1 == self.len() && self.offset == self.max_offset();
    }

    pub fn select_next(&mut self) {
        let d = self.selected.map_or(self.offset, |s| s + 1);
        self.select(d);
    }

    pub fn select_prev(&mut self) {
        let d = self
            .selected
            .map_or(self.offset + self.viewport, |s| s)
            .saturating_sub(1);
        self.select(d);
    }

    pub fn select_first(&mut self) {
        self.select(0);
        self.follow = false;
    }

    /// Selects the last row and follows.
    pub fn select_last(&mut self) {
        self.select(self.len().saturating_sub(1));
        self.follow = true;
    }

    /// Selects the next (or previous) row whose text matches, after (before) the selection;
    /// returns its display index.
    pub fn search(&mut self, tl: &Timeline, re: &Regex, forward: bool) -> Option<usize> {
        self.view.sync(tl);
        let found = match (forward, self.selected) {
            (true, s) => self.view.find_next(tl, re, s.map_or(0, |s| s + 1)),
            (false, Some(0)) => None,
            (false, s) => self.view.find_prev(tl, re, s.map_or(usize::MAX, |s| s - 1)),
        }?;
        self.select(found);
        self.follow = false;
        Some(found)
    }

    /// The selected row.
    pub fn selected_row<'a>(&'a self, tl: &'a Timeline) -> Option<DisplayRow<'a>> {
        self.view.get(tl, self.selected?)
    }
}

/// Draws a [`Timeline`] through a [`SequenceViewState`].
pub struct SequenceView<'a> {
    timeline: &'a Timeline,
    style: &'a SequenceStyle,
}

impl<'a> SequenceView<'a> {
    pub fn new(timeline: &'a Timeline, style: &'a SequenceStyle) -> Self {
        SequenceView { timeline, style }
    }
}

const TIME_W: u16 = 9;
const HEADER_H: u16 = 2;
/// The narrowest a lane is drawn: its lifeline and a column either side.
const MIN_SLOT: u16 = 3;

/// Where the columns go in an area: the orchestrator column only when the lanes keep some
/// room, and only the lanes that fit at [`MIN_SLOT`] columns each; the rest are cut (and
/// counted in the header), so nothing is ever drawn outside the area.
#[derive(Debug, Clone, Copy)]
struct Columns {
    orch_w: u16,
    lanes_x: u16,
    lanes_w: u16,
    slot: u16,
    /// How many of the shown lanes have a column.
    fitting: usize,
}

impl Columns {
    fn fit(area: Rect, orchestrator: bool, lanes: usize) -> Columns {
        let after_time = area.width.saturating_sub(TIME_W);
        let orch_w = if orchestrator {
            let w = (area.width / 6).clamp(12, 28);
            if after_time >= w + 2 * MIN_SLOT { w } else { 0 }
        } else {
            0
        };
        let lanes_w = after_time - orch_w;
        // When some lanes are cut, the header's "+N▸" keeps its own columns.
        let room = if lanes > (lanes_w / MIN_SLOT) as usize {
            lanes_w.saturating_sub(lanes.to_string().len() as u16 + 3)
        } else {
            lanes_w
        };
        let fitting = lanes.min((room / MIN_SLOT) as usize);
        let slot = if fitting == 0 {
            lanes_w
        } else {
            room / fitting as u16
        };
        Columns {
            orch_w,
            lanes_x: area.x + TIME_W + orch_w,
            lanes_w,
            slot,
            fitting,
        }
    }

    /// How many of `shown` lanes are cut off at the right.
    fn cut(&self, shown: usize) -> usize {
        shown.saturating_sub(self.fitting)
    }
}

impl StatefulWidget for SequenceView<'_> {
    type State = SequenceViewState;

    fn render(self, area: Rect, buf: &mut Buffer, state: &mut SequenceViewState) {
        let area = area.intersection(buf.area);
        if area.height <= HEADER_H || area.width < TIME_W + 4 {
            return;
        }
        let tl = self.timeline;
        let st = self.style;
        state.view.sync(tl);
        let body_h = (area.height - HEADER_H) as usize;
        state.viewport = body_h;
        let len = state.view.len();
        if state.follow {
            state.offset = len.saturating_sub(body_h);
        }
        state.offset = state.offset.min(len.saturating_sub(body_h));
        if let Some(s) = state.selected.filter(|_| std::mem::take(&mut state.reveal)) {
            if s >= state.offset + body_h {
                state.offset = s + 1 - body_h;
            } else if s < state.offset {
                state.offset = s;
            }
        }

        // Columns: time, orchestrator notes, then the lanes spread evenly.
        let filter = state.view.filter();
        let shown: Vec<LaneId> = (0..tl.lanes().len() as LaneId)
            .filter(|l| !filter.hidden_lanes.contains(l))
            .collect();
        let cols = Columns::fit(
            area,
            tl.has_orchestrator_notes() && !filter.hide_orchestrator,
            shown.len(),
        );
        let Columns {
            orch_w,
            lanes_x,
            lanes_w,
            slot,
            fitting,
        } = cols;
        let mut lane_x: Vec<Option<u16>> = vec![None; tl.lanes().len()];
        for (i, &l) in shown.iter().take(fitting).enumerate() {
            lane_x[l as usize] = Some(lanes_x + slot * i as u16 + slot / 2);
        }
        let cut = cols.cut(shown.len());
        let shown = &shown[..fitting];
        let xs: Vec<u16> = lane_x.iter().flatten().copied().collect();
        let right = area.x + area.width;

        // Header: column titles, lane names, a rule.
        let y = area.y;
        let time_title = match state.time_mode {
            TimeMode::Relative => "Δt",
            TimeMode::Absolute => "t (s)",
        };
        buf.set_stringn(area.x, y, time_title, TIME_W as usize - 1, st.header);
        if orch_w > 0 {
            put_clipped(
                buf,
                area.x + TIME_W,
                y,
                "orchestrator",
                orch_w - 1,
                st.header,
            );
        }
        for &l in shown {
            let x = lane_x[l as usize].unwrap_or(lanes_x);
            put_centred(
                buf,
                x,
                y,
                &tl.lanes()[l as usize],
                slot.saturating_sub(1),
                lanes_x,
                right,
                st.header,
            );
        }
        for x in area.x..right {
            let c = if xs.contains(&x) { "┬" } else { "─" };
            buf[(x, y + 1)].set_symbol(c).set_style(st.lifeline);
        }
        if cut > 0 {
            // Lanes beyond the right edge: say how many, and how to see them (H hides lanes).
            let label = format!(" +{cut}▸");
            let w = label.chars().count() as u16;
            if w < lanes_w {
                buf.set_stringn(right - w, y, &label, w as usize, st.header);
            }
        }

        // Body: only the visible window.
        let body_y = y + HEADER_H;
        state.body = Some((area.x, body_y, area.width, body_h as u16));
        let mut prev_t = state.view.row_before(state.offset).map(|i| tl.row(i).t());
        let window = state.offset..state.offset + body_h;
        for (i, drow) in state.view.rows(tl, window).enumerate() {
            let y = body_y + i as u16;
            match drow {
                DisplayRow::Gap { duration_us } => {
                    for &x in &xs {
                        buf[(x, y)].set_symbol("┆").set_style(st.lifeline);
                    }
                    let text = format!(" … {} idle … ", fmt_idle(duration_us));
                    let mid = lanes_x + lanes_w / 2;
                    put_centred(buf, mid, y, &text, lanes_w, lanes_x, right, st.gap);
                }
                DisplayRow::Row { row, .. } => {
                    let t = row.t();
                    let time = match state.time_mode {
                        TimeMode::Relative => fmt_delta(t.saturating_sub(prev_t.unwrap_or(0))),
                        TimeMode::Absolute => format!("{:.3}", t as f64 / 1e6),
                    };
                    prev_t = Some(t);
                    let pad = (TIME_W as usize - 1).saturating_sub(time.chars().count());
                    buf.set_stringn(area.x + pad as u16, y, &time, TIME_W as usize - 1, st.time);
                    if !matches!(row, Row::Verdict { .. }) {
                        for &x in &xs {
                            buf[(x, y)].set_symbol("│").set_style(st.lifeline);
                        }
                    }
                    draw_row(buf, st, row, y, &lane_x, lanes_x, right, orch_w, slot);
                }
            }
            if state.selected == Some(state.offset + i) {
                buf.set_style(Rect::new(area.x, y, area.width, 1), st.selection);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn draw_row(
    buf: &mut Buffer,
    st: &SequenceStyle,
    row: Row,
    y: u16,
    lane_x: &[Option<u16>],
    lanes_x: u16,
    right: u16,
    orch_w: u16,
    slot: u16,
) {
    match row {
        Row::Message {
            from_lane,
            to_lane,
            summary,
            lost,
            ..
        } => {
            let (Some(Some(a)), Some(Some(b))) =
                (lane_x.get(from_lane as usize), lane_x.get(to_lane as usize))
            else {
                return;
            };
            let (a, b) = (*a, *b);
            let style = if lost { st.lost } else { st.arrow };
            if a == b {
                let label = format!("↻ {summary}");
                put_clipped(buf, a + 1, y, &label, right.saturating_sub(a + 1), style);
                return;
            }
            let (lo, hi) = (a.min(b), a.max(b));
            if hi <= lo + 1 {
                return;
            }
            for x in lo + 1..hi {
                buf[(x, y)].set_symbol("─").set_style(style);
            }
            // Crossing another lane's lifeline.
            for x in lane_x
                .iter()
                .flatten()
                .filter(|&&x| x > lo + 1 && x + 1 < hi)
            {
                buf[(*x, y)].set_symbol("┼").set_style(style);
            }
            let head = match (lost, a < b) {
                (true, _) => "✕",
                (false, true) => "▶",
                (false, false) => "◀",
            };
            let head_x = if a < b { hi - 1 } else { lo + 1 };
            buf[(head_x, y)].set_symbol(head).set_style(style);
            let span = hi - lo - 1;
            if span > 4 {
                let label = format!(" {summary} ");
                let mid = lo + 1 + span / 2;
                put_centred(buf, mid, y, &label, span - 4, lo + 3, hi - 2, style);
            }
        }
        Row::Note {
            lane,
            text,
            level,
            verdict,
            ..
        } => {
            let style = match (verdict, level) {
                (Some(v), _) => st.verdict(v).remove_modifier(Modifier::BOLD),
                (_, Some(Level::Error)) => st.note_error,
                (_, Some(Level::Warn)) => st.note_warn,
                _ => st.note,
            };
            match lane {
                Some(l) => {
                    if let Some(Some(x)) = lane_x.get(l as usize) {
                        let label = format!(" {text} ");
                        put_centred(
                            buf,
                            *x,
                            y,
                            &label,
                            slot.saturating_sub(1),
                            lanes_x,
                            right,
                            style,
                        );
                    }
                }
                None if orch_w > 0 => {
                    // The row is the note's alone: it runs on over the lanes to the right
                    // edge instead of stopping at the orchestrator column (about 20 columns).
                    let left = lanes_x - orch_w;
                    let max = right.saturating_sub(left).saturating_sub(1);
                    put_clipped(buf, left, y, text, max, st.orchestrator);
                }
                None => {}
            }
        }
        Row::Verdict { text, verdict, .. } => {
            let style = st.verdict(verdict);
            let left = lanes_x - orch_w;
            for x in left..right {
                buf[(x, y)].set_symbol("═").set_style(style);
            }
            let label = format!(" {} · {text} ", verdict.as_str().to_uppercase());
            let w = right - left;
            put_centred(
                buf,
                left + w / 2,
                y,
                &label,
                w.saturating_sub(4),
                left,
                right,
                style,
            );
        }
    }
}

/// Writes `s` from x, at most `max` columns, ending in "…" when cut.
fn put_clipped(buf: &mut Buffer, x: u16, y: u16, s: &str, max: u16, style: Style) {
    if max == 0 {
        return;
    }
    let w = Span::raw(s).width();
    if w <= max as usize {
        buf.set_stringn(x, y, s, max as usize, style);
    } else {
        let (end, _) = buf.set_stringn(x, y, s, max as usize - 1, style);
        buf.set_stringn(end, y, "…", 1, style);
    }
}

/// Writes `s` centred on `mid`, at most `max` columns, kept within [lo, hi).
#[allow(clippy::too_many_arguments)]
fn put_centred(
    buf: &mut Buffer,
    mid: u16,
    y: u16,
    s: &str,
    max: u16,
    lo: u16,
    hi: u16,
    style: Style,
) {
    let max = max.min(hi.saturating_sub(lo));
    if max == 0 {
        return;
    }
    let w = (Span::raw(s).width() as u16).min(max);
    let x = mid.saturating_sub(w / 2).max(lo).min(hi.saturating_sub(w));
    put_clipped(buf, x, y, s, w, style);
}

fn fmt_delta(us: u64) -> String {
    if us < 1_000 {
        format!("+{us}µs")
    } else if us < 1_000_000 {
        format!("+{:.1}ms", us as f64 / 1e3)
    } else if us < 60_000_000 {
        format!("+{:.2}s", us as f64 / 1e6)
    } else {
        format!("+{}m{:02}s", us / 60_000_000, us / 1_000_000 % 60)
    }
}

fn fmt_idle(us: u64) -> String {
    if us < 60_000_000 {
        format!("{:.1} s", us as f64 / 1e6)
    } else {
        format!("{} min {} s", us / 60_000_000, us / 1_000_000 % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_read_well() {
        assert_eq!(fmt_delta(812), "+812µs");
        assert_eq!(fmt_delta(21_631), "+21.6ms");
        assert_eq!(fmt_delta(1_200_000), "+1.20s");
        assert_eq!(fmt_delta(61_000_000), "+1m01s");
        assert_eq!(fmt_idle(1_234_567), "1.2 s");
    }
}
