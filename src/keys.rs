//! The configuration keys, named as in Flask and Flask-Session where one exists.

/// Which store: `memory` (default), `redis`, `memcached`, `postgres`, `mysql`, `sqlite`.
pub const SESSION_TYPE: &str = "SESSION_TYPE";
/// Redis URL, default `redis://127.0.0.1:6379`.
pub const SESSION_REDIS: &str = "SESSION_REDIS";
/// Comma-separated Memcached servers, default `127.0.0.1:11211`.
pub const SESSION_MEMCACHED: &str = "SESSION_MEMCACHED";
/// Database URL for the SQL stores (required for them).
pub const SESSION_SQL_URL: &str = "SESSION_SQL_URL";
/// SQL table name, default `sessions`.
pub const SESSION_SQL_TABLE: &str = "SESSION_SQL_TABLE";
/// Prefix of every store key, default `session:`.
pub const SESSION_KEY_PREFIX: &str = "SESSION_KEY_PREFIX";
/// Seconds between expired-row sweeps of the SQL stores, default `300`; `0` turns them off.
pub const SESSION_CLEANUP_INTERVAL: &str = "SESSION_CLEANUP_INTERVAL";
/// Most sessions the memory store holds before it evicts the least recently used, default
/// `100000` ([`MemoryStore::DEFAULT_MAX_SESSIONS`](crate::MemoryStore::DEFAULT_MAX_SESSIONS)).
pub const SESSION_MEMORY_MAX_SESSIONS: &str = "SESSION_MEMORY_MAX_SESSIONS";
/// Seconds (decimals allowed) a store call may take, default `1`.
pub const SESSION_STORE_TIMEOUT: &str = "SESSION_STORE_TIMEOUT";
/// Whether new sessions are permanent, default `true`.
pub const SESSION_PERMANENT: &str = "SESSION_PERMANENT";
/// Session lifetime in seconds, default `2678400` (31 days), at most `34560000` (400 days).
pub const PERMANENT_SESSION_LIFETIME: &str = "PERMANENT_SESSION_LIFETIME";
/// Seconds a session may live from its creation whatever its activity; unset: no limit.
pub const SESSION_ABSOLUTE_LIFETIME: &str = "SESSION_ABSOLUTE_LIFETIME";
/// Largest encoded session in bytes, default `65536`.
pub const SESSION_MAX_SIZE: &str = "SESSION_MAX_SIZE";
/// Comma-separated session keys whose removal is a logout, default `_user_id`.
pub const SESSION_AUTH_KEYS: &str = "SESSION_AUTH_KEYS";
/// Whether reads slide the expiry, default `true`.
pub const SESSION_REFRESH_EACH_REQUEST: &str = "SESSION_REFRESH_EACH_REQUEST";
/// `msgpack` (default) or `json`.
pub const SESSION_SERIALIZATION_FORMAT: &str = "SESSION_SERIALIZATION_FORMAT";
/// Cookie name, default `session`.
pub const SESSION_COOKIE_NAME: &str = "SESSION_COOKIE_NAME";
/// Cookie `Domain`, default none.
pub const SESSION_COOKIE_DOMAIN: &str = "SESSION_COOKIE_DOMAIN";
/// Cookie `Path`, default `/`.
pub const SESSION_COOKIE_PATH: &str = "SESSION_COOKIE_PATH";
/// Cookie `HttpOnly`, default `true`.
pub const SESSION_COOKIE_HTTPONLY: &str = "SESSION_COOKIE_HTTPONLY";
/// Cookie `Secure`, default `false`.
pub const SESSION_COOKIE_SECURE: &str = "SESSION_COOKIE_SECURE";
/// Cookie `SameSite`: `Strict`, `Lax` (default) or `None`.
pub const SESSION_COOKIE_SAMESITE: &str = "SESSION_COOKIE_SAMESITE";
/// Cookie `Partitioned`, default `false`.
pub const SESSION_COOKIE_PARTITIONED: &str = "SESSION_COOKIE_PARTITIONED";
/// Whether the cookie's id is signed, default `false`.
pub const SESSION_USE_SIGNER: &str = "SESSION_USE_SIGNER";
/// The signing key: at least 32 bytes with the default signer format; with
/// `itsdangerous` a Flask app's shorter key is accepted with a warning.
pub const SECRET_KEY: &str = "SECRET_KEY";
/// Older signing keys still accepted: a JSON array of strings (`["old1","old,2"]`, so a
/// key may contain a comma), or one plain key without a comma.
pub const SECRET_KEY_FALLBACKS: &str = "SECRET_KEY_FALLBACKS";
/// `hmac-sha256` (default) or `itsdangerous` (Flask-Session's signed cookies).
pub const SESSION_SIGNER_FORMAT: &str = "SESSION_SIGNER_FORMAT";

/// Every key [`Config::from_env`](crate::Config::from_env) reads.
pub const ALL: &[&str] = &[
    SESSION_TYPE,
    SESSION_REDIS,
    SESSION_MEMCACHED,
    SESSION_SQL_URL,
    SESSION_SQL_TABLE,
    SESSION_KEY_PREFIX,
    SESSION_CLEANUP_INTERVAL,
    SESSION_MEMORY_MAX_SESSIONS,
    SESSION_STORE_TIMEOUT,
    SESSION_PERMANENT,
    PERMANENT_SESSION_LIFETIME,
    SESSION_ABSOLUTE_LIFETIME,
    SESSION_MAX_SIZE,
    SESSION_AUTH_KEYS,
    SESSION_REFRESH_EACH_REQUEST,
    SESSION_SERIALIZATION_FORMAT,
    SESSION_COOKIE_NAME,
    SESSION_COOKIE_DOMAIN,
    SESSION_COOKIE_PATH,
    SESSION_COOKIE_HTTPONLY,
    SESSION_COOKIE_SECURE,
    SESSION_COOKIE_SAMESITE,
    SESSION_COOKIE_PARTITIONED,
    SESSION_USE_SIGNER,
    SECRET_KEY,
    SECRET_KEY_FALLBACKS,
    SESSION_SIGNER_FORMAT,
];
