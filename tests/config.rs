//! Configuration from Flask-Session keys: defaults, parsing, and one clear error per kind of
//! mistake, naming the key and the value.

use std::num::NonZeroUsize;
use std::time::Duration;

use sessionkit::{
    Codec, Config, ConfigBuilder, ConfigKey, CookieFormat, ErrorKind, MemoryStore, SameSite,
    SessionType,
};

fn config(pairs: &[(&str, &str)]) -> Result<Config, sessionkit::Error> {
    Config::from_pairs(pairs.iter().copied())
}

/// Asserts that `pairs` is refused with a config error naming `key` and `value`.
fn refused(pairs: &[(&str, &str)], key: &str, value: &str) -> String {
    let err = config(pairs).expect_err("configuration must be refused");
    assert_eq!(err.kind(), ErrorKind::Config, "{err:?}");
    let message = err.to_string();
    assert!(message.contains(key), "{message:?} does not name {key}");
    assert!(
        message.contains(value),
        "{message:?} does not quote {value:?}"
    );
    message
}

#[test]
fn no_keys_means_memory_with_flask_defaults() {
    let c = config(&[]).unwrap();
    assert_eq!(c.session_type(), SessionType::Memory);
    assert_eq!(c.key_prefix(), "session:");
    assert_eq!(c.redis_url(), "redis://127.0.0.1:6379");
    assert_eq!(c.memcached_servers(), ["127.0.0.1:11211"]);
    assert_eq!(c.sql_table(), "sessions");
    assert_eq!(c.memory_max_sessions(), MemoryStore::DEFAULT_MAX_SESSIONS);
    assert_eq!(
        c.cleanup_interval(),
        Some(sessionkit::DEFAULT_CLEANUP_INTERVAL)
    );
    let s = c.session();
    assert!(s.permanent);
    assert_eq!(s.lifetime, Duration::from_secs(2_678_400));
    assert!(s.refresh_each_request);
    assert_eq!(s.codec, Codec::MessagePack);
    assert_eq!(s.cookie.name, "session");
    assert_eq!(s.cookie.path, "/");
    assert!(s.cookie.http_only && !s.cookie.secure && !s.cookie.partitioned);
    assert_eq!(s.cookie.same_site, SameSite::Lax);
    assert!(!s.use_signer);
    assert_eq!(s.store_timeout, Duration::from_secs(1));
}

#[test]
fn every_key_is_read() {
    let c = config(&[
        ("SESSION_TYPE", "memory"),
        ("SESSION_REDIS", "redis://cache:6380/2"),
        ("SESSION_MEMCACHED", "10.0.0.1:11211, 10.0.0.2:11211"),
        ("SESSION_SQL_URL", "postgres://db/app"),
        ("SESSION_SQL_TABLE", "web_sessions"),
        ("SESSION_KEY_PREFIX", "app:"),
        ("SESSION_CLEANUP_INTERVAL", "120"),
        ("SESSION_MEMORY_MAX_SESSIONS", "5000"),
        ("SESSION_NEAR_CACHE", "off"),
        ("SESSION_NEAR_CACHE_ENTRIES", "500"),
        ("SESSION_NEAR_CACHE_BYTES", "1048576"),
        ("SESSION_STORE_TIMEOUT", "0.25"),
        ("SESSION_PERMANENT", "false"),
        ("PERMANENT_SESSION_LIFETIME", "3600"),
        ("SESSION_ABSOLUTE_LIFETIME", "43200"),
        ("SESSION_MAX_SIZE", "8192"),
        ("SESSION_AUTH_KEYS", "_user_id, account_id"),
        ("SESSION_REFRESH_EACH_REQUEST", "no"),
        ("SESSION_SERIALIZATION_FORMAT", "json"),
        ("SESSION_COOKIE_NAME", "__Host-sid"),
        ("SESSION_COOKIE_PATH", "/"),
        ("SESSION_COOKIE_HTTPONLY", "0"),
        ("SESSION_COOKIE_SECURE", "true"),
        ("SESSION_COOKIE_SAMESITE", "strict"),
        ("SESSION_COOKIE_PARTITIONED", "on"),
        ("SESSION_USE_SIGNER", "true"),
        ("SECRET_KEY", KEY),
        ("SESSION_COOKIE_FORMAT", "flask"),
        (
            "SECRET_KEY_FALLBACKS",
            r#"["k0: at least 32 bytes, random....", "kold, with a comma, 32 bytes or more"]"#,
        ),
    ])
    .unwrap();
    assert_eq!(c.redis_url(), "redis://cache:6380/2");
    assert_eq!(c.memcached_servers(), ["10.0.0.1:11211", "10.0.0.2:11211"]);
    assert_eq!(c.sql_url(), Some("postgres://db/app"));
    assert_eq!(c.sql_table(), "web_sessions");
    assert_eq!(c.key_prefix(), "app:");
    assert_eq!(c.cleanup_interval(), Some(Duration::from_secs(120)));
    assert_eq!(c.memory_max_sessions().get(), 5000);
    assert!(!c.near_cache());
    assert_eq!(c.near_cache_entries().map(|n| n.get()), Some(500));
    assert_eq!(c.near_cache_bytes().map(|n| n.get()), Some(1_048_576));
    let s = c.session();
    assert_eq!(s.store_timeout, Duration::from_millis(250));
    assert!(!s.permanent && !s.refresh_each_request);
    assert_eq!(s.lifetime, Duration::from_secs(3600));
    assert_eq!(s.absolute_lifetime, Some(Duration::from_secs(43_200)));
    assert_eq!(s.max_size, 8192);
    assert_eq!(s.auth_keys, ["_user_id", "account_id"]);
    assert_eq!(s.codec, Codec::Json);
    assert_eq!(s.cookie.name, "__Host-sid");
    assert!(!s.cookie.http_only && s.cookie.secure && s.cookie.partitioned);
    assert_eq!(s.cookie.same_site, SameSite::Strict);
    assert!(s.use_signer);
    assert_eq!(s.cookie_format, CookieFormat::Flask);
    assert_eq!(s.secret_key.as_ref().unwrap().expose(), KEY.as_bytes());
    let fallbacks: Vec<&[u8]> = s.secret_key_fallbacks.iter().map(|k| k.expose()).collect();
    assert_eq!(
        fallbacks,
        [
            b"k0: at least 32 bytes, random....".as_slice(),
            b"kold, with a comma, 32 bytes or more".as_slice()
        ]
    );
}

/// A signing key long enough for the default signer format.
const KEY: &str = "k1: a random key of 32 bytes or more";

#[test]
fn empty_values_keep_defaults_except_the_prefix() {
    let c = config(&[
        ("SESSION_TYPE", ""),
        ("PERMANENT_SESSION_LIFETIME", " "),
        ("SESSION_KEY_PREFIX", ""),
    ])
    .unwrap();
    assert_eq!(c.session_type(), SessionType::Memory);
    assert_eq!(c.session().lifetime, Duration::from_secs(2_678_400));
    assert_eq!(c.key_prefix(), "", "an empty prefix is a choice, not unset");
}

#[test]
fn unknown_session_type_is_refused() {
    refused(&[("SESSION_TYPE", "redsi")], "SESSION_TYPE", "redsi");
}

#[test]
fn flask_only_session_type_says_so() {
    let message = refused(
        &[("SESSION_TYPE", "filesystem")],
        "SESSION_TYPE",
        "filesystem",
    );
    assert!(message.contains("not offered by sessionkit"), "{message}");
}

/// Only meaningful in a build that leaves some backend out (scripts/test runs this file
/// with `--no-default-features`).
#[cfg(not(all(
    feature = "redis",
    feature = "memcached",
    feature = "postgres",
    feature = "mysql",
    feature = "sqlite"
)))]
#[test]
fn backend_not_compiled_in_names_the_feature() {
    let missing: Vec<_> = SessionType::ALL
        .into_iter()
        .filter(|t| !t.is_compiled_in())
        .collect();
    assert!(!missing.is_empty());
    for session_type in missing {
        let name = session_type.name();
        let message = refused(
            &[("SESSION_TYPE", name), ("SESSION_SQL_URL", "x://y")],
            "SESSION_TYPE",
            name,
        );
        assert!(message.contains(&format!("`{name}` feature")), "{message}");
    }
}

#[test]
fn malformed_numbers_are_refused() {
    refused(
        &[("PERMANENT_SESSION_LIFETIME", "31d")],
        "PERMANENT_SESSION_LIFETIME",
        "31d",
    );
    refused(
        &[("PERMANENT_SESSION_LIFETIME", "-5")],
        "PERMANENT_SESSION_LIFETIME",
        "-5",
    );
    refused(
        &[("PERMANENT_SESSION_LIFETIME", "0")],
        "PERMANENT_SESSION_LIFETIME",
        "0",
    );
    refused(
        &[("SESSION_STORE_TIMEOUT", "fast")],
        "SESSION_STORE_TIMEOUT",
        "fast",
    );
    refused(
        &[("SESSION_CLEANUP_INTERVAL", "1.5")],
        "SESSION_CLEANUP_INTERVAL",
        "1.5",
    );
}

#[test]
fn session_bounds_are_checked() {
    refused(
        &[("SESSION_ABSOLUTE_LIFETIME", "0")],
        "SESSION_ABSOLUTE_LIFETIME",
        "0",
    );
    refused(
        &[("SESSION_ABSOLUTE_LIFETIME", "1h")],
        "SESSION_ABSOLUTE_LIFETIME",
        "1h",
    );
    refused(&[("SESSION_MAX_SIZE", "0")], "SESSION_MAX_SIZE", "0");
    refused(&[("SESSION_MAX_SIZE", "64k")], "SESSION_MAX_SIZE", "64k");
    refused(&[("SESSION_MAX_SIZE", "16")], "SESSION_MAX_SIZE", "16");
    let message = refused(
        &[("SESSION_ABSOLUTE_LIFETIME", "34560001")],
        "SESSION_ABSOLUTE_LIFETIME",
        "34560001",
    );
    assert!(message.contains("400 days"), "{message}");
    let defaults = config(&[]).unwrap();
    assert_eq!(defaults.session().absolute_lifetime, None);
    assert_eq!(defaults.session().max_size, 64 * 1024);
    assert_eq!(defaults.session().auth_keys, ["_user_id"]);
}

#[test]
fn memory_max_sessions_must_be_a_positive_whole_number() {
    for bad in ["0", "-3", "1.5", "lots"] {
        let message = refused(
            &[("SESSION_MEMORY_MAX_SESSIONS", bad)],
            "SESSION_MEMORY_MAX_SESSIONS",
            bad,
        );
        let expected = if bad == "0" {
            "at least 1"
        } else {
            "whole number"
        };
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn cleanup_interval_zero_turns_the_sweep_off() {
    let off = config(&[("SESSION_CLEANUP_INTERVAL", "0")]).unwrap();
    assert_eq!(off.cleanup_interval(), None);
    let built = Config::builder()
        .cleanup_interval(Duration::ZERO)
        .build()
        .unwrap();
    assert_eq!(built.cleanup_interval(), None);
    let every_minute = Config::builder()
        .cleanup_interval(Duration::from_secs(60))
        .build()
        .unwrap();
    assert_eq!(
        every_minute.cleanup_interval(),
        Some(Duration::from_secs(60))
    );
}

#[test]
fn lifetime_over_400_days_is_refused_naming_the_key() {
    let max = sessionkit_core::MAX_LIFETIME.as_secs().to_string();
    assert_eq!(max, "34560000");
    let c = config(&[("PERMANENT_SESSION_LIFETIME", &max)]).unwrap();
    assert_eq!(c.session().lifetime, Duration::from_secs(34_560_000));
    let message = refused(
        &[("PERMANENT_SESSION_LIFETIME", "34560001")],
        "PERMANENT_SESSION_LIFETIME",
        "34560001",
    );
    assert!(message.contains("400 days"), "{message}");
    let err = Config::builder()
        .session(|s| s.lifetime = Duration::MAX)
        .build()
        .unwrap_err();
    assert!(err.is_config(), "{err:?}");
    assert!(
        err.to_string().contains("PERMANENT_SESSION_LIFETIME"),
        "{err}"
    );
}

#[test]
fn seconds_that_would_overflow_a_timestamp_are_config_errors_not_panics() {
    for huge in ["18446744073709551615", "9223372036854775807", "3153600001"] {
        refused(
            &[("PERMANENT_SESSION_LIFETIME", huge)],
            "PERMANENT_SESSION_LIFETIME",
            huge,
        );
        refused(
            &[("SESSION_CLEANUP_INTERVAL", huge)],
            "SESSION_CLEANUP_INTERVAL",
            huge,
        );
    }
    let err = Config::builder()
        .cleanup_interval(Duration::MAX)
        .build()
        .unwrap_err();
    assert!(err.is_config(), "{err:?}");
    assert!(
        err.to_string().contains("SESSION_CLEANUP_INTERVAL"),
        "{err}"
    );
}

#[test]
fn malformed_booleans_are_refused() {
    refused(
        &[("SESSION_PERMANENT", "sometimes")],
        "SESSION_PERMANENT",
        "sometimes",
    );
    refused(
        &[("SESSION_COOKIE_SECURE", "y")],
        "SESSION_COOKIE_SECURE",
        "y",
    );
}

#[test]
fn malformed_enums_are_refused() {
    refused(
        &[("SESSION_SERIALIZATION_FORMAT", "pickle")],
        "SESSION_SERIALIZATION_FORMAT",
        "pickle",
    );
    refused(
        &[("SESSION_COOKIE_SAMESITE", "loose")],
        "SESSION_COOKIE_SAMESITE",
        "loose",
    );
}

#[test]
fn sessions_in_the_cookie_need_a_key_long_enough_for_their_format() {
    refused(&[("SESSION_TYPE", "cookie")], "SECRET_KEY", "");
    let message = refused(
        &[
            ("SESSION_TYPE", "cookie"),
            ("SECRET_KEY", "too-short-a-secret"),
        ],
        "SECRET_KEY",
        "SESSION_COOKIE_FORMAT=sealed",
    );
    assert!(!message.contains("too-short-a-secret"), "{message}");
    refused(
        &[
            ("SESSION_TYPE", "cookie"),
            ("SECRET_KEY", KEY),
            ("SECRET_KEY_FALLBACKS", "old-and-short"),
        ],
        "SECRET_KEY_FALLBACKS",
        "",
    );
    // Flask's own format keeps a Flask app's key, whatever its length (with a warning).
    let flask = config(&[
        ("SESSION_TYPE", "cookie"),
        ("SESSION_COOKIE_FORMAT", "flask"),
        ("SECRET_KEY", "dev"),
    ])
    .unwrap();
    assert_eq!(flask.session_type(), SessionType::Cookie);
    refused(
        &[
            ("SESSION_TYPE", "cookie"),
            ("SECRET_KEY", KEY),
            ("SESSION_COOKIE_FORMAT", "pickle"),
        ],
        "SESSION_COOKIE_FORMAT",
        "pickle",
    );
}

#[test]
fn sessions_in_the_cookie_refuse_what_needs_server_state() {
    for key in ["SESSION_USER_INDEX", "SESSION_MAX_PER_USER"] {
        let value = if key == "SESSION_USER_INDEX" {
            "true"
        } else {
            "3"
        };
        let err = config(&[
            ("SESSION_TYPE", "cookie"),
            ("SECRET_KEY", KEY),
            (key, value),
        ])
        .expect_err("a user index needs server state");
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err:?}");
        assert!(err.to_string().contains(key), "{err}");
    }
}

#[test]
fn illegal_cookie_name_is_refused() {
    refused(
        &[("SESSION_COOKIE_NAME", "my session")],
        "SESSION_COOKIE_NAME",
        "my session",
    );
    refused(
        &[("SESSION_COOKIE_NAME", "a;b=c")],
        "SESSION_COOKIE_NAME",
        "a;b=c",
    );
}

#[test]
fn same_site_none_without_secure_is_refused() {
    refused(
        &[("SESSION_COOKIE_SAMESITE", "None")],
        "SESSION_COOKIE_SAMESITE",
        "None",
    );
    config(&[
        ("SESSION_COOKIE_SAMESITE", "None"),
        ("SESSION_COOKIE_SECURE", "true"),
    ])
    .unwrap();
}

#[test]
fn signer_without_secret_key_is_refused() {
    refused(&[("SESSION_USE_SIGNER", "true")], "SECRET_KEY", "");
}

#[test]
fn own_signer_refuses_a_short_secret_key() {
    let message = refused(
        &[("SESSION_USE_SIGNER", "true"), ("SECRET_KEY", "dev-key")],
        "SECRET_KEY",
        "",
    );
    assert!(message.contains("32 bytes"), "{message}");
    refused(
        &[
            ("SESSION_USE_SIGNER", "true"),
            ("SECRET_KEY", KEY),
            ("SECRET_KEY_FALLBACKS", "old-dev-key"),
        ],
        "SECRET_KEY_FALLBACKS",
        "",
    );
}

#[test]
fn flask_format_keeps_a_short_secret_key() {
    let c = config(&[
        ("SESSION_USE_SIGNER", "true"),
        ("SECRET_KEY", "flask-dev-key"),
        ("SESSION_SIGNER_FORMAT", "itsdangerous"),
        ("SECRET_KEY_FALLBACKS", "older"),
    ])
    .unwrap();
    assert_eq!(
        c.session().secret_key.as_ref().unwrap().expose(),
        b"flask-dev-key"
    );
}

#[test]
fn secret_key_fallbacks_forms() {
    let fallbacks = |value: &str| {
        config(&[
            ("SESSION_USE_SIGNER", "true"),
            ("SECRET_KEY", KEY),
            ("SECRET_KEY_FALLBACKS", value),
        ])
        .map(|c| c.session().secret_key_fallbacks.clone())
    };
    let one = fallbacks("a single old key of 32 bytes or more").unwrap();
    assert_eq!(one.len(), 1);
    assert!(fallbacks("[]").unwrap().is_empty());
    let two =
        fallbacks(r#"["old, with a comma, 32 bytes long", "and another one, 32 bytes or more"]"#)
            .unwrap();
    assert_eq!(two[0].expose(), b"old, with a comma, 32 bytes long");
    for (value, what) in [
        (
            "old-key-one-of-32-bytes-or-more,old-key-two-of-32-bytes-or-more",
            "comma",
        ),
        (r#"["old-key-of-32-bytes-or-more""#, "JSON array"),
        (r#"["a key of 32 bytes or more, ok", ""]"#, "empty"),
    ] {
        let err = fallbacks(value).expect_err(value);
        let message = err.to_string();
        assert!(
            err.is_config() && message.contains("SECRET_KEY_FALLBACKS") && message.contains(what),
            "{message}"
        );
        assert!(
            !message.contains("old-key") && !message.contains("ok\""),
            "{message}"
        );
    }
}

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
#[test]
fn table_name_that_is_not_an_identifier_is_refused() {
    refused(
        &[("SESSION_SQL_TABLE", "sessions; DROP TABLE users")],
        "SESSION_SQL_TABLE",
        "sessions; DROP TABLE users",
    );
}

#[test]
fn debug_output_hides_secrets() {
    let c = config(&[
        ("SESSION_REDIS", "redis://app:hunter2@cache:6379"),
        ("SESSION_USE_SIGNER", "true"),
        ("SECRET_KEY", "topsecretkey, long enough for the signer"),
    ])
    .unwrap();
    let debug = format!("{c:?}");
    assert!(
        !debug.contains("hunter2") && !debug.contains("topsecretkey"),
        "{debug}"
    );
    assert!(debug.contains("redis://app:***@cache:6379"), "{debug}");
}

#[test]
fn builder_is_validated_like_the_environment() {
    let err = Config::builder()
        .session(|s| s.cookie.name = "bad name".into())
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("SESSION_COOKIE_NAME"));
    let err = Config::builder()
        .session_type(SessionType::Memory)
        .session(|s| {
            s.cookie.secure = true;
            s.cookie.name = "__Host-x".into();
            s.cookie.path = "/x".into();
        })
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("SESSION_COOKIE_NAME"));
}

#[test]
fn every_key_is_handled_by_with_config() {
    let sample = |key: ConfigKey| match key {
        ConfigKey::SessionType => "memory",
        ConfigKey::Redis => "redis://cache:6379",
        ConfigKey::Memcached => "m1:11211",
        ConfigKey::MemcachedPlacement => "pymemcache",
        ConfigKey::SqlUrl => "postgres://db/app",
        ConfigKey::SqlTable => "t",
        ConfigKey::SerializationFormat => "json",
        ConfigKey::CookieName | ConfigKey::KeyPrefix | ConfigKey::AuthKeys | ConfigKey::UserKey => {
            "x"
        }
        ConfigKey::CookieDomain => "example.com",
        ConfigKey::CookiePath => "/",
        ConfigKey::CookieSameSite => "Lax",
        ConfigKey::SecretKey | ConfigKey::SecretKeyFallbacks => "k",
        ConfigKey::SignerFormat => "itsdangerous",
        ConfigKey::CookieFormat => "flask",
        ConfigKey::MigrateFrom => r#"{"SESSION_TYPE":"memcached"}"#,
        ConfigKey::Permanent
        | ConfigKey::RefreshEachRequest
        | ConfigKey::CookieHttpOnly
        | ConfigKey::CookieSecure
        | ConfigKey::CookiePartitioned
        | ConfigKey::UseSigner
        | ConfigKey::UserIndex
        | ConfigKey::NearCache
        | ConfigKey::HashIds => "false",
        _ => "300",
    };
    for key in ConfigKey::ALL {
        let result = ConfigBuilder::default().with_config(*key, sample(*key));
        assert!(result.is_ok(), "{key}: {result:?}");
    }
}

#[test]
fn readme_documents_every_key() {
    let readme = include_str!("../README.md");
    for key in ConfigKey::ALL {
        assert!(
            readme.contains(&format!("`{key}`")),
            "README.md does not document {key}"
        );
    }
}

#[tokio::test]
async fn connect_builds_the_memory_store() {
    let store = sessionkit::connect(&config(&[]).unwrap()).await.unwrap();
    let debug = format!("{store:?}");
    assert!(debug.starts_with("MemoryStore"), "{debug}");
    assert!(debug.contains("max_sessions: 100000"), "{debug}");
}

#[tokio::test]
async fn connect_gives_the_memory_store_its_configured_maximum() {
    let from_key = config(&[("SESSION_MEMORY_MAX_SESSIONS", "2")]).unwrap();
    let from_builder = Config::builder()
        .memory_max_sessions(NonZeroUsize::new(2).unwrap())
        .build()
        .unwrap();
    for config in [from_key, from_builder] {
        let store = sessionkit::connect(&config).await.unwrap();
        assert!(
            format!("{store:?}").contains("max_sessions: 2"),
            "{store:?}"
        );
        // A third session evicts the least recently used: the store really is bounded.
        let ids: Vec<_> = (0..3).map(|_| sessionkit::Id::random()).collect();
        let expires = std::time::SystemTime::now() + Duration::from_secs(3600);
        for id in &ids {
            store.create(id, b"\x80", expires).await.unwrap();
        }
        assert!(store.load(&ids[0]).await.unwrap().is_none());
        assert!(store.load(&ids[2]).await.unwrap().is_some());
    }
}

#[cfg(feature = "redis")]
#[test]
fn bad_redis_url_is_refused() {
    refused(
        &[
            ("SESSION_TYPE", "redis"),
            ("SESSION_REDIS", "localhost:6379"),
        ],
        "SESSION_REDIS",
        "localhost:6379",
    );
    refused(
        &[
            ("SESSION_TYPE", "redis"),
            ("SESSION_REDIS", "redis+cluster://a,b"),
        ],
        "SESSION_REDIS",
        "redis+cluster://a,b",
    );
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn connect_builds_the_redis_store_with_the_configured_prefix() {
    let config = config(&[
        ("SESSION_TYPE", "redis"),
        ("SESSION_REDIS", "redis://127.0.0.1:6379"),
        ("SESSION_KEY_PREFIX", "cfgtest:"),
    ])
    .unwrap();
    let store = sessionkit::connect(&config).await.unwrap_or_else(|e| {
        panic!("Redis on 127.0.0.1:6379 is needed: start it with ./scripts/services ({e:?})")
    });
    let debug = format!("{store:?}");
    assert!(
        debug.starts_with("RedisStore") && debug.contains("cfgtest:"),
        "{debug}"
    );
}

#[cfg(feature = "memcached")]
#[tokio::test]
async fn connect_builds_the_memcached_store_over_every_server() {
    let config = config(&[
        ("SESSION_TYPE", "memcached"),
        ("SESSION_MEMCACHED", "127.0.0.1:11211,127.0.0.1:11212"),
    ])
    .unwrap();
    let store = sessionkit::connect(&config).await.unwrap();
    let debug = format!("{store:?}");
    assert!(
        debug.contains("127.0.0.1:11211") && debug.contains("127.0.0.1:11212"),
        "{debug}"
    );
}

#[cfg(feature = "memcached")]
#[test]
fn memcached_placement_is_read_and_checked() {
    use sessionkit::MemcachedPlacement;
    assert_eq!(
        config(&[]).unwrap().memcached_placement(),
        MemcachedPlacement::Sessionkit
    );
    let from_key = config(&[("SESSION_MEMCACHED_PLACEMENT", "pymemcache")]).unwrap();
    assert_eq!(
        from_key.memcached_placement(),
        MemcachedPlacement::Pymemcache
    );
    let from_builder = Config::builder()
        .memcached_placement(MemcachedPlacement::Pymemcache)
        .build()
        .unwrap();
    assert_eq!(
        from_builder.memcached_placement(),
        MemcachedPlacement::Pymemcache
    );
    refused(
        &[("SESSION_MEMCACHED_PLACEMENT", "ketama")],
        "SESSION_MEMCACHED_PLACEMENT",
        "ketama",
    );
}

#[cfg(feature = "memcached")]
#[tokio::test]
async fn connect_gives_the_memcached_store_its_placement() {
    let config = config(&[
        ("SESSION_TYPE", "memcached"),
        ("SESSION_MEMCACHED", "127.0.0.1:11211,127.0.0.1:11212"),
        ("SESSION_MEMCACHED_PLACEMENT", "pymemcache"),
    ])
    .unwrap();
    let store = sessionkit::connect(&config).await.unwrap();
    let debug = format!("{store:?}");
    assert!(debug.contains("placement: Pymemcache"), "{debug}");
}

#[cfg(feature = "memcached")]
#[tokio::test]
async fn memcached_prefix_with_spaces_is_refused_at_startup() {
    let config = config(&[
        ("SESSION_TYPE", "memcached"),
        ("SESSION_KEY_PREFIX", "my sessions:"),
    ])
    .unwrap();
    let err = sessionkit::connect(&config).await.unwrap_err();
    assert!(err.to_string().contains("SESSION_KEY_PREFIX"), "{err}");
}

/// Connects a SQL store through the configuration, as an application would (with the
/// default cleanup task running), and checks that it works; then drops its table.
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
async fn sql_round_trip(session_type: &str, url: &str) -> String {
    use std::time::{Duration, SystemTime};
    let table = format!(
        "cfg_{}",
        &sessionkit::Id::random().to_string().replace(['-', '_'], "")[..12].to_ascii_lowercase()
    );
    let config = config(&[
        ("SESSION_TYPE", session_type),
        ("SESSION_SQL_URL", url),
        ("SESSION_SQL_TABLE", &table),
    ])
    .unwrap();
    let store = sessionkit::connect(&config).await.unwrap_or_else(|e| {
        panic!("{session_type} at {url} is needed: start it with ./scripts/services ({e:?})")
    });
    assert!(format!("{store:?}").contains(&table));
    let id = sessionkit::Id::random();
    store
        .create(&id, b"\x80", SystemTime::now() + Duration::from_secs(60))
        .await
        .unwrap();
    assert!(store.load(&id).await.unwrap().is_some());
    store.delete(&id).await.unwrap();
    table
}

/// `DROP TABLE` for the tables these tests create.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn drop_table_sql(table: &str) -> sessionkit_sql::sqlx::AssertSqlSafe<String> {
    sessionkit_sql::sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}"))
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn connect_builds_the_postgres_store_and_its_table() {
    let url = "postgres://sessionkit@127.0.0.1:15432/test";
    let table = sql_round_trip("postgres", url).await;
    let store = sessionkit_sql::PostgresStore::connect(url).await.unwrap();
    sessionkit_sql::sqlx::query(drop_table_sql(&table))
        .execute(store.pool())
        .await
        .unwrap();
}

#[cfg(feature = "mysql")]
#[tokio::test]
async fn connect_builds_the_mysql_store_and_its_table() {
    let url = "mysql://sessionkit@127.0.0.1:13306/test";
    let table = sql_round_trip("mysql", url).await;
    let store = sessionkit_sql::MySqlStore::connect(url).await.unwrap();
    sessionkit_sql::sqlx::query(drop_table_sql(&table))
        .execute(store.pool())
        .await
        .unwrap();
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn connect_builds_the_sqlite_store_and_its_table() {
    let path = std::env::temp_dir().join(format!("sessionkit-config-{}.db", std::process::id()));
    sql_round_trip("sqlite", &format!("sqlite://{}", path.display())).await;
    let _ = std::fs::remove_file(&path);
}

#[cfg(feature = "postgres")]
#[test]
fn sql_type_without_url_is_refused() {
    refused(&[("SESSION_TYPE", "postgres")], "SESSION_SQL_URL", "");
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn malformed_sql_url_is_a_config_error() {
    let config = config(&[
        ("SESSION_TYPE", "postgres"),
        ("SESSION_SQL_URL", "postgres://:::"),
    ])
    .unwrap();
    let err = sessionkit::connect(&config).await.unwrap_err();
    assert!(
        err.is_config() && err.to_string().contains("SESSION_SQL_URL"),
        "{err:?}"
    );
}

/// The old store's settings of a migration from Memcached.
#[cfg(feature = "memcached")]
const FROM_MEMCACHED: &str =
    r#"{"SESSION_TYPE": "memcached", "SESSION_MEMCACHED": "10.0.0.9:11211, 10.0.0.8:11211"}"#;

#[cfg(feature = "memcached")]
#[test]
fn migrate_from_is_the_old_stores_own_configuration() {
    let c = config(&[
        ("SESSION_TYPE", "memory"),
        ("SESSION_KEY_PREFIX", "app:"),
        ("SESSION_STORE_TIMEOUT", "0.5"),
        ("SESSION_MEMCACHED", "10.0.0.1:11211"),
        ("SESSION_MEMCACHED_PLACEMENT", "pymemcache"),
        ("SESSION_MIGRATE_FROM", FROM_MEMCACHED),
    ])
    .unwrap();
    assert!(config(&[]).unwrap().migrate_from().is_none());
    let old = c.migrate_from().expect("a migration");
    assert_eq!(old.session_type(), SessionType::Memcached);
    assert_eq!(
        old.memcached_servers(),
        ["10.0.0.9:11211", "10.0.0.8:11211"]
    );
    // Unset keys take their defaults, not the outer values ...
    assert_eq!(
        old.memcached_placement(),
        sessionkit::MemcachedPlacement::Sessionkit
    );
    // ... except the key prefix and the store timeout.
    assert_eq!(old.key_prefix(), "app:");
    assert_eq!(old.session().store_timeout, Duration::from_millis(500));
    assert!(old.migrate_from().is_none());

    let own = config(&[
        ("SESSION_KEY_PREFIX", "app:"),
        (
            "SESSION_MIGRATE_FROM",
            r#"{"SESSION_TYPE":"memcached","SESSION_KEY_PREFIX":"","SESSION_STORE_TIMEOUT":2}"#,
        ),
    ])
    .unwrap();
    let old = own.migrate_from().unwrap();
    assert_eq!(old.key_prefix(), "", "its own prefix, even empty");
    assert_eq!(old.session().store_timeout, Duration::from_secs(2));
    assert_eq!(old.memcached_servers(), ["127.0.0.1:11211"]);
}

#[cfg(feature = "memcached")]
#[test]
fn migrate_from_mistakes_name_the_key_and_the_inner_key() {
    let refused_as = |value: &str, expected: &str| {
        let message = refused(
            &[("SESSION_MIGRATE_FROM", value)],
            "SESSION_MIGRATE_FROM",
            "",
        );
        assert!(message.contains(expected), "{message}");
    };
    refused_as("memcached", "not a JSON object (line 1, column 1)");
    refused_as(r#"["SESSION_TYPE"]"#, "not a JSON object");
    refused_as(r#"{"SESSION_TYPO": "memcached"}"#, "`SESSION_TYPO` is not");
    refused_as(
        r#"{"SESSION_TYPE": "memcached", "PERMANENT_SESSION_LIFETIME": "60"}"#,
        "PERMANENT_SESSION_LIFETIME is a session setting",
    );
    refused_as(
        r#"{"SESSION_TYPE": "memcached", "SESSION_STORE_TIMEOUT": "soon"}"#,
        r#"SESSION_STORE_TIMEOUT="soon": expected a positive number"#,
    );
    refused_as(
        r#"{"SESSION_TYPE": "redsi"}"#,
        r#"SESSION_TYPE="redsi": unknown session type"#,
    );
    refused_as(
        r#"{"SESSION_TYPE": ["memcached"]}"#,
        "SESSION_TYPE: expected a string",
    );
    refused_as(
        r#"{"SESSION_MEMCACHED": "10.0.0.9:11211"}"#,
        "the old store's SESSION_TYPE is needed",
    );
    refused_as(r#"{"SESSION_TYPE": "memory"}"#, "SESSION_TYPE=memory");
    refused_as(r#"{"SESSION_TYPE": "cookie"}"#, "SESSION_TYPE=cookie");
    refused_as(
        r#"{"SESSION_TYPE": "memcached", "SESSION_MIGRATE_FROM": "{}"}"#,
        "cannot itself migrate",
    );
    if cfg!(feature = "postgres") {
        refused_as(
            r#"{"SESSION_TYPE": "postgres"}"#,
            "SESSION_SQL_URL=\"\": SESSION_TYPE=postgres needs a database URL",
        );
    }
    let message = refused(
        &[
            ("SESSION_TYPE", "cookie"),
            ("SECRET_KEY", KEY),
            ("SESSION_MIGRATE_FROM", FROM_MEMCACHED),
        ],
        "SESSION_MIGRATE_FROM",
        "",
    );
    assert!(
        message.contains("no store to move sessions to"),
        "{message}"
    );
}

#[cfg(feature = "memcached")]
#[test]
fn migrate_from_the_builder_takes_a_whole_configuration() {
    let old = Config::builder()
        .session_type(SessionType::Memcached)
        .key_prefix("old:")
        .build()
        .unwrap();
    let c = Config::builder()
        .key_prefix("new:")
        .migrate_from(old)
        .build()
        .unwrap();
    assert_eq!(c.migrate_from().unwrap().key_prefix(), "old:");
    let memory = Config::builder().build().unwrap();
    let err = Config::builder().migrate_from(memory).build().unwrap_err();
    assert!(err.to_string().contains("SESSION_MIGRATE_FROM"), "{err}");
}

#[cfg(all(feature = "redis", feature = "memcached"))]
#[tokio::test]
async fn connect_wraps_both_stores_in_a_migrating_store() {
    let config = config(&[
        ("SESSION_TYPE", "redis"),
        ("SESSION_KEY_PREFIX", "cfgtest-migrate:"),
        (
            "SESSION_MIGRATE_FROM",
            r#"{"SESSION_TYPE":"memcached","SESSION_MEMCACHED":"127.0.0.1:11211"}"#,
        ),
    ])
    .unwrap();
    let store = sessionkit::connect(&config).await.unwrap_or_else(|e| {
        panic!("Redis and memcached are needed: start them with ./scripts/services ({e:?})")
    });
    let debug = format!("{store:?}");
    assert!(debug.starts_with("MigratingStore"), "{debug}");
    assert!(
        debug.contains("RedisStore") && debug.contains("MemcachedStore"),
        "{debug}"
    );
    assert_eq!(store.backend(), "redis");
    assert!(store.user_index().is_some());
}

#[cfg(feature = "memcached")]
#[tokio::test]
async fn an_unreachable_old_store_fails_connect() {
    let config = config(&[(
        "SESSION_MIGRATE_FROM",
        r#"{"SESSION_TYPE":"memcached","SESSION_MEMCACHED":"127.0.0.1:1"}"#,
    )])
    .unwrap();
    match sessionkit::connect(&config).await {
        Ok(store) => {
            // A lazily connecting client: the first call reports the outage.
            let err = store.load(&sessionkit::Id::random()).await.unwrap_err();
            assert!(err.is_unavailable(), "{err:?}");
        }
        Err(err) => assert!(err.is_unavailable(), "{err:?}"),
    }
}
