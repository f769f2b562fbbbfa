//! Signing the id in the cookie (`SESSION_USE_SIGNER`).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{Id, SecretKey};

type HmacSha256 = Hmac<Sha256>;

/// Domain separation: the signing key is derived from `SECRET_KEY` with this label, so a
/// signature made here is useless for anything else the application signs with that key.
const KEY_LABEL: &[u8] = b"sessionkit.cookie-id.v1";

/// Length of the base64url HMAC-SHA256 signature.
const SIGNATURE_LEN: usize = 43;

/// Signs and verifies session ids with HMAC-SHA256: the cookie value is `<id>.<signature>`.
///
/// Verification is constant-time and accepts the current key or any fallback key, so keys
/// can be rotated without logging anybody out: put the old key in `SECRET_KEY_FALLBACKS`,
/// the new one in `SECRET_KEY`. New cookies are always signed with the current key. The
/// signature never reaches the store: store keys use the bare id.
///
/// ```
/// use sessionkit_core::{Id, SecretKey, CookieSigner};
///
/// let old = CookieSigner::new(&SecretKey::new("old"), &[]);
/// let rotated = CookieSigner::new(&SecretKey::new("new"), &[SecretKey::new("old")]);
/// let id = Id::random();
/// let cookie = old.sign(&id);
/// assert_eq!(rotated.verify(cookie.as_bytes()), Some(id));
/// assert_eq!(CookieSigner::new(&SecretKey::new("other"), &[]).verify(cookie.as_bytes()), None);
/// ```
#[derive(Clone)]
pub struct CookieSigner {
    current: HmacSha256,
    fallbacks: Vec<HmacSha256>,
}

impl CookieSigner {
    /// A signer with `key` and older `fallbacks` still accepted.
    pub fn new(key: &SecretKey, fallbacks: &[SecretKey]) -> Self {
        Self {
            current: derive(key),
            fallbacks: fallbacks.iter().map(derive).collect(),
        }
    }

    /// The cookie value for `id`: `<id>.<signature>`.
    pub fn sign(&self, id: &Id) -> String {
        let encoded = id.encode();
        let mut mac = self.current.clone();
        mac.update(encoded.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{}.{signature}", &*encoded)
    }

    /// The id in a signed cookie value, if the value is well-formed and its signature
    /// matches the current key or a fallback. Never allocates for malformed input.
    pub fn verify(&self, value: &[u8]) -> Option<Id> {
        if value.len() != Id::ENCODED_LEN + 1 + SIGNATURE_LEN || value[Id::ENCODED_LEN] != b'.' {
            return None;
        }
        let (id_text, signature_text) = (&value[..Id::ENCODED_LEN], &value[Id::ENCODED_LEN + 1..]);
        let id = Id::parse_bytes(id_text)?;
        let mut signature = [0u8; 32];
        match URL_SAFE_NO_PAD.decode_slice(signature_text, &mut signature) {
            Ok(32) => {}
            _ => return None,
        }
        let mut valid = false;
        for key in std::iter::once(&self.current).chain(&self.fallbacks) {
            let mut mac = key.clone();
            mac.update(id_text);
            // Every key is tried, so timing does not reveal which one matched.
            valid |= mac.verify_slice(&signature).is_ok();
        }
        valid.then_some(id)
    }
}

fn derive(key: &SecretKey) -> HmacSha256 {
    let mut kdf = HmacSha256::new_from_slice(key.expose()).expect("HMAC takes keys of any length");
    kdf.update(KEY_LABEL);
    let derived = kdf.finalize().into_bytes();
    HmacSha256::new_from_slice(&derived).expect("HMAC takes keys of any length")
}

impl fmt::Debug for CookieSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieSigner")
            .field("fallbacks", &self.fallbacks.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> CookieSigner {
        CookieSigner::new(&SecretKey::new("k"), &[])
    }

    #[test]
    fn signed_value_has_the_documented_shape() {
        let id = Id::random();
        let value = signer().sign(&id);
        assert_eq!(value.len(), 87);
        assert!(value.starts_with(&format!("{id}.")));
        assert_eq!(signer().verify(value.as_bytes()), Some(id));
    }

    #[test]
    fn tampering_anywhere_is_rejected() {
        let value = signer().sign(&Id::random()).into_bytes();
        for i in 0..value.len() {
            let mut tampered = value.clone();
            tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
            assert_eq!(signer().verify(&tampered), None, "byte {i}");
        }
        assert_eq!(signer().verify(&value[..86]), None);
        assert_eq!(signer().verify(&value[..43]), None, "unsigned id");
    }

    #[test]
    fn wrong_key_is_rejected_and_fallbacks_accepted() {
        let id = Id::random();
        let value = CookieSigner::new(&SecretKey::new("old"), &[]).sign(&id);
        assert_eq!(signer().verify(value.as_bytes()), None);
        let rotated = CookieSigner::new(&SecretKey::new("new"), &[SecretKey::new("old")]);
        assert_eq!(rotated.verify(value.as_bytes()), Some(id));
        assert!(rotated.sign(&id) != value, "new cookies use the new key");
    }
}
