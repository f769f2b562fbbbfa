//! Parsing configuration text; every error names the key and the value.

use std::num::NonZeroUsize;
use std::time::Duration;

use sessionkit_core::{ConfigKey, Error};

/// `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, case-insensitive.
pub(crate) fn boolean(key: ConfigKey, value: &str) -> Result<bool, Error> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Error::config(
            key,
            value,
            "expected a boolean: true/false, 1/0, yes/no or on/off",
        )),
    }
}

/// The most seconds a whole-seconds key accepts: 100 years. Far beyond any sensible setting,
/// and far enough from every limit that adding it to the current time cannot overflow
/// (`SystemTime`, tokio's `Instant`, a year-9999 SQL `DATETIME`). Keys with a tighter bound
/// (the lifetime: [`MAX_LIFETIME`](sessionkit_core::MAX_LIFETIME)) are checked when the
/// configuration is built.
pub(crate) const MAX_WHOLE_SECONDS: u64 = 100 * 365 * 24 * 60 * 60;

/// A whole, positive number of seconds, at most [`MAX_WHOLE_SECONDS`].
pub(crate) fn whole_seconds(key: ConfigKey, value: &str) -> Result<Duration, Error> {
    match whole_seconds_or_off(key, value)? {
        Some(duration) => Ok(duration),
        None => Err(Error::config(key, value, "must be at least 1 second")),
    }
}

/// A whole number of seconds, at most [`MAX_WHOLE_SECONDS`]; `0` is `None` (off).
pub(crate) fn whole_seconds_or_off(key: ConfigKey, value: &str) -> Result<Option<Duration>, Error> {
    match value.trim().parse::<u64>() {
        Ok(0) => Ok(None),
        Ok(secs) if secs <= MAX_WHOLE_SECONDS => Ok(Some(Duration::from_secs(secs))),
        Ok(_) => Err(Error::config(
            key,
            value,
            format!("must be at most {MAX_WHOLE_SECONDS} seconds (100 years)"),
        )),
        Err(_) => Err(Error::config(
            key,
            value,
            "expected a whole number of seconds, such as 2678400",
        )),
    }
}

/// A whole, positive count (of sessions, say).
pub(crate) fn count(key: ConfigKey, value: &str) -> Result<NonZeroUsize, Error> {
    match value.trim().parse::<usize>() {
        Ok(n) => {
            NonZeroUsize::new(n).ok_or_else(|| Error::config(key, value, "must be at least 1"))
        }
        Err(_) => Err(Error::config(
            key,
            value,
            "expected a whole number, such as 100000",
        )),
    }
}

/// A positive number of seconds, decimals allowed (`0.25`), at most a day.
pub(crate) fn seconds(key: ConfigKey, value: &str) -> Result<Duration, Error> {
    let bad = || {
        Error::config(
            key,
            value,
            "expected a positive number of seconds up to 86400, such as 1 or 0.25",
        )
    };
    let secs: f64 = value.trim().parse().map_err(|_| bad())?;
    if !(secs > 0.0 && secs <= 86_400.0) {
        return Err(bad());
    }
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

/// Like [`seconds`], and `0` too.
pub(crate) fn seconds_or_zero(key: ConfigKey, value: &str) -> Result<Duration, Error> {
    if value.trim().parse::<f64>() == Ok(0.0) {
        return Ok(Duration::ZERO);
    }
    seconds(key, value)
}

/// A comma-separated list with blanks dropped.
pub(crate) fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `SECRET_KEY_FALLBACKS`: a JSON array of strings (`["old1","old,2"]`, Flask's
/// `from_prefixed_env` convention), or one plain key without a comma. Errors never quote
/// the value: it holds keys.
pub(crate) fn key_list(key: ConfigKey, value: &str) -> Result<Vec<String>, Error> {
    if value.trim_start().starts_with('[') {
        // serde_json's message may quote part of the value: only its position is kept.
        return serde_json::from_str::<Vec<String>>(value).map_err(|e| {
            Error::config(
                key,
                "",
                format!(
                    "not a JSON array of strings (line {}, column {}); write the keys as \
                     [\"old1\",\"old2\"]",
                    e.line(),
                    e.column()
                ),
            )
        });
    }
    if value.contains(',') {
        return Err(Error::config(
            key,
            "",
            "the value contains a comma: give several keys (or a key with a comma) as a JSON \
             array of strings, such as [\"old1\",\"old2\"]",
        ));
    }
    Ok(vec![value.to_owned()])
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: ConfigKey = ConfigKey::StoreTimeout;

    #[test]
    fn booleans() {
        for yes in ["true", "TRUE", "1", "yes", "On"] {
            assert!(boolean(K, yes).unwrap());
        }
        for no in ["false", "0", "no", "OFF"] {
            assert!(!boolean(K, no).unwrap());
        }
        assert!(boolean(K, "maybe").is_err());
    }

    #[test]
    fn counts() {
        assert_eq!(count(K, " 42 ").unwrap().get(), 42);
        for bad in ["0", "-1", "1.5", "1e5", "many", "99999999999999999999999"] {
            assert!(count(K, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn whole_seconds_are_bounded_and_never_overflow() {
        assert_eq!(whole_seconds(K, " 60 ").unwrap(), Duration::from_secs(60));
        let most = MAX_WHOLE_SECONDS.to_string();
        assert_eq!(
            whole_seconds(K, &most).unwrap(),
            Duration::from_secs(MAX_WHOLE_SECONDS)
        );
        let now = std::time::SystemTime::now();
        assert!(now.checked_add(whole_seconds(K, &most).unwrap()).is_some());
        for bad in [
            "0",
            "-1",
            "1.5",
            "3153600001",
            "18446744073709551615",
            "18446744073709551616",
        ] {
            let err = whole_seconds(K, bad).unwrap_err();
            assert!(err.is_config(), "{bad}");
        }
        assert_eq!(whole_seconds_or_off(K, "0").unwrap(), None);
        assert_eq!(
            whole_seconds_or_off(K, "300").unwrap(),
            Some(Duration::from_secs(300))
        );
        assert!(whole_seconds_or_off(K, "18446744073709551615").is_err());
    }

    #[test]
    fn decimal_seconds() {
        assert_eq!(seconds(K, "0.25").unwrap(), Duration::from_millis(250));
        for bad in ["0", "-1", "NaN", "inf", "1e9", "soon"] {
            assert!(seconds(K, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_lists() {
        let k = |v| key_list(K, v);
        assert_eq!(k(r#"["old1", "old,2"]"#).unwrap(), ["old1", "old,2"]);
        assert_eq!(k(" []").unwrap(), Vec::<String>::new());
        assert_eq!(k("one key; no comma").unwrap(), ["one key; no comma"]);
        for bad in [
            "s3cr3t,s3cr3t2",
            r#"["s3cr3t", 2]"#,
            r#"["s3cr3t"#,
            "[s3cr3t]",
        ] {
            let err = k(bad).expect_err(bad);
            let Error::Config { value, .. } = &err else {
                panic!("{err:?}");
            };
            assert!(
                value.is_empty() && !err.to_string().contains("s3cr3t"),
                "{err}"
            );
        }
    }
}
