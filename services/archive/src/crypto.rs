//! Private data at rest. ID numbers, phones and other personal details are
//! sealed with XChaCha20-Poly1305 before they reach the database; exact
//! lookup goes through a keyed blind index (HMAC-SHA256), so the database never
//! holds a value that can be read or brute-forced without the key.
//!
//! Both sub-keys are derived from one 32-byte master key. The context string
//! of each column is bound into the ciphertext as associated data, so a value
//! copied from one column to another no longer opens.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// First byte of every sealed value: the format (and key) version.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the encryption key must be 32 bytes in base64 (e.g. from `openssl rand -base64 32`)")]
    BadKey,
    #[error("cannot read or create the key file {path}: {source}")]
    KeyFile { path: String, source: std::io::Error },
    #[error("key file {0} is readable by other users; run chmod 600 on it")]
    KeyFilePermissions(String),
    #[error("a stored value of {0} does not open with this key (wrong key or tampered data)")]
    Open(String),
}

#[derive(Clone)]
pub struct Crypto {
    aead: XChaCha20Poly1305,
    index_key: [u8; 32],
}

impl std::fmt::Debug for Crypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Crypto(..)")
    }
}

fn derive(master: &[u8; 32], label: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master).expect("any key length");
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

impl Crypto {
    pub fn new(master: &[u8; 32]) -> Self {
        let enc = derive(master, "dangan/v1/seal");
        Self { aead: XChaCha20Poly1305::new((&enc).into()), index_key: derive(master, "dangan/v1/blind-index") }
    }

    pub fn from_base64(key: &str) -> Result<Self, CryptoError> {
        let bytes = B64.decode(key.trim()).map_err(|_| CryptoError::BadKey)?;
        let master: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(Self::new(&master))
    }

    /// Reads the key file, creating it with a fresh random key (mode 0600) if
    /// it does not exist. Refuses a key file others can read.
    pub fn from_key_file(path: &Path) -> Result<Self, CryptoError> {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let err = |source| CryptoError::KeyFile { path: path.display().to_string(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let mode = std::fs::metadata(path).map_err(err)?.permissions().mode();
                if mode & 0o077 != 0 {
                    return Err(CryptoError::KeyFilePermissions(path.display().to_string()));
                }
                Self::from_base64(&text)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut master = [0u8; 32];
                rand::rng().fill_bytes(&mut master);
                let mut f =
                    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(err)?;
                writeln!(f, "{}", B64.encode(master)).map_err(err)?;
                f.sync_all().map_err(err)?;
                Ok(Self::new(&master))
            }
            Err(e) => Err(err(e)),
        }
    }

    /// `VERSION || nonce || ciphertext+tag`, bound to `context`.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .aead
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: context.as_bytes() })
            .expect("encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != VERSION {
            return Err(CryptoError::Open(context.into()));
        }
        let (nonce, ct) = sealed[1..].split_at(NONCE_LEN);
        self.aead
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: context.as_bytes() })
            .map_err(|_| CryptoError::Open(context.into()))
    }

    pub fn seal_str(&self, context: &str, s: &str) -> Vec<u8> {
        self.seal(context, s.as_bytes())
    }

    pub fn open_str(&self, context: &str, sealed: &[u8]) -> Result<String, CryptoError> {
        String::from_utf8(self.open(context, sealed)?).map_err(|_| CryptoError::Open(context.into()))
    }

    /// Keyed, deterministic digest of a normalised value for exact lookup
    /// (16 bytes: collisions are irrelevant at archive scale).
    pub fn blind_index(&self, context: &str, value: &str) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key).expect("any key length");
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        mac.finalize().into_bytes()[..16].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_context_binding() {
        let c = Crypto::new(&[7; 32]);
        let s = c.seal_str("customer.phone", "13812345678");
        assert_eq!(c.open_str("customer.phone", &s).unwrap(), "13812345678");
        assert!(c.open_str("customer.id_number", &s).is_err());
        assert_ne!(s, c.seal_str("customer.phone", "13812345678"), "nonces must differ");
        let mut bad = s.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(c.open_str("customer.phone", &bad).is_err());
        assert!(Crypto::new(&[8; 32]).open_str("customer.phone", &s).is_err());
    }

    #[test]
    fn blind_index_is_keyed_and_deterministic() {
        let a = Crypto::new(&[1; 32]);
        let b = Crypto::new(&[2; 32]);
        assert_eq!(a.blind_index("p", "1"), a.blind_index("p", "1"));
        assert_ne!(a.blind_index("p", "1"), b.blind_index("p", "1"));
        assert_ne!(a.blind_index("p", "1"), a.blind_index("q", "1"));
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let c1 = Crypto::from_key_file(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let c2 = Crypto::from_key_file(&path).unwrap();
        assert_eq!(c2.open_str("x", &c1.seal_str("x", "v")).unwrap(), "v");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(Crypto::from_key_file(&path), Err(CryptoError::KeyFilePermissions(_))));
    }
}
