//! A real axum `Router` behind the session layer, driven in-process with `oneshot`, on a
//! memory store that counts its calls and a manual clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::routing::get;
use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use sessionkit::axum::{Session, SessionError, SessionLayer};
use sessionkit::{
    DynSessionStore, Error, Id, ManualClock, MemoryStore, Record, SessionConfig, SessionStore,
    Sessions, Version,
};
use tokio::sync::Notify;
use tower::ServiceExt;

/// A memory store that counts calls per operation.
#[derive(Debug)]
pub(crate) struct CountingStore {
    inner: MemoryStore,
    calls: Mutex<HashMap<&'static str, usize>>,
}

impl CountingStore {
    pub(crate) fn new(clock: &ManualClock) -> Self {
        Self {
            inner: MemoryStore::with_clock(Arc::new(clock.clone())),
            calls: Mutex::new(HashMap::new()),
        }
    }

    fn count(&self, op: &'static str) {
        *self.calls.lock().unwrap().entry(op).or_default() += 1;
    }

    /// Calls of `op` so far.
    pub(crate) fn calls(&self, op: &str) -> usize {
        self.calls.lock().unwrap().get(op).copied().unwrap_or(0)
    }

    /// All calls so far.
    pub(crate) fn total_calls(&self) -> usize {
        self.calls.lock().unwrap().values().sum()
    }

    /// Stores raw bytes under `id` for an hour, without counting (as another program would).
    pub(crate) async fn put_raw(&self, id: &Id, payload: &[u8], now: SystemTime) {
        let expires = now + std::time::Duration::from_secs(3600);
        self.inner.create(id, payload, expires).await.unwrap();
    }

    /// The raw bytes stored under `id`, read without counting.
    pub(crate) async fn raw(&self, id: &Id) -> Option<Vec<u8>> {
        let record = self.inner.load(id).await.unwrap()?;
        Some(record.payload().to_vec())
    }

    /// The data stored under `id`, read without counting.
    pub(crate) async fn data(&self, id: &Id) -> Option<sessionkit::SessionData> {
        let record = self.inner.load(id).await.unwrap()?;
        Some(
            sessionkit::Codec::MessagePack
                .decode(record.payload())
                .unwrap(),
        )
    }
}

#[async_trait]
impl SessionStore for CountingStore {
    async fn create(&self, id: &Id, payload: &[u8], expires_at: SystemTime) -> Result<(), Error> {
        self.count("create");
        self.inner.create(id, payload, expires_at).await
    }
    async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
        self.count("load");
        self.inner.load(id).await
    }
    async fn load_and_touch(
        &self,
        id: &Id,
        expires_at: SystemTime,
    ) -> Result<Option<Record>, Error> {
        self.count("load_and_touch");
        self.inner.load_and_touch(id, expires_at).await
    }
    async fn save(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
    ) -> Result<(), Error> {
        self.count("save");
        self.inner.save(id, payload, expires_at, expected).await
    }
    async fn touch(&self, id: &Id, expires_at: SystemTime) -> Result<(), Error> {
        self.count("touch");
        self.inner.touch(id, expires_at).await
    }
    async fn delete(&self, id: &Id) -> Result<(), Error> {
        self.count("delete");
        self.inner.delete(id).await
    }
}

/// Lets a test hold a handler between loading the session and writing it.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    /// Notified once the slow handler has loaded the session.
    pub(crate) entered: Notify,
    /// Notify to let the slow handler continue.
    pub(crate) release: Notify,
}

/// The app under test.
pub(crate) struct TestApp {
    router: Router,
    pub(crate) store: Arc<CountingStore>,
    pub(crate) clock: ManualClock,
    pub(crate) gate: Arc<Gate>,
}

impl TestApp {
    /// The app with the default configuration.
    pub(crate) fn new() -> Self {
        Self::with_config(SessionConfig::default())
    }

    /// The app with `config`.
    pub(crate) fn with_config(config: SessionConfig) -> Self {
        let clock = ManualClock::new();
        let store = Arc::new(CountingStore::new(&clock));
        let layer = layer(store.clone(), config, &clock);
        Self::with_layer(layer, store, clock)
    }

    /// The app behind `layer`.
    pub(crate) fn with_layer(
        layer: SessionLayer,
        store: Arc<CountingStore>,
        clock: ManualClock,
    ) -> Self {
        let gate = Arc::new(Gate::default());
        Self {
            router: routes(gate.clone()).layer(layer),
            store,
            clock,
            gate,
        }
    }

    /// Sends `GET path` with an optional `Cookie` header.
    pub(crate) async fn get(&self, path: &str, cookie: Option<&str>) -> TestResponse {
        let mut request = Request::get(path);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// Sends a request.
    pub(crate) async fn send(&self, request: Request<Body>) -> TestResponse {
        send(self.router.clone(), request).await
    }

    /// A clone of the router, for requests sent from spawned tasks.
    pub(crate) fn router(&self) -> Router {
        self.router.clone()
    }
}

/// The layer over `store` with `config`, on `clock`.
pub(crate) fn layer(
    store: Arc<CountingStore>,
    config: SessionConfig,
    clock: &ManualClock,
) -> SessionLayer {
    let store: DynSessionStore = store;
    let sessions = Sessions::with_clock(store, config, Arc::new(clock.clone())).unwrap();
    SessionLayer::new(sessions)
}

/// Sends `request` to `router`.
pub(crate) async fn send(router: Router, request: Request<Body>) -> TestResponse {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    TestResponse {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// `GET path` with an optional cookie, from a spawned task.
pub(crate) fn spawn_get(
    app: &TestApp,
    path: &str,
    cookie: &str,
) -> tokio::task::JoinHandle<TestResponse> {
    let request = Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    tokio::spawn(send(app.router(), request))
}

/// A response, read whole.
#[derive(Debug)]
pub(crate) struct TestResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl TestResponse {
    /// Every `Set-Cookie` value.
    pub(crate) fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    /// The one `Set-Cookie` value, if any (fails the test if there are several).
    pub(crate) fn set_cookie(&self) -> Option<String> {
        let all = self.set_cookies();
        assert!(all.len() <= 1, "several Set-Cookie headers: {all:?}");
        all.into_iter().next()
    }

    /// The `name=value` pair to send back, from the `Set-Cookie` header.
    pub(crate) fn cookie(&self) -> String {
        let set = self.set_cookie().expect("a Set-Cookie header");
        set.split(';').next().unwrap().to_owned()
    }

    /// The session id in the `Set-Cookie` header (unsigned cookies).
    pub(crate) fn cookie_id(&self) -> Id {
        let cookie = self.cookie();
        let value = cookie.split_once('=').unwrap().1;
        Id::parse(value).expect("the cookie carries a session id")
    }

    /// Whether the response removes the session cookie.
    pub(crate) fn removes_cookie(&self) -> bool {
        self.set_cookie()
            .is_some_and(|c| c.contains("Max-Age=0") && c.split(';').next().unwrap().ends_with('='))
    }

    /// The `Vary` header values.
    pub(crate) fn vary(&self) -> Vec<String> {
        self.headers
            .get_all(header::VARY)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }
}

/// The id in a `name=value` cookie pair (unsigned).
pub(crate) fn id_of(cookie: &str) -> Id {
    Id::parse(cookie.split_once('=').unwrap().1).unwrap()
}

fn routes(gate: Arc<Gate>) -> Router {
    Router::new()
        .route("/noop", get(|| async { "ok" }))
        .route("/get/{key}", get(get_value))
        .route("/set/{key}/{value}", get(set_value))
        .route("/remove/{key}", get(remove))
        .route("/incr", get(incr))
        .route("/clear", get(clear))
        .route("/cycle", get(cycle))
        .route("/permanent/{on}", get(permanent))
        .route("/id", get(id))
        .route("/keys", get(keys))
        .route("/vary", get(vary_already_set))
        .route("/slow_set/{key}/{value}", get(slow_set))
        .route("/slow_read/{key}", get(slow_read))
        .with_state(gate)
}

async fn get_value(session: Session, Path(key): Path<String>) -> Result<String, SessionError> {
    Ok(session
        .get::<String>(&key)
        .await?
        .unwrap_or_else(|| "<none>".to_owned()))
}

async fn set_value(
    session: Session,
    Path((key, value)): Path<(String, String)>,
) -> Result<&'static str, SessionError> {
    session.insert(&key, &value).await?;
    Ok("set")
}

async fn remove(session: Session, Path(key): Path<String>) -> Result<String, SessionError> {
    Ok(session.remove(&key).await?.to_string())
}

async fn incr(session: Session) -> Result<String, SessionError> {
    let n: u64 = session.get("refreshed").await?.unwrap_or(0) + 1;
    session.insert("refreshed", &n).await?;
    Ok(n.to_string())
}

async fn clear(session: Session) -> Result<&'static str, SessionError> {
    session.clear().await?;
    Ok("cleared")
}

async fn cycle(session: Session) -> Result<&'static str, SessionError> {
    session.cycle_id().await?;
    Ok("cycled")
}

async fn permanent(session: Session, Path(on): Path<bool>) -> Result<&'static str, SessionError> {
    session.set_permanent(on).await?;
    Ok("ok")
}

async fn id(session: Session) -> Result<String, SessionError> {
    Ok(session.id().await?.to_string())
}

async fn keys(session: Session) -> Result<String, SessionError> {
    Ok(session.keys().await?.join(","))
}

async fn vary_already_set(
    session: Session,
) -> Result<([(header::HeaderName, &'static str); 1], String), SessionError> {
    let value = session.get::<String>("a").await?.unwrap_or_default();
    Ok(([(header::VARY, "cookie")], value))
}

async fn slow_set(
    State(gate): State<Arc<Gate>>,
    session: Session,
    Path((key, value)): Path<(String, String)>,
) -> Result<&'static str, SessionError> {
    session.get::<String>(&key).await?;
    gate.entered.notify_one();
    gate.release.notified().await;
    session.insert(&key, &value).await?;
    Ok("set")
}

async fn slow_read(
    State(gate): State<Arc<Gate>>,
    session: Session,
    Path(key): Path<String>,
) -> Result<String, SessionError> {
    let value = session.get::<String>(&key).await?;
    gate.entered.notify_one();
    gate.release.notified().await;
    Ok(value.unwrap_or_else(|| "<none>".to_owned()))
}

/// Log lines captured from `tracing` while the guard lives (current-thread tests only).
pub(crate) struct CapturedLogs {
    lines: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl CapturedLogs {
    pub(crate) fn start() -> Self {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::WARN)
            .with_writer(move || LogWriter(sink.clone()))
            .finish();
        Self {
            lines,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.lines.lock().unwrap()).into_owned()
    }
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
