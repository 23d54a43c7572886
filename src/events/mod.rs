//! Run events: one model for every source (lifecycle, output lines, built-in services' JSON
//! records, the link relay, wrappers), a channel that stamps time, a collector that numbers
//! them and writes `events.jsonl` as they arrive, and a broadcast for live views.

pub mod bus;
pub mod clock;
pub mod decode;
pub mod model;
pub mod record;
pub mod store;
pub mod timeline;
pub mod tx;

pub use bus::Bus;
pub use clock::Clock;
pub use model::{Event, Kind, Level, Message};
pub use record::Record;
pub use tx::EventTx;
