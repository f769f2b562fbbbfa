//! The session cookie: finding the id in `Cookie` headers and writing `Set-Cookie`.

use std::time::{Duration, SystemTime};

use cookie::{Cookie, CookieBuilder};
use time::OffsetDateTime;

use crate::signer::CookieSigner;
use crate::{CookieConfig, Id, SameSite, SessionConfig};

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

    /// The session id carried by the request's `Cookie` headers: the one valid (and, when
    /// signing, correctly signed) id sent under the session cookie's name.
    pub(crate) fn find_id<'a>(&self, headers: impl IntoIterator<Item = &'a [u8]>) -> Option<Id> {
        self.find(headers, |value| self.verify(value))
    }

    /// What the request's `Cookie` headers carry under the session cookie's name: the one
    /// value `open` accepts.
    ///
    /// Values under that name that `open` refuses are ignored, so a junk duplicate planted
    /// from a sibling subdomain cannot lock the user out. The same session sent twice
    /// counts once. Two or more different valid sessions mean "no session": the browser
    /// cannot say which one is ours, and picking one would let a sibling domain plant a
    /// session of its choosing.
    pub(crate) fn find<'a, T: PartialEq>(
        &self,
        headers: impl IntoIterator<Item = &'a [u8]>,
        open: impl Fn(&[u8]) -> Option<T>,
    ) -> Option<T> {
        let name = self.config.name.as_bytes();
        let mut found: Option<T> = None;
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
                let Some(session) = open(strip_quotes(pair[eq + 1..].trim_ascii())) else {
                    continue;
                };
                match &found {
                    None => found = Some(session),
                    Some(previous) if *previous == session => {}
                    Some(_) => {
                        tracing::debug!(
                            cookie = %self.config.name,
                            "several different valid session cookies sent; treating as no session"
                        );
                        return None;
                    }
                }
            }
        }
        found
    }

    /// The id in one cookie value, if it parses and (when signing) its signature verifies.
    fn verify(&self, value: &[u8]) -> Option<Id> {
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
        self.set_cookie_value(value, expires_at, now)
    }

    /// `Set-Cookie` carrying `value` (an id, or a whole session kept in the cookie), with
    /// the expiry as for [`set_cookie`](Self::set_cookie).
    pub(crate) fn set_cookie_value(
        &self,
        value: String,
        expires_at: Option<SystemTime>,
        now: SystemTime,
    ) -> String {
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
    fn two_distinct_valid_ids_mean_no_session() {
        let (a, b) = (Id::random(), Id::random());
        let header = format!("session={a}; session={b}");
        assert_eq!(cookies(|_| ()).find_id([header.as_bytes()]), None);
        let across_headers = [format!("session={a}"), format!("session={b}")];
        assert_eq!(
            cookies(|_| ()).find_id(across_headers.iter().map(String::as_bytes)),
            None
        );
        let same = format!("session={a}; session=\"{a}\"; session={a}");
        assert_eq!(cookies(|_| ()).find_id([same.as_bytes()]), Some(a));
    }

    #[test]
    fn junk_duplicates_are_ignored() {
        let id = Id::random();
        let c = cookies(|_| ());
        for junk in [
            "",
            "abc",
            "planted-by-a-sibling",
            "é",
            "A".repeat(44).as_str(),
        ] {
            for header in [
                format!("session={junk}; session={id}"),
                format!("session={id}; session={junk}"),
            ] {
                assert_eq!(c.find_id([header.as_bytes()]), Some(id), "{header:.60}");
            }
        }
        let valid = format!("session={id}");
        let headers = [b"session=\xff\xfe".as_slice(), valid.as_bytes()];
        assert_eq!(c.find_id(headers), Some(id));
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

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    fn signed() -> SessionCookies {
        cookies(|c| {
            c.use_signer = true;
            c.secret_key = Some(SecretKey::new(KEY));
        })
    }

    /// The `session=<value>` part of a `Set-Cookie`.
    fn pair(set_cookie: &str) -> &str {
        set_cookie.split(';').next().unwrap()
    }

    #[test]
    fn signed_cookies_need_a_valid_signature() {
        let signed = signed();
        let id = Id::random();
        let value = signed.set_cookie(&id, None, SystemTime::now());
        assert_eq!(signed.find_id([pair(&value).as_bytes()]), Some(id));
        let unsigned = format!("session={id}");
        assert_eq!(signed.find_id([unsigned.as_bytes()]), None);
    }

    #[test]
    fn unsigned_or_wrongly_signed_duplicates_are_junk() {
        let signed = signed();
        let other_key = cookies(|c| {
            c.use_signer = true;
            c.secret_key = Some(SecretKey::new("another key, also 32 bytes long."));
        });
        let (id, planted) = (Id::random(), Id::random());
        let real = signed.set_cookie(&id, None, SystemTime::now());
        let wrongly_signed = other_key.set_cookie(&planted, None, SystemTime::now());
        for junk in [
            format!("session={planted}"),
            pair(&wrongly_signed).to_owned(),
            format!("session={planted}.{}", "A".repeat(43)),
        ] {
            let header = format!("{junk}; {}", pair(&real));
            assert_eq!(signed.find_id([header.as_bytes()]), Some(id), "{junk}");
        }
        let second = signed.set_cookie(&planted, None, SystemTime::now());
        let header = format!("{}; {}", pair(&real), pair(&second));
        assert_eq!(signed.find_id([header.as_bytes()]), None, "two valid ids");
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
