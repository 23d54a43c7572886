//! The sending side every source holds: cheap to clone, never blocks, stamps the time.
//! It also serializes the event, on the sender's thread: the collector then only numbers
//! and copies bytes, which is what lets one collector keep up with many sources.

use tokio::sync::mpsc;

use super::clock::Clock;
use super::model::Event;

/// An event as its JSON line, serialized with `seq` 0 (the collector splices in the real
/// number). Only bytes cross the channel: the event itself is freed by its source, so the
/// collector's work per event is a copy.
#[derive(Debug)]
pub struct Envelope {
    pub t: u64,
    pub json: Vec<u8>,
}

impl Envelope {
    /// The event back (for live views), with its sequence number.
    pub fn event(&self, seq: u64) -> Option<Event> {
        let mut e: Event = serde_json::from_slice(&self.json).ok()?;
        e.seq = seq;
        Some(e)
    }
}

/// Every serialized event starts with this, since `seq` is the first field of `Event`.
pub const SEQ_PLACEHOLDER: &[u8] = b"{\"seq\":0,";

#[derive(Debug, Clone)]
pub struct EventTx {
    tx: mpsc::UnboundedSender<Envelope>,
    clock: Clock,
    test: String,
}

impl EventTx {
    pub fn new(tx: mpsc::UnboundedSender<Envelope>, clock: Clock) -> Self {
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
        e.seq = 0;
        let mut json = Vec::with_capacity(256);
        if serde_json::to_writer(&mut json, &e).is_err() {
            return true;
        }
        json.push(b'\n');
        self.tx.send(Envelope { t: e.t, json }).is_ok()
    }
}

/// A channel pair for sources and their collector.
pub fn channel(clock: Clock) -> (EventTx, mpsc::UnboundedReceiver<Envelope>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (EventTx::new(tx, clock), rx)
}

/// The collector's end, for code that wants events rather than envelopes (tests, tools).
#[derive(Debug)]
pub struct EventRx(mpsc::UnboundedReceiver<Envelope>);

impl EventRx {
    pub fn try_recv(&mut self) -> Result<Event, mpsc::error::TryRecvError> {
        loop {
            let env = self.0.try_recv()?;
            if let Some(e) = env.event(0) {
                return Ok(e);
            }
        }
    }

    pub async fn recv(&mut self) -> Option<Event> {
        loop {
            let env = self.0.recv().await?;
            if let Some(e) = env.event(0) {
                return Some(e);
            }
        }
    }
}

/// A channel whose receiving end yields events.
pub fn event_channel(clock: Clock) -> (EventTx, EventRx) {
    let (tx, rx) = channel(clock);
    (tx, EventRx(rx))
}
