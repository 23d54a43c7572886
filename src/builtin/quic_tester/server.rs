//! The tester as a QUIC server, testing a client: it serves the test's files over
//! hq-interop or HTTP/3 (`h3_server`) and answers nothing else, waits for the client's connections, and judges
//! each case from what the connections did and what the client put on the wire.

use std::sync::Arc;
use std::time::Duration;

use super::cases::Case;
use super::content;
use super::outcome::Outcome;
use super::socket::{self, Misbehave};
use super::{Args, Report, tls, wire_view};

/// What one client connection did.
#[derive(Debug, Default, Clone)]
pub(super) struct Served {
    pub handshake: bool,
    pub requests: usize,
    pub served_bytes: usize,
    /// Requests for paths the test does not serve, or a stream that broke.
    pub problems: Vec<String>,
}

pub async fn run(
    args: &Args,
    cases: &[&'static Case],
    timeout: Duration,
    report: Report<'_>,
) -> Result<(), String> {
    let listen = args.listen.as_deref().unwrap_or_default();
    let addr = super::super::resolve_target(listen).map_err(|e| format!("bad --listen: {e}"))?;
    let (Some(cert), Some(key)) = (&args.cert, &args.key) else {
        return Err("as a server the tester needs --cert and --key (the run's certificate)".into());
    };
    // The cases that test a server (probes, resumption, …) have no meaning here: they are
    // left out and said so, so one `cases` list serves both roles.
    let (ours, theirs): (Vec<&'static Case>, Vec<&'static Case>) = cases
        .iter()
        .partition(|c| super::AS_SERVER.contains(&c.name));
    if !theirs.is_empty() {
        let names: Vec<&str> = theirs.iter().map(|c| c.name).collect();
        super::super::log(
            crate::events::Level::Info,
            format!("as a server the tester leaves out {}", names.join(", ")),
        );
    }
    let cases: Vec<&'static Case> = if ours.is_empty() {
        super::cases::find("handshake").into_iter().collect()
    } else {
        ours
    };
    let cases = cases.as_slice();
    let keys = tls::KeyCollector::new(args.keylog.as_deref())
        .map_err(|e| format!("cannot open the key log: {e}"))?;
    // hq-interop and HTTP/3 are served; any other ALPN is refused in the handshake
    // (no_application_protocol), never answered with the wrong protocol.
    let alpn: Vec<String> = args
        .alpn
        .iter()
        .filter(|a| a.starts_with("hq") || *a == "h3")
        .cloned()
        .collect();
    if alpn.is_empty() {
        return Err(
            "as a server the tester speaks hq-interop and h3: give --alpn hq-interop,h3".into(),
        );
    }
    let config = tls::server(cert, key, &alpn, keys.clone()).map_err(|e| e.to_string())?;
    let (sock, rec) = socket::bind(addr, Misbehave::default())
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let endpoint = socket::endpoint(sock, Some(config)).map_err(|e| e.to_string())?;
    super::super::log(
        crate::events::Level::Info,
        format!("quic_tester listening on {addr}"),
    );
    let want = args.connections.unwrap_or(cases.len().max(1));
    let served = accept(&endpoint, want, timeout).await;
    endpoint.close(0u32.into(), b"done");
    endpoint.wait_idle().await;
    let mut wire = wire_view::client_checks(&rec);
    wire.extend(wire_view::keyed_checks(&rec, &keys));
    for case in cases {
        report(case, judge(case, &served, want));
    }
    for (case, o) in wire {
        report(case, o);
    }
    Ok(())
}

/// Accepts `want` connections (or until `timeout` passes with none in progress).
async fn accept(endpoint: &quinn::Endpoint, want: usize, timeout: Duration) -> Vec<Served> {
    let mut tasks = Vec::new();
    for _ in 0..want {
        let Ok(Some(incoming)) = tokio::time::timeout(timeout, endpoint.accept()).await else {
            break;
        };
        tasks.push(tokio::spawn(serve(incoming, timeout)));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap_or_default());
    }
    out
}

/// Serves one connection's hq-interop requests until the client closes it (what the tests'
/// broken servers use too).
pub async fn serve_connection(incoming: quinn::Incoming, timeout: Duration) {
    let _ = serve(incoming, timeout).await;
}

async fn serve(incoming: quinn::Incoming, timeout: Duration) -> Served {
    let mut s = Served::default();
    let conn = match tokio::time::timeout(timeout, incoming).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            s.problems.push(format!("handshake: {e}"));
            return s;
        }
        Err(_) => {
            s.problems.push("handshake timed out".into());
            return s;
        }
    };
    s.handshake = true;
    if negotiated_h3(&conn) {
        return super::h3_server::serve(conn, s).await;
    }
    let shared = Arc::new(tokio::sync::Mutex::new(s));
    let mut streams = Vec::new();
    // Each stream gets its own task: a client may open streams it never uses (quiche's
    // client starts at stream 4), and serving them in turn would stall on an empty one.
    while let Ok((send, recv)) = conn.accept_bi().await {
        streams.push(tokio::spawn(answer(send, recv, shared.clone())));
    }
    for t in streams {
        let _ = t.await;
    }
    shared.lock().await.clone()
}

async fn answer(
    mut send: quinn::SendStream,
    mut recv: quinn::RecvStream,
    s: Arc<tokio::sync::Mutex<Served>>,
) {
    let req = match read_request(&mut recv).await {
        Ok(Some(r)) => r,
        Ok(None) => return,
        Err(e) => {
            s.lock().await.problems.push(format!("request stream: {e}"));
            return;
        }
    };
    let line = String::from_utf8_lossy(&req);
    let path = line
        .trim()
        .strip_prefix("GET ")
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    let body = if let Some(b) = body_for(&path) {
        b
    } else {
        s.lock().await.problems.push(format!(
            "asked for `{}`, which the test does not serve",
            line.trim()
        ));
        let _ = send.reset(1u32.into());
        return;
    };
    let ok = send.write_all(&body).await.is_ok() && send.finish().is_ok();
    // `stopped` resolves once the peer has acknowledged everything (or stopped the stream).
    // A client may close the connection with NO_ERROR as soon as it has read the response,
    // before its last ACK reaches us: that is a delivery too (it says it is done).
    let delivered = ok
        && match send.stopped().await {
            Ok(None) => true,
            Err(quinn::StoppedError::ConnectionLost(
                quinn::ConnectionError::ApplicationClosed(c),
            )) => c.error_code == quinn::VarInt::from_u32(0),
            _ => false,
        };
    let mut g = s.lock().await;
    g.requests += 1;
    if delivered {
        g.served_bytes += body.len();
    } else {
        g.problems
            .push(format!("{path}: the response was not fully delivered"));
    }
}

/// What the tester serves at `path`: the index or a test file (`content`).
pub(super) fn body_for(path: &str) -> Option<Vec<u8>> {
    if path == "/" || path == "/index.html" {
        Some(content::INDEX.as_bytes().to_vec())
    } else {
        content::size_of(path).map(content::bytes)
    }
}

fn negotiated_h3(conn: &quinn::Connection) -> bool {
    conn.handshake_data()
        .and_then(|d| d.downcast::<quinn::crypto::rustls::HandshakeData>().ok())
        .and_then(|d| d.protocol)
        .is_some_and(|p| p == b"h3")
}

/// The request on a stream, up to its FIN; `None` for a stream the client never wrote to
/// before closing. Opening stream 4 opens stream 0 too (RFC 9000 §3.2), and quiche's client
/// starts at 4: that empty stream is no failure of the client's.
async fn read_request(recv: &mut quinn::RecvStream) -> Result<Option<Vec<u8>>, String> {
    let mut req = Vec::new();
    loop {
        match recv.read_chunk(4096, true).await {
            Ok(Some(c)) => {
                req.extend_from_slice(&c.bytes);
                if req.len() > 4096 {
                    return Err("the request is longer than 4096 bytes".into());
                }
            }
            Ok(None) => return Ok(Some(req)),
            Err(quinn::ReadError::ConnectionLost(_)) if req.is_empty() => return Ok(None),
            Err(e) => return Err(format!("read error: {e}")),
        }
    }
}

fn judge(case: &Case, served: &[Served], want: usize) -> Outcome {
    let done = served.iter().filter(|s| s.handshake).count();
    let problems: Vec<String> = served.iter().flat_map(|s| s.problems.clone()).collect();
    let requests: usize = served.iter().map(|s| s.requests).sum();
    let bytes: usize = served.iter().map(|s| s.served_bytes).sum();
    let o = if done < want {
        Outcome::fail(format!(
            "{done} of the {want} expected connection(s) completed a handshake"
        ))
    } else if !problems.is_empty() {
        Outcome::fail(problems.join("; "))
    } else if requests == 0 {
        Outcome::fail(format!(
            "{done} connection(s) completed but the client asked for nothing ({})",
            case.what
        ))
    } else {
        Outcome::pass(format!(
            "{done} connection(s), {requests} request(s), {bytes} bytes delivered and acknowledged"
        ))
    };
    o.with("connections", done as u64)
        .with("requests", requests as u64)
        .with("bytes", bytes as u64)
}
