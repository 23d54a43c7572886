//! `panther builtin minip-client`: the client half of the `ping_pong` IUT (PANTHER's
//! ping_pong plays both roles). It is the MinIP tester without the malformed datagrams:
//! `--count` well-formed PINGs, each PONG checked for its sequence number and payload, the
//! same `verdict` records and summary as `minip-tester`.
//!
//! Exit code: 0 when every PING got its PONG and every check passed, 1 otherwise (a
//! client IUT either did its job or did not; nothing listening is a failure too).

use super::minip_tester;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The server, `HOST:PORT` (`[::1]:8080` and `::1:8080` both work for IPv6).
    #[arg(long)]
    pub target: String,
    /// Number of PINGs to send.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub count: u32,
    /// Pause between two PINGs, in milliseconds.
    #[arg(long = "interval-ms", default_value_t = 100)]
    pub interval_ms: u64,
    /// How long to wait for each PONG, in milliseconds.
    #[arg(long = "reply-timeout-ms", default_value_t = 500,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub reply_timeout_ms: u64,
}

pub fn run(args: &Args) -> i32 {
    let tester = minip_tester::Args {
        target: args.target.clone(),
        count: args.count,
        interval_ms: args.interval_ms,
        malformed: false,
        reply_timeout_ms: args.reply_timeout_ms,
    };
    match minip_tester::run(&tester) {
        0 => 0,
        _ => 1,
    }
}
