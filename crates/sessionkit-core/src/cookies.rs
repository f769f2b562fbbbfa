//! The session cookie: finding the id in `Cookie` headers and writing `Set-Cookie`.

use std::time::{Duration, SystemTime};

use cookie::{Cookie, CookieBuilder};
use time::OffsetDateTime;

use crate::{CookieConfig, CookieSigner, Id, SameSite, SessionConfig};

/// Reads and writes the session cookie as configured: name, attributes, optional signing.
#[derive(Debug, Clone)]
pub(crate) struct SessionCookies {
    config: CookieConfig,
    signer: Option<CookieSigner>,
}

impl SessionCookies {
    pub(crate) fn new(config: &SessionConfig) -> Self {
        let signer = match (&config.secret_key, config.use_signer) {
            (Some(key), true) => Some(CookieSigner::new(
                config.signer_format,
                key,
                &config.secret_key_fallbacks,
            )),
            _ => None,
        };
        Self {
            config: config.cookie.clone(),
            signer,
        }
    }

    /// The session id carried by the request's `Cookie` headers, if exactly one value is
    /// sent under the session cookie's name and it is a valid (and, when signing, correctly
    /// signed) id. Anything else means "no session": malformed values, bad signatures, and
    /// several different values (which would let a sibling domain plant a session).
    pub(crate) fn find_id<'a>(&self, headers: impl IntoIterator<Item = &'a [u8]>) -> Option<Id> {
        let name = self.config.name.as_bytes();
        let mut found: Option<&'a [u8]> = None;
        for header in headers {
            // `name=value` pairs separated by `;` (RFC 6265 section 5.4); the bytes are
            // compared as they are, so a header that is not UTF-8 costs nothing extra.
            for pair in header.split(|b| *b == b';') {
                let pair = pair.trim_ascii();
                let Some(eq) = pair.iter().position(|b| *b == b'=') else {
                    continue;
                };
                if pair[..eq].trim_ascii() != name {
                    continue;
                }
                let value = strip_quotes(pair[eq + 1..].trim_ascii());
                match found {
                    None => found = Some(value),
                    Some(previous) if previous == value => {}
                    Some(_) => {
                        tracing::debug!(
                            cookie = %self.config.name,
                            "several different session cookies sent; treating as no session"
                        );
                        return None;
                    }
                }
            }
        }
        let value = found?;
        match &self.signer {
            Some(signer) => signer.verify(value),
            None => Id::parse_bytes(value),
        }
    }

    /// `Set-Cookie` for `id`: a permanent session's cookie expires with the session at
    /// `expires_at`; `None` is a browser-session cookie.
    pub(crate) fn set_cookie(
        &self,
        id: &Id,
        expires_at: Option<SystemTime>,
        now: SystemTime,
    ) -> String {
        let value = match &self.signer {
            Some(signer) => signer.sign(id),
            None => id.to_string(),
        };
        let mut builder = self.builder(value);
        if let Some(expires_at) = expires_at {
            let remaining = expires_at.duration_since(now).unwrap_or(Duration::ZERO);
            let max_age = time::Duration::try_from(remaining).unwrap_or(time::Duration::MAX);
            builder = builder
                .max_age(max_age)
                .expires(OffsetDateTime::from(expires_at));
        }
        builder.build().to_string()
    }

    /// `Set-Cookie` that makes the browser drop the session cookie: same name, path,
    /// domain, Secure, SameSite and Partitioned as the cookie it replaces.
    pub(crate) fn removal_cookie(&self) -> String {
        let mut cookie = self.builder(String::new()).build();
        cookie.make_removal();
        cookie.to_string()
    }

    fn builder(&self, value: String) -> CookieBuilder<'static> {
        let c = &self.config;
        let mut builder = Cookie::build((c.name.clone(), value))
            .path(c.path.clone())
            .http_only(c.http_only)
            .secure(c.secure)
            .same_site(match c.same_site {
                SameSite::Strict => cookie::SameSite::Strict,
                SameSite::Lax => cookie::SameSite::Lax,
                SameSite::None => cookie::SameSite::None,
            })
            .partitioned(c.partitioned);
        if let Some(domain) = &c.domain {
            builder = builder.domain(domain.clone());
        }
        builder
    }
}

/// A cookie value without the optional surrounding double quotes (RFC 6265 `cookie-value`).
fn strip_quotes(value: &[u8]) -> &[u8] {
    match value {
        [b'"', inner @ .., b'"'] => inner,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;

    fn cookies(f: impl FnOnce(&mut SessionConfig)) -> SessionCookies {
        let mut config = SessionConfig::default();
        f(&mut config);
        SessionCookies::new(&config)
    }

    #[test]
    fn finds_the_id_among_other_cookies() {
        let id = Id::random();
        let header = format!("theme=dark; session={id}; lang=en");
        assert_eq!(cookies(|_| ()).find_id([header.as_bytes()]), Some(id));
        let second = format!("session={id}");
        let split = [b"theme=dark".as_slice(), second.as_bytes()];
        assert_eq!(cookies(|_| ()).find_id(split), Some(id));
    }

    #[test]
    fn ambiguous_duplicates_mean_no_session() {
        let (a, b) = (Id::random(), Id::random());
        let header = format!("session={a}; session={b}");
        assert_eq!(cookies(|_| ()).find_id([header.as_bytes()]), None);
        let same = format!("session={a}; session={a}");
        assert_eq!(cookies(|_| ()).find_id([same.as_bytes()]), Some(a));
    }

    #[test]
    fn garbage_means_no_session() {
        let c = cookies(|_| ());
        for header in [
            "session=".to_owned(),
            "session=abc".to_owned(),
            format!("session={}", "A".repeat(10_000)),
            "session=é".repeat(3),
            "session".to_owned(),
            ";;;=;".to_owned(),
        ] {
            assert_eq!(c.find_id([header.as_bytes()]), None, "{header:.40}");
        }
        assert_eq!(c.find_id([&[0xff, 0xfe, b'=', 0x80][..]]), None);
    }

    #[test]
    fn signed_cookies_need_a_valid_signature() {
        let signed = cookies(|c| {
            c.use_signer = true;
            c.secret_key = Some(SecretKey::new("k"));
        });
        let id = Id::random();
        let set = signed.set_cookie(&id, None, SystemTime::now());
        let value = set.split(';').next().unwrap();
        assert_eq!(signed.find_id([value.as_bytes()]), Some(id));
        let unsigned = format!("session={id}");
        assert_eq!(signed.find_id([unsigned.as_bytes()]), None);
    }

    #[test]
    fn default_attributes() {
        let set = cookies(|_| ()).set_cookie(
            &Id::random(),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(2_678_400)),
            SystemTime::UNIX_EPOCH,
        );
        assert!(set.contains("; HttpOnly"), "{set}");
        assert!(set.contains("; SameSite=Lax"), "{set}");
        assert!(set.contains("; Path=/"), "{set}");
        assert!(set.contains("; Max-Age=2678400"), "{set}");
        assert!(
            set.contains("; Expires=Sun, 01 Feb 1970 00:00:00 GMT"),
            "{set}"
        );
        assert!(!set.contains("Secure") && !set.contains("Domain"), "{set}");
        let browser = cookies(|_| ()).set_cookie(&Id::random(), None, SystemTime::now());
        assert!(
            !browser.contains("Expires") && !browser.contains("Max-Age"),
            "{browser}"
        );
    }

    #[test]
    fn removal_keeps_identifying_attributes() {
        let c = cookies(|c| {
            c.cookie.name = "__Secure-sid".into();
            c.cookie.secure = true;
            c.cookie.domain = Some("example.com".into());
            c.cookie.path = "/app".into();
            c.cookie.same_site = SameSite::None;
            c.cookie.partitioned = true;
        });
        let removal = c.removal_cookie();
        for part in [
            "__Secure-sid=;",
            "; Secure",
            "; Domain=example.com",
            "; Path=/app",
            "; SameSite=None",
            "; Partitioned",
            "; Max-Age=0",
        ] {
            assert!(removal.contains(part), "{removal} lacks {part}");
        }
    }
}
