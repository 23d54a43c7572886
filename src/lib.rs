//! panther: a terminal workbench (and headless CLI) for testing network-protocol
//! implementations with PANTHER-style plugins. The core here is headless; only `tui` draws.

pub mod builtin;
pub mod cli;
pub mod diag;
pub mod env;
pub mod events;
pub mod experiment;
pub mod import;
pub mod matrix;
pub mod p2p;
pub mod plugin;
pub mod quic;
pub mod results;
pub mod run;
pub mod suggest;
pub mod tui;
pub mod tutorial;
pub mod verdict;
pub mod yaml;
