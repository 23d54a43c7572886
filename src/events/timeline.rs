//! The headless model behind the sequence view: a compact, incrementally built list of rows
//! (message arrows between service lanes, notes on a lane or in the orchestrator column,
//! verdict banners), and [`TimelineView`], a filtered projection of it with idle gaps collapsed
//! and O(log n + window) random access, so a view can draw any window of a million-event run.
//!
//! Memory: one row is a 40-byte slot; texts live in one byte arena, deduplicated through a
//! small direct-mapped cache (repeated notes and summaries are stored once). No ratatui here.

use std::collections::HashMap;
use std::ops::Range;

use regex::Regex;

use super::model::{Event, Kind, Level, ORCHESTRATOR};
use crate::verdict::Verdict;

/// Index of a lane (a service) in [`Timeline::lanes`].
pub type LaneId = u16;

/// Default idle threshold: consecutive rows further apart than this are separated by a gap row.
pub const DEFAULT_GAP_US: u64 = 1_000_000;

/// One row of the diagram, borrowed from the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row<'a> {
    /// An arrow from one lane to another. `t` is when it arrived (or, lost, when it was sent);
    /// `sent_t` when it left.
    Message {
        from_lane: LaneId,
        to_lane: LaneId,
        summary: &'a str,
        lost: bool,
        sent_t: u64,
        t: u64,
        seq: u64,
    },
    /// A lifecycle step, log line, metric, marker or check verdict; `lane` None is the
    /// orchestrator column (orchestrator, environment and link relay events).
    Note {
        lane: Option<LaneId>,
        text: &'a str,
        kind: Kind,
        level: Option<Level>,
        /// A check's or service's verdict (verdict events that are not banners).
        verdict: Option<Verdict>,
        t: u64,
        seq: u64,
    },
    /// A test's (or the run's) verdict, drawn across the width.
    Verdict {
        text: &'a str,
        verdict: Verdict,
        t: u64,
        seq: u64,
    },
}

impl<'a> Row<'a> {
    pub fn t(&self) -> u64 {
        match *self {
            Row::Message { t, .. } | Row::Note { t, .. } | Row::Verdict { t, .. } => t,
        }
    }

    pub fn seq(&self) -> u64 {
        match *self {
            Row::Message { seq, .. } | Row::Note { seq, .. } | Row::Verdict { seq, .. } => seq,
        }
    }

    /// The row's line of text (summary, note or verdict text).
    pub fn text(&self) -> &'a str {
        match *self {
            Row::Message { summary, .. } => summary,
            Row::Note { text, .. } | Row::Verdict { text, .. } => text,
        }
    }

    /// The event kind the row came from.
    pub fn kind(&self) -> Kind {
        match *self {
            Row::Message { .. } => Kind::Message,
            Row::Note { kind, .. } => kind,
            Row::Verdict { .. } => Kind::Verdict,
        }
    }
}

/// A row of a [`TimelineView`]: a timeline row (with its index) or a collapsed idle gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayRow<'a> {
    Row { index: usize, row: Row<'a> },
    Gap { duration_us: u64 },
}

const TAG_MESSAGE: u8 = 0;
const TAG_NOTE: u8 = 1;
const TAG_VERDICT: u8 = 2;
const NO_LANE: LaneId = LaneId::MAX;
const FLAG_LOST: u8 = 1;

/// One stored row: 40 bytes.
#[derive(Debug, Clone, Copy)]
struct Slot {
    t: u64,
    seq: u64,
    /// Offset of the text in the arena.
    text_off: u64,
    text_len: u32,
    /// Message: µs between sending and `t` (saturating). Verdict: the verdict. Note: 0, or
    /// 1 + the verdict of a check or service.
    aux: u32,
    a: LaneId,
    b: LaneId,
    tag: u8,
    kind: u8,
    /// 0 = none, 1 + Level.
    level: u8,
    flags: u8,
}

const CACHE_SLOTS: usize = 4096;

/// The rows of a run, built incrementally from its events.
pub struct Timeline {
    lanes: Vec<String>,
    lane_ix: HashMap<String, LaneId>,
    slots: Vec<Slot>,
    arena: Vec<u8>,
    /// Direct-mapped intern cache: hash bucket → (offset, len) of a text in the arena.
    cache: Box<[(u64, u32)]>,
    /// Send time of link messages not yet delivered, by message id.
    pending: HashMap<u64, u64>,
    events: u64,
    has_orchestrator_notes: bool,
}

impl Default for Timeline {
    fn default() -> Self {
        Self::new()
    }
}

impl Timeline {
    pub fn new() -> Self {
        Timeline {
            lanes: Vec::new(),
            lane_ix: HashMap::new(),
            slots: Vec::new(),
            arena: Vec::new(),
            cache: vec![(0, u32::MAX); CACHE_SLOTS].into_boxed_slice(),
            pending: HashMap::new(),
            events: 0,
            has_orchestrator_notes: false,
        }
    }

    /// Swaps two lanes' places (the view's "move lane left/right"): O(rows), a few ms for a
    /// million-event run, paid only on the key press. Views must `sync` again afterwards.
    pub fn swap_lanes(&mut self, x: LaneId, y: LaneId) {
        let n = self.lanes.len() as LaneId;
        if x == y || x >= n || y >= n {
            return;
        }
        self.lanes.swap(x as usize, y as usize);
        for (i, name) in self.lanes.iter().enumerate() {
            self.lane_ix.insert(name.clone(), i as LaneId);
        }
        let swap = |l: LaneId| {
            if l == x {
                y
            } else if l == y {
                x
            } else {
                l
            }
        };
        for s in &mut self.slots {
            s.a = swap(s.a);
            s.b = swap(s.b);
        }
    }

    pub fn from_events<'e>(events: impl IntoIterator<Item = &'e Event>) -> Self {
        let mut tl = Timeline::new();
        for e in events {
            tl.push(e);
        }
        tl
    }

    /// The timeline of a results folder's `events.jsonl`, streamed from the file: only the
    /// index is held, never the events (the detail of one is read back on demand). Returns
    /// the timeline and the torn lines skipped.
    pub fn load(path: &std::path::Path) -> std::io::Result<(Self, usize)> {
        let mut r = super::store::Reader::<Event>::open(path)?;
        let mut tl = Timeline::new();
        while let Some(e) = r.next_event()? {
            tl.push(&e);
        }
        Ok((tl, r.bad()))
    }

    /// Services, in order of first appearance.
    pub fn lanes(&self) -> &[String] {
        &self.lanes
    }

    pub fn lane(&self, name: &str) -> Option<LaneId> {
        self.lane_ix.get(name).copied()
    }

    /// Whether any row sits in the orchestrator column.
    pub fn has_orchestrator_notes(&self) -> bool {
        self.has_orchestrator_notes
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Number of events pushed (some, like a link's "sent" of a delivered message, make no row).
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Heap bytes held (allocated capacity, approximate for the hash maps).
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * size_of::<Slot>()
            + self.arena.capacity()
            + self.cache.len() * size_of::<(u64, u32)>()
            + self.pending.capacity() * 24
            + self.lane_ix.capacity() * 40
            + self
                .lanes
                .iter()
                .map(|l| l.capacity() * 2 + 24)
                .sum::<usize>()
    }

    fn lane_for(&mut self, name: &str) -> LaneId {
        if let Some(&i) = self.lane_ix.get(name) {
            return i;
        }
        let i = self.lanes.len().min(NO_LANE as usize - 1) as LaneId;
        if (i as usize) == self.lanes.len() {
            self.lanes.push(name.to_string());
            self.lane_ix.insert(name.to_string(), i);
        }
        i
    }

    fn intern(&mut self, s: &str) -> (u64, u32) {
        let bytes = s.as_bytes();
        let len = bytes.len().min(u32::MAX as usize) as u32;
        let bytes = &bytes[..len as usize];
        // FNV-1a: cheap and good enough for a cache.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in bytes {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        let bucket = (h as usize) & (CACHE_SLOTS - 1);
        let (off, l) = self.cache[bucket];
        if l == len && &self.arena[off as usize..off as usize + l as usize] == bytes {
            return (off, l);
        }
        let off = self.arena.len() as u64;
        self.arena.extend_from_slice(bytes);
        self.cache[bucket] = (off, len);
        (off, len)
    }

    fn text(&self, s: &Slot) -> &str {
        let b = &self.arena[s.text_off as usize..s.text_off as usize + s.text_len as usize];
        // Texts are copied from `&str`s whole, so they are valid UTF-8.
        std::str::from_utf8(b).unwrap_or("")
    }

    /// Adds an event; returns whether it made a row.
    pub fn push(&mut self, e: &Event) -> bool {
        self.events += 1;
        let level = e.level.map_or(0, |l| 1 + l as u8);
        if e.kind == Kind::Message
            && let Some(m) = &e.message
        {
            let from = self.lane_for(&m.from);
            // A message the link relay dropped ends on the link's own lifeline.
            let to = if e.source == "link" && m.lost {
                self.lane_for("link")
            } else {
                self.lane_for(&m.to)
            };
            let (sent_t, lost) = if e.source == "link" {
                match e.text.as_str() {
                    "sent" if !m.lost => {
                        if let Some(id) = m.id {
                            self.pending.insert(id, e.t);
                        }
                        return false;
                    }
                    "delivered" => {
                        let pending = m.id.and_then(|id| self.pending.remove(&id));
                        let sent = e
                            .data
                            .get("sent_us")
                            .and_then(|v| v.as_u64())
                            .or(pending)
                            .unwrap_or(e.t);
                        (sent, m.lost)
                    }
                    _ => {
                        if let Some(id) = m.id {
                            self.pending.remove(&id);
                        }
                        (e.t, m.lost)
                    }
                }
            } else {
                (e.t, m.lost)
            };
            let (text_off, text_len) = self.intern(&m.summary);
            self.slots.push(Slot {
                t: e.t,
                seq: e.seq,
                text_off,
                text_len,
                aux: e.t.saturating_sub(sent_t).min(u32::MAX as u64) as u32,
                a: from,
                b: to,
                tag: TAG_MESSAGE,
                kind: kind_code(Kind::Message),
                level,
                flags: if lost { FLAG_LOST } else { 0 },
            });
            return true;
        }
        let banner = e.kind == Kind::Verdict
            && (e.data.get("test_verdict").and_then(|v| v.as_bool()) == Some(true)
                || (e.source == ORCHESTRATOR && e.data.get("overall").is_some()));
        if banner {
            let verdict = ["verdict", "overall"]
                .iter()
                .find_map(|k| e.data.get(*k).and_then(|v| v.as_str()))
                .and_then(parse_verdict)
                .unwrap_or(Verdict::Error);
            let (text_off, text_len) = self.intern(&e.text);
            self.slots.push(Slot {
                t: e.t,
                seq: e.seq,
                text_off,
                text_len,
                aux: verdict as u32,
                a: NO_LANE,
                b: NO_LANE,
                tag: TAG_VERDICT,
                kind: kind_code(Kind::Verdict),
                level,
                flags: 0,
            });
            return true;
        }
        let lane = match e.source.as_str() {
            // The link relay has a lifeline of its own (between the services it joins, by
            // order of appearance), carrying its notes and the messages it dropped.
            "link" => self.lane_for("link"),
            ORCHESTRATOR | "environment" | "" => {
                self.has_orchestrator_notes = true;
                NO_LANE
            }
            s => self.lane_for(s),
        };
        let verdict = match e.kind {
            Kind::Verdict => e
                .data
                .get("verdict")
                .and_then(|v| v.as_str())
                .and_then(parse_verdict)
                .map_or(0, |v| 1 + v as u32),
            _ => 0,
        };
        let (text_off, text_len) = self.intern(&e.text);
        self.slots.push(Slot {
            t: e.t,
            seq: e.seq,
            text_off,
            text_len,
            aux: verdict,
            a: lane,
            b: lane,
            tag: TAG_NOTE,
            kind: kind_code(e.kind),
            level,
            flags: 0,
        });
        true
    }

    /// Row `i`. Panics when out of range.
    pub fn row(&self, i: usize) -> Row<'_> {
        let s = &self.slots[i];
        let text = self.text(s);
        match s.tag {
            TAG_MESSAGE => Row::Message {
                from_lane: s.a,
                to_lane: s.b,
                summary: text,
                lost: s.flags & FLAG_LOST != 0,
                sent_t: s.t.saturating_sub(s.aux as u64),
                t: s.t,
                seq: s.seq,
            },
            TAG_VERDICT => Row::Verdict {
                text,
                verdict: verdict_from(s.aux),
                t: s.t,
                seq: s.seq,
            },
            _ => Row::Note {
                lane: (s.a != NO_LANE).then_some(s.a),
                text,
                kind: kind_from(s.kind),
                level: level_from(s.level),
                verdict: (s.aux > 0).then(|| verdict_from(s.aux - 1)),
                t: s.t,
                seq: s.seq,
            },
        }
    }

    fn t_of(&self, i: usize) -> u64 {
        self.slots[i].t
    }

    /// The rows in `range` (clamped), in O(window).
    pub fn rows(&self, range: Range<usize>) -> impl Iterator<Item = Row<'_>> + '_ {
        let end = range.end.min(self.len());
        let start = range.start.min(end);
        (start..end).map(move |i| self.row(i))
    }

    /// The first row at or after `from` whose text matches.
    pub fn find_next(&self, re: &Regex, from: usize) -> Option<usize> {
        (from..self.len()).find(|&i| re.is_match(self.text(&self.slots[i])))
    }

    /// The last row at or before `from` whose text matches.
    pub fn find_prev(&self, re: &Regex, from: usize) -> Option<usize> {
        let end = (from + 1).min(self.len());
        (0..end)
            .rev()
            .find(|&i| re.is_match(self.text(&self.slots[i])))
    }
}

fn kind_code(k: Kind) -> u8 {
    match k {
        Kind::Lifecycle => 0,
        Kind::Message => 1,
        Kind::Log => 2,
        Kind::Metric => 3,
        Kind::Marker => 4,
        Kind::Verdict => 5,
    }
}

fn kind_from(c: u8) -> Kind {
    match c {
        0 => Kind::Lifecycle,
        1 => Kind::Message,
        2 => Kind::Log,
        3 => Kind::Metric,
        4 => Kind::Marker,
        _ => Kind::Verdict,
    }
}

fn level_from(c: u8) -> Option<Level> {
    Some(match c {
        1 => Level::Trace,
        2 => Level::Debug,
        3 => Level::Info,
        4 => Level::Warn,
        5 => Level::Error,
        _ => return None,
    })
}

fn verdict_from(c: u32) -> Verdict {
    match c {
        0 => Verdict::Pass,
        1 => Verdict::Inconclusive,
        2 => Verdict::Fail,
        _ => Verdict::Error,
    }
}

fn parse_verdict(s: &str) -> Option<Verdict> {
    Some(match s {
        "pass" => Verdict::Pass,
        "inconclusive" => Verdict::Inconclusive,
        "fail" => Verdict::Fail,
        "error" => Verdict::Error,
        _ => return None,
    })
}

/// Which rows a [`TimelineView`] shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Lanes not shown: their notes and any message to or from them are hidden.
    pub hidden_lanes: Vec<LaneId>,
    /// Hide the orchestrator column's notes.
    pub hide_orchestrator: bool,
    /// Only rows of these kinds (None: all).
    pub kinds: Option<Vec<Kind>>,
    /// Only rows whose text matches.
    pub text: Option<Regex>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.hidden_lanes.is_empty()
            && !self.hide_orchestrator
            && self.kinds.is_none()
            && self.text.is_none()
    }

    pub fn matches(&self, row: &Row) -> bool {
        if let Some(kinds) = &self.kinds
            && !kinds.contains(&row.kind())
        {
            return false;
        }
        let lane_ok = match *row {
            Row::Message {
                from_lane, to_lane, ..
            } => !self.hidden_lanes.contains(&from_lane) && !self.hidden_lanes.contains(&to_lane),
            Row::Note { lane: Some(l), .. } => !self.hidden_lanes.contains(&l),
            Row::Note { lane: None, .. } => !self.hide_orchestrator,
            Row::Verdict { .. } => true,
        };
        if !lane_ok {
            return false;
        }
        match &self.text {
            Some(re) => re.is_match(row.text()),
            None => true,
        }
    }
}

/// A filtered projection of a [`Timeline`] with idle gaps collapsed into gap rows. Kept in
/// step with a growing timeline by [`TimelineView::sync`], which only looks at new rows.
#[derive(Debug, Clone)]
pub struct TimelineView {
    filter: Filter,
    gap_us: u64,
    /// Timeline rows shown, in order; None when the filter is empty (every row).
    items: Option<Vec<u32>>,
    /// Item count when `items` is None.
    count: usize,
    /// Positions p (in items) with a gap row just before item p; increasing.
    gaps: Vec<u32>,
    /// Timeline rows already looked at.
    synced: usize,
    last_t: Option<u64>,
}

impl Default for TimelineView {
    fn default() -> Self {
        Self::new(Filter::default(), DEFAULT_GAP_US)
    }
}

impl TimelineView {
    /// A view showing rows that pass `filter`, with a gap row wherever two shown rows are more
    /// than `gap_us` apart (0 disables gaps).
    pub fn new(filter: Filter, gap_us: u64) -> Self {
        TimelineView {
            items: (!filter.is_empty()).then(Vec::new),
            filter,
            gap_us,
            count: 0,
            gaps: Vec::new(),
            synced: 0,
            last_t: None,
        }
    }

    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    pub fn gap_us(&self) -> u64 {
        self.gap_us
    }

    /// Replaces the filter; the view is rebuilt at the next `sync`.
    pub fn set_filter(&mut self, filter: Filter) {
        *self = TimelineView::new(filter, self.gap_us);
    }

    pub fn set_gap_us(&mut self, gap_us: u64) {
        *self = TimelineView::new(std::mem::take(&mut self.filter), gap_us);
    }

    /// Takes in the rows added to `tl` since the last call: O(new rows).
    pub fn sync(&mut self, tl: &Timeline) {
        if tl.len() < self.synced {
            // A different (shorter) timeline: start again.
            *self = TimelineView::new(std::mem::take(&mut self.filter), self.gap_us);
        }
        for i in self.synced..tl.len() {
            if let Some(items) = &mut self.items {
                if !self.filter.matches(&tl.row(i)) {
                    continue;
                }
                items.push(i as u32);
            }
            let t = tl.t_of(i);
            let pos = self.item_count() - usize::from(self.items.is_some());
            if let Some(last) = self.last_t
                && self.gap_us > 0
                && t.saturating_sub(last) > self.gap_us
            {
                self.gaps.push(pos as u32);
            }
            self.last_t = Some(t);
            if self.items.is_none() {
                self.count += 1;
            }
        }
        self.synced = tl.len();
    }

    fn item_count(&self) -> usize {
        match &self.items {
            Some(v) => v.len(),
            None => self.count,
        }
    }

    fn item_row(&self, p: usize) -> usize {
        match &self.items {
            Some(v) => v[p] as usize,
            None => p,
        }
    }

    /// Number of display rows (shown rows plus gap rows).
    pub fn len(&self) -> usize {
        self.item_count() + self.gaps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (gaps before display index d, whether d is itself a gap).
    fn locate(&self, d: usize) -> (usize, bool) {
        // Gap j sits at display index gaps[j] + j, strictly increasing in j.
        let (mut lo, mut hi) = (0, self.gaps.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.gaps[mid] as usize + mid < d {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let is_gap = self.gaps.get(lo).is_some_and(|&g| g as usize + lo == d);
        (lo, is_gap)
    }

    /// Display rows in `range` (clamped): O(log n + window).
    pub fn rows<'a>(
        &'a self,
        tl: &'a Timeline,
        range: Range<usize>,
    ) -> impl Iterator<Item = DisplayRow<'a>> + 'a {
        let end = range.end.min(self.len());
        let start = range.start.min(end);
        let (mut k, _) = self.locate(start);
        (start..end).map(move |d| {
            if self.gaps.get(k).is_some_and(|&g| g as usize + k == d) {
                let p = self.gaps[k] as usize;
                k += 1;
                let after = tl.t_of(self.item_row(p));
                let before = if p > 0 {
                    tl.t_of(self.item_row(p - 1))
                } else {
                    after
                };
                DisplayRow::Gap {
                    duration_us: after.saturating_sub(before),
                }
            } else {
                let index = self.item_row(d - k);
                DisplayRow::Row {
                    index,
                    row: tl.row(index),
                }
            }
        })
    }

    /// Display row `d`.
    pub fn get<'a>(&'a self, tl: &'a Timeline, d: usize) -> Option<DisplayRow<'a>> {
        self.rows(tl, d..d + 1).next()
    }

    /// The timeline row shown just before display row `d` (skipping gaps), for relative times.
    pub fn row_before(&self, d: usize) -> Option<usize> {
        let (k, _) = self.locate(d.min(self.len()));
        let p = d.min(self.len()) - k;
        (p > 0).then(|| self.item_row(p - 1))
    }

    /// The display index of timeline row `index`, if it is shown.
    pub fn display_index(&self, index: usize) -> Option<usize> {
        let p = match &self.items {
            Some(v) => v.binary_search(&(index as u32)).ok()?,
            None if index < self.count => index,
            None => return None,
        };
        Some(p + self.gaps.partition_point(|&g| g as usize <= p))
    }

    /// The next display row at or after `from` whose text matches (gap rows never match).
    pub fn find_next(&self, tl: &Timeline, re: &Regex, from: usize) -> Option<usize> {
        let (k, _) = self.locate(from.min(self.len()));
        let p0 = from.min(self.len()) - k;
        (p0..self.item_count())
            .find(|&p| re.is_match(tl.row(self.item_row(p)).text()))
            .and_then(|p| self.display_index(self.item_row(p)))
    }

    /// The last display row at or before `from` whose text matches.
    pub fn find_prev(&self, tl: &Timeline, re: &Regex, from: usize) -> Option<usize> {
        if self.is_empty() {
            return None;
        }
        let d = from.min(self.len() - 1);
        let (k, is_gap) = self.locate(d);
        // A gap at d: the last item before it is at p = d - k - 1.
        let end = if is_gap { d - k } else { d - k + 1 };
        (0..end)
            .rev()
            .find(|&p| re.is_match(tl.row(self.item_row(p)).text()))
            .and_then(|p| self.display_index(self.item_row(p)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::model::Message;

    fn msg(seq: u64, t: u64, text: &str, from: &str, to: &str, summary: &str, id: u64) -> Event {
        let mut e = Event::new("link", Kind::Message, text);
        e.seq = seq;
        e.t = t;
        e.message = Some(Message {
            from: from.into(),
            to: to.into(),
            protocol: "minip".into(),
            summary: summary.into(),
            bytes: 10,
            id: Some(id),
            lost: false,
            hex: None,
        });
        e
    }

    #[test]
    fn slot_is_compact() {
        assert_eq!(size_of::<Slot>(), 40);
    }

    #[test]
    fn sent_then_delivered_is_one_arrow() {
        let mut tl = Timeline::new();
        assert!(!tl.push(&msg(0, 100, "sent", "a", "b", "PING", 1)));
        assert!(tl.push(&msg(1, 300, "delivered", "a", "b", "PING", 1)));
        assert_eq!(tl.len(), 1);
        assert_eq!(tl.lanes(), ["a", "b"]);
        assert_eq!(
            tl.row(0),
            Row::Message {
                from_lane: 0,
                to_lane: 1,
                summary: "PING",
                lost: false,
                sent_t: 100,
                t: 300,
                seq: 1
            }
        );
    }

    #[test]
    fn interning_reuses_repeated_texts() {
        let mut tl = Timeline::new();
        for i in 0..100 {
            let mut e = Event::new("svc", Kind::Log, "same line");
            e.seq = i;
            tl.push(&e);
        }
        assert_eq!(tl.arena.len(), "same line".len());
        assert!(tl.rows(0..100).all(|r| r.text() == "same line"));
    }

    #[test]
    fn gap_positions_and_locate() {
        let mut tl = Timeline::new();
        for (i, t) in [0u64, 10, 3_000_000, 3_000_010, 9_000_000]
            .iter()
            .enumerate()
        {
            let mut e = Event::new("svc", Kind::Log, format!("r{i}"));
            e.seq = i as u64;
            e.t = *t;
            tl.push(&e);
        }
        let mut v = TimelineView::default();
        v.sync(&tl);
        assert_eq!(v.len(), 7);
        let shown: Vec<String> = v
            .rows(&tl, 0..7)
            .map(|d| match d {
                DisplayRow::Row { row, .. } => row.text().to_string(),
                DisplayRow::Gap { duration_us } => format!("gap{duration_us}"),
            })
            .collect();
        assert_eq!(
            shown,
            ["r0", "r1", "gap2999990", "r2", "r3", "gap5999990", "r4"]
        );
        for start in 0..7 {
            let w: Vec<_> = v.rows(&tl, start..7).collect();
            let all: Vec<_> = v.rows(&tl, 0..7).skip(start).collect();
            assert_eq!(w, all, "window from {start}");
        }
        assert_eq!(v.display_index(2), Some(3));
        let re = Regex::new("^r[024]$").unwrap();
        assert_eq!(v.find_next(&tl, &re, 0), Some(0));
        assert_eq!(v.find_next(&tl, &re, 1), Some(3));
        assert_eq!(v.find_next(&tl, &re, 2), Some(3));
        assert_eq!(v.find_next(&tl, &re, 4), Some(6));
        assert_eq!(v.find_next(&tl, &re, 7), None);
        assert_eq!(v.find_prev(&tl, &re, 5), Some(3));
        assert_eq!(v.find_prev(&tl, &re, 2), Some(0));
        assert_eq!(v.find_prev(&tl, &re, 100), Some(6));
        // Filtered: r1 and r3 only, with the gap between them kept.
        let mut f = TimelineView::new(
            Filter {
                text: Some(Regex::new("^r[13]$").unwrap()),
                ..Filter::default()
            },
            DEFAULT_GAP_US,
        );
        f.sync(&tl);
        assert_eq!(f.len(), 3);
        assert!(matches!(
            f.get(&tl, 1),
            Some(DisplayRow::Gap {
                duration_us: 3_000_000
            })
        ));
        assert_eq!(f.display_index(3), Some(2));
        assert_eq!(f.display_index(2), None);
        assert_eq!(f.find_prev(&tl, &Regex::new("r").unwrap(), 1), Some(0));
        assert_eq!(v.display_index(4), Some(6));
        assert_eq!(v.row_before(3), Some(1));
    }
}
