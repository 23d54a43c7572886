//! Timing under wrappers (PANTHER #66): a profiler or checker slows the service it wraps, so
//! the waits that assume a bare service (readiness, the test's timeout, a tester's reply
//! timeout) are stretched by the wrappers' declared factors (`wrapper.slowdown`, measured on
//! the MinIP server and recorded in each plugin's README), and the stretch is said in the
//! events and the report.
//!
//! Wrappers nest (the first listed is outermost, each slows everything inside it), so the
//! factors multiply; the product is capped at [`MAX_FACTOR`] so a timeout stays finite.
//! Every wrapper wraps every service of a test, so one factor holds for the whole test.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::plugin::Manifest;
use crate::plugin::manifest::ParamType;

/// The largest combined stretch.
pub const MAX_FACTOR: f64 = 200.0;

/// The longest stretched teardown grace period.
pub const MAX_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// A parameter the stretch changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stretched {
    pub parameter: String,
    pub from: Value,
    pub to: Value,
}

/// The stretch of one test: the factor and the wrappers it comes from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stretch {
    pub factor: f64,
    /// `(wrapper, its factor)`, in the test's order.
    pub by: Vec<(String, f64)>,
    /// The service's parameters that were stretched (filled per service).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Stretched>,
}

impl Stretch {
    /// From the enabled wrappers' `(name, slowdown)`.
    pub fn of<'a>(wrappers: impl IntoIterator<Item = (&'a str, f64)>) -> Stretch {
        let by: Vec<(String, f64)> = wrappers
            .into_iter()
            .filter(|(_, f)| *f > 1.0)
            .map(|(n, f)| (n.to_string(), f))
            .collect();
        let factor = by.iter().map(|(_, f)| f).product::<f64>().min(MAX_FACTOR);
        Stretch {
            factor: factor.max(1.0),
            by,
            parameters: Vec::new(),
        }
    }

    pub fn is_none(&self) -> bool {
        self.factor <= 1.0
    }

    /// Seconds, stretched.
    pub fn seconds(&self, s: f64) -> f64 {
        s * self.factor
    }

    /// A teardown grace period, stretched, at most [`MAX_GRACE`]: a service under memcheck
    /// runs its leak check, and a profiler writes its profile, on the way out.
    pub fn grace(&self, grace: std::time::Duration) -> std::time::Duration {
        if self.is_none() {
            return grace;
        }
        grace.mul_f64(self.factor).min(MAX_GRACE.max(grace))
    }

    /// `×30 (memcheck ×30)`, `×37.5 (strace ×1.5, memcheck ×25)`.
    pub fn describe(&self) -> String {
        let by: Vec<String> = self
            .by
            .iter()
            .map(|(n, f)| format!("{n} ×{}", trim(*f)))
            .collect();
        let capped = if self.factor >= MAX_FACTOR {
            format!(", capped at ×{MAX_FACTOR}")
        } else {
            String::new()
        };
        format!("×{} ({}{capped})", trim(self.factor), by.join(", "))
    }

    /// A service's parameters (defaults and `plugin_config` merged) with every duration
    /// stretched: integer or number parameters whose name says they are a timeout
    /// ([`is_timeout`]). A stretched value is kept within the parameter's `max`. The changes
    /// are recorded in `self.parameters`.
    pub fn parameters(&mut self, m: &Manifest, params: &mut Map<String, Value>) {
        if self.is_none() {
            return;
        }
        for (name, p) in &m.parameters {
            if !is_timeout(name) || !matches!(p.ty, ParamType::Integer | ParamType::Number) {
                continue;
            }
            let Some(v) = params.get(name).and_then(Value::as_f64) else {
                continue;
            };
            let mut to = v * self.factor;
            if let Some(hi) = p.max {
                to = to.min(hi);
            }
            let to = if p.ty == ParamType::Integer {
                Value::from(to.round() as i64)
            } else {
                Value::from(to)
            };
            if Some(&to) != params.get(name) {
                self.parameters.push(Stretched {
                    parameter: name.clone(),
                    from: params[name].clone(),
                    to: to.clone(),
                });
                params.insert(name.clone(), to);
            }
        }
    }
}

/// Whether a parameter is a duration the stretch applies to: its name is `timeout` or ends
/// in `timeout_ms`, `timeout_s` or `_timeout` (minip_tester's `reply_timeout_ms`, a QUIC
/// client's `handshake_timeout_ms`).
pub fn is_timeout(name: &str) -> bool {
    name == "timeout"
        || name.ends_with("timeout_ms")
        || name.ends_with("timeout_s")
        || name.ends_with("_timeout")
}

fn trim(f: f64) -> String {
    if f.fract() == 0.0 {
        format!("{}", f as i64)
    } else {
        format!("{f:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        serde_norway::from_str(
            "name: t\nkind: tester\nversion: '1'\ndescription: d\nparameters:\n  reply_timeout_ms: {type: integer, default: 500, max: 600000, description: d}\n  count: {type: integer, default: 20, description: d}\n  connect_timeout: {type: number, default: 2.5, description: d}\n",
        )
        .unwrap()
    }

    #[test]
    fn factors_multiply_and_are_capped() {
        let s = Stretch::of([("strace", 1.5), ("time", 1.0), ("memcheck", 25.0)]);
        assert_eq!(s.factor, 37.5);
        assert_eq!(s.describe(), "×37.5 (strace ×1.5, memcheck ×25)");
        assert_eq!(s.seconds(10.0), 375.0);
        let s = Stretch::of([("memcheck", 25.0), ("helgrind", 40.0)]);
        assert_eq!(s.factor, MAX_FACTOR);
        assert!(s.describe().contains("capped"));
        assert!(Stretch::of([("time", 1.0)]).is_none());
        let half = std::time::Duration::from_millis(500);
        assert_eq!(Stretch::of([("time", 1.0)]).grace(half), half);
        assert_eq!(Stretch::of([("gdb", 2.0)]).grace(half), 2 * half);
        assert_eq!(Stretch::of([("memcheck", 80.0)]).grace(half), MAX_GRACE);
    }

    #[test]
    fn timeouts_stretch_within_their_max() {
        let m = manifest();
        let mut params = crate::run::context::parameters(&m, &Default::default());
        let mut s = Stretch::of([("memcheck", 30.0)]);
        s.parameters(&m, &mut params);
        assert_eq!(params["reply_timeout_ms"], 15000);
        assert_eq!(params["count"], 20, "not a duration");
        assert_eq!(params["connect_timeout"], 75.0);
        assert_eq!(s.parameters.len(), 2);
        let mut big = Map::new();
        big.insert("reply_timeout_ms".into(), Value::from(100_000));
        let mut s = Stretch::of([("memcheck", 30.0)]);
        s.parameters(&m, &mut big);
        assert_eq!(big["reply_timeout_ms"], 600000, "kept within max");
    }
}
