//! Packet protection keys (RFC 9001 §5): Initial secrets from the client's first Destination
//! Connection ID, keys from TLS traffic secrets through HKDF-Expand-Label, key update, for
//! QUIC v1 (and its drafts) and v2 (RFC 9369 §3.3, its salt and "quicv2" labels).

use ring::aead::{self, quic as hp};
use ring::hkdf;

use super::error::{Result, WireError};
use super::header::is_draft;
use super::{V1, V2};

/// Who sent a packet: keys differ per direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Client,
    Server,
}

impl Side {
    pub fn peer(self) -> Self {
        match self {
            Self::Client => Self::Server,
            Self::Server => Self::Client,
        }
    }
}

/// The TLS 1.3 cipher suites QUIC uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Suite {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
}

impl Suite {
    /// From a TLS cipher suite code point (0x1301, 0x1302, 0x1303).
    pub fn from_tls(id: u16) -> Option<Self> {
        match id {
            0x1301 => Some(Self::Aes128Gcm),
            0x1302 => Some(Self::Aes256Gcm),
            0x1303 => Some(Self::ChaCha20Poly1305),
            _ => None,
        }
    }

    pub fn tls_id(self) -> u16 {
        match self {
            Self::Aes128Gcm => 0x1301,
            Self::Aes256Gcm => 0x1302,
            Self::ChaCha20Poly1305 => 0x1303,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Aes128Gcm => "TLS_AES_128_GCM_SHA256",
            Self::Aes256Gcm => "TLS_AES_256_GCM_SHA384",
            Self::ChaCha20Poly1305 => "TLS_CHACHA20_POLY1305_SHA256",
        }
    }

    fn hkdf(self) -> hkdf::Algorithm {
        match self {
            Self::Aes256Gcm => hkdf::HKDF_SHA384,
            _ => hkdf::HKDF_SHA256,
        }
    }

    /// The hash length, which is also the length of its traffic secrets.
    pub fn secret_len(self) -> usize {
        match self {
            Self::Aes256Gcm => 48,
            _ => 32,
        }
    }

    fn aead(self) -> &'static aead::Algorithm {
        match self {
            Self::Aes128Gcm => &aead::AES_128_GCM,
            Self::Aes256Gcm => &aead::AES_256_GCM,
            Self::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
        }
    }

    fn hp(self) -> &'static hp::Algorithm {
        match self {
            Self::Aes128Gcm => &hp::AES_128,
            Self::Aes256Gcm => &hp::AES_256,
            Self::ChaCha20Poly1305 => &hp::CHACHA20,
        }
    }

    fn key_len(self) -> usize {
        match self {
            Self::Aes128Gcm => 16,
            _ => 32,
        }
    }
}

/// RFC 9001 §5.2.
const SALT_V1: [u8; 20] = unhex(b"38762cf7f55934b34d179ae6a4c80cadccbb7f0a");
/// RFC 9369 §3.3.1.
const SALT_V2: [u8; 20] = unhex(b"0dede3def700a6db819381be6e269dcbf9bd2ed9");
/// draft-ietf-quic-tls-29 §5.2.
const SALT_DRAFT29: [u8; 20] = unhex(b"afbfec289993d24c9e9786f19c6111e04390a899");

/// Decodes lower-case hex at compile time (the RFCs' constants are written that way).
pub(crate) const fn unhex<const N: usize>(s: &[u8]) -> [u8; N] {
    assert!(s.len() == 2 * N, "hex length");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = (nibble(s[2 * i]) << 4) | nibble(s[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("not lower-case hex"),
    }
}

fn salt(version: u32) -> Result<&'static [u8; 20]> {
    match version {
        V1 => Ok(&SALT_V1),
        V2 => Ok(&SALT_V2),
        v if is_draft(v) && v <= 0xff00_0020 => Ok(&SALT_DRAFT29),
        v if is_draft(v) => Ok(&SALT_V1),
        v => Err(WireError::UnsupportedVersion(v)),
    }
}

/// The labels of RFC 9001 §5.1 (v1) or RFC 9369 §3.3.2 (v2).
struct Labels {
    key: &'static [u8],
    iv: &'static [u8],
    hp: &'static [u8],
    ku: &'static [u8],
}

fn labels(version: u32) -> Labels {
    if version == V2 {
        Labels {
            key: b"quicv2 key",
            iv: b"quicv2 iv",
            hp: b"quicv2 hp",
            ku: b"quicv2 ku",
        }
    } else {
        Labels {
            key: b"quic key",
            iv: b"quic iv",
            hp: b"quic hp",
            ku: b"quic ku",
        }
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// TLS 1.3 HKDF-Expand-Label (RFC 8446 §7.1) with an empty context.
pub fn expand_label(alg: hkdf::Algorithm, secret: &[u8], label: &[u8], len: usize) -> Vec<u8> {
    let prk = hkdf::Prk::new_less_safe(alg, secret);
    let out_len = (len as u16).to_be_bytes();
    let label_len = [(6 + label.len()) as u8];
    let info: [&[u8]; 5] = [&out_len, &label_len, b"tls13 ", label, &[0]];
    let mut out = vec![0u8; len];
    // `fill` fails only when len > 255 * hash length, which no QUIC label asks for.
    prk.expand(&info, Len(len))
        .and_then(|okm| okm.fill(&mut out))
        .expect("HKDF output length in range");
    out
}

/// The client and server Initial secrets (RFC 9001 §5.2) for the client's first DCID.
pub fn initial_secrets(version: u32, client_dcid: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let initial = hmac_extract(salt(version)?, client_dcid);
    let client = expand_label(hkdf::HKDF_SHA256, &initial, b"client in", 32);
    let server = expand_label(hkdf::HKDF_SHA256, &initial, b"server in", 32);
    Ok((client, server))
}

/// HKDF-Extract = HMAC(salt, ikm), computed openly: ring hides an extracted PRK, and the
/// Initial secret is needed as bytes to expand the client and server secrets from it.
fn hmac_extract(salt: &[u8], ikm: &[u8]) -> Vec<u8> {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, salt);
    ring::hmac::sign(&key, ikm).as_ref().to_vec()
}

/// One direction's keys for one packet number space: AEAD key and IV, header protection key.
pub struct PacketKey {
    suite: Suite,
    version: u32,
    secret: Vec<u8>,
    key: Vec<u8>,
    iv: [u8; 12],
    hp_key: Vec<u8>,
    aead: aead::LessSafeKey,
    hp: hp::HeaderProtectionKey,
}

impl std::fmt::Debug for PacketKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacketKey")
            .field("suite", &self.suite)
            .field("version", &self.version)
            .finish()
    }
}

impl Clone for PacketKey {
    fn clone(&self) -> Self {
        Self::from_parts(
            self.suite,
            self.version,
            self.secret.clone(),
            self.key.clone(),
            self.iv,
            self.hp_key.clone(),
        )
        .expect("keys that were valid once stay valid")
    }
}

impl PacketKey {
    /// The Initial keys of the `sender` (RFC 9001 §5.2), from the DCID of the client's first
    /// Initial — also for the server's packets, whose DCID is the client's SCID.
    pub fn initial(version: u32, client_dcid: &[u8], sender: Side) -> Result<Self> {
        let (client, server) = initial_secrets(version, client_dcid)?;
        let secret = if sender == Side::Client {
            client
        } else {
            server
        };
        Self::from_secret(Suite::Aes128Gcm, version, &secret)
    }

    /// Keys from a TLS traffic secret (handshake or application), RFC 9001 §5.1.
    pub fn from_secret(suite: Suite, version: u32, secret: &[u8]) -> Result<Self> {
        let l = labels(version);
        let alg = suite.hkdf();
        let key = expand_label(alg, secret, l.key, suite.key_len());
        let iv_v = expand_label(alg, secret, l.iv, 12);
        let hp_key = expand_label(alg, secret, l.hp, suite.key_len());
        let mut iv = [0u8; 12];
        iv.copy_from_slice(&iv_v);
        Self::from_parts(suite, version, secret.to_vec(), key, iv, hp_key)
    }

    fn from_parts(
        suite: Suite,
        version: u32,
        secret: Vec<u8>,
        key: Vec<u8>,
        iv: [u8; 12],
        hp_key: Vec<u8>,
    ) -> Result<Self> {
        let bad = |what: &str| WireError::Malformed {
            what: "key",
            at: 0,
            reason: format!("{what} rejected by the cipher"),
        };
        let aead = aead::LessSafeKey::new(
            aead::UnboundKey::new(suite.aead(), &key).map_err(|_| bad("AEAD key"))?,
        );
        let hp = hp::HeaderProtectionKey::new(suite.hp(), &hp_key)
            .map_err(|_| bad("header protection key"))?;
        Ok(Self {
            suite,
            version,
            secret,
            key,
            iv,
            hp_key,
            aead,
            hp,
        })
    }

    /// The keys after a key update (RFC 9001 §6.1): a new secret from "quic ku", new AEAD
    /// key and IV, the same header protection key.
    pub fn next_generation(&self) -> Result<Self> {
        let l = labels(self.version);
        let alg = self.suite.hkdf();
        let secret = expand_label(alg, &self.secret, l.ku, self.suite.secret_len());
        let key = expand_label(alg, &secret, l.key, self.suite.key_len());
        let iv_v = expand_label(alg, &secret, l.iv, 12);
        let mut iv = [0u8; 12];
        iv.copy_from_slice(&iv_v);
        Self::from_parts(
            self.suite,
            self.version,
            secret,
            key,
            iv,
            self.hp_key.clone(),
        )
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }
    pub fn version(&self) -> u32 {
        self.version
    }
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }
    pub fn key(&self) -> &[u8] {
        &self.key
    }
    pub fn iv(&self) -> &[u8; 12] {
        &self.iv
    }
    pub fn hp_key(&self) -> &[u8] {
        &self.hp_key
    }

    /// The header protection mask for a 16-byte sample (RFC 9001 §5.4).
    pub fn hp_mask(&self, sample: &[u8]) -> Result<[u8; 5]> {
        self.hp
            .new_mask(sample)
            .map_err(|_| WireError::TooShortForSample { len: sample.len() })
    }

    fn nonce(&self, pn: u64) -> aead::Nonce {
        let mut n = self.iv;
        for (b, p) in n[4..].iter_mut().zip(pn.to_be_bytes()) {
            *b ^= p;
        }
        aead::Nonce::assume_unique_for_key(n)
    }

    /// Decrypts `payload` (ciphertext and 16-byte tag) in place; returns the plaintext length.
    pub fn open_in_place(&self, pn: u64, aad: &[u8], payload: &mut [u8]) -> Result<usize> {
        let plain = self
            .aead
            .open_in_place(self.nonce(pn), aead::Aad::from(aad), payload)
            .map_err(|_| WireError::Decrypt)?;
        Ok(plain.len())
    }

    /// Encrypts `payload[start..]` in place and appends the tag (the bytes before `start` are
    /// the header, used as associated data).
    pub fn seal_in_place(&self, pn: u64, buf: &mut Vec<u8>, start: usize) -> Result<()> {
        let (aad, plain) = buf.split_at_mut(start);
        let tag = self
            .aead
            .seal_in_place_separate_tag(self.nonce(pn), aead::Aad::from(&*aad), plain)
            .map_err(|_| WireError::Decrypt)?;
        buf.extend_from_slice(tag.as_ref());
        Ok(())
    }
}
