//! Memcached keys: prefix + id, checked against the protocol's rules.

use sessionkit_core::ConfigKey;
use sessionkit_core::{Error, Id};

/// The longest key memcached accepts.
pub(crate) const MAX_KEY_LEN: usize = 250;

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
