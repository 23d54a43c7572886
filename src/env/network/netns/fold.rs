//! TCP bulk on the timeline: the first [`SHOWN`] data segments of each direction of a
//! connection are messages of their own (that is where requests, responses and their heads
//! are); after that, data segments are counted and reported as one metric event per
//! [`REPORT_EVERY`] (and when the connection ends), so a 1 Gbit/s transfer costs a handful of
//! events a second instead of 80,000. Lost segments are always shown, and every frame stays in
//! `capture.pcap`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Data segments per connection direction shown one by one.
pub const SHOWN: u32 = 32;
/// How often folded segments are reported.
pub const REPORT_EVERY: Duration = Duration::from_millis(250);

/// One direction of a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub src: IpAddr,
    pub sport: u16,
    pub dst: IpAddr,
    pub dport: u16,
}

#[derive(Debug, Default)]
struct Flow {
    shown: u32,
    frames: u64,
    bytes: u64,
    since: Option<Instant>,
    ports: (usize, usize),
}

/// Segments folded since the last report of one flow direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub key: FlowKey,
    /// Switch ports: sender, receiver.
    pub ports: (usize, usize),
    pub frames: u64,
    pub bytes: u64,
}

#[derive(Debug, Default)]
pub struct Folds {
    flows: HashMap<FlowKey, Flow>,
    last_sweep: Option<Instant>,
}

impl Folds {
    /// Whether a data segment of `len` bytes is shown (`true`) or folded into the count.
    pub fn show(&mut self, key: FlowKey, ports: (usize, usize), len: usize, now: Instant) -> bool {
        let f = self.flows.entry(key).or_default();
        f.ports = ports;
        if f.shown < SHOWN {
            f.shown += 1;
            return true;
        }
        f.frames += 1;
        f.bytes += len as u64;
        f.since.get_or_insert(now);
        false
    }

    /// Reports for flows whose count is older than [`REPORT_EVERY`], and for `ended` (a FIN
    /// or RST), whose state is then forgotten. Cheap when nothing is due.
    pub fn due(&mut self, now: Instant, ended: Option<FlowKey>) -> Vec<Report> {
        let mut out = Vec::new();
        if let Some(k) = ended
            && let Some(f) = self.flows.remove(&k)
            && f.frames > 0
        {
            out.push(report(k, &f));
        }
        if self
            .last_sweep
            .is_some_and(|t| now.duration_since(t) < REPORT_EVERY / 4)
        {
            return out;
        }
        self.last_sweep = Some(now);
        for (k, f) in self.flows.iter_mut() {
            if f.since
                .is_some_and(|s| now.duration_since(s) >= REPORT_EVERY)
            {
                out.push(report(*k, f));
                (f.frames, f.bytes, f.since) = (0, 0, None);
            }
        }
        out
    }

    /// Everything still counted (the link is going down).
    pub fn drain(&mut self) -> Vec<Report> {
        self.flows
            .drain()
            .filter(|(_, f)| f.frames > 0)
            .map(|(k, f)| report(k, &f))
            .collect()
    }
}

fn report(key: FlowKey, f: &Flow) -> Report {
    Report {
        key,
        ports: f.ports,
        frames: f.frames,
        bytes: f.bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> FlowKey {
        FlowKey {
            src: "10.0.0.2".parse().unwrap(),
            sport: 40000,
            dst: "10.0.0.3".parse().unwrap(),
            dport: 80,
        }
    }

    #[test]
    fn the_first_segments_are_shown_then_counted_and_reported() {
        let mut f = Folds::default();
        let t0 = Instant::now();
        for _ in 0..SHOWN {
            assert!(f.show(key(), (0, 1), 1000, t0));
        }
        for _ in 0..10 {
            assert!(!f.show(key(), (0, 1), 1000, t0));
        }
        assert!(f.due(t0, None).is_empty(), "not due yet");
        let later = t0 + REPORT_EVERY;
        let r = f.due(later, None);
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].frames, r[0].bytes), (10, 10_000));
        assert!(f.due(later + REPORT_EVERY, None).is_empty(), "counted once");
        assert!(!f.show(key(), (0, 1), 5, later));
        let end = f.due(later, Some(key()));
        assert_eq!((end[0].frames, end[0].bytes), (1, 5));
        assert!(f.drain().is_empty());
    }
}
