//! [`redact_url`]: the one place that hides passwords in connection strings.

/// Query parameters whose values are passwords (compared without regard to case).
const PASSWORD_PARAMETERS: [&str; 3] = ["password", "pass", "passwd"];

/// What a hidden value is replaced with.
const MASK: &str = "***";

/// `url` with every password replaced by `***`, safe for error messages, logs and `Debug`.
///
/// Hides the password of the userinfo (`scheme://user:password@host`, also without a
/// scheme: `user:password@host:port`) and the values of `password=`, `pass=` and `passwd=`
/// query parameters, keeping the parameter names. A user name without a password is kept.
/// When a password holds characters that should have been percent-encoded (`/`, `?`, `@`),
/// the userinfo is taken to end at the last `@`, so more is hidden rather than less.
///
/// Every sessionkit crate passes URLs and server strings through this function before
/// they reach an [`Error`](crate::Error), a log line or a `Debug` implementation.
///
/// ```
/// use sessionkit_core::redact_url;
///
/// assert_eq!(redact_url("redis://app:s3cret@cache:6379/0"), "redis://app:***@cache:6379/0");
/// assert_eq!(
///     redact_url("postgres://db/app?user=web&password=s3cret&sslmode=require"),
///     "postgres://db/app?user=web&password=***&sslmode=require"
/// );
/// assert_eq!(redact_url("redis://cache:6379"), "redis://cache:6379");
/// ```
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let mut out = String::with_capacity(url.len());
    if let Some(scheme) = scheme {
        out.push_str(scheme);
        out.push_str("://");
    }
    let after_userinfo = match rest.rfind('@') {
        Some(at) if rest[..at].contains(':') => {
            let user = rest[..at].split(':').next().unwrap_or_default();
            out.push_str(user);
            out.push(':');
            out.push_str(MASK);
            &rest[at..]
        }
        _ => rest,
    };
    match after_userinfo.split_once('?') {
        Some((before, query)) => {
            out.push_str(before);
            out.push('?');
            redact_query(query, &mut out);
        }
        None => out.push_str(after_userinfo),
    }
    out
}

/// Appends `query` (and any `#fragment`) to `out` with password values masked.
fn redact_query(query: &str, out: &mut String) {
    let (query, fragment) = match query.split_once('#') {
        Some((query, fragment)) => (query, Some(fragment)),
        None => (query, None),
    };
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((name, _value))
                if PASSWORD_PARAMETERS
                    .iter()
                    .any(|p| name.trim().eq_ignore_ascii_case(p)) =>
            {
                out.push_str(name);
                out.push('=');
                out.push_str(MASK);
            }
            _ => out.push_str(pair),
        }
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_passwords_are_hidden() {
        for (url, redacted) in [
            (
                "redis://app:s3cret@cache:6379/0",
                "redis://app:***@cache:6379/0",
            ),
            ("redis://:s3cret@cache", "redis://:***@cache"),
            (
                "redis+sentinel://:s3cret@h1:26379,h2:26379/mymaster",
                "redis+sentinel://:***@h1:26379,h2:26379/mymaster",
            ),
            ("mysql://root:s3cret@db/app", "mysql://root:***@db/app"),
            ("user:s3cret@mc:11211", "user:***@mc:11211"),
        ] {
            assert_eq!(redact_url(url), redacted);
        }
    }

    #[test]
    fn passwords_with_unencoded_delimiters_are_hidden_whole() {
        for url in [
            "redis://u:s3c/ret@cache",
            "redis://u:s3c@ret@cache",
            "redis://u:s3c?ret@cache",
            "postgres://u:s3c#ret@db/x",
        ] {
            let redacted = redact_url(url);
            assert!(
                !redacted.contains("s3c") && !redacted.contains("ret@"),
                "{url} -> {redacted}"
            );
        }
    }

    #[test]
    fn password_parameters_are_hidden_by_name() {
        assert_eq!(
            redact_url("redis+unix:///run/redis.sock?db=1&pass=s3cret"),
            "redis+unix:///run/redis.sock?db=1&pass=***"
        );
        assert_eq!(
            redact_url("postgres://db/x?PASSWORD=s3cret&passwd=other#frag"),
            "postgres://db/x?PASSWORD=***&passwd=***#frag"
        );
        assert_eq!(
            redact_url("mysql://u:a@db/x?password=b"),
            "mysql://u:***@db/x?password=***"
        );
    }

    #[test]
    fn urls_without_passwords_are_unchanged() {
        for url in [
            "redis://cache:6379",
            "postgres://u@db/x",
            "sqlite:///var/lib/app/sessions.db",
            "127.0.0.1:11211",
            "postgres://db/x?sslmode=require&passport=kept",
            "",
        ] {
            assert_eq!(redact_url(url), url);
        }
    }
}
