//! Memcached keys: prefix + id, checked against the protocol's rules.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sessionkit_core::ConfigKey;
use sessionkit_core::{Error, Id};
use sha2::{Digest as _, Sha256};

/// The longest key memcached accepts.
pub(crate) const MAX_KEY_LEN: usize = 250;

/// What follows the prefix in the key of a user's index record. The `:` can never appear
/// in a session id, so an index key is never a session key.
const USER_KEY_MARK: &str = "user:";

/// The memcached key of `user`'s index record: prefix + `user:` + base64url of the SHA-256
/// of the name (user names are arbitrary text; a key may not hold spaces or control
/// characters). The 43-character digest is cut to fit the 250-byte limit when the prefix is
/// longer than 202 bytes: it keeps at least 38 characters (228 bits), since
/// [`validate_prefix`] allows at most 207.
pub(crate) fn user_key(prefix: &str, user: &str) -> String {
    let digest = URL_SAFE_NO_PAD.encode(Sha256::digest(user.as_bytes()));
    let room = MAX_KEY_LEN.saturating_sub(prefix.len() + USER_KEY_MARK.len());
    let digest = &digest[..digest.len().min(room)];
    let mut key = String::with_capacity(prefix.len() + USER_KEY_MARK.len() + digest.len());
    key.push_str(prefix);
    key.push_str(USER_KEY_MARK);
    key.push_str(digest);
    key
}

/// Checks that `prefix` + any id is a valid memcached key: at most 250 bytes, no spaces or
/// control characters.
pub(crate) fn validate_prefix(prefix: &str) -> Result<(), Error> {
    if prefix.len() + Id::ENCODED_LEN > MAX_KEY_LEN {
        return Err(Error::config(
            ConfigKey::KeyPrefix,
            prefix,
            format!(
                "memcached keys are at most {MAX_KEY_LEN} bytes; with the 43-byte id the prefix \
                 may have at most {} bytes",
                MAX_KEY_LEN - Id::ENCODED_LEN
            ),
        ));
    }
    if prefix.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(Error::config(
            ConfigKey::KeyPrefix,
            prefix,
            "memcached keys cannot contain spaces or control characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flask_prefix_is_valid() {
        validate_prefix("session:").unwrap();
        validate_prefix("").unwrap();
        validate_prefix(&"p".repeat(MAX_KEY_LEN - Id::ENCODED_LEN)).unwrap();
    }

    #[test]
    fn user_keys_are_valid_for_any_name_and_prefix() {
        let longest = "p".repeat(MAX_KEY_LEN - Id::ENCODED_LEN);
        for prefix in ["", "session:", longest.as_str()] {
            for user in ["", "ada", "a b\n\t\0", "ü🙂", &"x".repeat(10_000)] {
                let key = user_key(prefix, user);
                assert!(key.len() <= MAX_KEY_LEN, "{} bytes", key.len());
                assert!(key.starts_with(prefix) && key[prefix.len()..].starts_with("user:"));
                assert!(!key.bytes().any(|b| b <= b' ' || b == 0x7f), "{key:?}");
                assert!(key.len() - prefix.len() >= 5 + 38);
            }
        }
        assert_eq!(user_key("s:", "ada").len(), 2 + 5 + 43);
    }

    #[test]
    fn user_keys_tell_names_apart_and_never_look_like_session_keys() {
        assert_eq!(user_key("s:", "ada"), user_key("s:", "ada"));
        assert_ne!(user_key("s:", "ada"), user_key("s:", "Ada"));
        assert_ne!(user_key("s:", "ada"), user_key("s:", "ada "));
        let key = user_key("s:", "ada");
        assert!(Id::parse(&key["s:".len()..]).is_none());
        assert_ne!(key.len(), "s:".len() + Id::ENCODED_LEN);
    }

    #[test]
    fn long_or_spaced_prefixes_are_refused() {
        for bad in [
            "p".repeat(MAX_KEY_LEN - Id::ENCODED_LEN + 1),
            "my session:".to_owned(),
            "tab\there".to_owned(),
            "nl\n".to_owned(),
        ] {
            let err = validate_prefix(&bad).unwrap_err();
            assert!(err.to_string().contains("SESSION_KEY_PREFIX"), "{err}");
        }
    }
}
