//! Live sessions shared with a real Python Flask app on Flask-Session 0.8: both apps run on
//! loopback over one store, one HTTP client with one cookie jar drives both.
//!
//! Needs the Python environment that `./scripts/test` creates in `.venv` (pinned in
//! `tests/interop/requirements.txt`), Redis on 6379 and memcached on 11211 and 11212
//! (`./scripts/services` starts them).

#[path = "../processes/mod.rs"]
mod processes;

use std::process::Child;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use sessionkit::axum::{Session, SessionError};
use sessionkit::{Id, Timestamp};

/// The shared store.
#[derive(Debug, Clone, Copy)]
enum Store {
    Redis,
    /// One memcached server (pymemcache's `Client` on the Python side).
    Memcached,
    /// Two memcached servers ([`MEMCACHED_NODES`]): a pymemcache `HashClient` on the Python
    /// side, `SESSION_MEMCACHED_PLACEMENT=pymemcache` on the Rust side.
    MemcachedHashClient,
}

/// The servers of [`Store::MemcachedHashClient`].
const MEMCACHED_NODES: [&str; 2] = ["127.0.0.1:11211", "127.0.0.1:11212"];

/// Settings both apps get.
#[derive(Debug, Clone, Default)]
struct Shared {
    json: bool,
    signer_key: Option<&'static str>,
    /// `SESSION_USER_INDEX=true` on the Rust side.
    user_index: bool,
    /// Redis only: the Rust side's store is built here rather than by `connect`, so the
    /// test can watch its near cache ([`Pair::redis`]).
    watch_near_cache: bool,
}

/// The Python app and the Rust app, side by side, and the client that drives both.
struct Pair {
    python: String,
    rust: String,
    /// The store key prefix both apps use.
    prefix: String,
    client: reqwest::Client,
    child: Child,
    server: tokio::task::JoinHandle<()>,
    /// The Rust app's sessions, for what an admin does outside a request.
    sessions: sessionkit::Sessions,
    /// The Rust side's Redis store, when `Shared::watch_near_cache`.
    redis: Option<sessionkit_redis::RedisStore>,
}

/// A client with a cookie jar of its own: one visitor.
fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

impl Pair {
    async fn start(store: Store, shared: Shared) -> Self {
        let prefix = format!("interop-{}:", &Id::random().to_string()[..10]);

        // The Python app.
        let python_port = processes::free_port();
        let mut python = processes::python_app("tests/interop/app.py", python_port);
        python.env("SESSION_KEY_PREFIX", &prefix).env(
            "SESSION_SERIALIZATION_FORMAT",
            if shared.json { "json" } else { "msgpack" },
        );
        match store {
            Store::Redis => python
                .env("INTEROP_BACKEND", "redis")
                .env("INTEROP_REDIS_URL", "redis://127.0.0.1:6379/0"),
            Store::Memcached => python
                .env("INTEROP_BACKEND", "memcached")
                .env("INTEROP_MEMCACHED", "127.0.0.1:11211"),
            Store::MemcachedHashClient => python
                .env("INTEROP_BACKEND", "memcached")
                .env("INTEROP_MEMCACHED", MEMCACHED_NODES.join(",")),
        };
        if let Some(key) = shared.signer_key {
            python.env("SESSION_USE_SIGNER", "1").env("SECRET_KEY", key);
        }
        let child = python.spawn().expect("start the Flask app");

        // The Rust app, configured with the same keys.
        let mut pairs: Vec<(&str, String)> = vec![
            ("SESSION_KEY_PREFIX", prefix.clone()),
            (
                "SESSION_SERIALIZATION_FORMAT",
                if shared.json {
                    "json".into()
                } else {
                    "msgpack".into()
                },
            ),
        ];
        match store {
            Store::Redis => pairs.extend([
                ("SESSION_TYPE", "redis".into()),
                ("SESSION_REDIS", "redis://127.0.0.1:6379/0".into()),
            ]),
            Store::Memcached => pairs.extend([
                ("SESSION_TYPE", "memcached".into()),
                ("SESSION_MEMCACHED", "127.0.0.1:11211".into()),
            ]),
            Store::MemcachedHashClient => pairs.extend([
                ("SESSION_TYPE", "memcached".into()),
                ("SESSION_MEMCACHED", MEMCACHED_NODES.join(",")),
                ("SESSION_MEMCACHED_PLACEMENT", "pymemcache".into()),
            ]),
        }
        if let Some(key) = shared.signer_key {
            pairs.extend([
                ("SESSION_USE_SIGNER", "true".into()),
                ("SECRET_KEY", key.into()),
                ("SESSION_SIGNER_FORMAT", "itsdangerous".into()),
            ]);
        }
        if shared.user_index {
            pairs.push(("SESSION_USER_INDEX", "true".into()));
        }
        let config = sessionkit::Config::from_pairs(pairs).unwrap();
        let redis = match store {
            Store::Redis if shared.watch_near_cache => Some(
                sessionkit_redis::RedisStore::builder(config.redis_url())
                    .key_prefix(config.key_prefix())
                    .build()
                    .await
                    .unwrap_or_else(|e| {
                        panic!("Redis is needed: start it with ./scripts/services ({e:?})")
                    }),
            ),
            _ => None,
        };
        let layer = match &redis {
            Some(redis) => sessionkit::axum::SessionLayer::from_store(
                std::sync::Arc::new(redis.clone()),
                config.session().clone(),
            )
            .unwrap(),
            None => sessionkit::axum::layer(&config).await.unwrap_or_else(|e| {
                panic!("{store:?} is needed: start it with ./scripts/services ({e:?})")
            }),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let rust = format!("http://{}", listener.local_addr().unwrap());
        let sessions = layer.sessions().clone();
        let app = rust_routes().layer(layer);
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let mut pair = Self {
            python: format!("http://127.0.0.1:{python_port}"),
            rust,
            prefix,
            client: cookie_client(),
            child,
            server,
            sessions,
            redis,
        };
        processes::wait_until_answering(&format!("{}/whoami", pair.python), &mut pair.child).await;
        pair
    }

    /// Drops the cookies: the next request is a new visitor's.
    fn new_visitor(&mut self) {
        self.client = cookie_client();
    }

    async fn python(&self, path: &str) -> String {
        self.get(&self.python, path).await.1
    }

    async fn rust(&self, path: &str) -> String {
        self.get(&self.rust, path).await.1
    }

    /// `GET base/path` with the shared cookie jar: the `Set-Cookie` headers and the body.
    async fn get(&self, base: &str, path: &str) -> (Vec<String>, String) {
        let response = self
            .client
            .get(format!("{base}{path}"))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{base}{path}: {}",
            response.status()
        );
        let cookies = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        (cookies, response.text().await.unwrap())
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.server.abort();
    }
}

fn rust_routes() -> Router {
    Router::new()
        .route(
            "/whoami",
            get(|s: Session| async move {
                Ok::<_, SessionError>(
                    s.get::<String>("_user_id")
                        .await?
                        .unwrap_or_else(|| "<none>".into()),
                )
            }),
        )
        .route(
            "/incr",
            get(|s: Session| async move {
                let n: i64 = s.get("refreshed").await?.unwrap_or(0) + 1;
                s.insert("refreshed", &n).await?;
                Ok::<_, SessionError>(n.to_string())
            }),
        )
        .route(
            "/get/{key}",
            get(|s: Session, Path(key): Path<String>| async move {
                let value: Option<serde_json::Value> = s.get(&key).await?;
                Ok::<_, SessionError>(value.map_or_else(|| "<none>".into(), |v| v.to_string()))
            }),
        )
        .route(
            "/login/{name}",
            get(|s: Session, Path(name): Path<String>| async move {
                s.insert("_user_id", &name).await?;
                s.insert("_fresh", &true).await?;
                Ok::<_, SessionError>("ok")
            }),
        )
        .route("/types", get(check_types_in_rust))
}

/// Reads every value Python wrote as the documented Rust type, then changes another key
/// so the whole session is written back.
async fn check_types_in_rust(s: Session) -> Result<String, SessionError> {
    let mut problems = Vec::new();
    macro_rules! expect {
        ($key:literal, $ty:ty, $want:expr) => {
            match s.get::<$ty>($key).await {
                Ok(Some(got)) if got == $want => {}
                other => problems.push(format!("{}: expected {:?}, got {:?}", $key, $want, other)),
            }
        };
    }
    expect!("t_str", String, "héllo ✓ 🦀".to_owned());
    expect!("t_int_max", i64, i64::MAX);
    expect!("t_int_min", i64, i64::MIN);
    expect!("t_uint_max", u64, u64::MAX);
    expect!("t_float", f64, 1.5);
    expect!("t_true", bool, true);
    expect!("t_none", Option<String>, None::<String>);
    expect!(
        "t_list",
        serde_json::Value,
        serde_json::json!([1, "a", null, [2.5]])
    );
    expect!("t_tuple", (i32, i32), (1, 2));
    expect!(
        "t_dict",
        serde_json::Value,
        serde_json::json!({"a": {"b": [1, 2]}, "c": "d"})
    );
    expect!(
        "t_bytes",
        serde_bytes::ByteBuf,
        serde_bytes::ByteBuf::from(b"\x00\xff\x10binary".to_vec())
    );
    expect!(
        "t_datetime",
        Timestamp,
        Timestamp::new(1_704_164_645, 123_456_000)
    );
    expect!(
        "_flashes",
        Vec<(String, String)>,
        vec![
            ("message".to_owned(), "Welcome back".to_owned()),
            ("error".to_owned(), "Wrong password".to_owned()),
        ]
    );
    expect!("_user_id", String, "42".to_owned());
    expect!("_fresh", bool, true);
    expect!("_id", String, "9f8e7d6c5b4a".to_owned());
    s.insert("rust_saw_types", &true).await?;
    Ok(if problems.is_empty() {
        "ok".into()
    } else {
        problems.join("\n")
    })
}

/// The `Expires` of the session cookie among `cookies`, as a unix time.
fn cookie_expiry(cookies: &[String]) -> SystemTime {
    let cookie = cookies
        .iter()
        .find(|c| c.starts_with("session="))
        .unwrap_or_else(|| panic!("no session cookie in {cookies:?}"));
    let expires = cookie
        .split(';')
        .map(str::trim)
        .find_map(|a| {
            a.strip_prefix("Expires=")
                .or_else(|| a.strip_prefix("expires="))
        })
        .unwrap_or_else(|| panic!("no Expires in {cookie}"));
    httpdate::parse_http_date(expires).unwrap()
}

async fn login_on_python_is_seen_by_rust(store: Store) {
    let pair = Pair::start(store, Shared::default()).await;
    assert_eq!(pair.python("/login/ada").await, "ok");
    assert_eq!(pair.rust("/whoami").await, "ada");
    assert_eq!(pair.rust("/get/_fresh").await, "true");
}

/// A session Python logged in is indexed once Rust saves it, and revoking the user from
/// Rust logs the Python side out too.
async fn python_login_is_indexed_once_rust_saves_it(store: Store) {
    let shared = Shared {
        user_index: true,
        ..Shared::default()
    };
    let pair = Pair::start(store, shared).await;
    let user = format!("ada-{}", &Id::random().to_string()[..10]);
    assert_eq!(pair.python(&format!("/login/{user}")).await, "ok");
    assert!(
        pair.sessions.user_sessions(&user).await.unwrap().is_empty(),
        "Python does not index"
    );
    assert_eq!(pair.rust("/incr").await, "1");
    let listed = pair.sessions.user_sessions(&user).await.unwrap();
    assert_eq!(listed.len(), 1, "indexed on Rust's first save");
    assert!(
        listed[0].created_at.is_some(),
        "stamped with a creation time"
    );

    assert_eq!(pair.sessions.revoke_user(&user).await.unwrap(), 1);
    assert_eq!(pair.python("/whoami").await, "<none>");
    assert_eq!(pair.rust("/whoami").await, "<none>");
}

async fn counter_is_shared_both_ways(store: Store) {
    let pair = Pair::start(store, Shared::default()).await;
    assert_eq!(pair.rust("/incr").await, "1");
    assert_eq!(pair.rust("/incr").await, "2");
    assert_eq!(pair.python("/get/refreshed").await, "2");
    assert_eq!(pair.python("/incr").await, "3");
    assert_eq!(pair.rust("/incr").await, "4");
    assert_eq!(pair.python("/get/refreshed").await, "4");
}

/// Polls `condition` every 2 ms until it holds, failing the test after 10 s.
async fn until(what: &str, condition: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "not within 10 s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The Rust side keeps the session in its near cache; Flask-Session writes it; once the
/// invalidation has arrived, the next Rust read sees Python's value.
async fn python_write_is_seen_by_rust_once_invalidated() {
    let pair = Pair::start(
        Store::Redis,
        Shared {
            watch_near_cache: true,
            ..Shared::default()
        },
    )
    .await;
    let redis = pair.redis.as_ref().unwrap();
    let stats = || redis.near_cache_stats().expect("the near cache is on");
    assert_eq!(pair.rust("/incr").await, "1");
    // Rust reads until a read is answered by its near cache.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let hits = stats().hits;
        assert_eq!(pair.rust("/get/refreshed").await, "1");
        if stats().hits > hits {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never served from the cache"
        );
    }
    let seen = stats().invalidations;
    assert_eq!(pair.python("/incr").await, "2");
    until("Python's write invalidated", || {
        stats().invalidations > seen
    })
    .await;
    assert_eq!(pair.rust("/get/refreshed").await, "2");
}

async fn python_clear_is_seen_by_rust(store: Store) {
    let pair = Pair::start(store, Shared::default()).await;
    pair.rust("/login/grace").await;
    assert_eq!(pair.python("/whoami").await, "grace");
    assert_eq!(pair.python("/clear").await, "cleared");
    assert_eq!(pair.rust("/whoami").await, "<none>");
}

async fn permanent_cookie_expiry_holds_on_both_sides(store: Store) {
    let pair = Pair::start(store, Shared::default()).await;
    let month = Duration::from_secs(31 * 24 * 3600);
    let (python_cookies, _) = pair.get(&pair.python, "/login/ada").await;
    let (rust_cookies, body) = pair.get(&pair.rust, "/whoami").await;
    assert_eq!(body, "ada");
    let now = SystemTime::now();
    for (side, cookies) in [("python", &python_cookies), ("rust", &rust_cookies)] {
        let expiry = cookie_expiry(cookies);
        let lifetime = expiry.duration_since(now).unwrap_or_default();
        assert!(
            lifetime + Duration::from_secs(60) >= month
                && lifetime <= month + Duration::from_secs(60),
            "{side} cookie expires in {lifetime:?}: {cookies:?}"
        );
    }
    // Python still re-sends its cookie for a session Rust refreshed.
    let (again, _) = pair.get(&pair.python, "/whoami").await;
    cookie_expiry(&again);
}

async fn json_format_works_both_ways(store: Store) {
    let pair = Pair::start(
        store,
        Shared {
            json: true,
            ..Shared::default()
        },
    )
    .await;
    pair.python("/login/ada").await;
    assert_eq!(pair.rust("/whoami").await, "ada");
    assert_eq!(pair.rust("/incr").await, "1");
    assert_eq!(pair.python("/incr").await, "2");
    assert_eq!(pair.rust("/incr").await, "3");
}

/// A Flask app's existing key, shorter than the 32 bytes sessionkit's own signer requires:
/// the itsdangerous format keeps it (with a startup warning) so nobody is logged out.
const FLASK_KEY: &str = "flask-and-rust-share-this";

async fn signed_cookies_work_both_ways(store: Store) {
    let shared = Shared {
        signer_key: Some(FLASK_KEY),
        ..Shared::default()
    };
    let pair = Pair::start(store, shared).await;
    let (cookies, _) = pair.get(&pair.python, "/login/ada").await;
    let value = cookies[0]
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("session=")
        .to_owned();
    assert_eq!(
        value.len(),
        43 + 1 + 27,
        "an itsdangerous-signed id: {value}"
    );
    assert_eq!(
        pair.rust("/whoami").await,
        "ada",
        "Rust accepts the Flask-signed cookie"
    );
    assert_eq!(pair.rust("/incr").await, "1");
    assert_eq!(pair.python("/get/refreshed").await, "1");

    // A session Rust starts is accepted by Python.
    let fresh = Pair::start(
        store,
        Shared {
            signer_key: Some(FLASK_KEY),
            ..Shared::default()
        },
    )
    .await;
    let (cookies, _) = fresh.get(&fresh.rust, "/login/grace").await;
    assert!(
        cookies[0].split(';').next().unwrap().len() == "session=".len() + 71,
        "{cookies:?}"
    );
    assert_eq!(
        fresh.python("/whoami").await,
        "grace",
        "Python accepts the Rust-signed cookie"
    );
}

async fn every_value_type_survives_python_rust_python(store: Store) {
    let pair = Pair::start(store, Shared::default()).await;
    assert_eq!(pair.python("/set_types").await, "ok");
    assert_eq!(
        pair.python("/check_types").await,
        "ok",
        "Python's own round trip"
    );
    assert_eq!(pair.rust("/types").await, "ok", "Rust reads every type");
    assert_eq!(
        pair.rust("/get/rust_saw_types").await,
        "true",
        "Rust saved the session"
    );
    assert_eq!(
        pair.python("/check_types").await,
        "ok",
        "values changed on the way through Rust"
    );
}

/// Visitors per test on two servers: all on one server by chance once in 2^19 runs.
const VISITORS: usize = 20;

/// The session id in a `Set-Cookie` among `cookies` (unsigned).
fn session_id(cookies: &[String]) -> Id {
    let cookie = cookies
        .iter()
        .find_map(|c| c.strip_prefix("session="))
        .unwrap_or_else(|| panic!("no session cookie in {cookies:?}"));
    let value = cookie.split(';').next().unwrap();
    Id::parse(value).unwrap_or_else(|| panic!("not a session id: {value}"))
}

/// Reads each of [`MEMCACHED_NODES`] on its own, for where a session is.
struct Nodes(Vec<(&'static str, sessionkit_memcached::MemcachedStore)>);

impl Nodes {
    async fn connect(prefix: &str) -> Self {
        let mut nodes = Vec::new();
        for node in MEMCACHED_NODES {
            let store = sessionkit_memcached::MemcachedStore::builder([node])
                .key_prefix(prefix)
                .build_and_ping()
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "memcached on {node} is needed: start it with ./scripts/services ({e:?})"
                    )
                });
            nodes.push((node, store));
        }
        Self(nodes)
    }

    /// The one server that holds `id`.
    async fn holder(&self, id: &Id) -> &'static str {
        let mut holders = Vec::new();
        for (node, store) in &self.0 {
            if sessionkit::SessionStore::load(store, id)
                .await
                .unwrap()
                .is_some()
            {
                holders.push(*node);
            }
        }
        assert_eq!(holders.len(), 1, "session {id} on {holders:?}");
        holders[0]
    }
}

/// [`VISITORS`] visitors log in on one side (Python when `python_writes`) and the other
/// side sees each of them; their sessions are on both servers, each on one.
async fn logins_cross_over_both_memcached_servers(python_writes: bool) {
    let mut pair = Pair::start(Store::MemcachedHashClient, Shared::default()).await;
    let nodes = Nodes::connect(&pair.prefix).await;
    let (writer, reader) = if python_writes {
        (pair.python.clone(), pair.rust.clone())
    } else {
        (pair.rust.clone(), pair.python.clone())
    };
    let mut held = Vec::new();
    for n in 0..VISITORS {
        pair.new_visitor();
        let user = format!("user-{n}");
        let (cookies, body) = pair.get(&writer, &format!("/login/{user}")).await;
        assert_eq!(body, "ok");
        assert_eq!(
            pair.get(&reader, "/whoami").await.1,
            user,
            "{reader} finds the session {writer} wrote"
        );
        held.push(nodes.holder(&session_id(&cookies)).await);
    }
    for node in MEMCACHED_NODES {
        assert!(held.contains(&node), "no session on {node}: {held:?}");
    }
}

macro_rules! interop_tests {
    ($store:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn login_on_python_is_seen_by_rust() {
            super::login_on_python_is_seen_by_rust($store).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn python_login_is_indexed_once_rust_saves_it() {
            super::python_login_is_indexed_once_rust_saves_it($store).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn counter_is_shared_both_ways() {
            super::counter_is_shared_both_ways($store).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn python_clear_is_seen_by_rust() {
            super::python_clear_is_seen_by_rust($store).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn permanent_cookie_expiry_holds_on_both_sides() {
            super::permanent_cookie_expiry_holds_on_both_sides($store).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn json_format_works_both_ways() {
            super::json_format_works_both_ways($store).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn signed_cookies_work_both_ways() {
            super::signed_cookies_work_both_ways($store).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn every_value_type_survives_python_rust_python() {
            super::every_value_type_survives_python_rust_python($store).await;
        }
    };
}

mod redis {
    interop_tests!(super::Store::Redis);

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn python_write_is_seen_by_rust_once_invalidated() {
        super::python_write_is_seen_by_rust_once_invalidated().await;
    }
}

mod memcached {
    interop_tests!(super::Store::Memcached);
}

/// Two memcached servers: Flask-Session on a pymemcache `HashClient`, sessionkit in
/// `SESSION_MEMCACHED_PLACEMENT=pymemcache`.
mod memcached_hashclient {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn logins_on_python_are_seen_by_rust_on_both_servers() {
        super::logins_cross_over_both_memcached_servers(true).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn logins_on_rust_are_seen_by_python_on_both_servers() {
        super::logins_cross_over_both_memcached_servers(false).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn counter_is_shared_both_ways() {
        super::counter_is_shared_both_ways(super::Store::MemcachedHashClient).await;
    }
}
