//! The sending side every source holds: cheap to clone, never blocks, stamps the time.
//! It also serializes the event, on the sender's thread: the collector then only numbers
//! and copies bytes, which is what lets one collector keep up with many sources.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;

use super::clock::Clock;
use super::model::Event;

/// An event as its JSON line, serialized with `seq` 0 (the collector splices in the real
/// number). Only bytes cross the channel: the event itself is freed by its source, so the
/// collector's work per event is a copy. While a live view watches, the event itself
/// rides along, so the view gets it without parsing the JSON back.
#[derive(Debug)]
pub struct Envelope {
    pub t: u64,
    pub json: Vec<u8>,
    pub event: Option<Arc<Event>>,
}

impl Envelope {
    /// The event (for live views), with its sequence number: the one that rode along, or
    /// parsed back from the JSON when none did.
    pub fn event(&self, seq: u64) -> Option<Event> {
        let mut e: Event = serde_json::from_slice(&self.json).ok()?;
        e.seq = seq;
        Some(e)
    }

    /// The event for live views, numbered, taken without parsing when it rode along.
    pub fn take_event(&mut self, seq: u64) -> Option<Arc<Event>> {
        let mut e = match self.event.take() {
            Some(e) => e,
            None => Arc::new(serde_json::from_slice(&self.json).ok()?),
        };
        if let Some(m) = Arc::get_mut(&mut e) {
            m.seq = seq;
        }
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
    /// Set while a live view is subscribed (see `Bus::subscribe`).
    watched: Arc<AtomicBool>,
}

impl EventTx {
    pub fn new(tx: mpsc::UnboundedSender<Envelope>, clock: Clock) -> Self {
        EventTx {
            tx,
            clock,
            test: String::new(),
            watched: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether events carry their structured form for a live view from now on.
    pub fn set_watched(&self, on: bool) {
        self.watched.store(on, Ordering::Relaxed);
    }

    /// The same channel, stamping events with `test`.
    pub fn for_test(&self, test: &str) -> Self {
        EventTx {
            tx: self.tx.clone(),
            clock: self.clock,
            test: test.to_string(),
            watched: self.watched.clone(),
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
        let t = e.t;
        let event = self.watched.load(Ordering::Relaxed).then(|| Arc::new(e));
        self.tx.send(Envelope { t, json, event }).is_ok()
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
