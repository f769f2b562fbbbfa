//! Secrets never leave through text: passwords in store URLs and signing keys are fed
//! through every configuration path (environment pairs, the builder, `connect`), and none
//! appears in an error's message, in its source chain, or in the `Debug` of the error or
//! of the `Config`.

use std::error::Error as _;

use sessionkit::{Config, ConfigBuilder, SecretKey};

/// The password put into every URL.
const PASSWORD: &str = "pw-Zq8rT1xK";
/// The signing key material (too short for the default signer format).
const SHORT_KEY: &str = "key-Vb4nM7";
/// A signing key long enough for the default format, still secret.
const LONG_KEY: &str = "key-Vb4nM7-long-enough-for-hmac-sha256";

/// Every text an error can be seen as: its message and `Debug`, and those of each source.
fn texts(err: &sessionkit::Error) -> Vec<String> {
    let mut texts = vec![err.to_string(), format!("{err:?}")];
    let mut source = err.source();
    while let Some(cause) = source {
        texts.push(cause.to_string());
        texts.push(format!("{cause:?}"));
        source = cause.source();
    }
    texts
}

/// Fails if any secret shows in `text`.
fn assert_hidden(what: &str, text: &str) {
    for secret in [PASSWORD, SHORT_KEY] {
        assert!(!text.contains(secret), "{what} shows a secret: {text}");
    }
}

fn assert_error_hides_secrets(what: &str, err: &sessionkit::Error) {
    for text in texts(err) {
        assert_hidden(what, &text);
    }
}

/// `pairs` must be refused at `build` with a config error naming `key` and hiding every
/// secret.
fn refused(pairs: &[(&str, &str)], key: &str) {
    let err = Config::from_pairs(pairs.iter().copied()).expect_err(key);
    assert!(
        err.is_config() && err.to_string().contains(key),
        "{pairs:?}: {err}"
    );
    assert_error_hides_secrets(key, &err);
}

#[test]
fn secret_key_errors_never_show_the_key() {
    refused(
        &[("SESSION_USE_SIGNER", "true"), ("SECRET_KEY", SHORT_KEY)],
        "SECRET_KEY",
    );
    let short_fallback = format!(r#"["{SHORT_KEY}"]"#);
    let comma = format!("{SHORT_KEY},{SHORT_KEY}");
    let not_json = format!(r#"["{SHORT_KEY}", 7]"#);
    let unterminated = format!(r#"["{SHORT_KEY}"#);
    for fallbacks in [&short_fallback, &comma, &not_json, &unterminated] {
        refused(
            &[
                ("SESSION_USE_SIGNER", "true"),
                ("SECRET_KEY", LONG_KEY),
                ("SECRET_KEY_FALLBACKS", fallbacks),
            ],
            "SECRET_KEY_FALLBACKS",
        );
    }
}

#[test]
fn builder_key_errors_never_show_the_key() {
    for builder in [
        Config::builder().session(|s| signed(s, SHORT_KEY, None)),
        Config::builder().session(|s| signed(s, LONG_KEY, Some(SHORT_KEY))),
    ] {
        assert_hidden("ConfigBuilder Debug", &format!("{builder:?}"));
        let err = builder.build().unwrap_err();
        assert!(err.is_config(), "{err}");
        assert_error_hides_secrets("builder", &err);
    }
}

/// A `Config` holding every secret it can: URLs with passwords in the userinfo and in
/// query parameters, signing keys.
#[test]
fn config_debug_never_shows_a_secret() {
    let redis = format!("redis://app:{PASSWORD}@cache:6379/0");
    let sql = format!("postgres://app:{PASSWORD}@db/app?password={PASSWORD}&sslmode=require");
    let memcached = format!("app:{PASSWORD}@mc:11211");
    let fallbacks = format!(r#"["{SHORT_KEY}"]"#);
    let from_pairs = Config::from_pairs([
        ("SESSION_REDIS", redis.as_str()),
        ("SESSION_SQL_URL", sql.as_str()),
        ("SESSION_MEMCACHED", memcached.as_str()),
        ("SESSION_USE_SIGNER", "true"),
        ("SESSION_SIGNER_FORMAT", "itsdangerous"),
        ("SECRET_KEY", SHORT_KEY),
        ("SECRET_KEY_FALLBACKS", fallbacks.as_str()),
    ])
    .unwrap();
    let builder = Config::builder()
        .redis_url(&redis)
        .sql_url(format!("mysql://root@db/app?pass={PASSWORD}"))
        .memcached_servers([memcached.as_str()])
        .session(|s| signed(s, LONG_KEY, Some(SHORT_KEY)));
    assert_hidden("ConfigBuilder Debug", &format!("{builder:?}"));
    for config in [
        from_pairs,
        ConfigBuilder::default().redis_url(&redis).build().unwrap(),
    ] {
        let debug = format!("{config:?}");
        assert_hidden("Config Debug", &debug);
        assert!(debug.contains("redis://app:***@cache:6379/0"), "{debug}");
    }
    assert!(!format!("{builder:?}").contains(LONG_KEY));
}

#[cfg(feature = "redis")]
#[test]
fn malformed_redis_urls_never_show_the_password() {
    for url in [
        format!("redis://app:{PASSWORD}@cache:port"),
        format!("redis://:{PASSWORD}@cache:6379/not-a-db"),
        format!("redis://cache:6379/not-a-db?password={PASSWORD}"),
        format!("redis+unix:///run/redis.sock?pass={PASSWORD}&db=x"),
        format!("redis+sentinel://:{PASSWORD}@h1:26379,h2"),
        format!("redis+sentinel://:{PASSWORD}@h1:26379"),
        format!("redis+cluster://app:{PASSWORD}@h1:7000/0"),
        format!("redis+cluster://app:{PASSWORD}@h1"),
        format!("redis://app:{PASSWORD}/with-slash@cache:6379"),
    ] {
        refused(
            &[("SESSION_TYPE", "redis"), ("SESSION_REDIS", url.as_str())],
            "SESSION_REDIS",
        );
        let err = Config::builder()
            .session_type(sessionkit::SessionType::Redis)
            .redis_url(&url)
            .build()
            .expect_err(&url);
        assert_error_hides_secrets(&url, &err);
    }
}

/// The old store's settings (`SESSION_MIGRATE_FROM`) hold URLs with passwords, and may hold
/// a key put there by mistake: neither shows in its errors or in `Debug`.
#[cfg(feature = "redis")]
#[test]
fn migrate_from_never_shows_a_secret() {
    for value in [
        format!(
            r#"{{"SESSION_TYPE":"redis","SESSION_REDIS":"redis://app:{PASSWORD}@cache:port"}}"#
        ),
        format!(r#"{{"SESSION_TYPE":"redis","SESSION_REDIS":"redis://app:{PASSWORD}@cache"#),
        format!(r#"{{"SESSION_TYPE":"redis","SESSION_REDIS":"redis://app:{PASSWORD}@cache",}}"#),
        format!(r#"{{"SESSION_TYPE":"redis","SECRET_KEY":"{SHORT_KEY}"}}"#),
        format!(r#"{{"SESSION_TYPE":"redis","SESSION_REDIS":["{PASSWORD}"]}}"#),
    ] {
        refused(
            &[("SESSION_MIGRATE_FROM", value.as_str())],
            "SESSION_MIGRATE_FROM",
        );
    }
    let good = format!(
        r#"{{"SESSION_TYPE":"redis","SESSION_REDIS":"redis://app:{PASSWORD}@cache:6379"}}"#
    );
    let builder = ConfigBuilder::from_pairs([("SESSION_MIGRATE_FROM", good.as_str())]).unwrap();
    assert_hidden("ConfigBuilder Debug", &format!("{builder:?}"));
    let debug = format!("{:?}", builder.build().unwrap());
    assert_hidden("Config Debug", &debug);
    assert!(debug.contains("redis://app:***@cache:6379"), "{debug}");
}

/// Connects with `pairs` and checks that the failure hides every secret.
#[cfg(any(
    feature = "redis",
    feature = "memcached",
    feature = "postgres",
    feature = "mysql",
    feature = "sqlite"
))]
async fn connect_fails_quietly(pairs: &[(&str, &str)]) -> sessionkit::Error {
    let config = Config::from_pairs(pairs.iter().copied()).unwrap();
    assert_hidden("Config Debug", &format!("{config:?}"));
    let err = match sessionkit::connect(&config).await {
        Ok(store) => panic!("{pairs:?} connected: {store:?}"),
        Err(err) => err,
    };
    assert_error_hides_secrets(&format!("{pairs:?}"), &err);
    err
}

/// A wrong password reaches a real Redis (started by `./scripts/services`), which refuses
/// it; the refusal does not quote it.
#[cfg(feature = "redis")]
#[tokio::test]
async fn redis_authentication_failure_never_shows_the_password() {
    for url in [
        format!("redis://nosuchuser:{PASSWORD}@127.0.0.1:6379"),
        format!("redis://:{PASSWORD}@127.0.0.1:6379"),
    ] {
        connect_fails_quietly(&[("SESSION_TYPE", "redis"), ("SESSION_REDIS", url.as_str())]).await;
    }
}

#[cfg(feature = "memcached")]
#[tokio::test]
async fn memcached_server_with_credentials_never_shows_them() {
    let server = format!("app:{PASSWORD}@127.0.0.1:11211");
    let err = connect_fails_quietly(&[
        ("SESSION_TYPE", "memcached"),
        ("SESSION_MEMCACHED", server.as_str()),
    ])
    .await;
    assert!(err.is_config(), "{err}");
}

/// Malformed SQL URLs (a config error) and a refused login on the real servers.
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
async fn sql_urls_never_show_the_password(session_type: &str, urls: &[String]) {
    for url in urls {
        connect_fails_quietly(&[
            ("SESSION_TYPE", session_type),
            ("SESSION_SQL_URL", url.as_str()),
        ])
        .await;
    }
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_urls_never_show_the_password() {
    sql_urls_never_show_the_password(
        "postgres",
        &[
            format!("postgres://app:{PASSWORD}@127.0.0.1:port/test"),
            format!("postgres://app:{PASSWORD}@127.0.0.1:15432/test?sslmode=bogus"),
            format!("postgres://app@127.0.0.1:15432/test?password={PASSWORD}&sslmode=bogus"),
            format!("postgres://nosuchuser:{PASSWORD}@127.0.0.1:15432/test"),
            format!("postgres://nosuchuser@127.0.0.1:15432/test?password={PASSWORD}"),
        ],
    )
    .await;
}

#[cfg(feature = "mysql")]
#[tokio::test]
async fn mysql_urls_never_show_the_password() {
    sql_urls_never_show_the_password(
        "mysql",
        &[
            format!("mysql://app:{PASSWORD}@127.0.0.1:port/test"),
            format!("mysql://app:{PASSWORD}@127.0.0.1:13306/test?ssl-mode=bogus"),
            format!("mysql://sessionkit@127.0.0.1:13306/test?password={PASSWORD}&ssl-mode=bogus"),
            format!("mysql://nosuchuser:{PASSWORD}@127.0.0.1:13306/test"),
        ],
    )
    .await;
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_urls_never_show_the_password() {
    sql_urls_never_show_the_password(
        "sqlite",
        &[
            format!("sqlite://app:{PASSWORD}@/nonexistent/dir/x.db?mode=bogus"),
            format!("sqlite:///nonexistent/dir/x.db?password={PASSWORD}"),
            format!("sqlite:///nonexistent/dir/x.db?mode=rwc&pass={PASSWORD}"),
        ],
    )
    .await;
}

/// Signs with `key`, accepting `fallback` too.
fn signed(s: &mut sessionkit::SessionConfig, key: &str, fallback: Option<&str>) {
    s.use_signer = true;
    s.secret_key = Some(SecretKey::new(key));
    s.secret_key_fallbacks = fallback.into_iter().map(SecretKey::new).collect();
}
