//! What every case needs, whatever the adapter: a store chosen by configuration keys alone
//! (`sessionkit::testing::TestStore`), wrapped so the tests can count its calls; the app
//! under test, served by the adapter the case runs on (`crate::adapters`); and its
//! responses, read whole.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use http::{HeaderMap, Request, StatusCode, header};
use sessionkit::testing::TestStore;
use sessionkit::{
    Codec, Config, DynClock, DynSessionStore, Error, Id, IndexedRecord, ManualClock, Record,
    SessionData, SessionStore, Sessions, SystemClock, UserIndex, Version,
};
use tokio::sync::Notify;

use crate::adapters::{Adapter, ErrorResponses, Server};

/// Where the sessions live, chosen only through configuration keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Memory,
    Redis,
    RedisWithoutNearCache,
    RedisCluster,
    /// Valkey 8.1 (127.0.0.1:6390): saves are its native `SET ... IFEQ`.
    Valkey,
    Memcached,
    Postgres,
    MySql,
    Sqlite,
    /// `SESSION_TYPE=cookie`, sealed (the default format).
    Cookie,
    /// `SESSION_TYPE=cookie` in Flask's format.
    CookieFlask,
}

impl Backend {
    /// The configuration an application would set for this backend.
    fn keys(self) -> Vec<(&'static str, String)> {
        let sqlite = || {
            let path =
                std::env::temp_dir().join(format!("sessionkit-http-{}.db", std::process::id()));
            format!("sqlite://{}", path.display())
        };
        match self {
            Self::Memory => vec![("SESSION_TYPE", "memory".into())],
            Self::Redis => vec![
                ("SESSION_TYPE", "redis".into()),
                ("SESSION_REDIS", "redis://127.0.0.1:6379".into()),
            ],
            Self::RedisWithoutNearCache => vec![
                ("SESSION_TYPE", "redis".into()),
                ("SESSION_REDIS", "redis://127.0.0.1:6379".into()),
                ("SESSION_NEAR_CACHE", "off".into()),
            ],
            Self::RedisCluster => vec![
                ("SESSION_TYPE", "redis".into()),
                (
                    "SESSION_REDIS",
                    "redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002".into(),
                ),
            ],
            Self::Valkey => vec![
                ("SESSION_TYPE", "redis".into()),
                ("SESSION_REDIS", "redis://127.0.0.1:6390".into()),
            ],
            Self::Memcached => vec![
                ("SESSION_TYPE", "memcached".into()),
                (
                    "SESSION_MEMCACHED",
                    "127.0.0.1:11211,127.0.0.1:11212".into(),
                ),
            ],
            Self::Postgres => vec![
                ("SESSION_TYPE", "postgres".into()),
                (
                    "SESSION_SQL_URL",
                    "postgres://sessionkit@127.0.0.1:15432/test".into(),
                ),
            ],
            Self::MySql => vec![
                ("SESSION_TYPE", "mysql".into()),
                (
                    "SESSION_SQL_URL",
                    "mysql://sessionkit@127.0.0.1:13306/test".into(),
                ),
            ],
            Self::Sqlite => vec![
                ("SESSION_TYPE", "sqlite".into()),
                ("SESSION_SQL_URL", sqlite()),
            ],
            Self::Cookie => vec![
                ("SESSION_TYPE", "cookie".into()),
                ("SECRET_KEY", "a key of at least 32 bytes, for tests".into()),
            ],
            Self::CookieFlask => vec![
                ("SESSION_TYPE", "cookie".into()),
                ("SESSION_COOKIE_FORMAT", "flask".into()),
                ("SECRET_KEY", "a key of at least 32 bytes, for tests".into()),
            ],
        }
    }

    /// The backend's name in metric labels and spans ([`sessionkit::SessionStore::backend`]).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Redis | Self::RedisCluster | Self::RedisWithoutNearCache | Self::Valkey => {
                "redis"
            }
            Self::Memcached => "memcached",
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
            Self::Sqlite => "sqlite",
            Self::Cookie | Self::CookieFlask => "cookie",
        }
    }

    /// The session lifetime the tests use: long on the manual clock, short on real servers
    /// so expiry can be watched in real time.
    fn lifetime(self) -> Duration {
        match self {
            Self::Memory | Self::Cookie | Self::CookieFlask => Duration::from_secs(100),
            _ => Duration::from_secs(3),
        }
    }
}

/// One test's context: builds apps on its adapter and backend, and cleans up every store
/// they used, pass or fail.
pub(crate) struct Ctx {
    pub(crate) adapter: Adapter,
    pub(crate) backend: Backend,
    stores: Mutex<Vec<TestStore>>,
}

impl Ctx {
    pub(crate) fn new(adapter: Adapter, backend: Backend) -> Self {
        Self {
            adapter,
            backend,
            stores: Mutex::new(Vec::new()),
        }
    }

    /// An app with the default configuration.
    pub(crate) async fn app(&self) -> TestApp {
        self.app_with(&[]).await
    }

    /// An app with extra configuration keys (`SESSION_PERMANENT`, cookie settings, ...).
    pub(crate) async fn app_with(&self, extra: &[(&str, &str)]) -> TestApp {
        let pairs = self.pairs(extra);
        let test_store = TestStore::from_pairs(pairs.clone()).await.unwrap_or_else(|e| {
            panic!(
                "{:?}: the store is not reachable: {e:?}. Start the test servers with ./scripts/services.",
                self.backend
            )
        });
        let counting = Arc::new(CountingStore::new(test_store.store()));
        let clock = test_store.clock().cloned();
        let config = test_store.config().clone();
        self.stores.lock().unwrap().push(test_store);
        TestApp::build(self.adapter, counting, clock, &config)
    }

    /// Another app over `base`'s store (another server process, another key), with extra
    /// configuration keys.
    pub(crate) fn app_sharing(&self, base: &TestApp, extra: &[(&str, &str)]) -> TestApp {
        let config = Config::from_pairs(self.pairs(extra)).unwrap();
        TestApp::build(
            self.adapter,
            base.store.clone(),
            base.clock.clone(),
            &config,
        )
    }

    fn pairs(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .backend
            .keys()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        pairs.push((
            "PERMANENT_SESSION_LIFETIME".into(),
            self.backend.lifetime().as_secs().to_string(),
        ));
        pairs.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        pairs
    }

    /// Deletes what the test's stores created.
    pub(crate) async fn cleanup(self) {
        let stores = std::mem::take(&mut *self.stores.lock().unwrap());
        for store in stores {
            if let Err(e) = store.cleanup().await {
                eprintln!("{:?}: cleanup failed: {e:?}", self.backend);
            }
        }
    }
}

/// Counts calls per operation on the wrapped store.
#[derive(Debug)]
pub(crate) struct CountingStore {
    inner: DynSessionStore,
    calls: Mutex<HashMap<&'static str, usize>>,
    /// Whether another writer rewrites the record just before each save.
    rival: AtomicBool,
}

impl CountingStore {
    fn new(inner: DynSessionStore) -> Self {
        Self {
            inner,
            calls: Mutex::new(HashMap::new()),
            rival: AtomicBool::new(false),
        }
    }

    /// From now on another writer (another process, as far as the app can tell) rewrites
    /// the record through the store just before each of the app's saves, so that every
    /// save finds a newer version: a write that keeps conflicting.
    pub(crate) fn rival_before_each_save(&self) {
        self.rival.store(true, Ordering::SeqCst);
    }

    /// The rival's write: the record with its own key `rival` changed (a new version on
    /// every backend, including those whose version follows the content).
    async fn rival_write(&self, id: &Id) {
        if !self.rival.load(Ordering::SeqCst) {
            return;
        }
        if let Some(record) = self.inner.load(id).await.unwrap() {
            let mut data = Codec::MessagePack.decode(record.payload()).unwrap();
            let writes: u64 = data.get("rival").unwrap().unwrap_or(0);
            data.insert("rival", &(writes + 1)).unwrap();
            let payload = Codec::MessagePack.encode(&data).unwrap();
            let expires = SystemTime::now() + Duration::from_secs(60);
            self.inner
                .save(id, &payload, expires, record.version())
                .await
                .unwrap();
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

    /// Stores raw bytes under `id` for a minute, without counting (as another program).
    pub(crate) async fn put_raw(&self, id: &Id, payload: &[u8]) {
        let expires = SystemTime::now() + Duration::from_secs(60);
        self.inner.create(id, payload, expires).await.unwrap();
    }

    /// The raw bytes stored under `id`, without counting.
    pub(crate) async fn raw(&self, id: &Id) -> Option<Vec<u8>> {
        let record = self.inner.load(id).await.unwrap()?;
        Some(record.payload().to_vec())
    }

    /// The data stored under `id`, without counting.
    pub(crate) async fn data(&self, id: &Id) -> Option<SessionData> {
        let record = self.inner.load(id).await.unwrap()?;
        Some(Codec::MessagePack.decode(record.payload()).unwrap())
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
        self.rival_write(id).await;
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

    async fn delete_if(&self, id: &Id, expected: Version) -> Result<(), Error> {
        self.count("delete_if");
        self.inner.delete_if(id, expected).await
    }

    fn user_index(&self) -> Option<&dyn UserIndex> {
        self.inner.user_index().map(|_| self as &dyn UserIndex)
    }

    /// The inner store's, uncounted: the lifecycle never scans.
    fn session_scan(&self) -> Option<&dyn sessionkit::SessionScan> {
        self.inner.session_scan()
    }

    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn data_in_cookie(&self) -> bool {
        self.inner.data_in_cookie()
    }
}

/// The inner store's index, counted under the names of the plain calls (`create_for` as
/// `create`, ...), so a count means the same with the index on.
#[async_trait]
impl UserIndex for CountingStore {
    async fn create_for(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        user: Option<&str>,
    ) -> Result<(), Error> {
        self.count("create");
        self.index().create_for(id, payload, expires_at, user).await
    }
    async fn save_for(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
        user: Option<&str>,
    ) -> Result<(), Error> {
        self.count("save");
        self.rival_write(id).await;
        self.index()
            .save_for(id, payload, expires_at, expected, user)
            .await
    }
    async fn touch_for(
        &self,
        id: &Id,
        expires_at: SystemTime,
        user: Option<&str>,
    ) -> Result<(), Error> {
        self.count("touch");
        self.index().touch_for(id, expires_at, user).await
    }
    async fn sessions_of(&self, user: &str) -> Result<Vec<IndexedRecord>, Error> {
        self.count("sessions_of");
        self.index().sessions_of(user).await
    }
    async fn unindex(&self, user: &str, id: &Id) -> Result<(), Error> {
        self.count("unindex");
        self.index().unindex(user, id).await
    }
}

impl CountingStore {
    fn index(&self) -> &dyn UserIndex {
        self.inner
            .user_index()
            .expect("reached only through user_index(), which checks")
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

/// The app under test: the suite's routes (`crate::adapters`) on one adapter.
pub(crate) struct TestApp {
    server: Server,
    pub(crate) store: Arc<CountingStore>,
    clock: Option<ManualClock>,
    pub(crate) gate: Arc<Gate>,
    lifetime: Duration,
    /// The app's sessions, for what an admin endpoint or a job does outside a request.
    pub(crate) sessions: Sessions,
}

impl TestApp {
    fn build(
        adapter: Adapter,
        store: Arc<CountingStore>,
        clock: Option<ManualClock>,
        config: &Config,
    ) -> Self {
        let dyn_clock: DynClock = match &clock {
            Some(clock) => Arc::new(clock.clone()),
            None => Arc::new(SystemClock),
        };
        let sessions =
            Sessions::with_clock(store.clone(), config.session().clone(), dyn_clock).unwrap();
        let gate = Arc::new(Gate::default());
        Self {
            server: Server::new(
                adapter,
                sessions.clone(),
                gate.clone(),
                ErrorResponses::Default,
            ),
            store,
            clock,
            gate,
            lifetime: config.session().lifetime,
            sessions,
        }
    }

    /// The session lifetime in effect.
    pub(crate) fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Lets `by` pass: moves the manual clock, or waits on real servers.
    pub(crate) async fn advance(&self, by: Duration) {
        match &self.clock {
            Some(clock) => clock.advance(by),
            None => tokio::time::sleep(by).await,
        }
    }

    /// Lets the lifetime pass with room for servers that count expiry in whole seconds.
    pub(crate) async fn outlive_lifetime(&self) {
        let slack = if self.clock.is_some() {
            Duration::from_secs(1)
        } else {
            Duration::from_millis(1500)
        };
        self.advance(self.lifetime + slack).await;
    }

    /// Sends `GET path` with an optional `Cookie` header.
    pub(crate) async fn get(&self, path: &str, cookie: Option<&str>) -> TestResponse {
        let mut request = Request::get(path);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(()).unwrap()).await
    }

    /// Sends a request (its method, path and headers; the suite's requests have no body).
    pub(crate) async fn send(&self, request: Request<()>) -> TestResponse {
        self.server.send(request).await
    }

    /// `GET path` with `cookie`, from a task of its own (on the test's thread: actix-web's
    /// handlers are not `Send`), so the test can send other requests meanwhile.
    pub(crate) fn spawn_get(
        &self,
        path: &str,
        cookie: &str,
    ) -> tokio::task::JoinHandle<TestResponse> {
        let request = Request::get(path)
            .header(header::COOKIE, cookie)
            .body(())
            .unwrap();
        let server = self.server.clone();
        tokio::task::spawn_local(async move { server.send(request).await })
    }
}

/// Runs a case on a [`tokio::task::LocalSet`], where [`TestApp::spawn_get`] can spawn
/// requests.
pub(crate) async fn on_local_set<F: Future>(case: F) -> F::Output {
    tokio::task::LocalSet::new().run_until(case).await
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
        id_of(&self.cookie())
    }

    /// Whether the response removes the session cookie.
    pub(crate) fn removes_cookie(&self) -> bool {
        self.set_cookie()
            .is_some_and(|c| c.contains("Max-Age=0") && c.split(';').next().unwrap().ends_with('='))
    }

    /// The `Cache-Control` header values.
    pub(crate) fn cache_control(&self) -> Vec<String> {
        self.headers
            .get_all(header::CACHE_CONTROL)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
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

/// Log lines captured from `tracing` while the guard lives (current-thread tests only).
pub(crate) struct CapturedLogs {
    lines: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl CapturedLogs {
    /// Warnings and errors.
    pub(crate) fn start() -> Self {
        Self::at(tracing::Level::WARN)
    }

    /// Everything at `level` and above, and a line for each span as it closes, with its
    /// fields and the spans it nests in.
    pub(crate) fn at(level: tracing::Level) -> Self {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(level)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
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
