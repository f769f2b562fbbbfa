//! Signing the id in the cookie (`SESSION_USE_SIGNER`).

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

use crate::ConfigKey;
use crate::{Error, Id, SecretKey};

type HmacSha256 = Hmac<Sha256>;
type HmacSha1 = Hmac<Sha1>;

/// Domain separation for sessionkit's own format: the signing key is derived from
/// `SECRET_KEY` with this label, so a signature made here is useless for anything else the
/// application signs with that key.
const KEY_LABEL: &[u8] = b"sessionkit.cookie-id.v1";

/// The salt Flask-Session gives itsdangerous.
const FLASK_SESSION_SALT: &[u8] = b"flask-session";

/// How a signed cookie is written (`SESSION_SIGNER_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SignerFormat {
    /// `hmac-sha256` (the default): `<id>.<HMAC-SHA256>`, 43 characters of base64url each,
    /// with a key derived from `SECRET_KEY` for this purpose only.
    #[default]
    HmacSha256,
    /// `itsdangerous`: Flask-Session's legacy `SESSION_USE_SIGNER` format, for sharing
    /// signed cookies with a Flask app: itsdangerous `Signer(secret_key,
    /// salt="flask-session", key_derivation="hmac")`, HMAC-SHA1, `<id>.<27 characters>`.
    Itsdangerous,
}

impl FromStr for SignerFormat {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hmac-sha256" | "sessionkit" => Ok(Self::HmacSha256),
            "itsdangerous" | "flask-session" => Ok(Self::Itsdangerous),
            _ => Err(Error::config(
                ConfigKey::SignerFormat,
                s,
                "expected `hmac-sha256` (default) or `itsdangerous` (Flask-Session's format)",
            )),
        }
    }
}

/// One key, ready to sign.
#[derive(Clone)]
enum Key {
    Sha256(HmacSha256),
    Sha1(HmacSha1),
}

impl Key {
    fn derive(format: SignerFormat, secret: &SecretKey) -> Self {
        match format {
            SignerFormat::HmacSha256 => {
                let mut kdf = HmacSha256::new_from_slice(secret.expose())
                    .expect("HMAC takes keys of any length");
                kdf.update(KEY_LABEL);
                let derived = kdf.finalize().into_bytes();
                Self::Sha256(
                    HmacSha256::new_from_slice(&derived).expect("HMAC takes keys of any length"),
                )
            }
            SignerFormat::Itsdangerous => {
                // itsdangerous' "hmac" key derivation: HMAC(secret_key, salt).
                let mut kdf = HmacSha1::new_from_slice(secret.expose())
                    .expect("HMAC takes keys of any length");
                kdf.update(FLASK_SESSION_SALT);
                let derived = kdf.finalize().into_bytes();
                Self::Sha1(
                    HmacSha1::new_from_slice(&derived).expect("HMAC takes keys of any length"),
                )
            }
        }
    }

    fn sign(&self, value: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256(mac) => {
                let mut mac = mac.clone();
                mac.update(value);
                mac.finalize().into_bytes().to_vec()
            }
            Self::Sha1(mac) => {
                let mut mac = mac.clone();
                mac.update(value);
                mac.finalize().into_bytes().to_vec()
            }
        }
    }

    /// Constant-time check of `signature` over `value`.
    fn verify(&self, value: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Sha256(mac) => {
                let mut mac = mac.clone();
                mac.update(value);
                mac.verify_slice(signature).is_ok()
            }
            Self::Sha1(mac) => {
                let mut mac = mac.clone();
                mac.update(value);
                mac.verify_slice(signature).is_ok()
            }
        }
    }
}

/// Signs and verifies session ids in cookies: `<id>.<signature>`.
///
/// Verification is constant-time and accepts the current key or any fallback key, so keys
/// can be rotated without logging anybody out: put the old key in `SECRET_KEY_FALLBACKS`,
/// the new one in `SECRET_KEY`. New cookies are always signed with the current key. The
/// signature never reaches the store: store keys use the bare id.
///
/// Keys are not checked here: [`SessionConfig::validate`](crate::SessionConfig::validate)
/// requires at least [`SecretKey::MIN_LEN`] bytes for [`SignerFormat::HmacSha256`].
#[derive(Clone)]
pub(crate) struct CookieSigner {
    format: SignerFormat,
    current: Key,
    fallbacks: Vec<Key>,
}

impl CookieSigner {
    /// A signer in `format` with `key`, and older `fallbacks` still accepted.
    pub(crate) fn new(format: SignerFormat, key: &SecretKey, fallbacks: &[SecretKey]) -> Self {
        Self {
            format,
            current: Key::derive(format, key),
            fallbacks: fallbacks.iter().map(|k| Key::derive(format, k)).collect(),
        }
    }

    /// The cookie value for `id`: `<id>.<signature>`.
    pub(crate) fn sign(&self, id: &Id) -> String {
        let encoded = id.encode();
        let signature = URL_SAFE_NO_PAD.encode(self.current.sign(encoded.as_bytes()));
        format!("{}.{signature}", &*encoded)
    }

    /// The id in a signed cookie value, if the value is well-formed and its signature
    /// matches the current key or a fallback. Never allocates for malformed input.
    pub(crate) fn verify(&self, value: &[u8]) -> Option<Id> {
        let signature_len = match self.format {
            SignerFormat::HmacSha256 => 43,
            SignerFormat::Itsdangerous => 27,
        };
        if value.len() != Id::ENCODED_LEN + 1 + signature_len || value[Id::ENCODED_LEN] != b'.' {
            return None;
        }
        let (id_text, signature_text) = (&value[..Id::ENCODED_LEN], &value[Id::ENCODED_LEN + 1..]);
        let id = Id::parse_bytes(id_text)?;
        let mut signature = [0u8; 32];
        let len = URL_SAFE_NO_PAD
            .decode_slice(signature_text, &mut signature)
            .ok()?;
        let mut valid = false;
        for key in std::iter::once(&self.current).chain(&self.fallbacks) {
            // Every key is tried, so timing does not reveal which one matched.
            valid |= key.verify(id_text, &signature[..len]);
        }
        valid.then_some(id)
    }
}

impl fmt::Debug for CookieSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieSigner")
            .field("format", &self.format)
            .field("fallbacks", &self.fallbacks.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef";
    const OLD: &str = "fedcba9876543210fedcba9876543210";
    const NEW: &str = "0011223344556677889900112233445566";

    fn signer(format: SignerFormat) -> CookieSigner {
        CookieSigner::new(format, &SecretKey::new(KEY), &[])
    }

    #[test]
    fn signed_values_have_the_documented_shape() {
        let id = Id::random();
        let ours = signer(SignerFormat::HmacSha256).sign(&id);
        assert_eq!(ours.len(), 87);
        let flask = signer(SignerFormat::Itsdangerous).sign(&id);
        assert_eq!(flask.len(), 71);
        for (format, value) in [
            (SignerFormat::HmacSha256, &ours),
            (SignerFormat::Itsdangerous, &flask),
        ] {
            assert!(value.starts_with(&format!("{id}.")));
            assert_eq!(signer(format).verify(value.as_bytes()), Some(id));
        }
    }

    #[test]
    fn itsdangerous_signature_matches_python() {
        // Python: itsdangerous.Signer("secret", salt="flask-session",
        //     key_derivation="hmac").sign(b"0rCXIW4KXJXs6gOcOO6F2zWDNbPLL4Z8ldhuv8VMSJo")
        let id = Id::parse("0rCXIW4KXJXs6gOcOO6F2zWDNbPLL4Z8ldhuv8VMSJo").unwrap();
        let signer = CookieSigner::new(SignerFormat::Itsdangerous, &SecretKey::new("secret"), &[]);
        assert_eq!(signer.sign(&id), ITSDANGEROUS_REFERENCE);
    }

    const ITSDANGEROUS_REFERENCE: &str =
        "0rCXIW4KXJXs6gOcOO6F2zWDNbPLL4Z8ldhuv8VMSJo.odb2KB82mk_ky5cy5G0nsfrXejo";

    #[test]
    fn formats_do_not_accept_each_other() {
        let id = Id::random();
        let ours = signer(SignerFormat::HmacSha256).sign(&id);
        let flask = signer(SignerFormat::Itsdangerous).sign(&id);
        assert_eq!(
            signer(SignerFormat::Itsdangerous).verify(ours.as_bytes()),
            None
        );
        assert_eq!(
            signer(SignerFormat::HmacSha256).verify(flask.as_bytes()),
            None
        );
    }

    #[test]
    fn tampering_anywhere_is_rejected() {
        for format in [SignerFormat::HmacSha256, SignerFormat::Itsdangerous] {
            let value = signer(format).sign(&Id::random()).into_bytes();
            for i in 0..value.len() {
                let mut tampered = value.clone();
                tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
                assert_eq!(
                    signer(format).verify(&tampered),
                    None,
                    "{format:?} byte {i}"
                );
            }
            assert_eq!(signer(format).verify(&value[..value.len() - 1]), None);
            assert_eq!(signer(format).verify(&value[..43]), None, "unsigned id");
        }
    }

    #[test]
    fn wrong_key_is_rejected_and_fallbacks_accepted() {
        let id = Id::random();
        let format = SignerFormat::HmacSha256;
        let value = CookieSigner::new(format, &SecretKey::new(OLD), &[]).sign(&id);
        assert_eq!(signer(format).verify(value.as_bytes()), None);
        let rotated = CookieSigner::new(format, &SecretKey::new(NEW), &[SecretKey::new(OLD)]);
        assert_eq!(rotated.verify(value.as_bytes()), Some(id));
        assert!(rotated.sign(&id) != value, "new cookies use the new key");
    }
}
