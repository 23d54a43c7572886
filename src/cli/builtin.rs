//! `panther builtin …`: run one of the built-in services (what the bundled ping_pong,
//! minip_tester and http_conformance plugins launch).

use clap::Subcommand;

use crate::builtin::{
    http_tester, minip_client, minip_server, minip_tester, quic_tester, wait_iface,
};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The reference MinIP server (UDP) in one of PANTHER's five versions; runs until
    /// SIGTERM or SIGINT.
    MinipServer(minip_server::Args),
    /// The MinIP client (the `ping_pong` IUT as a client): sends PINGs, checks each PONG;
    /// exit 0 when all were answered correctly, 1 otherwise.
    MinipClient(minip_client::Args),
    /// The MinIP tester: sends PINGs and malformed datagrams, checks the minip properties.
    MinipTester(minip_tester::Args),
    /// The HTTP/1.0 and HTTP/1.1 conformance tester (RFC 9110, RFC 9112) over raw TCP.
    HttpTester(http_tester::Args),
    /// The QUIC tester (RFC 9000, 9001, 9002): interop cases with quinn and active probes
    /// with crafted packets; as a client it tests a server, as a server it tests clients.
    QuicTester(quic_tester::Args),
    /// Waits until a network interface is up, then runs a program in its place (how services
    /// in containers wait for panther's link).
    WaitIface(wait_iface::Args),
}

pub fn run(c: &Command) -> i32 {
    match c {
        Command::MinipServer(a) => minip_server::run(a),
        Command::MinipClient(a) => minip_client::run(a),
        Command::MinipTester(a) => minip_tester::run(a),
        Command::HttpTester(a) => http_tester::run(a),
        Command::QuicTester(a) => quic_tester::run(a),
        Command::WaitIface(a) => wait_iface::run(a),
    }
}
