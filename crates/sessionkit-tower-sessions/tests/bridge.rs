//! What the bridge itself promises, with plain tower-sessions handlers: a rotation keeps
//! the data, a handler that does not touch the session costs no store call, an outage is a
//! 503, `set_expiry` maps to permanence, and values a Python app wrote keep their
//! MessagePack types through a Rust handler's save.

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode, header};
use sessionkit_core::{
    Error, Id, MemoryStore, Record, SessionConfig, SessionStore, Sessions, Timestamp, Version,
};
use sessionkit_tower_sessions::{Expiry, Session, TowerSessionsLayer};
use tower::ServiceExt;

async fn set_cart(session: Session) -> &'static str {
    session.insert("cart", ["apple", "pear"]).await.unwrap();
    "ok"
}

async fn get_cart(session: Session) -> String {
    let cart: Option<Vec<String>> = session.get("cart").await.unwrap();
    format!("{cart:?}")
}

async fn rotate(session: Session) -> &'static str {
    session.cycle_id().await.unwrap();
    "ok"
}

async fn untouched() -> &'static str {
    "ok"
}

async fn load_or_fail(session: Session) -> StatusCode {
    // A handler that maps the error to its own status: the layer answers 503 anyway.
    match session.get::<String>("k").await {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::IM_A_TEAPOT,
    }
}

async fn remember_me(session: Session) -> &'static str {
    session.set_expiry(Some(Expiry::OnInactivity(time::Duration::days(30))));
    session.insert("user", 1).await.unwrap();
    "ok"
}

async fn browser_session(session: Session) -> &'static str {
    session.set_expiry(Some(Expiry::OnSessionEnd));
    "ok"
}

/// Reads the Python app's values, writes one key.
async fn rust_handler(session: Session) -> String {
    let bytes: Vec<u8> = session.get("bytes").await.unwrap().unwrap();
    let when: String = session.get("when").await.unwrap().unwrap();
    let hidden = session.get_value("ext").await.unwrap();
    session.insert("n", 2).await.unwrap();
    format!("{bytes:?} {when} {hidden:?}")
}

fn router(sessions: Sessions) -> Router {
    Router::new()
        .route("/cart", get(get_cart).post(set_cart))
        .route("/rotate", get(rotate))
        .route("/untouched", get(untouched))
        .route("/load", get(load_or_fail))
        .route("/remember-me", get(remember_me))
        .route("/browser-session", get(browser_session))
        .route("/rust", get(rust_handler))
        .layer(TowerSessionsLayer::new(sessions))
}

struct Reply {
    status: StatusCode,
    body: String,
    set_cookie: Option<String>,
    retry_after: Option<String>,
}

impl Reply {
    fn cookie(&self) -> String {
        let set_cookie = self.set_cookie.as_deref().expect("a Set-Cookie");
        set_cookie
            .split(';')
            .next()
            .unwrap()
            .strip_prefix("session=")
            .unwrap()
            .to_owned()
    }
}

async fn send(app: &Router, method: &str, uri: &str, cookie: Option<&str>) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, format!("session={cookie}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &http::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let (set_cookie, retry_after) = (header(header::SET_COOKIE), header(header::RETRY_AFTER));
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Reply {
        status,
        body: String::from_utf8(body.to_vec()).unwrap(),
        set_cookie,
        retry_after,
    }
}

fn memory() -> (Arc<MemoryStore>, Sessions) {
    let store = Arc::new(MemoryStore::new());
    let sessions = Sessions::new(store.clone(), SessionConfig::default()).unwrap();
    (store, sessions)
}

#[tokio::test]
async fn a_rotation_keeps_the_data_and_deletes_the_old_record() {
    let (store, sessions) = memory();
    let app = router(sessions);
    let old = send(&app, "POST", "/cart", None).await.cookie();
    let new = send(&app, "GET", "/rotate", Some(&old)).await.cookie();
    assert_ne!(new, old);
    assert!(
        store
            .load(&Id::parse(&old).unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let reply = send(&app, "GET", "/cart", Some(&new)).await;
    assert_eq!(reply.body, r#"Some(["apple", "pear"])"#);
}

#[tokio::test]
async fn a_handler_that_does_not_touch_the_session_costs_no_store_call() {
    let app = router(Sessions::new(Arc::new(Down), SessionConfig::default()).unwrap());
    let cookie = Id::random().to_string();
    let reply = send(&app, "GET", "/untouched", Some(&cookie)).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "the store (down) was not called"
    );
    assert_eq!(reply.set_cookie, None);
}

#[tokio::test]
async fn a_store_outage_is_a_503_whatever_the_handler_answered() {
    let app = router(Sessions::new(Arc::new(Down), SessionConfig::default()).unwrap());
    let cookie = Id::random().to_string();
    let reply = send(&app, "GET", "/load", Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.retry_after.as_deref(), Some("1"));
    assert_eq!(reply.set_cookie, None);
}

#[tokio::test]
async fn set_expiry_maps_to_permanence() {
    let (_, sessions) = memory();
    let app = router(sessions);
    let reply = send(&app, "GET", "/remember-me", None).await;
    let permanent = reply.set_cookie.clone().unwrap();
    assert!(permanent.contains("Expires="), "{permanent}");
    let reply = send(&app, "GET", "/browser-session", Some(&reply.cookie())).await;
    let browser = reply.set_cookie.unwrap();
    assert!(!browser.contains("Expires="), "{browser}");
}

#[tokio::test]
async fn values_a_python_app_wrote_keep_their_types_through_a_rust_save() {
    let (_, sessions) = memory();
    // The "Python" side: sessionkit's own session writes binary, a datetime, an ext type.
    let session = sessions.start([]);
    let stamp = Timestamp::new(1_700_000_000, 0);
    session
        .insert("bytes", serde_bytes::Bytes::new(&[0, 255]))
        .await
        .unwrap();
    session.insert("when", &stamp).await.unwrap();
    session
        .insert("ext", &rmpv::Value::Ext(7, vec![1]))
        .await
        .unwrap();
    let set_cookie = sessions.finish(&session).await.unwrap().set_cookie.unwrap();
    let cookie = set_cookie
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("session=")
        .unwrap();

    let app = router(sessions.clone());
    let reply = send(&app, "GET", "/rust", Some(cookie)).await;
    assert_eq!(reply.body, "[0, 255] 2023-11-14T22:13:20Z None");

    let header = format!("session={cookie}");
    let session = sessions.start([header.as_bytes()]);
    assert_eq!(session.get::<u32>("n").await.unwrap(), Some(2));
    let bytes: serde_bytes::ByteBuf = session.get("bytes").await.unwrap().unwrap();
    assert_eq!(bytes.as_ref(), &[0, 255]);
    assert_eq!(session.get::<Timestamp>("when").await.unwrap(), Some(stamp));
    assert_eq!(
        session.get::<rmpv::Value>("ext").await.unwrap(),
        Some(rmpv::Value::Ext(7, vec![1]))
    );
}

/// A store whose every call fails as an unreachable server does.
#[derive(Debug)]
struct Down;

fn down() -> Error {
    Error::Unavailable {
        backend: "test",
        source: "connection refused".into(),
    }
}

#[async_trait]
impl SessionStore for Down {
    async fn create(&self, _: &Id, _: &[u8], _: SystemTime) -> Result<(), Error> {
        Err(down())
    }
    async fn load(&self, _: &Id) -> Result<Option<Record>, Error> {
        Err(down())
    }
    async fn load_and_touch(&self, _: &Id, _: SystemTime) -> Result<Option<Record>, Error> {
        Err(down())
    }
    async fn save(&self, _: &Id, _: &[u8], _: SystemTime, _: Version) -> Result<(), Error> {
        Err(down())
    }
    async fn touch(&self, _: &Id, _: SystemTime) -> Result<(), Error> {
        Err(down())
    }
    async fn delete(&self, _: &Id) -> Result<(), Error> {
        Err(down())
    }
    async fn delete_if(&self, _: &Id, _: Version) -> Result<(), Error> {
        Err(down())
    }
}
