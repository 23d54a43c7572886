//! Per-run certificates for `generate_new_certificates` (PANTHER's test- and service-level
//! switch): a fresh CA and one server certificate signed by it, as PEM files, so QUIC and
//! TLS services get `cert`, `key` and `ca` template variables that no earlier run shares.
//!
//! The CA lives only as long as the run folder; its private key is never written. Keys are
//! ECDSA P-256 (every QUIC stack panther targets accepts it). The server certificate names
//! the given DNS names plus `localhost`, `127.0.0.1` and `::1`, so a client may dial a
//! service by name or by loopback address.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

/// The PEM files written by [`generate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFiles {
    /// The run's CA certificate (`ca.pem`): what clients trust.
    pub ca: PathBuf,
    /// The server certificate (`cert.pem`), signed by the CA.
    pub cert: PathBuf,
    /// The server certificate's private key (`key.pem`, PKCS#8, mode 0600).
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("`{name}` cannot be a certificate name: {reason}")]
    BadName { name: String, reason: String },
    #[error("cannot make the run's certificates: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Names every server certificate carries besides the caller's.
const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Makes a per-run CA and a server certificate for `dns_names` (plus localhost, 127.0.0.1
/// and ::1), writes `ca.pem`, `cert.pem` and `key.pem` into `dir` (created if missing),
/// and returns their paths.
pub fn generate(dir: &Path, dns_names: &[String]) -> Result<CertFiles, CertError> {
    let names = subject_names(dns_names)?;
    let now = OffsetDateTime::now_utc();
    // A day of slack for clocks that differ between containers; a year is longer than
    // any run.
    let (not_before, not_after) = (now - Duration::days(1), now + Duration::days(365));

    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, "panther per-run CA");
    ca.distinguished_name
        .push(DnType::OrganizationName, "panther");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = not_before;
    ca.not_after = not_after;
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(names.clone())?;
    leaf.distinguished_name
        .push(DnType::CommonName, names[0].clone());
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    leaf.use_authority_key_identifier_extension = true;
    leaf.not_before = not_before;
    leaf.not_after = not_after;
    let cert = leaf.signed_by(&key, &issuer)?;

    std::fs::create_dir_all(dir).map_err(|source| CertError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let files = CertFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    write(&files.ca, &ca_cert.pem(), 0o644)?;
    write(&files.cert, &cert.pem(), 0o644)?;
    write(&files.key, &key.serialize_pem(), 0o600)?;
    Ok(files)
}

/// The caller's names (trimmed, deduplicated, in order) then the loopback names.
fn subject_names(dns_names: &[String]) -> Result<Vec<String>, CertError> {
    let mut out: Vec<String> = Vec::new();
    for n in dns_names {
        let n = n.trim();
        if n.is_empty() {
            continue;
        }
        if !n.is_ascii() || n.chars().any(|c| c.is_ascii_control() || c == ' ') {
            return Err(CertError::BadName {
                name: n.to_string(),
                reason: "a DNS name is ASCII letters, digits, `-`, `_` and `.`".into(),
            });
        }
        if !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    }
    for n in LOOPBACK_NAMES {
        if !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    }
    Ok(out)
}

fn write(path: &Path, text: &str, mode: u32) -> Result<(), CertError> {
    use std::os::unix::fs::OpenOptionsExt;
    let err = |source| CertError::Write {
        path: path.to_path_buf(),
        source,
    };
    // Replace, never append to, a file a previous iteration left.
    let _ = std::fs::remove_file(path);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;
    use x509_parser::extensions::GeneralName;
    use x509_parser::pem::parse_x509_pem;

    fn der_of(path: &Path) -> Vec<u8> {
        let text = std::fs::read(path).unwrap();
        let (_, pem) = parse_x509_pem(&text).unwrap();
        assert_eq!(pem.label, "CERTIFICATE");
        pem.contents
    }

    #[test]
    fn the_server_certificate_chains_to_the_run_ca() {
        let dir = tempfile::tempdir().unwrap();
        let names = vec!["picoquic_server".to_string(), "server.test".to_string()];
        let f = generate(&dir.path().join("certs"), &names).unwrap();
        let (ca_der, leaf_der) = (der_of(&f.ca), der_of(&f.cert));
        let (_, ca) = x509_parser::parse_x509_certificate(&ca_der).unwrap();
        let (_, leaf) = x509_parser::parse_x509_certificate(&leaf_der).unwrap();

        assert!(ca.is_ca());
        assert!(!leaf.is_ca());
        assert_eq!(leaf.issuer(), ca.subject());
        // Signatures: the CA signed itself and the server certificate.
        ca.verify_signature(None).unwrap();
        leaf.verify_signature(Some(ca.public_key())).unwrap();
        // A certificate from another CA does not verify against this one.
        let other = generate(&dir.path().join("other"), &names).unwrap();
        let other_der = der_of(&other.ca);
        let (_, other_ca) = x509_parser::parse_x509_certificate(&other_der).unwrap();
        assert!(leaf.verify_signature(Some(other_ca.public_key())).is_err());

        let san = leaf.subject_alternative_name().unwrap().unwrap();
        let mut dns = Vec::new();
        let mut ips = Vec::new();
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => dns.push(d.to_string()),
                GeneralName::IPAddress(b) => ips.push(match b.len() {
                    4 => IpAddr::from(<[u8; 4]>::try_from(*b).unwrap()),
                    _ => IpAddr::from(<[u8; 16]>::try_from(*b).unwrap()),
                }),
                _ => {}
            }
        }
        assert_eq!(dns, ["picoquic_server", "server.test", "localhost"]);
        assert_eq!(
            ips,
            [
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        assert!(leaf.validity().is_valid());
    }

    #[test]
    fn the_key_file_holds_the_certificates_key_and_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = generate(dir.path(), &["s".into()]).unwrap();
        let key = KeyPair::from_pem(&std::fs::read_to_string(&f.key).unwrap()).unwrap();
        let leaf_der = der_of(&f.cert);
        let (_, leaf) = x509_parser::parse_x509_certificate(&leaf_der).unwrap();
        assert_eq!(
            key.public_key_raw(),
            leaf.public_key().subject_public_key.data.as_ref()
        );
        let mode = std::fs::metadata(&f.key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // A second run in the same folder replaces the files with a new CA.
        let before = std::fs::read(&f.ca).unwrap();
        generate(dir.path(), &["s".into()]).unwrap();
        assert_ne!(before, std::fs::read(&f.ca).unwrap());
    }

    #[test]
    fn bad_names_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let e = generate(dir.path(), &["a b".into()]).unwrap_err();
        assert!(e.to_string().contains("`a b`"), "{e}");
        assert!(!dir.path().join("ca.pem").exists());
    }

    /// The chain as a TLS library sees it, checked by `openssl verify` (needs the tool:
    /// skipped locally without it, required when CI=true).
    #[test]
    fn openssl_verifies_the_chain() {
        let Ok(openssl) = which::which("openssl") else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "openssl is required on CI"
            );
            eprintln!("skipped: openssl is not installed");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let f = generate(dir.path(), &["server".into()]).unwrap();
        let out = std::process::Command::new(&openssl)
            .arg("verify")
            .arg("-CAfile")
            .arg(&f.ca)
            .args(["-purpose", "sslserver", "-verify_hostname", "server"])
            .arg(&f.cert)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains(": OK"),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // And a wrong name is refused, so the check can fail.
        let out = std::process::Command::new(&openssl)
            .arg("verify")
            .arg("-CAfile")
            .arg(&f.ca)
            .args(["-verify_hostname", "elsewhere.example"])
            .arg(&f.cert)
            .output()
            .unwrap();
        assert!(!out.status.success());
    }
}
