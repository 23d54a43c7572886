//! The tester's HTTP/3 server side (RFC 9114), on the h3 crate over the same quinn
//! connection: an h3-only client (ngtcp2's) GETs the test's files as an hq-interop client
//! does, and the same judgement applies. The tester's own HTTP/3 *client* is hand-written
//! (`h3.rs`) because it checks the framing it sends; here a well-kept server is enough.

use bytes::Bytes;

use super::server::{Served, body_for};

/// Serves one connection's requests until the client closes it.
pub async fn serve(conn: quinn::Connection, mut s: Served) -> Served {
    let mut h3 = match h3::server::Connection::new(h3_quinn::Connection::new(conn)).await {
        Ok(c) => c,
        Err(e) => {
            s.problems.push(format!("HTTP/3 setup: {e}"));
            return s;
        }
    };
    let mut requests = Vec::new();
    loop {
        match h3.accept().await {
            Ok(Some(resolver)) => requests.push(tokio::spawn(answer(resolver))),
            Ok(None) => break,
            // The client closing with H3_NO_ERROR is the end of a good connection.
            Err(e) if e.is_h3_no_error() => break,
            Err(e) => {
                s.problems.push(format!("HTTP/3 connection: {e}"));
                break;
            }
        }
    }
    for r in requests {
        match r.await {
            Ok(Ok(bytes)) => {
                s.requests += 1;
                s.served_bytes += bytes;
            }
            Ok(Err(p)) => {
                s.requests += 1;
                s.problems.push(p);
            }
            Err(e) => s.problems.push(format!("request task: {e}")),
        }
    }
    s
}

type Resolver = h3::server::RequestResolver<h3_quinn::Connection, Bytes>;

/// One request: the file's bytes once sent, or what went wrong.
async fn answer(resolver: Resolver) -> Result<usize, String> {
    let (req, mut stream) = resolver
        .resolve_request()
        .await
        .map_err(|e| format!("HTTP/3 request: {e}"))?;
    let path = req.uri().path().to_string();
    let io = |e: h3::error::StreamError| format!("{path}: {e}");
    let Some(body) = body_for(&path) else {
        let resp = http::Response::builder()
            .status(404)
            .body(())
            .expect("a valid status");
        stream.send_response(resp).await.map_err(io)?;
        stream.finish().await.map_err(io)?;
        return Err(format!(
            "asked for `{path}` over HTTP/3, which the test does not serve"
        ));
    };
    let resp = http::Response::builder()
        .status(200)
        .header("content-length", body.len())
        .body(())
        .expect("a valid status");
    stream.send_response(resp).await.map_err(io)?;
    let n = body.len();
    stream.send_data(Bytes::from(body)).await.map_err(io)?;
    stream.finish().await.map_err(io)?;
    Ok(n)
}
