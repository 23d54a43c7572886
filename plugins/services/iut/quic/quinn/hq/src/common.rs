//! What the server and the client share: flags, TLS files, the qlog writer, the pattern.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use quinn::rustls;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub const ALPN: &[u8] = b"hq-interop";
const PATTERN: &[u8] = b"panther\n";

/// `--name value` pairs.
pub fn flags() -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let name = k
            .strip_prefix("--")
            .ok_or_else(|| anyhow!("unexpected argument `{k}`"))?;
        let v = it.next().ok_or_else(|| anyhow!("--{name} needs a value"))?;
        out.insert(name.to_string(), v);
    }
    Ok(out)
}

pub fn need<'a>(f: &'a HashMap<String, String>, k: &str) -> Result<&'a str> {
    f.get(k)
        .map(String::as_str)
        .ok_or_else(|| anyhow!("--{k} is required"))
}

pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

pub fn certs(path: &str) -> Result<Vec<CertificateDer<'static>>> {
    CertificateDer::pem_file_iter(path)
        .with_context(|| format!("reading {path}"))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing {path}"))
}

pub fn key(path: &str) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path).with_context(|| format!("reading {path}"))
}

/// A transport config whose qlog (JSON-SEQ) goes to `dir/NAME.sqlog`, written unbuffered
/// so that a stop loses nothing.
pub fn transport(dir: Option<&str>, name: &str) -> Result<quinn::TransportConfig> {
    let mut tc = quinn::TransportConfig::default();
    if let Some(d) = dir {
        let path = Path::new(d).join(format!("{name}.sqlog"));
        let file = std::fs::File::create(&path).with_context(|| format!("{}", path.display()))?;
        let mut q = quinn::QlogConfig::default();
        q.writer(Box::new(file))
            .title(Some(format!("panther quinn {name}")));
        tc.qlog_stream(q.into_stream());
    }
    Ok(tc)
}

pub fn pattern(n: usize) -> Vec<u8> {
    PATTERN.iter().copied().cycle().take(n).collect()
}
