//! [`Config`]: the store and session settings, from the environment or a builder.

use std::fmt;
use std::num::NonZeroUsize;
use std::time::Duration;

use sessionkit_core::{
    Codec, ConfigKey, DEFAULT_KEY_PREFIX, DEFAULT_SQL_TABLE, Error, MemoryStore, SameSite,
    SecretKey, SessionConfig, redact_url,
};

#[cfg(feature = "memcached")]
use crate::MemcachedPlacement;
use crate::migrate_from::{self, OldStore};
use crate::{SessionType, parse};

/// Default Redis URL, as Flask-Session's default `Redis()` client.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";
/// Default Memcached server.
pub const DEFAULT_MEMCACHED_SERVER: &str = "127.0.0.1:11211";
/// Default interval of the SQL stores' expired-row sweep: 5 minutes. Expired rows are never
/// read, so the sweep only reclaims space; every 5 minutes keeps the table within a few
/// minutes of traffic of its live size for one indexed, batched `DELETE` per instance, and
/// without it the table would grow forever. `SESSION_CLEANUP_INTERVAL=0` turns it off (when
/// the database deletes expired rows by itself, or one process sweeps for all).
pub const DEFAULT_CLEANUP_INTERVAL: Duration = Duration::from_secs(300);

/// Everything sessionkit needs to know: which store, how to reach it, and how sessions and
/// their cookie behave. Keys and defaults are Flask-Session's (see [`ConfigKey`](crate::ConfigKey)).
///
/// Build it from the environment with [`Config::from_env`], in code with
/// [`Config::builder`], or both (start from [`ConfigBuilder::from_env`] and override).
/// A valid `Config` has been checked as a whole: [`connect`](crate::connect) only reports
/// connection problems.
///
/// ```
/// use std::time::Duration;
/// use sessionkit::{Config, SessionType};
///
/// let config = Config::builder()
///     .session_type(SessionType::Memory)
///     .session(|s| {
///         s.lifetime = Duration::from_secs(3600);
///         s.cookie.name = "app_session".to_owned();
///     })
///     .build()?;
/// assert_eq!(config.session().cookie.name, "app_session");
///
/// let from_text = Config::from_pairs([("SESSION_TYPE", "memory"), ("SESSION_PERMANENT", "false")])?;
/// assert!(!from_text.session().permanent);
/// # Ok::<(), sessionkit::Error>(())
/// ```
#[derive(Clone)]
pub struct Config {
    session_type: SessionType,
    redis_url: String,
    memcached_servers: Vec<String>,
    #[cfg(feature = "memcached")]
    memcached_placement: MemcachedPlacement,
    sql_url: Option<String>,
    sql_table: String,
    key_prefix: String,
    cleanup_interval: Option<Duration>,
    memory_max_sessions: NonZeroUsize,
    near_cache: NearCache,
    session: SessionConfig,
    migrate_from: Option<Box<Config>>,
}

/// The Redis near cache's settings: on or off, and its limits (`None`: the store's
/// defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NearCache {
    on: bool,
    entries: Option<NonZeroUsize>,
    bytes: Option<NonZeroUsize>,
}

impl Config {
    /// A builder starting from the defaults.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// Reads every key in [`ConfigKey::ALL`] from the process environment; unset or empty keys
    /// keep their defaults.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first key whose value is malformed, names a backend
    /// this build does not include, or does not fit with the others.
    pub fn from_env() -> Result<Self, Error> {
        ConfigBuilder::from_env()?.build()
    }

    /// Like [`Config::from_env`], reading keys from `pairs` instead (later pairs win).
    ///
    /// # Errors
    /// As [`Config::from_env`].
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self, Error>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        ConfigBuilder::from_pairs(pairs)?.build()
    }

    /// Which store to use.
    pub fn session_type(&self) -> SessionType {
        self.session_type
    }

    /// The Redis URL (`SESSION_REDIS`).
    pub fn redis_url(&self) -> &str {
        &self.redis_url
    }

    /// The Memcached servers (`SESSION_MEMCACHED`).
    pub fn memcached_servers(&self) -> &[String] {
        &self.memcached_servers
    }

    /// How keys are placed on the Memcached servers (`SESSION_MEMCACHED_PLACEMENT`).
    #[cfg(feature = "memcached")]
    #[cfg_attr(docsrs, doc(cfg(feature = "memcached")))]
    pub fn memcached_placement(&self) -> MemcachedPlacement {
        self.memcached_placement
    }

    /// The database URL (`SESSION_SQL_URL`).
    pub fn sql_url(&self) -> Option<&str> {
        self.sql_url.as_deref()
    }

    /// The SQL table (`SESSION_SQL_TABLE`), checked to be a plain identifier when a SQL
    /// backend is compiled in.
    pub fn sql_table(&self) -> &str {
        &self.sql_table
    }

    /// The store key prefix (`SESSION_KEY_PREFIX`).
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    /// The interval of expired-record sweeps of the SQL stores (`SESSION_CLEANUP_INTERVAL`,
    /// default [`DEFAULT_CLEANUP_INTERVAL`]); `None` when turned off. Other stores expire
    /// records by themselves and ignore it.
    pub fn cleanup_interval(&self) -> Option<Duration> {
        self.cleanup_interval
    }

    /// The most sessions the memory store holds (`SESSION_MEMORY_MAX_SESSIONS`).
    pub fn memory_max_sessions(&self) -> NonZeroUsize {
        self.memory_max_sessions
    }

    /// Whether the Redis store keeps a near cache (`SESSION_NEAR_CACHE`, default on).
    pub fn near_cache(&self) -> bool {
        self.near_cache.on
    }

    /// The most sessions the Redis near cache holds (`SESSION_NEAR_CACHE_ENTRIES`); `None`
    /// for the store's default (10,000).
    pub fn near_cache_entries(&self) -> Option<NonZeroUsize> {
        self.near_cache.entries
    }

    /// The most bytes the Redis near cache holds (`SESSION_NEAR_CACHE_BYTES`); `None` for
    /// the store's default (64 MiB).
    pub fn near_cache_bytes(&self) -> Option<NonZeroUsize> {
        self.near_cache.bytes
    }

    /// Session behaviour and cookie settings, for the request lifecycle.
    pub fn session(&self) -> &SessionConfig {
        &self.session
    }

    /// The store sessions are moved from while they are used (`SESSION_MIGRATE_FROM`), as
    /// a configuration of its own: [`connect`](crate::connect) then returns a
    /// [`MigratingStore`](sessionkit_core::MigratingStore) over this configuration's
    /// store and that one. Only its store settings are used; the session settings are
    /// this configuration's.
    pub fn migrate_from(&self) -> Option<&Config> {
        self.migrate_from.as_deref()
    }
}

impl fmt::Debug for Config {
    /// Passwords in URLs and secret keys are not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Config");
        d.field("session_type", &self.session_type)
            .field("redis_url", &redact_url(&self.redis_url))
            .field(
                "memcached_servers",
                &self
                    .memcached_servers
                    .iter()
                    .map(|s| redact_url(s))
                    .collect::<Vec<_>>(),
            );
        #[cfg(feature = "memcached")]
        d.field("memcached_placement", &self.memcached_placement);
        d.field("sql_url", &self.sql_url.as_deref().map(redact_url))
            .field("sql_table", &self.sql_table)
            .field("key_prefix", &self.key_prefix)
            .field("cleanup_interval", &self.cleanup_interval)
            .field("memory_max_sessions", &self.memory_max_sessions)
            .field("near_cache", &self.near_cache)
            .field("session", &self.session)
            .field("migrate_from", &self.migrate_from)
            .finish()
    }
}

/// Builds a [`Config`]; every setter overrides the default or the environment.
#[derive(Clone)]
pub struct ConfigBuilder {
    config: Config,
    /// `SESSION_MIGRATE_FROM`, resolved against the rest by [`ConfigBuilder::build`].
    old_store: Option<OldStore>,
}

impl Default for ConfigBuilder {
    fn default() -> Self {
        Self {
            config: Config {
                session_type: SessionType::Memory,
                redis_url: DEFAULT_REDIS_URL.to_owned(),
                memcached_servers: vec![DEFAULT_MEMCACHED_SERVER.to_owned()],
                #[cfg(feature = "memcached")]
                memcached_placement: MemcachedPlacement::default(),
                sql_url: None,
                sql_table: DEFAULT_SQL_TABLE.to_owned(),
                key_prefix: DEFAULT_KEY_PREFIX.to_owned(),
                cleanup_interval: Some(DEFAULT_CLEANUP_INTERVAL),
                memory_max_sessions: MemoryStore::DEFAULT_MAX_SESSIONS,
                near_cache: NearCache {
                    on: true,
                    entries: None,
                    bytes: None,
                },
                session: SessionConfig::default(),
                migrate_from: None,
            },
            old_store: None,
        }
    }
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ConfigBuilder")
            .field(&self.config)
            .field(&self.old_store)
            .finish()
    }
}

impl ConfigBuilder {
    /// A builder holding the defaults overridden by the process environment.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first malformed key.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// A builder holding the defaults overridden by `pairs`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first malformed key.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self, Error>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let map: std::collections::HashMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
            .collect();
        Self::from_lookup(|key| map.get(key).cloned())
    }

    /// A builder holding the defaults overridden by what `lookup` returns for each key in
    /// [`ConfigKey::ALL`]; `None` or an empty value keeps the default.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first malformed key.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        ConfigKey::ALL
            .iter()
            .try_fold(Self::default(), |builder, &key| {
                match lookup(key.as_str()) {
                    // An empty prefix is a legitimate choice, so it is not treated as unset.
                    Some(v) if !v.trim().is_empty() || key == ConfigKey::KeyPrefix => {
                        builder.with_config(key, &v)
                    }
                    _ => Ok(builder),
                }
            })
    }

    /// Sets `key` from its text, as the environment gives it (object_store's
    /// `with_config`).
    ///
    /// ```
    /// use sessionkit::{ConfigBuilder, ConfigKey};
    ///
    /// let config = ConfigBuilder::default()
    ///     .with_config(ConfigKey::Lifetime, "3600")?
    ///     .build()?;
    /// assert_eq!(config.session().lifetime.as_secs(), 3600);
    /// # Ok::<(), sessionkit::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] naming the key when the value is malformed.
    pub fn with_config(mut self, key: ConfigKey, value: &str) -> Result<Self, Error> {
        let c = &mut self.config;
        let s = &mut c.session;
        let v = value.trim();
        match key {
            ConfigKey::SessionType => c.session_type = v.parse()?,
            ConfigKey::Redis => c.redis_url = v.to_owned(),
            ConfigKey::Memcached => c.memcached_servers = parse::list(v),
            #[cfg(feature = "memcached")]
            ConfigKey::MemcachedPlacement => c.memcached_placement = v.parse()?,
            // Read by the Memcached store only, which this build does not include.
            #[cfg(not(feature = "memcached"))]
            ConfigKey::MemcachedPlacement => {}
            ConfigKey::SqlUrl => c.sql_url = Some(v.to_owned()),
            ConfigKey::SqlTable => c.sql_table = v.to_owned(),
            ConfigKey::KeyPrefix => c.key_prefix = value.to_owned(),
            ConfigKey::CleanupInterval => c.cleanup_interval = parse::whole_seconds_or_off(key, v)?,
            ConfigKey::MemoryMaxSessions => c.memory_max_sessions = parse::count(key, v)?,
            ConfigKey::NearCache => c.near_cache.on = parse::boolean(key, v)?,
            ConfigKey::NearCacheEntries => c.near_cache.entries = Some(parse::count(key, v)?),
            ConfigKey::NearCacheBytes => c.near_cache.bytes = Some(parse::count(key, v)?),
            ConfigKey::StoreTimeout => s.store_timeout = parse::seconds(key, v)?,
            ConfigKey::MigrateFrom => self.old_store = Some(migrate_from::parse(value)?),
            ConfigKey::Permanent => s.permanent = parse::boolean(key, v)?,
            ConfigKey::Lifetime => s.lifetime = parse::whole_seconds(key, v)?,
            ConfigKey::AbsoluteLifetime => {
                s.absolute_lifetime = Some(parse::whole_seconds(key, v)?);
            }
            ConfigKey::MaxSize => s.max_size = parse::count(key, v)?.get(),
            ConfigKey::AuthKeys => s.auth_keys = parse::list(v),
            ConfigKey::UserIndex => s.user_index = parse::boolean(key, v)?,
            ConfigKey::UserKey => s.user_key = v.to_owned(),
            ConfigKey::MaxPerUser => s.max_per_user = Some(parse::count(key, v)?),
            ConfigKey::HashIds => s.hash_ids = parse::boolean(key, v)?,
            ConfigKey::RefreshEachRequest => s.refresh_each_request = parse::boolean(key, v)?,
            ConfigKey::RefreshStep => s.refresh_step = Some(parse::seconds_or_zero(key, v)?),
            ConfigKey::SerializationFormat => s.codec = v.parse::<Codec>()?,
            ConfigKey::CookieName => s.cookie.name = value.to_owned(),
            ConfigKey::CookieDomain => s.cookie.domain = Some(v.to_owned()),
            ConfigKey::CookiePath => s.cookie.path = v.to_owned(),
            ConfigKey::CookieHttpOnly => s.cookie.http_only = parse::boolean(key, v)?,
            ConfigKey::CookieSecure => s.cookie.secure = parse::boolean(key, v)?,
            ConfigKey::CookieSameSite => s.cookie.same_site = v.parse::<SameSite>()?,
            ConfigKey::CookiePartitioned => s.cookie.partitioned = parse::boolean(key, v)?,
            ConfigKey::UseSigner => s.use_signer = parse::boolean(key, v)?,
            ConfigKey::SecretKey => s.secret_key = Some(SecretKey::new(value)),
            ConfigKey::SignerFormat => s.signer_format = v.parse()?,
            ConfigKey::CookieFormat => s.cookie_format = v.parse()?,
            ConfigKey::SecretKeyFallbacks => {
                s.secret_key_fallbacks = parse::key_list(key, value)?
                    .into_iter()
                    .map(SecretKey::new)
                    .collect();
            }
            // Every key of this version is handled above (`ConfigKey` is non-exhaustive for
            // other crates; a test sets every key in `ConfigKey::ALL`).
            _ => {
                return Err(Error::UnknownConfigKey {
                    key: key.as_str().to_owned(),
                });
            }
        }
        Ok(self)
    }

    /// Which store to use (`SESSION_TYPE`).
    pub fn session_type(mut self, session_type: SessionType) -> Self {
        self.config.session_type = session_type;
        self
    }

    /// The Redis URL (`SESSION_REDIS`).
    pub fn redis_url(mut self, url: impl Into<String>) -> Self {
        self.config.redis_url = url.into();
        self
    }

    /// The Memcached servers (`SESSION_MEMCACHED`), as `host:port`.
    pub fn memcached_servers<S: Into<String>>(
        mut self,
        servers: impl IntoIterator<Item = S>,
    ) -> Self {
        self.config.memcached_servers = servers.into_iter().map(Into::into).collect();
        self
    }

    /// How keys are placed on the Memcached servers (`SESSION_MEMCACHED_PLACEMENT`, default
    /// [`MemcachedPlacement::Sessionkit`]): [`MemcachedPlacement::Pymemcache`] shares them
    /// with a Flask app whose Flask-Session uses a pymemcache `HashClient` over the same
    /// servers.
    #[cfg(feature = "memcached")]
    #[cfg_attr(docsrs, doc(cfg(feature = "memcached")))]
    pub fn memcached_placement(mut self, placement: MemcachedPlacement) -> Self {
        self.config.memcached_placement = placement;
        self
    }

    /// The database URL (`SESSION_SQL_URL`).
    pub fn sql_url(mut self, url: impl Into<String>) -> Self {
        self.config.sql_url = Some(url.into());
        self
    }

    /// The SQL table (`SESSION_SQL_TABLE`); checked by [`ConfigBuilder::build`].
    pub fn sql_table(mut self, table: impl Into<String>) -> Self {
        self.config.sql_table = table.into();
        self
    }

    /// The store key prefix (`SESSION_KEY_PREFIX`).
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.key_prefix = prefix.into();
        self
    }

    /// Sweep expired rows of a SQL store this often (`SESSION_CLEANUP_INTERVAL`, default
    /// [`DEFAULT_CLEANUP_INTERVAL`]); [`Duration::ZERO`] turns the sweep off.
    pub fn cleanup_interval(mut self, interval: Duration) -> Self {
        self.config.cleanup_interval = Some(interval).filter(|i| !i.is_zero());
        self
    }

    /// The most sessions the memory store holds before it evicts the least recently used
    /// (`SESSION_MEMORY_MAX_SESSIONS`).
    pub fn memory_max_sessions(mut self, max_sessions: NonZeroUsize) -> Self {
        self.config.memory_max_sessions = max_sessions;
        self
    }

    /// Turns the Redis store's near cache on (the default) or off (`SESSION_NEAR_CACHE`).
    pub fn near_cache(mut self, on: bool) -> Self {
        self.config.near_cache.on = on;
        self
    }

    /// The most sessions the Redis near cache holds (`SESSION_NEAR_CACHE_ENTRIES`).
    pub fn near_cache_entries(mut self, entries: NonZeroUsize) -> Self {
        self.config.near_cache.entries = Some(entries);
        self
    }

    /// The most bytes the Redis near cache holds (`SESSION_NEAR_CACHE_BYTES`).
    pub fn near_cache_bytes(mut self, bytes: NonZeroUsize) -> Self {
        self.config.near_cache.bytes = Some(bytes);
        self
    }

    /// Moves sessions from the store `old` describes while they are used
    /// (`SESSION_MIGRATE_FROM`): [`connect`](crate::connect) wraps the two stores in a
    /// [`MigratingStore`](sessionkit_core::MigratingStore). Only `old`'s store settings
    /// are used, as it is (its key prefix and store timeout included); the key
    /// `SESSION_MIGRATE_FROM` instead takes this configuration's prefix and timeout for
    /// what it does not set.
    ///
    /// ```
    /// # #[cfg(all(feature = "redis", feature = "memcached"))] {
    /// use sessionkit::{Config, SessionType};
    ///
    /// let old = Config::builder()
    ///     .session_type(SessionType::Memcached)
    ///     .memcached_servers(["127.0.0.1:11211"])
    ///     .build()?;
    /// let config = Config::builder()
    ///     .session_type(SessionType::Redis)
    ///     .migrate_from(old)
    ///     .build()?;
    /// assert_eq!(
    ///     config.migrate_from().map(Config::session_type),
    ///     Some(SessionType::Memcached)
    /// );
    /// # }
    /// # Ok::<(), sessionkit::Error>(())
    /// ```
    pub fn migrate_from(mut self, old: Config) -> Self {
        self.old_store = Some(OldStore::Config(Box::new(old)));
        self
    }

    /// Changes the session and cookie settings in place: the [`SessionConfig`] fields, each
    /// documented with its key (`SESSION_PERMANENT`, `PERMANENT_SESSION_LIFETIME`,
    /// `SESSION_COOKIE_*`, `SECRET_KEY`, ...).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sessionkit::{Config, SecretKey};
    ///
    /// let config = Config::builder()
    ///     .session(|s| {
    ///         s.lifetime = Duration::from_secs(3600);
    ///         s.cookie.secure = true;
    ///         s.use_signer = true;
    ///         s.secret_key = Some(SecretKey::new("a signing key of 32 bytes or more"));
    ///     })
    ///     .build()?;
    /// assert!(config.session().cookie.secure);
    /// # Ok::<(), sessionkit::Error>(())
    /// ```
    pub fn session(mut self, change: impl FnOnce(&mut SessionConfig)) -> Self {
        change(&mut self.config.session);
        self
    }

    /// Checks the settings as a whole and returns the [`Config`].
    ///
    /// # Errors
    /// [`Error::Config`] naming the key: a backend this build does not include, a SQL store
    /// without `SESSION_SQL_URL`, an invalid table name or Redis URL, no Memcached server, a
    /// cleanup interval over 100 years, and everything [`SessionConfig::validate`] checks
    /// (with `SESSION_TYPE=cookie`, [`SessionConfig::validate_in_cookie`] too:
    /// [`Error::Unsupported`] for a user index); with `SESSION_MIGRATE_FROM`, the same
    /// checks of the old store's settings, named `SESSION_MIGRATE_FROM`, and an old store
    /// that keeps nothing to move (`memory`, `cookie`).
    pub fn build(self) -> Result<Config, Error> {
        let mut config = self.config;
        let session_type = config.session_type;
        if !session_type.is_compiled_in() {
            let feature = session_type.feature().unwrap_or_default();
            return Err(Error::config(
                ConfigKey::SessionType,
                session_type.name(),
                format!(
                    "the `{session_type}` backend is not compiled into this build; enable the \
                     `{feature}` feature of sessionkit"
                ),
            ));
        }
        #[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
        sessionkit_sql::TableName::new(config.sql_table.as_str())?;
        #[cfg(feature = "redis")]
        if session_type == SessionType::Redis {
            sessionkit_redis::RedisUrl::parse(&config.redis_url)?;
        }
        if matches!(
            session_type,
            SessionType::Postgres | SessionType::MySql | SessionType::Sqlite
        ) && config.sql_url.is_none()
        {
            return Err(Error::config(
                ConfigKey::SqlUrl,
                "",
                format!("SESSION_TYPE={session_type} needs a database URL in SESSION_SQL_URL"),
            ));
        }
        if let Some(interval) = config.cleanup_interval
            && interval > Duration::from_secs(parse::MAX_WHOLE_SECONDS)
        {
            return Err(Error::config(
                ConfigKey::CleanupInterval,
                interval.as_secs().to_string(),
                format!(
                    "must be at most {} seconds (100 years)",
                    parse::MAX_WHOLE_SECONDS
                ),
            ));
        }
        if session_type == SessionType::Memcached && config.memcached_servers.is_empty() {
            return Err(Error::config(
                ConfigKey::Memcached,
                "",
                "at least one Memcached server (host:port) is needed",
            ));
        }
        config.session.validate()?;
        if session_type == SessionType::Cookie {
            config.session.validate_in_cookie()?;
        }
        if let Some(old) = self.old_store {
            config.migrate_from = Some(Box::new(old.resolve(&config)?));
        }
        Ok(config)
    }
}
