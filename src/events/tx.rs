//! The sending side every source holds: cheap to clone, never blocks, stamps the time.

use tokio::sync::mpsc;

use super::clock::Clock;
use super::model::Event;

#[derive(Debug, Clone)]
pub struct EventTx {
    tx: mpsc::UnboundedSender<Event>,
    clock: Clock,
    test: String,
}

impl EventTx {
    pub fn new(tx: mpsc::UnboundedSender<Event>, clock: Clock) -> Self {
        EventTx {
            tx,
            clock,
            test: String::new(),
        }
    }

    /// The same channel, stamping events with `test`.
    pub fn for_test(&self, test: &str) -> Self {
        EventTx {
            tx: self.tx.clone(),
            clock: self.clock,
            test: test.to_string(),
        }
    }

    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Sends an event; `t` is stamped now unless already set, `test` unless already set.
    /// Returns false when the collector is gone (the run is over).
    pub fn emit(&self, mut e: Event) -> bool {
        if e.t == 0 {
            e.t = self.clock.now_us();
        }
        if e.test.is_empty() {
            e.test.clone_from(&self.test);
        }
        self.tx.send(e).is_ok()
    }
}

/// A channel pair for sources and their collector.
pub fn channel(clock: Clock) -> (EventTx, mpsc::UnboundedReceiver<Event>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (EventTx::new(tx, clock), rx)
}
