//! Run time: microseconds since the run started, shared by every event source.

use std::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
}

impl Clock {
    pub fn start() -> Self {
        Clock {
            start: Instant::now(),
        }
    }

    pub fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    pub fn at_us(&self, i: Instant) -> u64 {
        i.saturating_duration_since(self.start).as_micros() as u64
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::start()
    }
}
