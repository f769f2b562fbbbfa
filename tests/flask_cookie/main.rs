//! Sessions in the cookie, shared with a real plain Flask app (Flask's default signed
//! cookie sessions, no Flask-Session): `SESSION_TYPE=cookie` with
//! `SESSION_COOKIE_FORMAT=flask` and the same `SECRET_KEY`. Both apps run on loopback; one
//! client with one cookie drives both.
//!
//! Needs the Python environment that `./scripts/test` creates in `.venv` (pinned in
//! `tests/interop/requirements.txt`). No server: the session lives in the cookie.

#[path = "../processes/mod.rs"]
mod processes;

use std::collections::BTreeMap;
use std::process::Child;
use std::time::{Duration, UNIX_EPOCH};

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use serde_bytes::ByteBuf;
use sessionkit::Timestamp;
use sessionkit::axum::{Session, SessionError};

const KEY: &str = "the Flask app's secret key";
const OLD_KEY: &str = "the key before the rotation";

/// The Flask app and the Rust app, side by side, and the browser's session cookie.
struct Pair {
    python: String,
    rust: String,
    client: reqwest::Client,
    cookie: Option<String>,
    child: Child,
    server: tokio::task::JoinHandle<()>,
}

impl Pair {
    /// Both apps with `SECRET_KEY = key` and the older `fallbacks`.
    async fn start(key: &str, fallbacks: &[&str]) -> Self {
        let fallbacks = serde_json::to_string(fallbacks).unwrap();
        let python_port = processes::free_port();
        let child = processes::python_app("tests/flask_cookie/app.py", python_port)
            .env("SECRET_KEY", key)
            .env("SECRET_KEY_FALLBACKS", &fallbacks)
            .spawn()
            .expect("start the Flask app");

        let config = sessionkit::Config::from_pairs([
            ("SESSION_TYPE", "cookie"),
            ("SESSION_COOKIE_FORMAT", "flask"),
            ("SECRET_KEY", key),
            ("SECRET_KEY_FALLBACKS", &fallbacks),
        ])
        .unwrap();
        let layer = sessionkit::axum::layer(&config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let rust = format!("http://{}", listener.local_addr().unwrap());
        let app = rust_routes().layer(layer);
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let mut pair = Self {
            python: format!("http://127.0.0.1:{python_port}"),
            rust,
            client: reqwest::Client::new(),
            cookie: None,
            child,
            server,
        };
        processes::wait_until_answering(&format!("{}/whoami", pair.python), &mut pair.child).await;
        pair
    }

    async fn python(&mut self, path: &str) -> String {
        let base = self.python.clone();
        self.get(&base, path).await
    }

    async fn rust(&mut self, path: &str) -> String {
        let base = self.rust.clone();
        self.get(&base, path).await
    }

    /// `GET base/path` with the session cookie, keeping what the response sets, as a
    /// browser does.
    async fn get(&mut self, base: &str, path: &str) -> String {
        let mut request = self.client.get(format!("{base}{path}"));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{base}{path}: {}",
            response.status()
        );
        for set in response.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            self.cookie = pair.strip_suffix('=').is_none().then_some(pair);
        }
        response.text().await.unwrap()
    }

    /// A cookie value for `{"username": user}` signed by Flask with `key`, `age` seconds ago.
    async fn mint(&mut self, user: &str, key: &str, age: u64) -> String {
        let path = format!("/mint?user={user}&age={age}&key={}", encode(key));
        let value = self.python(&path).await;
        format!("session={value}")
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.server.abort();
    }
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn rust_routes() -> Router {
    Router::new()
        .route(
            "/whoami",
            get(|s: Session| async move {
                Ok::<_, SessionError>(
                    s.get::<String>("username")
                        .await?
                        .unwrap_or_else(|| "<none>".into()),
                )
            }),
        )
        .route(
            "/login/{user}",
            get(|s: Session, Path(user): Path<String>| async move {
                s.insert("username", &user).await?;
                Ok::<_, SessionError>("logged in")
            }),
        )
        .route(
            "/logout",
            get(|s: Session| async move {
                s.remove("username").await?;
                Ok::<_, SessionError>("logged out")
            }),
        )
        .route(
            "/incr",
            get(|s: Session| async move {
                let count = s.get::<u64>("count").await?.unwrap_or(0) + 1;
                s.insert("count", &count).await?;
                Ok::<_, SessionError>(count.to_string())
            }),
        )
        .route("/check_types", get(check_types_in_rust))
        .route(
            "/touch",
            get(|s: Session| async move {
                s.insert("written_by", "rust").await?;
                Ok::<_, SessionError>("touched")
            }),
        )
        .route(
            "/set_rust_types",
            get(|s: Session| async move {
                s.insert("r_bytes", &ByteBuf::from(vec![0u8, 1, 255]))
                    .await?;
                s.insert("r_time", &Timestamp::new(1_704_164_645, 0))
                    .await?;
                s.insert("r_list", &(1, "two", [3.5])).await?;
                s.insert("r_map", &BTreeMap::from([("z", 1), ("a", 2)]))
                    .await?;
                Ok::<_, SessionError>("set")
            }),
        )
}

/// What Rust reads of the values the Flask app's `/set_types` wrote: `ok`, or the first
/// mismatch.
async fn check_types_in_rust(s: Session) -> Result<String, SessionError> {
    let mut wrong = Vec::new();
    let mut check = |key: &str, ok: bool| {
        if !ok {
            wrong.push(key.to_owned());
        }
    };
    check(
        "t_tuple",
        s.get::<(u8, String, (u8, u8))>("t_tuple").await? == Some((1, "a".into(), (2, 3))),
    );
    check(
        "t_bytes",
        s.get::<ByteBuf>("t_bytes").await?.map(ByteBuf::into_vec)
            == Some(b"\x00\xff\x10binary".to_vec()),
    );
    check(
        "t_markup",
        s.get::<String>("t_markup").await?.as_deref() == Some("<b>bold</b> &amp; safe"),
    );
    check(
        "t_uuid",
        s.get::<String>("t_uuid").await?.as_deref() == Some("12345678-1234-5678-1234-567812345678"),
    );
    let at = UNIX_EPOCH + Duration::from_secs(1_704_164_645);
    check(
        "t_datetime",
        s.get::<Timestamp>("t_datetime").await? == Some(Timestamp::from(at)),
    );
    check(
        "t_tag_like_dict",
        s.get::<BTreeMap<String, Vec<u8>>>("t_tag_like_dict")
            .await?
            == Some(BTreeMap::from([(" t".to_owned(), vec![1, 2])])),
    );
    check(
        "t_str",
        s.get::<String>("t_str").await?.as_deref() == Some("héllo ✓ 🦀"),
    );
    check(
        "t_int",
        s.get::<u64>("t_int").await? == Some(9_007_199_254_740_993),
    );
    check("t_float", s.get::<f64>("t_float").await? == Some(1.5));
    check(
        "t_list",
        s.get::<serde_json::Value>("t_list").await?
            == Some(serde_json::json!([1, null, true, {"k": "v"}])),
    );
    check(
        "t_dict",
        s.get::<serde_json::Value>("t_dict").await? == Some(serde_json::json!({"a": [2], "b": 1})),
    );
    Ok(if wrong.is_empty() {
        "ok".into()
    } else {
        format!("wrong: {wrong:?}")
    })
}

#[tokio::test]
async fn a_login_on_either_side_is_seen_by_the_other_and_so_is_a_logout() {
    let mut pair = Pair::start(KEY, &[]).await;
    pair.python("/login/ada").await;
    assert_eq!(pair.rust("/whoami").await, "ada");
    pair.rust("/logout").await;
    assert_eq!(pair.python("/whoami").await, "<none>");
    pair.rust("/login/grace").await;
    assert_eq!(pair.python("/whoami").await, "grace");
    pair.python("/logout").await;
    assert_eq!(pair.rust("/whoami").await, "<none>");
}

#[tokio::test]
async fn a_counter_is_shared_both_ways() {
    let mut pair = Pair::start(KEY, &[]).await;
    for (i, on_python) in [true, false, true, true, false, false]
        .into_iter()
        .enumerate()
    {
        let count = if on_python {
            pair.python("/incr").await
        } else {
            pair.rust("/incr").await
        };
        assert_eq!(count, (i + 1).to_string());
    }
}

#[tokio::test]
async fn every_tagged_type_survives_python_rust_python() {
    let mut pair = Pair::start(KEY, &[]).await;
    pair.python("/set_types").await;
    assert_eq!(pair.python("/check_types").await, "ok");
    assert_eq!(pair.rust("/check_types").await, "ok");
    // Rust re-signs the session for a key of its own: Python's values keep their types.
    pair.rust("/touch").await;
    assert_eq!(pair.python("/check_types").await, "ok");
    assert_eq!(pair.python("/describe/written_by").await, "str:'rust'");
}

#[tokio::test]
async fn values_rust_writes_are_read_by_python_as_their_python_types() {
    let mut pair = Pair::start(KEY, &[]).await;
    pair.rust("/set_rust_types").await;
    assert_eq!(
        pair.python("/describe/r_bytes").await,
        r"bytes:b'\x00\x01\xff'"
    );
    assert_eq!(
        pair.python("/describe/r_time").await,
        "datetime:datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)"
    );
    assert_eq!(
        pair.python("/describe/r_list").await,
        "list:[1, 'two', [3.5]]"
    );
    assert_eq!(
        pair.python("/describe/r_map").await,
        "dict:{'a': 2, 'z': 1}"
    );
}

#[tokio::test]
async fn a_tampered_cookie_is_no_session_on_both_sides() {
    let mut pair = Pair::start(KEY, &[]).await;
    pair.python("/login/ada").await;
    let genuine = pair.cookie.clone().unwrap();
    let (name, value) = genuine.split_once('=').unwrap();
    let body = value.split('.').next().unwrap();
    // The JSON says "ada"; make it say "eve" and keep the signature.
    let json = String::from_utf8(base64_url(body)).unwrap();
    let forged = json.replace("ada", "eve");
    let tampered = format!(
        "{name}={}{}",
        base64_url_encode(forged.as_bytes()),
        &value[body.len()..]
    );
    for (side, base) in [("python", pair.python.clone()), ("rust", pair.rust.clone())] {
        pair.cookie = Some(tampered.clone());
        assert_eq!(pair.get(&base, "/whoami").await, "<none>", "{side}");
    }
    pair.cookie = Some(genuine);
    assert_eq!(pair.rust("/whoami").await, "ada");
}

#[tokio::test]
async fn a_cookie_older_than_the_lifetime_is_no_session_on_both_sides() {
    // Flask's default lifetime: 31 days.
    let mut pair = Pair::start(KEY, &[]).await;
    let day = 24 * 60 * 60;
    let recent = pair.mint("ada", KEY, 30 * day).await;
    let expired = pair.mint("ada", KEY, 32 * day).await;
    for (cookie, expected) in [(recent, "ada"), (expired, "<none>")] {
        for base in [pair.python.clone(), pair.rust.clone()] {
            pair.cookie = Some(cookie.clone());
            assert_eq!(
                pair.get(&base, "/whoami").await,
                expected,
                "{base} {cookie}"
            );
        }
    }
}

#[tokio::test]
async fn key_rotation_through_fallbacks_on_both_sides() {
    let mut pair = Pair::start(KEY, &[OLD_KEY]).await;
    let before_rotation = pair.mint("ada", OLD_KEY, 0).await;
    let unknown_key = pair.mint("ada", "a key nobody has", 0).await;
    for base in [pair.python.clone(), pair.rust.clone()] {
        pair.cookie = Some(unknown_key.clone());
        assert_eq!(pair.get(&base, "/whoami").await, "<none>", "{base}");
        pair.cookie = Some(before_rotation.clone());
        assert_eq!(pair.get(&base, "/whoami").await, "ada", "{base}");
    }
    // A write on the Rust side signs with the current key only.
    pair.rust("/touch").await;
    let value = pair.cookie.clone().unwrap();
    let value = encode(value.split_once('=').unwrap().1);
    let with_new = pair
        .python(&format!("/opens?key={}&value={value}", encode(KEY)))
        .await;
    assert!(with_new.contains(r#""username": "ada""#), "{with_new}");
    let with_old = pair
        .python(&format!("/opens?key={}&value={value}", encode(OLD_KEY)))
        .await;
    assert!(with_old.starts_with("no: "), "{with_old}");
}

#[tokio::test]
async fn long_sessions_are_compressed_and_read_on_both_sides() {
    let mut pair = Pair::start(KEY, &[]).await;
    let long = "x".repeat(2000);
    pair.rust(&format!("/login/{long}")).await;
    assert!(
        pair.cookie.as_deref().unwrap().starts_with("session=."),
        "compressed"
    );
    assert_eq!(pair.python("/whoami").await, long);
    pair.python("/incr").await;
    assert_eq!(pair.rust("/whoami").await, long);
}

fn base64_url(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

fn base64_url_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
