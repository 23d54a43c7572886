//! The collector: one task receives every source's events, numbers them in arrival order,
//! appends them to the store (flushed at least every 50 ms) and broadcasts them to live views
//! (a slow view may lag and skip; the store never does).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use super::clock::Clock;
use super::model::Event;
use super::store::{Store, StoreError};
use super::tx::{self, Envelope, EventTx};

pub const FLUSH_EVERY: Duration = Duration::from_millis(50);

/// After a batch that did not fill up, the collector waits this long before it takes the
/// next one. Events sent meanwhile find no waiting receiver, so they cost their sender no
/// wakeup of this task: at 20,000 events/s a wakeup per event was most of the relay's round
/// trip (cross-thread wakeups), one per millisecond is not.
pub const COALESCE: Duration = Duration::from_millis(1);

pub struct Bus {
    pub tx: EventTx,
    live: broadcast::Sender<Arc<Event>>,
    task: JoinHandle<Result<Store, StoreError>>,
}

impl Bus {
    /// Starts the collector writing to `path`.
    pub fn start(path: &Path, clock: Clock) -> std::io::Result<Bus> {
        let store = Store::create(path)?;
        let (tx, rx) = tx::channel(clock);
        let (live, _) = broadcast::channel(16 * 1024);
        let task = tokio::spawn(collect(rx, store, live.clone()));
        Ok(Bus { tx, live, task })
    }

    /// A live view of the events. From now on sources hand the collector each event with
    /// its JSON, so the view costs no parsing.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.set_watched(true);
        self.live.subscribe()
    }

    /// Drops this handle's sender and waits until every other sender is gone and every event
    /// is on disk.
    pub async fn finish(self) -> Result<Store, StoreError> {
        drop(self.tx);
        self.task.await?
    }
}

async fn collect(
    mut rx: mpsc::UnboundedReceiver<Envelope>,
    mut store: Store,
    live: broadcast::Sender<Arc<Event>>,
) -> Result<Store, StoreError> {
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seq = 0u64;
    let mut dirty = false;
    let mut batch = Vec::with_capacity(1024);
    loop {
        tokio::select! {
            n = rx.recv_many(&mut batch, 1024) => {
                if n == 0 {
                    break;
                }
                let watched = live.receiver_count() > 0;
                for mut env in batch.drain(..) {
                    store.append_serialized(seq, env.t, &env.json)?;
                    // Live views get the events their sources handed over (parsed back only
                    // for a source that sent none).
                    if watched && let Some(e) = env.take_event(seq) {
                        let _ = live.send(e);
                    }
                    seq += 1;
                }
                dirty = true;
                if n < 1024 {
                    tokio::time::sleep(COALESCE).await;
                }
            }
            _ = tick.tick() => {
                if dirty {
                    store.flush()?;
                    dirty = false;
                }
            }
        }
    }
    store.flush()?;
    Ok(store)
}
