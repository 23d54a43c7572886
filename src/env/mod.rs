//! Environments: where services run (network) and what wraps them (execution).

pub mod execution;
pub mod network;
