//! NSS key log files (`SSLKEYLOGFILE`, the format GnuTLS, OpenSSL, rustls, aioquic and
//! picoquic write): `LABEL <client_random hex> <secret hex>` per line. Comments, blank lines,
//! TLS 1.2 labels and lines that are not hex are skipped and counted, never fatal.

use std::collections::HashMap;

/// The TLS 1.3 secrets of one connection, keyed in [`KeyLog`] by its ClientHello random.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    pub client_early: Option<Vec<u8>>,
    pub client_handshake: Option<Vec<u8>>,
    pub server_handshake: Option<Vec<u8>>,
    pub client_app: Option<Vec<u8>>,
    pub server_app: Option<Vec<u8>>,
}

/// Every connection's secrets from one or more key log files.
#[derive(Debug, Clone, Default)]
pub struct KeyLog {
    by_random: HashMap<[u8; 32], Secrets>,
    /// Lines that were neither a known TLS 1.3 label nor a comment or blank line.
    pub skipped: usize,
    /// Lines with a known label.
    pub used: usize,
}

impl KeyLog {
    pub fn parse(text: &str) -> Self {
        let mut k = Self::default();
        k.add(text);
        k
    }

    /// Adds more lines (a second file, or what a live service appended since).
    pub fn add(&mut self, text: &str) {
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if self.add_line(line).is_none() {
                self.skipped += 1;
            }
        }
    }

    fn add_line(&mut self, line: &str) -> Option<()> {
        let mut parts = line.split_ascii_whitespace();
        let (label, random, secret) = (parts.next()?, parts.next()?, parts.next()?);
        let random: [u8; 32] = unhex(random)?.try_into().ok()?;
        let secret = unhex(secret)?;
        let entry = self.by_random.entry(random).or_default();
        let slot = match label {
            "CLIENT_EARLY_TRAFFIC_SECRET" => &mut entry.client_early,
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => &mut entry.client_handshake,
            "SERVER_HANDSHAKE_TRAFFIC_SECRET" => &mut entry.server_handshake,
            "CLIENT_TRAFFIC_SECRET_0" => &mut entry.client_app,
            "SERVER_TRAFFIC_SECRET_0" => &mut entry.server_app,
            _ => return None,
        };
        *slot = Some(secret);
        self.used += 1;
        Some(())
    }

    /// The secrets of the connection whose ClientHello carried `random`.
    pub fn get(&self, random: &[u8; 32]) -> Option<&Secrets> {
        self.by_random.get(random)
    }

    /// How many connections it has secrets for.
    pub fn connections(&self) -> usize {
        self.by_random.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_random.is_empty()
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let b = s.as_bytes();
    (0..b.len())
        .step_by(2)
        .map(|i| Some((nib(b[i])? << 4) | nib(b[i + 1])?))
        .collect()
}

fn nib(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerant_of_comments_and_other_labels() {
        let r = "ab".repeat(32);
        let text = format!(
            "# SSL/TLS secrets log file\n\nCLIENT_RANDOM {r} {s}\nCLIENT_HANDSHAKE_TRAFFIC_SECRET {r} 0102\nSERVER_TRAFFIC_SECRET_0 {R} ff\nnot a line\nCLIENT_TRAFFIC_SECRET_0 zz 00\n",
            s = "00".repeat(48),
            R = r.to_uppercase()
        );
        let k = KeyLog::parse(&text);
        assert_eq!((k.used, k.skipped, k.connections()), (2, 3, 1));
        let s = k.get(&[0xab; 32]).unwrap();
        assert_eq!(s.client_handshake.as_deref(), Some(&[1u8, 2][..]));
        assert_eq!(s.server_app.as_deref(), Some(&[0xffu8][..]));
        assert!(s.client_app.is_none());
    }
}
