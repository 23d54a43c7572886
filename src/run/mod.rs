//! The orchestrator.

pub mod ports;
pub mod process;
pub mod ready;
pub mod sweep;
