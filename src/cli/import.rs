//! `panther import PATH... [--keylog FILE]... [--output DIR] [--name NAME]`: a trace made
//! elsewhere (a QUIC capture with its key log, a quic-interop-runner log folder) becomes a
//! results folder for `panther replay` and the workbench.

use std::path::PathBuf;

use super::exit;
use crate::import::{self, Options};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Inputs are recognised by content: pcap or pcapng captures (Ethernet, raw IP, \
Linux SLL/SLL2 or loopback link types), NSS key logs (SSLKEYLOGFILE), qlog files (JSON 0.3, \
JSON-SEQ .sqlog, picoquic's draft-00; both endpoints' files are correlated and unreceived packets \
shown lost), and quic-interop-runner log folders (sim/trace_node_left.pcap, keys.log; endpoints named client and server). A key log named \
keys.log, sslkeylog.log, STEM.keys or STEM.keylog next to a capture is used too. Initial packets \
are decrypted without a key log; Handshake and 1-RTT need one.\n\nExit codes: 0 imported, 2 bad input (a file that is not a trace, a truncated or \
undecryptable capture, a key log that matches no connection, a qlog file that is not JSON); nothing is written then."
)]
pub struct Args {
    /// Captures (pcap, pcapng), qlog files, key logs or quic-interop-runner log folders.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// An NSS key log for Handshake and 1-RTT packets (repeatable).
    #[arg(long, value_name = "FILE")]
    pub keylog: Vec<PathBuf>,
    /// Where the results folder goes.
    #[arg(long, short, value_name = "DIR", default_value = "outputs")]
    pub output: PathBuf,
    /// The results folder's name (after its date); default import_<capture name>.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

pub fn run(a: &Args) -> i32 {
    let opts = Options {
        inputs: a.paths.clone(),
        keylogs: a.keylog.clone(),
        output: a.output.clone(),
        name: a.name.clone(),
    };
    match import::import(&opts) {
        Ok(r) => {
            for w in &r.warnings {
                eprintln!("warning: {w}");
            }
            println!(
                "imported {} QUIC packet(s) in {} connection(s) ({} decrypted, {} without keys, {} failed) into {}",
                r.packets,
                r.connections,
                r.decrypted,
                r.no_keys,
                r.failed,
                r.dir.display()
            );
            println!("  open it: panther replay {}", r.dir.display());
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::BAD_INPUT
        }
    }
}
