//! hq-interop server: serves files of `--root` (`GET /path` on each bidirectional stream, a
//! task per stream: quiche's client asks on stream 4 and leaves stream 0 unused), a qlog per
//! connection, TLS secrets to SSLKEYLOGFILE. SIGINT closes the endpoint and waits until
//! every connection is done.

mod common;

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use anyhow::{Result, anyhow};
use quinn::crypto::rustls::QuicServerConfig;
use quinn::rustls;

#[tokio::main]
async fn main() -> Result<()> {
    let f = common::flags()?;
    let addr: SocketAddr = format!("{}:{}", common::need(&f, "host")?, common::need(&f, "port")?)
        .parse()?;
    let root = PathBuf::from(common::need(&f, "root")?);
    let qlog = f.get("qlog-dir").cloned();
    let mut tls = rustls::ServerConfig::builder_with_provider(common::provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(
            common::certs(common::need(&f, "cert")?)?,
            common::key(common::need(&f, "key")?)?,
        )?;
    tls.alpn_protocols = vec![common::ALPN.to_vec()];
    tls.key_log = Arc::new(rustls::KeyLogFile::new());
    let crypto: Arc<QuicServerConfig> = Arc::new(QuicServerConfig::try_from(tls)?);
    let endpoint = quinn::Endpoint::server(quinn::ServerConfig::with_crypto(crypto.clone()), addr)?;
    println!("listening on {addr}");
    let mut n = 0u32;
    loop {
        tokio::select! {
            inc = endpoint.accept() => {
                let Some(inc) = inc else { break };
                n += 1;
                let mut sc = quinn::ServerConfig::with_crypto(crypto.clone());
                sc.transport_config(Arc::new(common::transport(qlog.as_deref(), &format!("server-{n}"))?));
                let root = root.clone();
                tokio::spawn(async move {
                    match inc.accept_with(Arc::new(sc)) {
                        Ok(c) => match c.await {
                            Ok(conn) => connection(conn, root).await,
                            Err(e) => println!("handshake failed: {e}"),
                        },
                        Err(e) => println!("refused: {e}"),
                    }
                });
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    endpoint.close(0u32.into(), b"server stopping");
    endpoint.wait_idle().await;
    println!("stopped");
    Ok(())
}

async fn connection(conn: quinn::Connection, root: PathBuf) {
    println!("handshake done, alpn hq-interop, peer {}", conn.remote_address());
    while let Ok((send, recv)) = conn.accept_bi().await {
        tokio::spawn(stream(send, recv, root.clone()));
    }
}

async fn stream(mut send: quinn::SendStream, mut recv: quinn::RecvStream, root: PathBuf) {
    let Ok(req) = recv.read_to_end(8192).await else {
        return;
    };
    let line = String::from_utf8_lossy(&req);
    let path = line.trim().strip_prefix("GET ").unwrap_or("/").trim().to_string();
    let body = file(&root, &path).unwrap_or_default();
    println!("GET {path} {} bytes (hq-interop)", body.len());
    let _ = send.write_all(&body).await;
    let _ = send.finish();
    let _ = send.stopped().await;
}

/// The file under `root` that `path` names, never outside it.
fn file(root: &Path, path: &str) -> Result<Vec<u8>> {
    let rel = Path::new(path.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(anyhow!("bad path"));
    }
    Ok(std::fs::read(root.join(rel))?)
}
