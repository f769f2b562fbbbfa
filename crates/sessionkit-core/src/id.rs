//! Session ids: 256 random bits, written as 43 characters of base64url.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::Error;

/// Raw length of an id in bytes.
const RAW_LEN: usize = 32;

/// A session id: 32 bytes from the operating system's CSPRNG.
///
/// Its text form is base64url without padding, 43 characters, the same shape as Python's
/// `secrets.token_urlsafe(32)` that Flask-Session uses, so ids issued by either side are
/// accepted by the other. Parsing is strict (length, alphabet and canonical trailing bits),
/// so one id has exactly one text form and garbage never reaches a store.
///
/// `Debug` shows only a prefix: an id is a bearer credential and should not end up in logs
/// whole. `Display` writes it in full (for the cookie and the store key).
///
/// ```
/// use sessionkit_core::Id;
///
/// let id = Id::random();
/// let text = id.to_string();
/// assert_eq!(text.len(), 43);
/// assert_eq!(Id::parse(&text), Some(id));
/// assert_eq!(Id::parse("not-an-id"), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id([u8; RAW_LEN]);

impl Id {
    /// The length of the text form.
    pub const ENCODED_LEN: usize = 43;

    /// A new id from the operating system's random number generator.
    ///
    /// # Panics
    /// When the operating system cannot provide randomness at all, which leaves no safe way
    /// to issue a session id (`getrandom` documents this as unrecoverable on supported
    /// platforms).
    pub fn random() -> Self {
        let mut bytes = [0u8; RAW_LEN];
        getrandom::fill(&mut bytes).expect("the operating system's CSPRNG is unavailable");
        Self(bytes)
    }

    /// Parses the text form, returning `None` for anything that is not exactly a canonical
    /// 43-character base64url id. Checks the length before decoding and never allocates.
    pub fn parse(text: &str) -> Option<Self> {
        Self::parse_bytes(text.as_bytes())
    }

    /// Like [`Id::parse`], over raw bytes (a cookie value that may not be UTF-8).
    pub fn parse_bytes(text: &[u8]) -> Option<Self> {
        if text.len() != Self::ENCODED_LEN {
            return None;
        }
        let mut bytes = [0u8; RAW_LEN];
        match URL_SAFE_NO_PAD.decode_slice(text, &mut bytes) {
            Ok(RAW_LEN) => Some(Self(bytes)),
            _ => None,
        }
    }

    /// The store key of this id: `prefix` followed by the text form (`session:` + id, as
    /// Flask-Session), in one allocation.
    ///
    /// ```
    /// let id = sessionkit_core::Id::random();
    /// assert_eq!(id.key("session:"), format!("session:{id}"));
    /// ```
    pub fn key(&self, prefix: &str) -> String {
        let mut key = String::with_capacity(prefix.len() + Self::ENCODED_LEN);
        key.push_str(prefix);
        key.push_str(&self.encode());
        key
    }

    /// The id a store keeps for this one with `SESSION_HASH_IDS`: SHA-256 over a
    /// domain-separation label and the id's bytes (as Rails' `private_id`). Not reversible,
    /// so a store dump yields no usable cookie.
    pub fn hashed(&self) -> Self {
        Self(digest(b"sessionkit id at rest\0", &self.0))
    }

    /// A short text that tells this id's sessions apart in a list without revealing the
    /// id: 8 characters of base64url of a SHA-256 of it. Logs, traces and the
    /// `sessionkit` command-line tool name sessions by it.
    ///
    /// ```
    /// let id = sessionkit_core::Id::random();
    /// assert_eq!(id.hint().len(), 8);
    /// assert!(!id.to_string().contains(&id.hint()));
    /// ```
    pub fn hint(&self) -> String {
        URL_SAFE_NO_PAD.encode(&digest(b"sessionkit id hint\0", &self.0)[..6])
    }

    /// Writes the text form into a fixed buffer, without allocating.
    pub(crate) fn encode(&self) -> EncodedId {
        let mut out = [0u8; Self::ENCODED_LEN];
        let written = URL_SAFE_NO_PAD
            .encode_slice(self.0, &mut out)
            .expect("43 bytes hold 32 bytes of base64");
        debug_assert_eq!(written, Self::ENCODED_LEN);
        EncodedId(out)
    }
}

/// SHA-256 of `label` followed by `bytes`.
fn digest(label: &[u8], bytes: &[u8; RAW_LEN]) -> [u8; RAW_LEN] {
    use sha2::Digest as _;
    sha2::Sha256::new()
        .chain_update(label)
        .chain_update(bytes)
        .finalize()
        .into()
}

/// The text form of an [`Id`] on the stack; derefs to `str`. Like [`Id`], its `Debug` shows
/// only a prefix.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct EncodedId([u8; Id::ENCODED_LEN]);

impl std::ops::Deref for EncodedId {
    type Target = str;

    fn deref(&self) -> &str {
        std::str::from_utf8(&self.0).expect("base64url is ASCII")
    }
}

impl fmt::Debug for EncodedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncodedId({}…)", &self[..6])
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({}…)", &self.encode()[..6])
    }
}

impl FromStr for Id {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| Error::decode("not a 43-character base64url session id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn random_ids_differ_and_round_trip() {
        let ids: HashSet<Id> = (0..1000).map(|_| Id::random()).collect();
        assert_eq!(ids.len(), 1000);
        for id in ids {
            assert_eq!(Id::parse(&id.to_string()), Some(id));
        }
    }

    #[test]
    fn parse_rejects_wrong_length() {
        let good = Id::random().to_string();
        assert!(Id::parse(&good[..42]).is_none());
        assert!(Id::parse(&format!("{good}A")).is_none());
        assert!(Id::parse("").is_none());
        assert!(Id::parse(&"A".repeat(10_000)).is_none());
    }

    #[test]
    fn parse_rejects_foreign_alphabet() {
        let good = Id::random().to_string();
        for bad in ['+', '/', '=', '.', ' ', 'é'] {
            let mut text: String = good.chars().take(42).collect();
            text.insert(0, bad);
            let text: String = text.chars().take(43).collect();
            assert!(Id::parse(&text).is_none(), "accepted {text:?}");
        }
        let padded = format!("{}=", &good[..42]);
        assert!(Id::parse(&padded).is_none());
    }

    #[test]
    fn parse_rejects_non_canonical_trailing_bits() {
        // The last character carries 2 padding bits that must be zero: 'A' (000000) is
        // canonical, 'B' (000001) decodes to the same bytes and must be refused.
        let canonical = format!("{}A", "A".repeat(42));
        let aliased = format!("{}B", "A".repeat(42));
        assert!(Id::parse(&canonical).is_some());
        assert!(Id::parse(&aliased).is_none());
    }

    #[test]
    fn parses_python_token_urlsafe_output() {
        // secrets.token_urlsafe(32) as Flask-Session issues it.
        let python = "0rCXIW4KXJXs6gOcOO6F2zWDNbPLL4Z8ldhuv8VMSJo";
        let id = Id::parse(python).expect("python id accepted");
        assert_eq!(id.to_string(), python);
    }

    #[test]
    fn debug_does_not_reveal_the_whole_id() {
        let id = Id::random();
        let debug = format!("{id:?}");
        assert!(!debug.contains(&id.to_string()));
        assert!(debug.contains(&id.to_string()[..6]));
        let encoded = format!("{:?}", id.encode());
        assert!(!encoded.contains(&id.to_string()[..10]), "{encoded}");
    }
}
