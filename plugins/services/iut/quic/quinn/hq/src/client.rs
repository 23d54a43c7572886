//! hq-interop client: fetches `--path`, saves it to `--output`, and checks it (with
//! `--size`, exactly that many bytes of the pattern). Verifies the server against `--ca`.
//! Exit 0 done, 1 failed.

mod common;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use quinn::crypto::rustls::QuicClientConfig;
use quinn::rustls;

#[tokio::main]
async fn main() {
    match run().await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            println!("transfer failed: {e:#}");
            std::process::exit(1);
        }
    }
}

async fn run() -> Result<i32> {
    let f = common::flags()?;
    let host = common::need(&f, "host")?;
    let port: u16 = common::need(&f, "port")?.parse()?;
    let addr = tokio::net::lookup_host((host, port))
        .await?
        .next()
        .ok_or_else(|| anyhow!("{host} has no address"))?;
    let sni = common::need(&f, "sni")?;
    let path = f.get("path").map(String::as_str).unwrap_or("/index.html");
    let size: usize = f.get("size").map(|s| s.parse()).transpose()?.unwrap_or(0);
    let secs: f64 = f.get("timeout").map(|s| s.parse()).transpose()?.unwrap_or(20.0);
    let mut roots = rustls::RootCertStore::empty();
    for c in common::certs(common::need(&f, "ca")?)? {
        roots.add(c)?;
    }
    let mut tls = rustls::ClientConfig::builder_with_provider(common::provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![common::ALPN.to_vec()];
    tls.key_log = Arc::new(rustls::KeyLogFile::new());
    let mut cc = quinn::ClientConfig::new(Arc::new(QuicClientConfig::try_from(tls)?));
    cc.transport_config(Arc::new(common::transport(
        f.get("qlog-dir").map(String::as_str),
        "client",
    )?));
    let bind: std::net::SocketAddr = if addr.is_ipv4() {
        "0.0.0.0:0".parse()?
    } else {
        "[::]:0".parse()?
    };
    let mut ep = quinn::Endpoint::client(bind)?;
    ep.set_default_client_config(cc);
    let fetch = async {
        let conn = ep.connect(addr, sni)?.await.context("handshake")?;
        println!("handshake done, alpn hq-interop");
        let (mut s, mut r) = conn.open_bi().await?;
        s.write_all(format!("GET {path}\r\n").as_bytes()).await?;
        s.finish()?;
        let body = r.read_to_end(1 << 30).await?;
        conn.close(0u32.into(), b"done");
        Ok::<_, anyhow::Error>(body)
    };
    let body = tokio::time::timeout(Duration::from_secs_f64(secs), fetch)
        .await
        .map_err(|_| anyhow!("no complete response after {secs} s"))??;
    ep.wait_idle().await;
    if let Some(out) = f.get("output") {
        if let Some(p) = std::path::Path::new(out).parent() {
            std::fs::create_dir_all(p)?;
        }
        std::fs::write(out, &body)?;
    }
    if size > 0 && body != common::pattern(size) {
        println!(
            "transfer failed: {} bytes, expected {size} bytes of the pattern",
            body.len()
        );
        return Ok(1);
    }
    if body.is_empty() {
        println!("transfer failed: empty body");
        return Ok(1);
    }
    println!("transfer complete: {} bytes", body.len());
    Ok(0)
}
