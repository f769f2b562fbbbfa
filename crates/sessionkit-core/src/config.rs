//! How sessions behave and what their cookie looks like, independent of the store.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::{Codec, Error, SignerFormat};

/// The cookie's `SameSite` attribute (`SESSION_COOKIE_SAMESITE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SameSite {
    /// Sent on same-site requests only.
    Strict,
    /// Sent on same-site requests and top-level navigations (the default).
    #[default]
    Lax,
    /// Sent on every request; requires `Secure`.
    None,
}

impl FromStr for SameSite {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "strict" => Ok(Self::Strict),
            "lax" => Ok(Self::Lax),
            "none" => Ok(Self::None),
            _ => Err(Error::config(
                "SESSION_COOKIE_SAMESITE",
                s,
                "expected `Strict`, `Lax` or `None`",
            )),
        }
    }
}

impl fmt::Display for SameSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Strict => "Strict",
            Self::Lax => "Lax",
            Self::None => "None",
        })
    }
}

/// A signing key (`SECRET_KEY`, `SECRET_KEY_FALLBACKS`). Its `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    /// Wraps key material.
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        Self(key.into())
    }

    /// The key material.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(<{} bytes redacted>)", self.0.len())
    }
}

/// The session cookie's name and attributes (Flask's `SESSION_COOKIE_*` keys).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CookieConfig {
    /// `SESSION_COOKIE_NAME`, default `session`.
    pub name: String,
    /// `SESSION_COOKIE_DOMAIN`, default none (host-only cookie).
    pub domain: Option<String>,
    /// `SESSION_COOKIE_PATH`, default `/`.
    pub path: String,
    /// `SESSION_COOKIE_HTTPONLY`, default `true`.
    pub http_only: bool,
    /// `SESSION_COOKIE_SECURE`, default `false`.
    pub secure: bool,
    /// `SESSION_COOKIE_SAMESITE`, default `Lax`.
    pub same_site: SameSite,
    /// `SESSION_COOKIE_PARTITIONED` (CHIPS), default `false`; requires `Secure`.
    pub partitioned: bool,
}

impl Default for CookieConfig {
    fn default() -> Self {
        Self {
            name: "session".to_owned(),
            domain: None,
            path: "/".to_owned(),
            http_only: true,
            secure: false,
            same_site: SameSite::Lax,
            partitioned: false,
        }
    }
}

impl CookieConfig {
    /// Checks the name and attributes against RFC 6265 and the browsers' prefix rules.
    ///
    /// # Errors
    /// [`Error::Config`] naming the offending key: a name that is not an RFC 6265 token,
    /// `SameSite=None` or `Partitioned` without `Secure`, a `__Secure-`/`__Host-` name whose
    /// attributes browsers would reject, a path not starting with `/`, or a path or domain
    /// with characters that would break the header.
    pub fn validate(&self) -> Result<(), Error> {
        if self.name.is_empty() || !self.name.bytes().all(is_token_byte) {
            return Err(Error::config(
                "SESSION_COOKIE_NAME",
                &self.name,
                "a cookie name must be non-empty and use only RFC 6265 token characters \
                 (no spaces, controls or ()<>@,;:\\\"/[]?={})",
            ));
        }
        if self.same_site == SameSite::None && !self.secure {
            return Err(Error::config(
                "SESSION_COOKIE_SAMESITE",
                "None",
                "browsers reject SameSite=None without Secure; set SESSION_COOKIE_SECURE=true",
            ));
        }
        if self.partitioned && !self.secure {
            return Err(Error::config(
                "SESSION_COOKIE_PARTITIONED",
                "true",
                "partitioned cookies require SESSION_COOKIE_SECURE=true",
            ));
        }
        let lower = self.name.to_ascii_lowercase();
        if (lower.starts_with("__secure-") || lower.starts_with("__host-")) && !self.secure {
            return Err(Error::config(
                "SESSION_COOKIE_NAME",
                &self.name,
                "__Secure- and __Host- cookies require SESSION_COOKIE_SECURE=true",
            ));
        }
        if lower.starts_with("__host-") && (self.domain.is_some() || self.path != "/") {
            return Err(Error::config(
                "SESSION_COOKIE_NAME",
                &self.name,
                "__Host- cookies require SESSION_COOKIE_PATH=/ and no SESSION_COOKIE_DOMAIN",
            ));
        }
        if !self.path.starts_with('/') || !self.path.bytes().all(is_attribute_byte) {
            return Err(Error::config(
                "SESSION_COOKIE_PATH",
                &self.path,
                "the path must start with `/` and contain no `;` or control characters",
            ));
        }
        if let Some(domain) = &self.domain
            && (domain.is_empty() || !domain.bytes().all(is_attribute_byte))
        {
            return Err(Error::config(
                "SESSION_COOKIE_DOMAIN",
                domain,
                "the domain must be non-empty and contain no `;`, spaces or control characters",
            ));
        }
        Ok(())
    }
}

/// RFC 6265 / RFC 2616 token characters.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !br#"()<>@,;:\"/[]?={}"#.contains(&b)
}

/// Characters allowed in a Path or Domain attribute value.
fn is_attribute_byte(b: u8) -> bool {
    b.is_ascii_graphic() && b != b';'
}

/// The longest session lifetime accepted: 400 days, the most browsers keep a cookie
/// (rfc6265bis, the revision of RFC 6265, caps `Max-Age` and `Expires` at 400 days; Chrome
/// applies it since version 104). A longer lifetime would outlive its cookie, and a far
/// longer one would overflow the timestamp arithmetic of expiry times.
pub const MAX_LIFETIME: Duration = Duration::from_secs(400 * 24 * 60 * 60);

/// How sessions behave: lifetime, refresh, format, signing, cookie and time limits.
///
/// The facade crate fills this from Flask-Session configuration keys; the defaults are
/// Flask's, except that the cookie's `SameSite` defaults to `Lax`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionConfig {
    /// `SESSION_PERMANENT`, default `true`: new sessions outlive the browser session.
    pub permanent: bool,
    /// `PERMANENT_SESSION_LIFETIME`, default 31 days, at most [`MAX_LIFETIME`]: the store TTL
    /// and a permanent cookie's `Max-Age`.
    pub lifetime: Duration,
    /// `SESSION_REFRESH_EACH_REQUEST`, default `true`: reading a session slides its expiry.
    pub refresh_each_request: bool,
    /// `SESSION_SERIALIZATION_FORMAT`, default MessagePack.
    pub codec: Codec,
    /// The cookie's name and attributes.
    pub cookie: CookieConfig,
    /// `SESSION_USE_SIGNER`, default `false`: sign the id in the cookie with `SECRET_KEY`.
    pub use_signer: bool,
    /// `SECRET_KEY`: required when `use_signer` is on.
    pub secret_key: Option<SecretKey>,
    /// `SECRET_KEY_FALLBACKS`: older keys still accepted when verifying, for rotation.
    pub secret_key_fallbacks: Vec<SecretKey>,
    /// `SESSION_SIGNER_FORMAT`: sessionkit's HMAC-SHA256 (default) or Flask-Session's
    /// itsdangerous format, to share signed cookies with a Flask app.
    pub signer_format: SignerFormat,
    /// `SESSION_STORE_TIMEOUT`, default 1 s: the limit on each store call.
    pub store_timeout: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            permanent: true,
            lifetime: Duration::from_secs(31 * 24 * 60 * 60),
            refresh_each_request: true,
            codec: Codec::MessagePack,
            cookie: CookieConfig::default(),
            use_signer: false,
            secret_key: None,
            secret_key_fallbacks: Vec::new(),
            signer_format: SignerFormat::default(),
            store_timeout: Duration::from_secs(1),
        }
    }
}

impl SessionConfig {
    /// Checks that the settings fit together.
    ///
    /// ```
    /// use sessionkit_core::SessionConfig;
    ///
    /// let mut config = SessionConfig::default();
    /// config.use_signer = true;
    /// let err = config.validate().unwrap_err();
    /// assert!(err.to_string().contains("SECRET_KEY"));
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] naming the key: a zero lifetime or one over [`MAX_LIFETIME`], a
    /// zero timeout, signing without a non-empty `SECRET_KEY`, and everything
    /// [`CookieConfig::validate`] checks.
    pub fn validate(&self) -> Result<(), Error> {
        check_lifetime("PERMANENT_SESSION_LIFETIME", self.lifetime)?;
        if self.store_timeout.is_zero() {
            return Err(Error::config(
                "SESSION_STORE_TIMEOUT",
                "0",
                "the store timeout must be positive",
            ));
        }
        if self.use_signer
            && self
                .secret_key
                .as_ref()
                .is_none_or(|k| k.expose().is_empty())
        {
            return Err(Error::config(
                "SECRET_KEY",
                "",
                "SESSION_USE_SIGNER=true needs a non-empty SECRET_KEY",
            ));
        }
        self.cookie.validate()
    }
}

/// Refuses a lifetime of zero or over [`MAX_LIFETIME`], naming its configuration `key`.
fn check_lifetime(key: &'static str, lifetime: Duration) -> Result<(), Error> {
    if lifetime.is_zero() {
        return Err(Error::config(
            key,
            "0",
            "the lifetime must be at least one second",
        ));
    }
    if lifetime > MAX_LIFETIME {
        let secs = if lifetime.subsec_nanos() == 0 {
            lifetime.as_secs().to_string()
        } else {
            lifetime.as_secs_f64().to_string()
        };
        return Err(Error::config(
            key,
            secs,
            format!(
                "the lifetime must be at most {} seconds (400 days): browsers cap cookie \
                 lifetimes at 400 days",
                MAX_LIFETIME.as_secs()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie(f: impl FnOnce(&mut CookieConfig)) -> Result<(), Error> {
        let mut config = CookieConfig::default();
        f(&mut config);
        config.validate()
    }

    fn key_of(result: Result<(), Error>) -> &'static str {
        match result {
            Err(Error::Config { key, .. }) => key,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid() {
        SessionConfig::default().validate().unwrap();
    }

    #[test]
    fn illegal_cookie_names_are_refused() {
        for name in ["", "my session", "a;b", "sess=ion", "sé", "tab\t"] {
            let result = cookie(|c| c.name = name.to_owned());
            assert_eq!(key_of(result), "SESSION_COOKIE_NAME", "{name:?}");
        }
        cookie(|c| c.name = "my_session-1.0".to_owned()).unwrap();
    }

    #[test]
    fn same_site_none_needs_secure() {
        let result = cookie(|c| c.same_site = SameSite::None);
        assert_eq!(key_of(result), "SESSION_COOKIE_SAMESITE");
        cookie(|c| {
            c.same_site = SameSite::None;
            c.secure = true;
        })
        .unwrap();
    }

    #[test]
    fn host_prefix_rules() {
        let insecure = cookie(|c| c.name = "__Host-session".to_owned());
        assert_eq!(key_of(insecure), "SESSION_COOKIE_NAME");
        let with_domain = cookie(|c| {
            c.name = "__Host-session".to_owned();
            c.secure = true;
            c.domain = Some("example.com".to_owned());
        });
        assert_eq!(key_of(with_domain), "SESSION_COOKIE_NAME");
        cookie(|c| {
            c.name = "__Host-session".to_owned();
            c.secure = true;
        })
        .unwrap();
    }

    #[test]
    fn header_breaking_attributes_are_refused() {
        let path = cookie(|c| c.path = "/a;b".to_owned());
        assert_eq!(key_of(path), "SESSION_COOKIE_PATH");
        let domain = cookie(|c| c.domain = Some("a.com; Secure".to_owned()));
        assert_eq!(key_of(domain), "SESSION_COOKIE_DOMAIN");
    }

    #[test]
    fn signer_needs_a_key() {
        let mut config = SessionConfig {
            use_signer: true,
            ..SessionConfig::default()
        };
        assert_eq!(key_of(config.validate()), "SECRET_KEY");
        config.secret_key = Some(SecretKey::new(*b"s3cret"));
        config.validate().unwrap();
    }

    #[test]
    fn lifetimes_over_400_days_are_refused_naming_the_key() {
        let with_lifetime = |lifetime| {
            SessionConfig {
                lifetime,
                ..SessionConfig::default()
            }
            .validate()
        };
        with_lifetime(MAX_LIFETIME).unwrap();
        assert_eq!(MAX_LIFETIME, Duration::from_secs(34_560_000));
        for lifetime in [
            MAX_LIFETIME + Duration::from_nanos(1),
            MAX_LIFETIME + Duration::from_secs(1),
            Duration::from_secs(u64::MAX),
            Duration::MAX,
        ] {
            let err = with_lifetime(lifetime).unwrap_err();
            let message = err.to_string();
            assert_eq!(
                key_of(Err(err)),
                "PERMANENT_SESSION_LIFETIME",
                "{lifetime:?}"
            );
            assert!(message.contains("400 days"), "{message}");
        }
    }

    #[test]
    fn zero_lifetime_is_refused() {
        let config = SessionConfig {
            lifetime: Duration::ZERO,
            ..SessionConfig::default()
        };
        assert_eq!(key_of(config.validate()), "PERMANENT_SESSION_LIFETIME");
    }

    #[test]
    fn secret_key_debug_is_redacted() {
        let key = SecretKey::new(*b"hunter2");
        assert!(!format!("{key:?}").contains("hunter2"));
    }
}
