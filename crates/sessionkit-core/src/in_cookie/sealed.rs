//! sessionkit's own cookie format (`SESSION_COOKIE_FORMAT=sealed`): the session's
//! MessagePack, encrypted and authenticated with XChaCha20-Poly1305, so the browser can
//! neither read nor change it.
//!
//! `base64url(version 1 ‖ 24-byte random nonce ‖ ciphertext ‖ 16-byte tag)`, where the
//! plaintext is the issue time (seconds since 1970, 8 bytes big-endian) followed by the
//! payload, and the cookie's name is the associated data (a value cannot move to another
//! cookie). The key is derived from `SECRET_KEY` with HKDF-SHA256 under a label of its
//! own, so it is useless for anything else the key signs; fallback keys open cookies
//! sealed before a rotation. Random 192-bit nonces never repeat in practice, however many
//! cookies one key seals.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;

use crate::SecretKey;

/// The first byte of every sealed value: the format's version.
const VERSION: u8 = 1;
/// The HKDF label of the encryption key.
const KEY_LABEL: &[u8] = b"sessionkit.cookie-store.v1";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const TIME_LEN: usize = 8;

/// Seals and opens session payloads with the current key and the fallbacks.
#[derive(Clone)]
pub(crate) struct Sealer {
    current: XChaCha20Poly1305,
    fallbacks: Vec<XChaCha20Poly1305>,
}

impl Sealer {
    pub(crate) fn new(key: &SecretKey, fallbacks: &[SecretKey]) -> Self {
        Self {
            current: cipher(key),
            fallbacks: fallbacks.iter().map(cipher).collect(),
        }
    }

    /// The cookie value carrying `payload`, issued at `now`, for the cookie `name`.
    pub(crate) fn seal(&self, name: &str, payload: &[u8], now: SystemTime) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the operating system's CSPRNG is unavailable");
        let mut plaintext = Vec::with_capacity(TIME_LEN + payload.len());
        plaintext.extend_from_slice(&secs(now).to_be_bytes());
        plaintext.extend_from_slice(payload);
        let sealed = self
            .current
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plaintext,
                    aad: name.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 seals any length a cookie can have");
        let mut raw = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        raw.push(VERSION);
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// The payload of a value this sealer (or one with a fallback key) sealed for the
    /// cookie `name`, and when it was issued; `None` for anything else.
    pub(crate) fn open(&self, name: &str, value: &[u8]) -> Option<(Vec<u8>, SystemTime)> {
        let raw = URL_SAFE_NO_PAD.decode(value).ok()?;
        let (&version, rest) = raw.split_first()?;
        if version != VERSION || rest.len() < NONCE_LEN + TAG_LEN + TIME_LEN {
            return None;
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let plaintext = std::iter::once(&self.current)
            .chain(&self.fallbacks)
            .find_map(|key| {
                let payload = Payload {
                    msg: sealed,
                    aad: name.as_bytes(),
                };
                key.decrypt(XNonce::from_slice(nonce), payload).ok()
            })?;
        let (time, payload) = plaintext.split_at(TIME_LEN);
        let issued = u64::from_be_bytes(time.try_into().expect("8 bytes"));
        Some((payload.to_vec(), UNIX_EPOCH + Duration::from_secs(issued)))
    }
}

fn cipher(key: &SecretKey) -> XChaCha20Poly1305 {
    let mut derived = [0u8; 32];
    Hkdf::<Sha256>::new(None, key.expose())
        .expand(KEY_LABEL, &mut derived)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    XChaCha20Poly1305::new((&derived).into())
}

/// Whole seconds since 1970 (0 before it).
pub(crate) fn secs(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef";
    const OLD: &str = "an older key, also 32 bytes long";

    fn sealer(key: &str, fallbacks: &[&str]) -> Sealer {
        let fallbacks: Vec<SecretKey> = fallbacks.iter().map(|k| SecretKey::new(*k)).collect();
        Sealer::new(&SecretKey::new(key), &fallbacks)
    }

    #[test]
    fn a_sealed_payload_opens_with_its_issue_time_and_reveals_nothing() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let value = sealer(KEY, &[]).seal("session", b"secret user 42", now);
        assert!(!value.contains("secret"));
        let raw = URL_SAFE_NO_PAD.decode(&value).unwrap();
        assert!(!raw.windows(6).any(|w| w == b"secret"));
        let (payload, issued) = sealer(KEY, &[]).open("session", value.as_bytes()).unwrap();
        assert_eq!(payload, b"secret user 42");
        assert_eq!(issued, now);
        // Two seals of the same payload differ (random nonces).
        assert_ne!(
            value,
            sealer(KEY, &[]).seal("session", b"secret user 42", now)
        );
    }

    #[test]
    fn any_change_another_key_or_another_cookie_name_opens_nothing() {
        let value = sealer(KEY, &[]).seal("session", b"data", SystemTime::now());
        assert!(sealer(OLD, &[]).open("session", value.as_bytes()).is_none());
        assert!(sealer(KEY, &[]).open("other", value.as_bytes()).is_none());
        let mut raw = URL_SAFE_NO_PAD.decode(&value).unwrap();
        for i in 0..raw.len() {
            raw[i] ^= 1;
            let tampered = URL_SAFE_NO_PAD.encode(&raw);
            assert!(
                sealer(KEY, &[])
                    .open("session", tampered.as_bytes())
                    .is_none(),
                "byte {i}"
            );
            raw[i] ^= 1;
        }
        for junk in ["", "AA", "not base64!", &"A".repeat(100)] {
            assert!(sealer(KEY, &[]).open("session", junk.as_bytes()).is_none());
        }
    }

    #[test]
    fn fallback_keys_open_cookies_sealed_before_a_rotation() {
        let before = sealer(OLD, &[]).seal("session", b"data", SystemTime::now());
        let rotated = sealer(KEY, &[OLD]);
        assert_eq!(
            rotated.open("session", before.as_bytes()).unwrap().0,
            b"data"
        );
        // New cookies use the new key only.
        let after = rotated.seal("session", b"data", SystemTime::now());
        assert!(sealer(OLD, &[]).open("session", after.as_bytes()).is_none());
    }
}
