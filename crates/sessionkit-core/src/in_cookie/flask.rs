//! Flask's default session cookie (`SESSION_COOKIE_FORMAT=flask`): itsdangerous'
//! `URLSafeTimedSerializer(secret_key, salt="cookie-session", signer_kwargs=
//! {"key_derivation": "hmac", "digest_method": sha1})` over Flask's tagged JSON.
//!
//! `[.]base64url(json or zlib(json)).base64url(issue time).base64url(HMAC-SHA1)`: the
//! leading dot marks a compressed payload (written when compression saves more than a
//! byte, as itsdangerous does); the signature covers everything before its dot, with a key
//! derived as `HMAC-SHA1(secret_key, "cookie-session")`. The browser can read the data but
//! not change it.

use std::io::Read as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flate2::Compression;
use flate2::read::{ZlibDecoder, ZlibEncoder};
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::SecretKey;

type HmacSha1 = Hmac<Sha1>;

/// The salt Flask's `SecureCookieSessionInterface` gives itsdangerous.
const SALT: &[u8] = b"cookie-session";

/// Signs and verifies Flask session cookies with the current key and the fallbacks.
#[derive(Clone)]
pub(crate) struct FlaskSigner {
    current: HmacSha1,
    fallbacks: Vec<HmacSha1>,
}

impl FlaskSigner {
    pub(crate) fn new(key: &SecretKey, fallbacks: &[SecretKey]) -> Self {
        Self {
            current: derive(key),
            fallbacks: fallbacks.iter().map(derive).collect(),
        }
    }

    /// The cookie value carrying `json`, issued at `now`.
    pub(crate) fn sign(&self, json: &[u8], now: SystemTime) -> String {
        let mut value = payload(json);
        value.push('.');
        value.push_str(&URL_SAFE_NO_PAD.encode(int_to_bytes(super::sealed::secs(now))));
        let mut mac = self.current.clone();
        mac.update(value.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        value.push('.');
        value.push_str(&signature);
        value
    }

    /// The JSON of a value signed with the current key or a fallback, decompressed (at
    /// most `limit` bytes), and when it was signed; `None` for anything else.
    pub(crate) fn open(&self, value: &[u8], limit: usize) -> Option<(Vec<u8>, SystemTime)> {
        let split = value.iter().rposition(|b| *b == b'.')?;
        let (signed, signature) = (&value[..split], &value[split + 1..]);
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let verified = std::iter::once(&self.current)
            .chain(&self.fallbacks)
            .any(|key| {
                let mut mac = key.clone();
                mac.update(signed);
                mac.verify_slice(&signature).is_ok()
            });
        if !verified {
            return None;
        }
        let split = signed.iter().rposition(|b| *b == b'.')?;
        let (body, time) = (&signed[..split], &signed[split + 1..]);
        let time = URL_SAFE_NO_PAD.decode(time).ok()?;
        if time.is_empty() || time.len() > 8 {
            return None;
        }
        let issued = time.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b));
        let json = match body.strip_prefix(b".") {
            Some(compressed) => {
                let compressed = URL_SAFE_NO_PAD.decode(compressed).ok()?;
                let mut json = Vec::new();
                // One byte over the limit is enough to know it is too large.
                ZlibDecoder::new(&compressed[..])
                    .take(limit as u64 + 1)
                    .read_to_end(&mut json)
                    .ok()?;
                if json.len() > limit {
                    return None;
                }
                json
            }
            None => URL_SAFE_NO_PAD.decode(body).ok()?,
        };
        Some((json, UNIX_EPOCH + Duration::from_secs(issued)))
    }
}

/// itsdangerous' "hmac" key derivation: `HMAC(secret_key, salt)`.
fn derive(key: &SecretKey) -> HmacSha1 {
    let mut kdf = HmacSha1::new_from_slice(key.expose()).expect("HMAC takes keys of any length");
    kdf.update(SALT);
    HmacSha1::new_from_slice(&kdf.finalize().into_bytes()).expect("HMAC takes keys of any length")
}

/// The payload part: zlib-compressed behind a dot when that saves more than a byte.
fn payload(json: &[u8]) -> String {
    let mut compressed = Vec::new();
    ZlibEncoder::new(json, Compression::default())
        .read_to_end(&mut compressed)
        .expect("compressing a slice cannot fail");
    if compressed.len() < json.len().saturating_sub(1) {
        format!(".{}", URL_SAFE_NO_PAD.encode(compressed))
    } else {
        URL_SAFE_NO_PAD.encode(json)
    }
}

/// itsdangerous' `int_to_bytes`: big-endian, without leading zero bytes.
fn int_to_bytes(n: u64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes[first..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(key: &str, fallbacks: &[&str]) -> FlaskSigner {
        let fallbacks: Vec<SecretKey> = fallbacks.iter().map(|k| SecretKey::new(*k)).collect();
        FlaskSigner::new(&SecretKey::new(key), &fallbacks)
    }

    /// Signed by Flask 3.1.3 with itsdangerous 2.2.0 (`app.secret_key = "dev"`, the
    /// session `{"user": "ada"}`, at 1700000000):
    /// `app.session_interface.get_signing_serializer(app).dumps(dict(session))` with the
    /// clock at that time.
    const FLASK: &str = "eyJ1c2VyIjoiYWRhIn0.ZVPxAA.YQZXjVwxAyiJVjjn7LSv8-6inHc";

    #[test]
    fn signs_exactly_as_flask_does() {
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(signer("dev", &[]).sign(br#"{"user":"ada"}"#, at), FLASK);
        let (json, issued) = signer("dev", &[]).open(FLASK.as_bytes(), 1000).unwrap();
        assert_eq!(json, br#"{"user":"ada"}"#);
        assert_eq!(issued, at);
    }

    #[test]
    fn long_payloads_are_compressed_behind_a_dot_and_read_back() {
        let json = format!(r#"{{"k":"{}"}}"#, "x".repeat(500));
        let value = signer("dev", &[]).sign(json.as_bytes(), SystemTime::now());
        assert!(value.starts_with('.') && value.len() < 200, "{value}");
        let (back, _) = signer("dev", &[]).open(value.as_bytes(), 1000).unwrap();
        assert_eq!(back, json.as_bytes());
        assert!(
            signer("dev", &[]).open(value.as_bytes(), 100).is_none(),
            "decompressed past the limit"
        );
    }

    #[test]
    fn a_changed_value_or_another_key_verifies_nothing_and_fallbacks_do() {
        let dev = signer("dev", &[]);
        assert!(signer("prod", &[]).open(FLASK.as_bytes(), 1000).is_none());
        assert!(
            signer("prod", &["dev"])
                .open(FLASK.as_bytes(), 1000)
                .is_some()
        );
        let tampered = FLASK.replacen("eyJ1", "eyJ2", 1);
        assert!(dev.open(tampered.as_bytes(), 1000).is_none());
        for junk in ["", ".", "..", "a.b.c", "eyJ1c2VyIjoiYWRhIn0.ZVPxAA"] {
            assert!(dev.open(junk.as_bytes(), 1000).is_none(), "{junk}");
        }
    }
}
