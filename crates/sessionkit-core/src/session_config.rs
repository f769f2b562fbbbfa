//! How sessions behave and what their cookie looks like, independent of the store.

use std::fmt;
use std::num::NonZeroUsize;
use std::str::FromStr;
use std::time::Duration;

use crate::ConfigKey;
use crate::{Codec, CookieFormat, Error, SignerFormat};

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
                ConfigKey::CookieSameSite,
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
///
/// With sessionkit's own signer ([`SignerFormat::HmacSha256`], the default) every key must
/// be at least [`SecretKey::MIN_LEN`] bytes; [`SessionConfig::validate`] checks it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    /// The shortest key sessionkit's own signer accepts: 32 bytes, the output size of
    /// HMAC-SHA256, so the key is not the weakest part. Generate one with, for example,
    /// `openssl rand -base64 32` (44 characters).
    pub const MIN_LEN: usize = 32;

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
                ConfigKey::CookieName,
                &self.name,
                "a cookie name must be non-empty and use only RFC 6265 token characters \
                 (no spaces, controls or ()<>@,;:\\\"/[]?={})",
            ));
        }
        if self.same_site == SameSite::None && !self.secure {
            return Err(Error::config(
                ConfigKey::CookieSameSite,
                "None",
                "browsers reject SameSite=None without Secure; set SESSION_COOKIE_SECURE=true",
            ));
        }
        if self.partitioned && !self.secure {
            return Err(Error::config(
                ConfigKey::CookiePartitioned,
                "true",
                "partitioned cookies require SESSION_COOKIE_SECURE=true",
            ));
        }
        let lower = self.name.to_ascii_lowercase();
        if (lower.starts_with("__secure-") || lower.starts_with("__host-")) && !self.secure {
            return Err(Error::config(
                ConfigKey::CookieName,
                &self.name,
                "__Secure- and __Host- cookies require SESSION_COOKIE_SECURE=true",
            ));
        }
        if lower.starts_with("__host-") && (self.domain.is_some() || self.path != "/") {
            return Err(Error::config(
                ConfigKey::CookieName,
                &self.name,
                "__Host- cookies require SESSION_COOKIE_PATH=/ and no SESSION_COOKIE_DOMAIN",
            ));
        }
        if !self.path.starts_with('/') || !self.path.bytes().all(is_attribute_byte) {
            return Err(Error::config(
                ConfigKey::CookiePath,
                &self.path,
                "the path must start with `/` and contain no `;` or control characters",
            ));
        }
        if let Some(domain) = &self.domain
            && (domain.is_empty() || !domain.bytes().all(is_attribute_byte))
        {
            return Err(Error::config(
                ConfigKey::CookieDomain,
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
    /// `SESSION_REFRESH_STEP`, default none (1% of `lifetime`, at least 1 s): how far a
    /// read must move the expiry before the store is asked to move it. Reads within a
    /// step of the last refresh this process made cost no store write (and, for a
    /// permanent session, send no cookie); the stored expiry is never more than one step
    /// behind a strict sliding window. `Some(Duration::ZERO)` refreshes on every read.
    pub refresh_step: Option<Duration>,
    /// `SESSION_SERIALIZATION_FORMAT`, default MessagePack.
    pub codec: Codec,
    /// The cookie's name and attributes.
    pub cookie: CookieConfig,
    /// `SESSION_USE_SIGNER`, default `false`: sign the id in the cookie with `SECRET_KEY`.
    pub use_signer: bool,
    /// `SECRET_KEY`: required when `use_signer` is on; at least [`SecretKey::MIN_LEN`]
    /// bytes with the default signer format.
    pub secret_key: Option<SecretKey>,
    /// `SECRET_KEY_FALLBACKS`: older keys still accepted when verifying, for rotation;
    /// each non-empty, and as long as `secret_key` must be.
    pub secret_key_fallbacks: Vec<SecretKey>,
    /// `SESSION_SIGNER_FORMAT`: sessionkit's HMAC-SHA256 (default) or Flask-Session's
    /// itsdangerous format, to share signed cookies with a Flask app.
    pub signer_format: SignerFormat,
    /// `SESSION_COOKIE_FORMAT`, default `sealed`: how the session travels in the cookie
    /// with [`CookieStore`](crate::CookieStore) (`SESSION_TYPE=cookie`).
    pub cookie_format: CookieFormat,
    /// `SESSION_STORE_TIMEOUT`, default 1 s: the limit on each store call.
    pub store_timeout: Duration,
    /// `SESSION_ABSOLUTE_LIFETIME`, default none (Flask has none): how long a session may
    /// live from its creation, whatever its activity. The creation time is kept in the
    /// session under [`CREATED_KEY`](crate::CREATED_KEY).
    pub absolute_lifetime: Option<Duration>,
    /// `SESSION_MAX_SIZE`, default 64 KiB: the largest encoded session. A write that would
    /// grow the session past it fails with [`Error::TooLarge`]; a stored payload over it is
    /// treated as corrupt (no session, a warning) without being decoded.
    pub max_size: usize,
    /// `SESSION_AUTH_KEYS`, default Flask-Login's `_user_id`: the keys whose removal is a
    /// logout. Removing one destroys the stored record and moves the rest of the session
    /// to a fresh id, as [`Session::clear`](crate::Session::clear) does, so a slower
    /// request that still writes the old record gets `Gone` instead of undoing the logout.
    pub auth_keys: Vec<String>,
    /// `SESSION_USER_INDEX`, default `false`: index sessions by user (the value of
    /// `user_key`), so that [`Sessions`](crate::Sessions) can list and revoke a user's
    /// sessions. Needs a store with a [`UserIndex`](crate::UserIndex); on by itself when
    /// `max_per_user` is set.
    pub user_index: bool,
    /// `SESSION_USER_KEY`, default Flask-Login's `_user_id`: the session key whose value (a
    /// string or an integer) names the user a session belongs to; `key/field` names a
    /// field of the map under `key` (axum-login: `axum-login.data/user_id`).
    pub user_key: String,
    /// `SESSION_MAX_PER_USER`, default none: at login, a user's oldest sessions beyond this
    /// many are revoked (never the one logging in).
    pub max_per_user: Option<NonZeroUsize>,
    /// `SESSION_HASH_IDS`, default `false`: stores keep a SHA-256 of each session id
    /// instead of the id, so a leaked store dump holds no usable cookie (as Rails'
    /// `private_id`). Flask-Session looks sessions up by the raw id, so a store shared with
    /// Python cannot use it.
    pub hash_ids: bool,
}

/// The default prefix of every store key (`SESSION_KEY_PREFIX`), as Flask-Session's.
pub const DEFAULT_KEY_PREFIX: &str = "session:";

/// The default limit on each store call (`SESSION_STORE_TIMEOUT`): 1 s.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_secs(1);

/// The default SQL table (`SESSION_SQL_TABLE`).
pub const DEFAULT_SQL_TABLE: &str = "sessions";

/// The default [`SessionConfig::max_size`]: 64 KiB.
pub const DEFAULT_MAX_SIZE: usize = 64 * 1024;

/// The smallest accepted [`SessionConfig::max_size`]: room for the reserved keys.
const MIN_MAX_SIZE: usize = 64;

/// The default [`SessionConfig::auth_keys`]: Flask-Login's user key.
pub const DEFAULT_AUTH_KEY: &str = "_user_id";

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            permanent: true,
            lifetime: Duration::from_secs(31 * 24 * 60 * 60),
            refresh_each_request: true,
            refresh_step: None,
            codec: Codec::MessagePack,
            cookie: CookieConfig::default(),
            use_signer: false,
            secret_key: None,
            secret_key_fallbacks: Vec::new(),
            signer_format: SignerFormat::default(),
            cookie_format: CookieFormat::default(),
            store_timeout: DEFAULT_STORE_TIMEOUT,
            absolute_lifetime: None,
            max_size: DEFAULT_MAX_SIZE,
            auth_keys: vec![DEFAULT_AUTH_KEY.to_owned()],
            user_index: false,
            user_key: DEFAULT_AUTH_KEY.to_owned(),
            max_per_user: None,
            hash_ids: false,
        }
    }
}

impl SessionConfig {
    /// Checks that the settings fit together.
    ///
    /// Signing keys are checked when `use_signer` is on (nothing else uses them): with
    /// sessionkit's own format each key must be at least [`SecretKey::MIN_LEN`] bytes. With
    /// [`SignerFormat::Itsdangerous`] a shorter key is accepted, so that a Flask app being
    /// migrated keeps its key (a new key would log everybody out), and a warning is logged
    /// through `tracing`. Error values never contain the keys.
    ///
    /// ```
    /// use sessionkit_core::{SecretKey, SessionConfig};
    ///
    /// let mut config = SessionConfig::default();
    /// config.use_signer = true;
    /// let err = config.validate().unwrap_err();
    /// assert!(err.to_string().contains("SECRET_KEY"));
    ///
    /// config.secret_key = Some(SecretKey::new("too short"));
    /// assert!(config.validate().is_err());
    /// config.secret_key = Some(SecretKey::new("0123456789abcdef0123456789abcdef"));
    /// config.validate()?;
    /// # Ok::<(), sessionkit_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] naming the key: a zero lifetime or one over [`MAX_LIFETIME`] (idle
    /// or absolute), a zero timeout, a size limit too small for the reserved keys; signing
    /// without a non-empty `SECRET_KEY`; an empty key in `SECRET_KEY_FALLBACKS`; with the
    /// default signer format, a `SECRET_KEY` or fallback shorter than [`SecretKey::MIN_LEN`]
    /// bytes; and everything [`CookieConfig::validate`] checks.
    pub fn validate(&self) -> Result<(), Error> {
        check_lifetime(ConfigKey::Lifetime, self.lifetime)?;
        if let Some(absolute) = self.absolute_lifetime {
            check_lifetime(ConfigKey::AbsoluteLifetime, absolute)?;
        }
        if self.effective_refresh_step() >= self.lifetime {
            return Err(Error::config(
                ConfigKey::RefreshStep,
                format!("{}", self.effective_refresh_step().as_secs_f64()),
                "the refresh step must be shorter than the lifetime (PERMANENT_SESSION_LIFETIME)",
            ));
        }
        if self.max_size < MIN_MAX_SIZE {
            return Err(Error::config(
                ConfigKey::MaxSize,
                self.max_size.to_string(),
                format!("the size limit must be at least {MIN_MAX_SIZE} bytes"),
            ));
        }
        if self.store_timeout.is_zero() {
            return Err(Error::config(
                ConfigKey::StoreTimeout,
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
                ConfigKey::SecretKey,
                "",
                "SESSION_USE_SIGNER=true needs a non-empty SECRET_KEY",
            ));
        }
        if self
            .secret_key_fallbacks
            .iter()
            .any(|k| k.expose().is_empty())
        {
            return Err(Error::config(
                ConfigKey::SecretKeyFallbacks,
                "",
                "a fallback key is empty; list only the older keys still to be accepted",
            ));
        }
        if self.use_signer {
            self.check_key_lengths()?;
        }
        if self.indexes_users() && self.user_key.is_empty() {
            return Err(Error::config(
                ConfigKey::UserKey,
                "",
                "the user index needs the session key that names the user (default `_user_id`)",
            ));
        }
        if self.hash_ids && self.signer_format == SignerFormat::Itsdangerous {
            return Err(Error::config(
                ConfigKey::HashIds,
                "true",
                "SESSION_SIGNER_FORMAT=itsdangerous shares sessions with Flask-Session, which \
                 looks them up by the raw id; hashed ids would hide every session from it",
            ));
        }
        self.cookie.validate()
    }

    /// The refresh step in effect: [`refresh_step`](SessionConfig::refresh_step), or 1% of
    /// the lifetime with a floor of one second.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sessionkit_core::SessionConfig;
    ///
    /// let mut config = SessionConfig::default(); // 31 days
    /// assert_eq!(config.effective_refresh_step(), Duration::from_secs(26784));
    /// config.lifetime = Duration::from_secs(30);
    /// assert_eq!(config.effective_refresh_step(), Duration::from_secs(1));
    /// config.refresh_step = Some(Duration::ZERO);
    /// assert_eq!(config.effective_refresh_step(), Duration::ZERO);
    /// ```
    pub fn effective_refresh_step(&self) -> Duration {
        self.refresh_step
            .unwrap_or_else(|| (self.lifetime / 100).max(Duration::from_secs(1)))
    }

    /// The checks for sessions kept in the cookie ([`CookieStore`](crate::CookieStore)),
    /// beyond [`validate`](Self::validate): a `SECRET_KEY` (and with the `sealed` format,
    /// keys of at least [`SecretKey::MIN_LEN`] bytes); and nothing that needs server state.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key at fault; [`Error::Unsupported`] for a user index.
    pub fn validate_in_cookie(&self) -> Result<(), Error> {
        if self
            .secret_key
            .as_ref()
            .is_none_or(|k| k.expose().is_empty())
        {
            return Err(Error::config(
                ConfigKey::SecretKey,
                "",
                "SESSION_TYPE=cookie needs a non-empty SECRET_KEY to seal or sign the cookie",
            ));
        }
        if self.indexes_users() {
            return Err(Error::Unsupported {
                feature: "find or revoke a user's sessions (a session in the cookie has no \
                          server-side record)",
                key: if self.user_index {
                    ConfigKey::UserIndex
                } else {
                    ConfigKey::MaxPerUser
                },
            });
        }
        let format = match self.cookie_format {
            CookieFormat::Sealed => SignerFormat::HmacSha256,
            CookieFormat::Flask => SignerFormat::Itsdangerous,
        };
        let setting = match self.cookie_format {
            CookieFormat::Sealed => "SESSION_COOKIE_FORMAT=sealed",
            CookieFormat::Flask => "SESSION_COOKIE_FORMAT=flask",
        };
        self.check_key_lengths_for(format, setting)
    }

    /// Whether sessions are indexed by user: `user_index`, or a cap per user.
    pub fn indexes_users(&self) -> bool {
        self.user_index || self.max_per_user.is_some()
    }

    /// Key lengths for the configured signer format: an error with sessionkit's own
    /// format, a warning with Flask's.
    fn check_key_lengths(&self) -> Result<(), Error> {
        let setting = match self.signer_format {
            SignerFormat::HmacSha256 => "SESSION_SIGNER_FORMAT=hmac-sha256",
            SignerFormat::Itsdangerous => "SESSION_SIGNER_FORMAT=itsdangerous",
        };
        self.check_key_lengths_for(self.signer_format, setting)
    }

    /// Key lengths for keys used in `format`, as `setting` (`KEY=value`) asks.
    fn check_key_lengths_for(&self, format: SignerFormat, setting: &str) -> Result<(), Error> {
        let short = |key: &SecretKey| key.expose().len() < SecretKey::MIN_LEN;
        let short_key = self.secret_key.as_ref().is_some_and(short);
        let short_fallback = self.secret_key_fallbacks.iter().any(short);
        match format {
            SignerFormat::HmacSha256 => {
                let name = if short_key {
                    ConfigKey::SecretKey
                } else if short_fallback {
                    ConfigKey::SecretKeyFallbacks
                } else {
                    return Ok(());
                };
                Err(Error::config(
                    name,
                    "",
                    format!(
                        "keys must be at least {} bytes for {setting} (a short key can be \
                         guessed from one signed cookie); generate one with \
                         `openssl rand -base64 32`",
                        SecretKey::MIN_LEN,
                    ),
                ))
            }
            SignerFormat::Itsdangerous => {
                if short_key || short_fallback {
                    tracing::warn!(
                        key = if short_key {
                            "SECRET_KEY"
                        } else {
                            "SECRET_KEY_FALLBACKS"
                        },
                        min_len = SecretKey::MIN_LEN,
                        setting,
                        "signing key shorter than the minimum, accepted for Flask's format \
                         (Flask compatibility): a short key \
                         can be guessed offline from one signed cookie, and whoever has it can \
                         sign any cookie value and forge whatever else the Flask app signs \
                         with SECRET_KEY; move both apps to a random key of at least 32 bytes"
                    );
                }
                Ok(())
            }
        }
    }
}

/// Refuses a lifetime of zero or over [`MAX_LIFETIME`], naming its configuration `key`.
fn check_lifetime(key: ConfigKey, lifetime: Duration) -> Result<(), Error> {
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
            Err(Error::Config { key, .. }) => key.as_str(),
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
        config.secret_key = Some(SecretKey::new(LONG_KEY));
        config.validate().unwrap();
    }

    const LONG_KEY: &str = "0123456789abcdef0123456789abcdef";
    const SHORT_KEY: &str = "0123456789abcdef0123456789abcde";

    fn signing(f: impl FnOnce(&mut SessionConfig)) -> SessionConfig {
        let mut config = SessionConfig {
            use_signer: true,
            secret_key: Some(SecretKey::new(LONG_KEY)),
            ..SessionConfig::default()
        };
        f(&mut config);
        config
    }

    #[test]
    fn own_signer_needs_keys_of_at_least_32_bytes() {
        assert_eq!(SHORT_KEY.len() + 1, SecretKey::MIN_LEN);
        let short = signing(|c| c.secret_key = Some(SecretKey::new(SHORT_KEY)));
        assert_eq!(key_of(short.validate()), "SECRET_KEY");
        let short_fallback = signing(|c| {
            c.secret_key_fallbacks = vec![SecretKey::new(LONG_KEY), SecretKey::new(SHORT_KEY)];
        });
        assert_eq!(key_of(short_fallback.validate()), "SECRET_KEY_FALLBACKS");
        signing(|c| c.secret_key_fallbacks = vec![SecretKey::new(LONG_KEY)])
            .validate()
            .unwrap();
    }

    #[test]
    fn flask_format_keeps_a_short_key() {
        signing(|c| {
            c.signer_format = SignerFormat::Itsdangerous;
            c.secret_key = Some(SecretKey::new("dev"));
            c.secret_key_fallbacks = vec![SecretKey::new("older")];
        })
        .validate()
        .unwrap();
    }

    /// What `f` logs through `tracing`, as text.
    fn logs(f: impl FnOnce()) -> String {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn flask_format_warns_about_a_short_key_without_showing_it() {
        let short = signing(|c| {
            c.signer_format = SignerFormat::Itsdangerous;
            c.secret_key = Some(SecretKey::new("flask-dev-key"));
        });
        let logged = logs(|| short.validate().unwrap());
        assert!(logged.contains("WARN"), "{logged}");
        assert!(
            logged.contains("SECRET_KEY") && logged.contains("forge"),
            "{logged}"
        );
        assert!(!logged.contains("flask-dev-key"), "{logged}");
        let long = signing(|c| c.signer_format = SignerFormat::Itsdangerous);
        assert_eq!(logs(|| long.validate().unwrap()), "");
    }

    #[test]
    fn an_empty_fallback_is_refused() {
        for format in [SignerFormat::HmacSha256, SignerFormat::Itsdangerous] {
            let config = signing(|c| {
                c.signer_format = format;
                c.secret_key_fallbacks = vec![SecretKey::new("")];
            });
            assert_eq!(
                key_of(config.validate()),
                "SECRET_KEY_FALLBACKS",
                "{format:?}"
            );
        }
    }

    #[test]
    fn keys_are_not_checked_without_the_signer() {
        let config = SessionConfig {
            secret_key: Some(SecretKey::new("short")),
            secret_key_fallbacks: vec![SecretKey::new("old")],
            ..SessionConfig::default()
        };
        config.validate().unwrap();
    }

    #[test]
    fn key_errors_never_contain_the_key() {
        let secret = "hunter2-hunter2";
        for config in [
            signing(|c| c.secret_key = Some(SecretKey::new(secret))),
            signing(|c| c.secret_key_fallbacks = vec![SecretKey::new(secret)]),
        ] {
            let err = config.validate().unwrap_err();
            for text in [err.to_string(), format!("{err:?}"), format!("{config:?}")] {
                assert!(!text.contains("hunter2"), "{text}");
            }
        }
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
