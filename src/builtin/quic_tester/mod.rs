//! `panther builtin quic-tester`: a spec-based QUIC tester. As a client it tests a server,
//! as a server it tests the clients that connect to it. Each case (named as
//! quic-interop-runner names them) runs real connections with quinn over a socket that keeps
//! every datagram, and its verdict cites the RFC rule it checks, with evidence (packet
//! numbers, byte counts, error codes) from what crossed the wire. Active probes send crafted,
//! correctly protected packets that a conforming server must answer in one exact way.
//!
//! Exit codes: 0 every case passed, 1 a case failed or was inconclusive, 2 bad arguments or
//! the tester itself could not run.

mod cases;
mod client;
mod closing;
pub mod content;
mod decoded;
mod h3;
mod h3_server;
mod header_protection;
mod outcome;
mod probes;
mod retransmission;
mod retry_probe;
mod server;
pub mod socket;
pub mod tls;
mod v2_probe;
mod wire_view;

use std::path::PathBuf;
use std::time::Duration;

pub use cases::{ALL as CASES, AS_SERVER, Case};
pub use server::serve_connection;

use super::{Summary, check_record};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// `client` tests the server at --target; `server` listens on --listen and tests the
    /// clients that connect.
    #[arg(long, default_value = "client", value_parser = ["client", "server"])]
    pub role: String,
    /// The server to test, `HOST:PORT`.
    #[arg(long, required_if_eq("role", "client"))]
    pub target: Option<String>,
    /// Where to listen as a server, `HOST:PORT`.
    #[arg(long, required_if_eq("role", "server"))]
    pub listen: Option<String>,
    /// The server name for SNI and certificate checks (default: the target's host).
    #[arg(long)]
    pub sni: Option<String>,
    /// ALPNs to offer, comma separated: hq-interop, h3.
    #[arg(long, value_delimiter = ',', default_value = "hq-interop,h3")]
    pub alpn: Vec<String>,
    /// The cases to run, comma separated (default: every case that needs no server setup).
    #[arg(long, default_value = "")]
    pub cases: String,
    /// The CA that signed the server's certificate (the run's `{{ ca }}`).
    #[arg(long, conflicts_with = "insecure")]
    pub ca: Option<PathBuf>,
    /// Accept any server certificate (IUTs with their own self-signed one); signatures are
    /// still verified.
    #[arg(long)]
    pub insecure: bool,
    /// The server certificate and key (PEM) when the tester is the server.
    #[arg(long)]
    pub cert: Option<PathBuf>,
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Append the TLS secrets to this NSS key log (also taken from SSLKEYLOGFILE).
    #[arg(long, env = "SSLKEYLOGFILE")]
    pub keylog: Option<PathBuf>,
    /// How long each wait may take (a handshake, a download, a reply to a probe), in ms.
    #[arg(long = "timeout-ms", default_value_t = 5000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub timeout_ms: u64,
    /// As a server: stop after this many connections have been judged (default: one per case).
    #[arg(long)]
    pub connections: Option<usize>,
}

pub fn run(args: &Args) -> i32 {
    let cases = match cases::parse(&args.cases) {
        Ok(c) => c,
        Err(e) => return super::give_up(&e),
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return super::give_up(&format!("cannot start the runtime: {e}")),
    };
    let timeout = Duration::from_millis(args.timeout_ms);
    let mut summary = Summary::new();
    let mut report = |case: &'static Case, o: outcome::Outcome| {
        let mut evidence = o.evidence;
        evidence.insert("case".into(), case.name.into());
        check_record(case.property, o.verdict, case.reference, &o.text, evidence).print();
        summary.add(case.name, o.verdict);
    };
    let ran = match args.role.as_str() {
        "server" => rt.block_on(server::run(args, &cases, timeout, &mut report)),
        _ => rt.block_on(as_client(args, &cases, timeout, &mut report)),
    };
    match ran {
        Ok(()) => summary.finish(),
        Err(e) => super::give_up(&e),
    }
}

/// Called once per judged case, as soon as it is judged (the orchestrator shows it live).
pub type Report<'a> = &'a mut dyn FnMut(&'static Case, outcome::Outcome);

async fn as_client(
    args: &Args,
    cases: &[&'static Case],
    timeout: Duration,
    report: Report<'_>,
) -> Result<(), String> {
    let target = args.target.as_deref().unwrap_or_default();
    let (host, port) = super::split_target(target).map_err(|e| format!("bad --target: {e}"))?;
    let addr = super::resolve(&host, port).map_err(|e| format!("bad --target: {e}"))?;
    let trust = match (&args.ca, args.insecure) {
        (Some(ca), _) => tls::Trust::Ca(ca.clone()),
        (None, true) => tls::Trust::Any,
        (None, false) => {
            return Err(
                "say how to trust the server: --ca FILE (the run's CA) or --insecure".into(),
            );
        }
    };
    let keys = tls::KeyCollector::new(args.keylog.as_deref())
        .map_err(|e| format!("cannot open the key log: {e}"))?;
    let c = client::Client {
        target: addr,
        sni: args.sni.clone().unwrap_or_else(|| {
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_string()
        }),
        alpn: args.alpn.clone(),
        trust,
        timeout,
        keys,
        h3_control: Default::default(),
    };
    for case in cases {
        report(case, c.run(case).await);
    }
    for (check, o) in c.wire_checks().await {
        report(check, o);
    }
    Ok(())
}
