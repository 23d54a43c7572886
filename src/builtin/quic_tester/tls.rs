//! TLS for the tester's QUIC connections: a client that trusts the run's CA (or, with
//! `--insecure`, any certificate, since IUTs outside panther bring their own), a server with
//! the run's certificate, ALPN from the protocol plugin, and every secret kept so the tester
//! can decrypt what its own socket saw (and write an NSS key log for captures).

use std::path::Path;
use std::sync::{Arc, Mutex};

use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// One NSS key log line's worth: label, client random, secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    pub label: String,
    pub client_random: Vec<u8>,
    pub secret: Vec<u8>,
}

/// Collects secrets in memory and, when a path is given, appends them to an NSS key log
/// (what Wireshark and panther's capture decoder read).
#[derive(Debug, Default)]
pub struct KeyCollector {
    secrets: Mutex<Vec<Secret>>,
    file: Option<Mutex<std::fs::File>>,
}

impl KeyCollector {
    pub fn new(path: Option<&Path>) -> std::io::Result<Arc<KeyCollector>> {
        let file = match path {
            Some(p) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)?,
            )),
            None => None,
        };
        Ok(Arc::new(KeyCollector {
            secrets: Mutex::new(Vec::new()),
            file,
        }))
    }

    pub fn secrets(&self) -> Vec<Secret> {
        self.secrets.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The key log as text, one NSS line per secret.
    pub fn nss_text(&self) -> String {
        self.secrets()
            .iter()
            .map(|s| format!("{} {} {}\n", s.label, hex(&s.client_random), hex(&s.secret)))
            .collect()
    }
}

impl rustls::KeyLog for KeyCollector {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let s = Secret {
            label: label.to_string(),
            client_random: client_random.to_vec(),
            secret: secret.to_vec(),
        };
        if let Some(f) = &self.file
            && let Ok(mut f) = f.lock()
        {
            use std::io::Write;
            let _ = writeln!(f, "{label} {} {}", hex(client_random), hex(secret));
        }
        if let Ok(mut v) = self.secrets.lock() {
            v.push(s);
        }
    }

    fn will_log(&self, _label: &str) -> bool {
        true
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// How the client decides to trust the server.
#[derive(Debug, Clone)]
pub enum Trust {
    /// The run's CA (`{{ ca }}`), as PEM.
    Ca(std::path::PathBuf),
    /// Any certificate: for IUTs with their own self-signed certificates. Signatures are
    /// still checked, so the handshake is a real one.
    Any,
}

/// Which TLS 1.3 cipher suites the tester offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suites {
    Default,
    /// Only TLS_CHACHA20_POLY1305_SHA256 (the `chacha20` case). Initial packets still use
    /// AES-128-GCM, as RFC 9001 §5.2 requires.
    ChaCha20Only,
}

fn provider(suites: Suites) -> CryptoProvider {
    let mut p = ring::default_provider();
    if suites == Suites::ChaCha20Only {
        p.cipher_suites
            .retain(|s| s.suite() == rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256);
    }
    p
}

fn initial_suite() -> rustls::quic::Suite {
    ring::cipher_suite::TLS13_AES_128_GCM_SHA256
        .tls13()
        .and_then(|s| s.quic_suite())
        .expect("ring's AES-128-GCM is a QUIC suite")
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read `{path}`: {reason}")]
    Pem { path: String, reason: String },
    #[error("`{0}` holds no certificate")]
    NoCertificate(String),
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = |e: rustls::pki_types::pem::Error| TlsError::Pem {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let v: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(pem)?
        .collect::<Result<_, _>>()
        .map_err(pem)?;
    if v.is_empty() {
        return Err(TlsError::NoCertificate(path.display().to_string()));
    }
    Ok(v)
}

/// A quinn client configuration for one case.
pub fn client(
    trust: &Trust,
    alpn: &[String],
    suites: Suites,
    keys: Arc<KeyCollector>,
) -> Result<quinn::ClientConfig, TlsError> {
    let cfg = rustls_client(trust, alpn, suites, keys)?;
    let quic = QuicClientConfig::with_initial(cfg, initial_suite())
        .expect("AES-128-GCM is the initial suite");
    Ok(quinn::ClientConfig::new(Arc::new(quic)))
}

/// The rustls side alone: the probes drive a TLS client by hand to get a real ClientHello.
pub fn rustls_client(
    trust: &Trust,
    alpn: &[String],
    suites: Suites,
    keys: Arc<KeyCollector>,
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let builder =
        rustls::ClientConfig::builder_with_details(Arc::new(provider(suites)), FrozenClock::now())
            .with_protocol_versions(&[&rustls::version::TLS13])?;
    let mut cfg = match trust {
        Trust::Ca(path) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in certs(path)? {
                roots.add(c)?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::Any => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCert(provider(Suites::Default))))
            .with_no_client_auth(),
    };
    cfg.alpn_protocols = alpn.iter().map(|a| a.as_bytes().to_vec()).collect();
    cfg.enable_early_data = true;
    cfg.key_log = keys;
    Ok(Arc::new(cfg))
}

/// The wall time at which a client configuration was made, for as long as it lives (one
/// case). rustls counts a ticket's age in whole seconds, so a resumption that crosses a
/// second boundary 250 ms after the ticket claims an age of 1000 ms; GnuTLS (ngtcp2's
/// gtlsserver) then sees a client age above its own and rejects 0-RTT, as RFC 8446
/// §4.2.10 lets it. With the clock held, the claimed age is 0: never above the server's,
/// and well within any anti-replay window.
#[derive(Debug)]
struct FrozenClock(rustls::pki_types::UnixTime);

impl FrozenClock {
    fn now() -> Arc<Self> {
        Arc::new(Self(rustls::pki_types::UnixTime::now()))
    }
}

impl rustls::time_provider::TimeProvider for FrozenClock {
    fn current_time(&self) -> Option<rustls::pki_types::UnixTime> {
        Some(self.0)
    }
}

/// A quinn server configuration with the run's certificate.
pub fn server(
    cert: &Path,
    key: &Path,
    alpn: &[String],
    keys: Arc<KeyCollector>,
) -> Result<quinn::ServerConfig, TlsError> {
    let chain = certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Pem {
        path: key.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(provider(Suites::Default)))
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    cfg.alpn_protocols = alpn.iter().map(|a| a.as_bytes().to_vec()).collect();
    cfg.max_early_data_size = u32::MAX;
    cfg.key_log = keys;
    let quic = QuicServerConfig::with_initial(Arc::new(cfg), initial_suite())
        .expect("AES-128-GCM is the initial suite");
    Ok(quinn::ServerConfig::with_crypto(Arc::new(quic)))
}

/// Accepts any certificate but still verifies the handshake signatures with it.
#[derive(Debug)]
struct AnyCert(CryptoProvider);

impl ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
