//! Profiles (gperftools' CPU and heap profiles, perf's samples) as one shape: the functions
//! that cost most, each with its self share (time or bytes in the function itself) and its
//! cumulative share (with everything it calls). Read from the text the tools print
//! (`google-pprof --text`, `perf report --stdio`), so symbolization stays the tools' job.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::events::model::{Event, Kind, Level};

/// Entries kept in each ranking.
pub const TOP: usize = 20;

/// One function of a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub function: String,
    /// Share of the total in the function itself, in percent.
    pub self_pct: f64,
    /// Share of the total in the function and its callees, in percent.
    pub cum_pct: f64,
    /// The same in the profile's unit (samples or bytes).
    pub self_value: f64,
    pub cum_value: f64,
}

/// What one profile file says.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// `gperf_cpu`, `gperf_heap` or `perf`.
    pub tool: String,
    /// `samples` or `bytes` (in use at the last dump, for heap profiles).
    pub unit: String,
    pub total: f64,
    /// The profile file (kept in the service's artifacts).
    pub file: String,
    /// perf's event (`cpu-clock`, `cycles`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// What a reader should know (perf: a software event, no hardware counters here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The top [`TOP`] by self share (ties by cumulative share).
    pub by_self: Vec<Entry>,
    /// The top [`TOP`] by cumulative share.
    pub by_cumulative: Vec<Entry>,
}

impl Profile {
    fn from_entries(tool: &str, unit: &str, total: f64, file: &str, all: Vec<Entry>) -> Self {
        let mut by_self = all.clone();
        by_self.sort_by(|a, b| {
            b.self_value
                .total_cmp(&a.self_value)
                .then(b.cum_value.total_cmp(&a.cum_value))
        });
        by_self.truncate(TOP);
        let mut by_cumulative = all;
        by_cumulative.sort_by(|a, b| b.cum_value.total_cmp(&a.cum_value));
        by_cumulative.truncate(TOP);
        Profile {
            tool: tool.into(),
            unit: unit.into(),
            total,
            file: file.into(),
            event: None,
            note: None,
            by_self,
            by_cumulative,
        }
    }

    /// The one metric event that carries the profile (`data.profile`), with the top three
    /// functions by self share in its text.
    pub fn event(&self, service: &str) -> Event {
        let top: Vec<String> = self
            .by_self
            .iter()
            .take(3)
            .map(|e| format!("{} {:.1}%", e.function, e.self_pct))
            .collect();
        let total = if self.unit == "bytes" {
            format!("{} B in use", self.total as u64)
        } else if self.total == 1.0 {
            "1 sample".to_string()
        } else {
            format!("{} samples", self.total as u64)
        };
        let event = self
            .event
            .as_ref()
            .map(|e| format!(" of {e}"))
            .unwrap_or_default();
        let note = self
            .note
            .as_ref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        let mut e = Event::new(
            service,
            Kind::Metric,
            format!(
                "{}: {total}{event}{note}; top: {}",
                self.tool,
                top.join(", ")
            ),
        );
        e.level = Some(Level::Info);
        e.data = json!({"wrapper": self.tool, "file": self.file, "profile": self});
        e
    }
}

/// Rust's legacy mangling leaves a hash (`::h0123456789abcdef`) on demangled names.
fn tidy(name: &str) -> String {
    let n = name.trim();
    match n.rfind("::h") {
        Some(i) if n.len() - i == 19 && n[i + 3..].bytes().all(|b| b.is_ascii_hexdigit()) => {
            n[..i].to_string()
        }
        _ => n.to_string(),
    }
}

/// The first `n` whitespace-separated columns of `l` and the rest of the line (a function
/// name, which may hold spaces).
fn leading_columns(l: &str, n: usize) -> Option<(Vec<&str>, &str)> {
    let mut cols = Vec::with_capacity(n);
    let mut rest = l.trim_start();
    for _ in 0..n {
        let end = rest.find(char::is_whitespace)?;
        cols.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    Some((cols, rest.trim_end()))
}

fn pct(s: &str) -> Option<f64> {
    s.strip_suffix('%')?.parse().ok()
}

/// `google-pprof --text` output: `Total: N samples` (or `Total: N B` with `--show_bytes`)
/// then `flat flat% sum% cum cum% function` rows. `None` when there is no such table.
pub fn parse_pprof_text(text: &str, tool: &str, file: &str) -> Option<Profile> {
    let mut total = None;
    let mut unit = "samples";
    let mut all = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("Total:") {
            let mut it = rest.split_whitespace();
            total = it.next().and_then(|n| n.parse::<f64>().ok());
            unit = match it.next() {
                Some("B") => "bytes",
                Some("MB") => "megabytes",
                _ => "samples",
            };
            continue;
        }
        let Some((cols, name)) = leading_columns(l, 5) else {
            continue;
        };
        let (Ok(flat), Some(flat_pct), Some(_), Ok(cum), Some(cum_pct)) = (
            cols[0].parse::<f64>(),
            pct(cols[1]),
            pct(cols[2]),
            cols[3].parse::<f64>(),
            pct(cols[4]),
        ) else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        all.push(Entry {
            function: tidy(name),
            self_pct: flat_pct,
            cum_pct,
            self_value: flat,
            cum_value: cum,
        });
    }
    let total = total?;
    if unit == "megabytes" {
        for e in &mut all {
            e.self_value *= 1048576.0;
            e.cum_value *= 1048576.0;
        }
        return Some(Profile::from_entries(
            tool,
            "bytes",
            total * 1048576.0,
            file,
            all,
        ));
    }
    Some(Profile::from_entries(tool, unit, total, file, all))
}

/// `perf report --stdio --children --sort sym -g none`: `# Samples: N of event 'E'` then
/// `children% self% [.] symbol` rows (`self% [.] symbol` without call graphs). Kernel
/// symbols (`[k]`) are named `symbol [kernel]`.
pub fn parse_perf_report(text: &str, file: &str) -> Option<Profile> {
    let mut total = None;
    let mut event = None;
    let mut all = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("# Samples:") {
            let mut it = rest.split_whitespace();
            total = it.next().and_then(parse_count);
            event = rest
                .split_once("of event '")
                .and_then(|(_, e)| e.split('\'').next())
                .map(str::to_string);
            continue;
        }
        if l.starts_with('#') || l.is_empty() {
            continue;
        }
        let Some(bracket) = l.find(" [") else {
            continue;
        };
        let nums: Vec<f64> = l[..bracket].split_whitespace().filter_map(pct).collect();
        let sym = &l[bracket + 1..];
        let (space, name) = match sym.split_once("] ") {
            Some((s, n)) => (s.trim_start_matches('['), n),
            None => continue,
        };
        let (cum_pct, self_pct) = match nums[..] {
            [c, s] => (c, s),
            [s] => (s, s),
            _ => continue,
        };
        let function = if space == "k" {
            format!("{} [kernel]", tidy(name))
        } else {
            tidy(name)
        };
        all.push((function, self_pct, cum_pct));
    }
    let total = total?;
    let all = all
        .into_iter()
        .map(|(function, self_pct, cum_pct)| Entry {
            function,
            self_pct,
            cum_pct,
            self_value: (self_pct * total / 100.0).round(),
            cum_value: (cum_pct * total / 100.0).round(),
        })
        .collect();
    let mut p = Profile::from_entries("perf", "samples", total, file, all);
    p.event = event;
    Some(p)
}

/// `162`, `1K`, `2M` as perf prints sample counts.
fn parse_count(s: &str) -> Option<f64> {
    let (num, mult) = match s.chars().last()? {
        'K' => (&s[..s.len() - 1], 1e3),
        'M' => (&s[..s.len() - 1], 1e6),
        'G' => (&s[..s.len() - 1], 1e9),
        _ => (s, 1.0),
    };
    num.parse::<f64>().ok().map(|n| n * mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PPROF: &str = "Using local file panther.\nTotal: 30 samples\n       3  10.0%  10.0%        3  10.0% __libc_sendto\n       1   3.3%  13.3%       29  96.7% panther::builtin::minip_server::run::h0123456789abcdef\n       0   0.0%  13.3%       30 100.0% main\n";

    #[test]
    fn pprof_text_ranks_by_self_and_cumulative() {
        let p = parse_pprof_text(PPROF, "gperf_cpu", "cpu.prof").unwrap();
        assert_eq!(p.total, 30.0);
        assert_eq!(p.unit, "samples");
        assert_eq!(p.by_self[0].function, "__libc_sendto");
        assert_eq!(p.by_cumulative[0].function, "main");
        let run = &p.by_cumulative[1];
        assert_eq!(run.function, "panther::builtin::minip_server::run");
        assert_eq!((run.self_pct, run.cum_pct), (3.3, 96.7));
        assert!(
            p.event("s")
                .text
                .contains("30 samples; top: __libc_sendto 10.0%")
        );
        assert!(parse_pprof_text("no table here", "gperf_cpu", "f").is_none());
    }

    #[test]
    fn pprof_heap_in_megabytes_becomes_bytes() {
        let t = "Total: 4.0 MB\n     3.9  99.4%  99.4%      3.9  99.4% ::try_allocate_in\n";
        let p = parse_pprof_text(t, "gperf_heap", "heap").unwrap();
        assert_eq!(p.unit, "bytes");
        assert_eq!(p.total, 4.0 * 1048576.0);
        assert_eq!(p.by_self[0].function, "::try_allocate_in");
    }

    #[test]
    fn perf_report_with_and_without_children() {
        let t = "# Samples: 162  of event 'cpu-clock'\n#\n    61.73%     0.00%  [.] std::rt::lang_start\n    24.07%    24.07%  [k] _raw_spin_unlock_irqrestore\n";
        let p = parse_perf_report(t, "perf.data").unwrap();
        assert_eq!(p.event.as_deref(), Some("cpu-clock"));
        assert_eq!(p.total, 162.0);
        assert_eq!(
            p.by_self[0].function,
            "_raw_spin_unlock_irqrestore [kernel]"
        );
        assert_eq!(p.by_cumulative[0].function, "std::rt::lang_start");
        assert_eq!(p.by_cumulative[0].cum_value, 100.0);
        let flat = "# Samples: 1K of event 'cycles'\n    50.00%  [.] f\n";
        let p = parse_perf_report(flat, "x").unwrap();
        assert_eq!(p.total, 1000.0);
        assert_eq!(p.by_self[0].self_pct, 50.0);
    }
}
