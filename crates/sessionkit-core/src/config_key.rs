//! [`ConfigKey`]: every configuration key, by the name Flask or Flask-Session gives it
//! where one exists.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// Writes the enum, its names and the list of all keys from one table, so that adding a
/// key is one line here (plus what it sets, in the facade's `ConfigBuilder::with_config`).
macro_rules! config_keys {
    ($( $(#[doc = $doc:literal])+ $variant:ident = $name:literal, )+) => {
        /// A configuration key. [`ConfigKey::as_str`] is the name read from the environment
        /// and shown in errors; [`ConfigKey::ALL`] lists every key. The README's table is
        /// the reference, with each key's default.
        ///
        /// ```
        /// use sessionkit_core::ConfigKey;
        ///
        /// let key: ConfigKey = "SESSION_TYPE".parse()?;
        /// assert_eq!(key, ConfigKey::SessionType);
        /// assert_eq!(key.as_str(), "SESSION_TYPE");
        /// assert!(ConfigKey::ALL.contains(&ConfigKey::SecretKey));
        /// # Ok::<(), sessionkit_core::Error>(())
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ConfigKey {
            $( $(#[doc = $doc])+ $variant, )+
        }

        impl ConfigKey {
            /// Every key, in the order of the README's table.
            pub const ALL: &'static [ConfigKey] = &[$(ConfigKey::$variant),+];

            /// The key's name, as in the environment.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( ConfigKey::$variant => $name, )+
                }
            }
        }
    };
}

config_keys! {
    /// `memory` (default), `redis`, `memcached`, `postgres`, `mysql` or `sqlite`.
    SessionType = "SESSION_TYPE",
    /// The Redis URL, default `redis://127.0.0.1:6379`.
    Redis = "SESSION_REDIS",
    /// Comma-separated Memcached servers, default `127.0.0.1:11211`.
    Memcached = "SESSION_MEMCACHED",
    /// Which Memcached server holds a key: `sessionkit` (default, XXH3 rendezvous hashing)
    /// or `pymemcache` (as pymemcache's `HashClient`, to share the servers with a Flask app).
    MemcachedPlacement = "SESSION_MEMCACHED_PLACEMENT",
    /// The database URL of the SQL stores (required for them).
    SqlUrl = "SESSION_SQL_URL",
    /// The SQL table, default `sessions`.
    SqlTable = "SESSION_SQL_TABLE",
    /// The prefix of every store key, default `session:` (may be empty).
    KeyPrefix = "SESSION_KEY_PREFIX",
    /// Seconds between the SQL stores' expired-row sweeps, default `300`; `0` turns them off.
    CleanupInterval = "SESSION_CLEANUP_INTERVAL",
    /// The most sessions the memory store holds, default `100000`.
    MemoryMaxSessions = "SESSION_MEMORY_MAX_SESSIONS",
    /// Whether the Redis store keeps recently used sessions in process, coherent through
    /// RESP3 client tracking: `on` (default; off by itself where the server cannot track)
    /// or `off`.
    NearCache = "SESSION_NEAR_CACHE",
    /// The most sessions the Redis near cache holds, default `10000`.
    NearCacheEntries = "SESSION_NEAR_CACHE_ENTRIES",
    /// The most bytes the Redis near cache holds, default `67108864` (64 MiB).
    NearCacheBytes = "SESSION_NEAR_CACHE_BYTES",
    /// Seconds (decimals allowed) a store call may take, default `1`.
    StoreTimeout = "SESSION_STORE_TIMEOUT",
    /// The store sessions are moved from while they are used, as a JSON object of its
    /// store keys (`{"SESSION_TYPE":"memcached","SESSION_MEMCACHED":"127.0.0.1:11211"}`);
    /// unset: no migration.
    MigrateFrom = "SESSION_MIGRATE_FROM",
    /// Whether new sessions are permanent, default `true`.
    Permanent = "SESSION_PERMANENT",
    /// The session lifetime in seconds, default `2678400` (31 days), at most 400 days.
    Lifetime = "PERMANENT_SESSION_LIFETIME",
    /// Seconds a session may live from its creation whatever its activity; unset: no limit.
    AbsoluteLifetime = "SESSION_ABSOLUTE_LIFETIME",
    /// The largest encoded session in bytes, default `65536`.
    MaxSize = "SESSION_MAX_SIZE",
    /// Comma-separated session keys whose removal is a logout, default `_user_id`.
    AuthKeys = "SESSION_AUTH_KEYS",
    /// Whether sessions are indexed by user, to list and revoke them, default `false`.
    UserIndex = "SESSION_USER_INDEX",
    /// The session key naming the user a session belongs to, default `_user_id`;
    /// `key/field` for a field of a map (axum-login: `axum-login.data/user_id`).
    UserKey = "SESSION_USER_KEY",
    /// The most sessions one user may have (older ones are revoked at login); unset: no
    /// limit. Turns the user index on.
    MaxPerUser = "SESSION_MAX_PER_USER",
    /// Whether stores keep a SHA-256 of each id instead of the id, default `false`.
    HashIds = "SESSION_HASH_IDS",
    /// Whether reads slide the expiry, default `true`.
    RefreshEachRequest = "SESSION_REFRESH_EACH_REQUEST",
    /// Seconds (decimals allowed) a read must move the expiry before the store is asked
    /// to; default 1% of the lifetime, at least 1; `0`: every read.
    RefreshStep = "SESSION_REFRESH_STEP",
    /// `msgpack` (default) or `json`.
    SerializationFormat = "SESSION_SERIALIZATION_FORMAT",
    /// The cookie name, default `session`.
    CookieName = "SESSION_COOKIE_NAME",
    /// The cookie `Domain`, default none.
    CookieDomain = "SESSION_COOKIE_DOMAIN",
    /// The cookie `Path`, default `/`.
    CookiePath = "SESSION_COOKIE_PATH",
    /// The cookie `HttpOnly`, default `true`.
    CookieHttpOnly = "SESSION_COOKIE_HTTPONLY",
    /// The cookie `Secure`, default `false`.
    CookieSecure = "SESSION_COOKIE_SECURE",
    /// The cookie `SameSite`: `Strict`, `Lax` (default) or `None`.
    CookieSameSite = "SESSION_COOKIE_SAMESITE",
    /// The cookie `Partitioned`, default `false`.
    CookiePartitioned = "SESSION_COOKIE_PARTITIONED",
    /// Whether the cookie's id is signed, default `false`.
    UseSigner = "SESSION_USE_SIGNER",
    /// The signing key: at least 32 bytes with the default signer format.
    SecretKey = "SECRET_KEY",
    /// Older signing keys still accepted: a JSON array of strings (`["old1","old2"]`), or
    /// one key without a comma.
    SecretKeyFallbacks = "SECRET_KEY_FALLBACKS",
    /// `hmac-sha256` (default) or `itsdangerous` (Flask-Session's signed cookies).
    SignerFormat = "SESSION_SIGNER_FORMAT",
    /// With `SESSION_TYPE=cookie`: `sealed` (default, encrypted) or `flask` (Flask's
    /// default signed session cookie).
    CookieFormat = "SESSION_COOKIE_FORMAT",
}

impl FromStr for ConfigKey {
    type Err = Error;

    /// The key named `s` exactly (keys are case-sensitive, as environment variables).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|key| key.as_str() == s)
            .ok_or_else(|| Error::UnknownConfigKey { key: s.to_owned() })
    }
}

impl fmt::Display for ConfigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_round_trips_through_its_name_and_names_are_unique() {
        let mut names = std::collections::HashSet::new();
        for key in ConfigKey::ALL {
            assert_eq!(key.as_str().parse::<ConfigKey>().unwrap(), *key);
            assert!(names.insert(key.as_str()), "{key} twice");
        }
        assert!("session_type".parse::<ConfigKey>().is_err());
    }
}
