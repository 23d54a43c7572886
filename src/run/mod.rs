//! The orchestrator and what it stands on: supervised processes, allocated ports, readiness
//! probes, template contexts, and the sweep of anything a killed run left behind.

pub mod certs;
pub mod context;
pub mod error;
pub mod init;
pub mod orchestrator;
pub mod owner;
pub mod ports;
pub mod process;
pub mod ready;
pub mod steps;
pub mod sweep;

pub use error::{FilesError, RunError, StepError};
pub use orchestrator::{Options, Run, start};
