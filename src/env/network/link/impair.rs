//! The impairment model: validated parameters, a seeded random stream per direction, a token
//! bucket for the rate, and the per-packet plan (drop, duplicate, hold for reordering, and the
//! instant the packet is due at the far end).

use std::io;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::experiment::model::{Link, parse_rate};

/// The seed used when `Link.seed` is not set, so runs repeat by default.
pub const DEFAULT_SEED: u64 = 0x7061_6e74_6865_7221; // "panther!"

/// The validated impairments of one link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    pub delay: Duration,
    pub jitter: Duration,
    pub loss: f64,
    pub duplicate: f64,
    pub reorder: f64,
    /// Bits per second.
    pub rate_bps: Option<u64>,
    pub seed: u64,
}

impl Params {
    pub fn from_link(l: &Link) -> io::Result<Params> {
        let bad = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
        let ms = |name: &str, v: f64| -> io::Result<Duration> {
            if !(0.0..=3_600_000.0).contains(&v) {
                return Err(bad(format!(
                    "link {name} must be between 0 and 3600000 ms, got {v}"
                )));
            }
            Ok(Duration::from_secs_f64(v / 1000.0))
        };
        let prob = |name: &str, v: f64| -> io::Result<f64> {
            if !(0.0..=1.0).contains(&v) {
                return Err(bad(format!(
                    "link {name} must be a probability (0 to 1), got {v}"
                )));
            }
            Ok(v)
        };
        let rate_bps = match &l.rate {
            Some(r) => Some(parse_rate(r).map_err(|e| bad(format!("link rate: {e}")))?),
            None => None,
        };
        Ok(Params {
            delay: ms("delay_ms", l.delay_ms)?,
            jitter: ms("jitter_ms", l.jitter_ms)?,
            loss: prob("loss", l.loss)?,
            duplicate: prob("duplicate", l.duplicate)?,
            reorder: prob("reorder", l.reorder)?,
            rate_bps,
            seed: l.seed.unwrap_or(DEFAULT_SEED),
        })
    }

    /// No delay, jitter or rate: a packet can be forwarded the moment it arrives.
    pub fn timeless(&self) -> bool {
        self.delay.is_zero() && self.jitter.is_zero() && self.rate_bps.is_none()
    }

    /// Whether loss, duplication or reordering are asked for (UDP only).
    pub fn datagram_only(&self) -> bool {
        self.loss > 0.0 || self.duplicate > 0.0 || self.reorder > 0.0
    }
}

/// What happens to one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub lost: bool,
    pub duplicate: bool,
    /// Hold it and deliver it after the next packet of the same direction.
    pub hold: bool,
    /// When it is due at the far end.
    pub due: Instant,
}

/// The impairment state of one direction of one flow.
#[derive(Debug)]
pub struct Shaper {
    p: Params,
    rng: StdRng,
    bucket: Option<Bucket>,
    /// Byte streams never reorder: each chunk is due no earlier than the one before.
    stream: bool,
    last_due: Option<Instant>,
}

impl Shaper {
    /// `flow` numbers the flows of a relay in the order they appear and `dir` is 0 (client to
    /// server) or 1, so every direction of every flow has its own repeatable random stream.
    pub fn new(p: Params, flow: u64, dir: u64, stream: bool) -> Shaper {
        let seed = splitmix64(p.seed ^ splitmix64(flow.wrapping_mul(2).wrapping_add(dir)));
        Shaper {
            p,
            rng: StdRng::seed_from_u64(seed),
            bucket: p.rate_bps.map(Bucket::new),
            stream,
            last_due: None,
        }
    }

    /// The plan for a packet of `len` bytes that arrived at `now`. Draws the same number of
    /// random values whatever the parameters, so turning one impairment on does not shift
    /// the choices of another.
    pub fn plan(&mut self, now: Instant, len: usize) -> Plan {
        let u_loss: f64 = self.rng.random();
        let u_dup: f64 = self.rng.random();
        let u_reorder: f64 = self.rng.random();
        let u_jitter: f64 = self.rng.random();
        let datagrams = !self.stream;
        let lost = datagrams && u_loss < self.p.loss;
        if lost {
            // Dropped on entry: it takes no bandwidth.
            return Plan {
                lost,
                duplicate: false,
                hold: false,
                due: now,
            };
        }
        let depart = match &mut self.bucket {
            Some(b) => b.depart(now, len),
            None => now,
        };
        let delay = if self.p.jitter.is_zero() {
            self.p.delay
        } else {
            let offset = (u_jitter * 2.0 - 1.0) * self.p.jitter.as_secs_f64();
            Duration::from_secs_f64((self.p.delay.as_secs_f64() + offset).max(0.0))
        };
        let mut due = depart + delay;
        if self.stream {
            if let Some(last) = self.last_due {
                due = due.max(last);
            }
            self.last_due = Some(due);
        }
        Plan {
            lost,
            duplicate: datagrams && u_dup < self.p.duplicate,
            hold: datagrams && u_reorder < self.p.reorder,
            due,
        }
    }
}

/// A token bucket in bytes, tracked in virtual time: a packet leaves when the bucket holds
/// enough tokens for it (a packet larger than the bucket leaves once the bucket has refilled
/// to its size, so the long-run rate is exact whatever the packet sizes).
#[derive(Debug, Clone)]
pub struct Bucket {
    /// Bytes per second.
    rate: f64,
    /// Burst size in bytes.
    cap: f64,
    tokens: f64,
    at: Option<Instant>,
}

impl Bucket {
    pub fn new(bits_per_s: u64) -> Bucket {
        let rate = bits_per_s as f64 / 8.0;
        // One full-size Ethernet frame, or 1 ms worth at high rates.
        let cap = (rate / 1000.0).max(1514.0);
        Bucket {
            rate,
            cap,
            tokens: cap,
            at: None,
        }
    }

    /// When a packet of `len` bytes arriving at `now` may leave.
    pub fn depart(&mut self, now: Instant, len: usize) -> Instant {
        let len = len as f64;
        let t0 = match self.at {
            Some(at) if at > now => at,
            _ => now,
        };
        let tokens = match self.at {
            Some(at) => (self.tokens + t0.saturating_duration_since(at).as_secs_f64() * self.rate)
                .min(self.cap),
            None => self.tokens,
        };
        if tokens >= len {
            self.tokens = tokens - len;
            self.at = Some(t0);
            t0
        } else {
            let wait = Duration::from_secs_f64((len - tokens) / self.rate);
            let t = t0 + wait;
            self.tokens = 0.0;
            self.at = Some(t);
            t
        }
    }
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(l: Link) -> Params {
        Params::from_link(&l).unwrap()
    }

    #[test]
    fn validation() {
        assert!(Params::from_link(&Link::default()).unwrap().timeless());
        let bad = Link {
            loss: 1.5,
            ..Link::default()
        };
        assert!(Params::from_link(&bad).is_err());
        let bad = Link {
            delay_ms: -1.0,
            ..Link::default()
        };
        assert!(Params::from_link(&bad).is_err());
        let bad = Link {
            rate: Some("fast".into()),
            ..Link::default()
        };
        assert!(Params::from_link(&bad).is_err());
        let ok = params(Link {
            delay_ms: 20.0,
            rate: Some("1mbit".into()),
            ..Link::default()
        });
        assert_eq!(ok.delay, Duration::from_millis(20));
        assert_eq!(ok.rate_bps, Some(1_000_000));
        assert_eq!(ok.seed, DEFAULT_SEED);
    }

    #[test]
    fn same_seed_same_plans() {
        let p = params(Link {
            loss: 0.3,
            duplicate: 0.2,
            reorder: 0.1,
            jitter_ms: 5.0,
            delay_ms: 10.0,
            seed: Some(42),
            ..Link::default()
        });
        let now = Instant::now();
        let run = |flow, dir| {
            let mut s = Shaper::new(p, flow, dir, false);
            (0..200)
                .map(|_| {
                    let pl = s.plan(now, 100);
                    (pl.lost, pl.duplicate, pl.hold, pl.due)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(0, 0), run(0, 0));
        assert_ne!(run(0, 0), run(0, 1));
        assert_ne!(run(0, 0), run(1, 0));
        let lost = run(0, 0).iter().filter(|x| x.0).count();
        assert!((30..=90).contains(&lost), "{lost}");
        for (_, _, _, due) in run(0, 0).into_iter().filter(|x| !x.0) {
            let d = due - now;
            assert!(d >= Duration::from_millis(5) && d <= Duration::from_millis(15));
        }
    }

    #[test]
    fn streams_keep_order_and_never_drop() {
        let p = params(Link {
            loss: 0.9,
            duplicate: 0.9,
            reorder: 0.9,
            delay_ms: 10.0,
            jitter_ms: 9.0,
            ..Link::default()
        });
        let mut s = Shaper::new(p, 0, 0, true);
        let start = Instant::now();
        let mut last = start;
        for i in 0..100 {
            let pl = s.plan(start + Duration::from_micros(i * 10), 1000);
            assert!(!pl.lost && !pl.duplicate && !pl.hold);
            assert!(pl.due >= last);
            last = pl.due;
        }
    }

    #[test]
    fn bucket_rate() {
        // 8 Mbit/s = 1 MB/s: 1000 packets of 1000 bytes at once take about a second.
        let mut b = Bucket::new(8_000_000);
        let now = Instant::now();
        let mut last = now;
        for _ in 0..1000 {
            last = b.depart(now, 1000);
        }
        let took = (last - now).as_secs_f64();
        assert!((0.99..1.0).contains(&took), "{took}");
        // After an idle second, a burst of one bucket leaves at once.
        let later = last + Duration::from_secs(1);
        assert_eq!(b.depart(later, 1000), later);
        // A packet larger than the bucket waits for its own size.
        let mut b = Bucket::new(8_000);
        let t = b.depart(now, 11_514);
        assert_eq!((t - now).as_secs(), 10);
    }
}
