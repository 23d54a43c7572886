//! Run time: microseconds since the run started, shared by every event source.

use std::time::{Instant, SystemTime};

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
    /// The same instant on the wall clock, to place timestamps read from files (strace).
    wall: SystemTime,
}

impl Clock {
    pub fn start() -> Self {
        Clock {
            start: Instant::now(),
            wall: SystemTime::now(),
        }
    }

    pub fn wall_start(&self) -> SystemTime {
        self.wall
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
