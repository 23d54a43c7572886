//! `panther builtin …`: run one of the built-in services (what the bundled ping_pong,
//! minip_tester and http_conformance plugins launch).

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum Command {}

pub fn run(c: &Command) -> i32 {
    match *c {}
}
