//! Sessions kept in the cookie (`SESSION_TYPE=cookie`): [`CookieStore`] stands where a
//! store would, and the lifecycle seals the whole session into the cookie instead of an
//! id, in one of two [`CookieFormat`]s.
//!
//! What holds without server state, and what does not (the README's guarantees say the
//! same): the data cannot be changed by the browser (both formats) nor read by it
//! (`sealed` only); a cookie expires `PERMANENT_SESSION_LIFETIME` after it was last
//! issued, checked on the time sealed inside it; a logout removes the cookie, but a copy
//! taken before stays valid until it expires, so nothing can revoke a session, and a user
//! index is refused at startup.

mod flask;
mod sealed;

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;

use crate::codec::tagged_json::{self, Originals};
use crate::{
    Codec, ConfigKey, Error, Id, Record, SecretKey, SessionConfig, SessionData, SessionStore,
    Version,
};

/// The most bytes a `Set-Cookie` may take: browsers drop larger cookies silently (RFC
/// 6265 asks them to keep at least 4096 bytes per cookie, name, value and attributes).
pub const MAX_COOKIE_LEN: usize = 4096;

/// How the session travels in the cookie (`SESSION_COOKIE_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum CookieFormat {
    /// `sealed` (the default): MessagePack encrypted and authenticated with
    /// XChaCha20-Poly1305 under a key derived from `SECRET_KEY` (at least 32 bytes); the
    /// browser can neither read nor change it.
    #[default]
    Sealed,
    /// `flask`: Flask's default session cookie, byte for byte (itsdangerous, HMAC-SHA1,
    /// tagged JSON, zlib for long payloads), signed with `SECRET_KEY`: a Flask app with
    /// the same key reads and writes the same sessions. The browser can read the data
    /// (base64), not change it.
    Flask,
}

impl CookieFormat {
    /// The configuration name of this format.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sealed => "sealed",
            Self::Flask => "flask",
        }
    }
}

impl fmt::Display for CookieFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CookieFormat {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sealed" => Ok(Self::Sealed),
            "flask" => Ok(Self::Flask),
            _ => Err(Error::config(
                ConfigKey::CookieFormat,
                s,
                "expected `sealed` (default, encrypted) or `flask` (Flask's signed cookie)",
            )),
        }
    }
}

/// The store of `SESSION_TYPE=cookie`: it keeps nothing, because the session lives in the
/// cookie. Give it to [`Sessions`](crate::Sessions) (or an adapter's layer) like any store;
/// the lifecycle then seals each session into its cookie in the configured
/// [`CookieFormat`], with `SECRET_KEY`. Calling it directly fails with
/// [`Error::Unsupported`]: there is no record to load or save.
///
/// ```
/// use std::sync::Arc;
/// use sessionkit_core::{CookieStore, SecretKey, SessionConfig, Sessions};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let mut config = SessionConfig::default();
/// config.secret_key = Some(SecretKey::new("0123456789abcdef0123456789abcdef"));
/// let sessions = Sessions::new(Arc::new(CookieStore), config)?;
///
/// let session = sessions.start([]);
/// session.insert("user", "ada").await?;
/// let set_cookie = sessions.finish(&session).await?.set_cookie.unwrap();
/// assert!(!set_cookie.contains("ada"), "sealed: the browser cannot read it");
///
/// let cookie = set_cookie.split(';').next().unwrap();
/// let session = sessions.start([cookie.as_bytes()]);
/// assert_eq!(session.get::<String>("user").await?.as_deref(), Some("ada"));
/// # Ok::<(), sessionkit_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CookieStore;

impl CookieStore {
    fn unsupported<T>() -> Result<T, Error> {
        Err(Error::Unsupported {
            feature: "server-side session records (the session lives in the cookie)",
            key: ConfigKey::SessionType,
        })
    }
}

#[async_trait]
impl SessionStore for CookieStore {
    async fn create(&self, _: &Id, _: &[u8], _: SystemTime) -> Result<(), Error> {
        Self::unsupported()
    }
    async fn load(&self, _: &Id) -> Result<Option<Record>, Error> {
        Self::unsupported()
    }
    async fn load_and_touch(&self, _: &Id, _: SystemTime) -> Result<Option<Record>, Error> {
        Self::unsupported()
    }
    async fn save(&self, _: &Id, _: &[u8], _: SystemTime, _: Version) -> Result<(), Error> {
        Self::unsupported()
    }
    async fn touch(&self, _: &Id, _: SystemTime) -> Result<(), Error> {
        Self::unsupported()
    }
    async fn delete(&self, _: &Id) -> Result<(), Error> {
        Self::unsupported()
    }
    async fn delete_if(&self, _: &Id, _: Version) -> Result<(), Error> {
        Self::unsupported()
    }
    fn call_timeout(&self) -> Option<Duration> {
        // Nothing to bound: no call ever leaves the process.
        Some(Duration::ZERO)
    }
    fn backend(&self) -> &'static str {
        "cookie"
    }
    fn data_in_cookie(&self) -> bool {
        true
    }
}

/// A session read from a request's cookie: its payload, verified (and decrypted), and when
/// it was issued. Two cookies carry the same session when their values are equal.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Opened {
    value: Vec<u8>,
    payload: Bytes,
    pub(crate) issued: SystemTime,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("issued", &self.issued)
            .finish_non_exhaustive()
    }
}

/// Seals sessions into cookie values and opens them, in the configured format.
#[derive(Clone)]
pub(crate) struct InCookie {
    format: Format,
    name: String,
    lifetime: Duration,
    max_size: usize,
    codec: Codec,
}

#[derive(Clone)]
enum Format {
    Sealed(sealed::Sealer),
    Flask(flask::FlaskSigner),
}

/// What a session read from a cookie needs kept until it is written again: the tagged JSON
/// of its values in the Flask format.
#[derive(Debug, Clone, Default)]
pub(crate) struct Kept(Originals);

impl InCookie {
    /// The sealing of `config` (validated: [`SessionConfig::validate_in_cookie`]).
    pub(crate) fn new(config: &SessionConfig) -> Self {
        let key = config
            .secret_key
            .clone()
            .unwrap_or_else(|| SecretKey::new(""));
        let fallbacks = &config.secret_key_fallbacks;
        Self {
            format: match config.cookie_format {
                CookieFormat::Sealed => Format::Sealed(sealed::Sealer::new(&key, fallbacks)),
                CookieFormat::Flask => Format::Flask(flask::FlaskSigner::new(&key, fallbacks)),
            },
            name: config.cookie.name.clone(),
            lifetime: config.lifetime,
            max_size: config.max_size,
            codec: config.codec,
        }
    }

    /// The session in one cookie value, if it verifies and has not expired at `now`
    /// (issued within the lifetime, and not in the future by more than a minute of clock
    /// skew between servers).
    pub(crate) fn open(&self, value: &[u8], now: SystemTime) -> Option<Opened> {
        if value.len() > MAX_COOKIE_LEN {
            return None;
        }
        let (payload, issued) = match &self.format {
            Format::Sealed(sealer) => sealer.open(&self.name, value)?,
            Format::Flask(signer) => signer.open(value, self.max_size)?,
        };
        let fresh = issued + self.lifetime > now && issued <= now + Duration::from_secs(60);
        if !fresh || payload.len() > self.max_size {
            return None;
        }
        Some(Opened {
            value: value.to_vec(),
            payload: payload.into(),
            issued,
        })
    }

    /// The data of an opened cookie.
    ///
    /// # Errors
    /// [`Error::Decode`] when the payload does not decode.
    pub(crate) fn decode(&self, opened: &Opened) -> Result<(SessionData, Kept), Error> {
        match self.format {
            Format::Sealed(_) => Ok((self.codec.decode(&opened.payload)?, Kept::default())),
            Format::Flask(_) => {
                let (data, originals) = tagged_json::decode(&opened.payload)?;
                Ok((data, Kept(originals)))
            }
        }
    }

    /// The cookie value carrying `data`, issued at `now`.
    ///
    /// # Errors
    /// [`Error::Encode`] for a value the format cannot hold; [`Error::TooLarge`] for a
    /// payload over `SESSION_MAX_SIZE`.
    pub(crate) fn seal(
        &self,
        data: &SessionData,
        kept: &Kept,
        now: SystemTime,
    ) -> Result<String, Error> {
        let payload = match self.format {
            Format::Sealed(_) => self.codec.encode(data)?,
            Format::Flask(_) => tagged_json::encode(data, &kept.0)?.into_bytes(),
        };
        if payload.len() > self.max_size {
            return Err(Error::TooLarge {
                size: payload.len(),
                limit: self.max_size,
            });
        }
        Ok(match &self.format {
            Format::Sealed(sealer) => sealer.seal(&self.name, &payload, now),
            Format::Flask(signer) => signer.sign(&payload, now),
        })
    }
}

#[cfg(test)]
impl InCookie {
    /// `payload` sealed or signed as it is, whatever it holds.
    pub(crate) fn seal_raw(&self, payload: &[u8], now: SystemTime) -> String {
        match &self.format {
            Format::Sealed(sealer) => sealer.seal(&self.name, payload, now),
            Format::Flask(signer) => signer.sign(payload, now),
        }
    }
}

impl fmt::Debug for InCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InCookie")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
