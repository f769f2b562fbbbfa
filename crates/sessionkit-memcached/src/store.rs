//! [`MemcachedStore`]: sessions spread over memcached servers.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::FutureExt as _;
use sessionkit_core::ConfigKey;
use sessionkit_core::{
    Error, Id, Record, SessionScan, SessionStore, UserIndex, Version, redact_url,
};

use crate::client::{BACKEND, CasOutcome, Node};
use crate::exptime::Exptime;
use crate::key::{user_key, validate_prefix};
use crate::placement::{MemcachedPlacement, Ring};

/// The default cap on connections per server.
pub const DEFAULT_MAX_CONNECTIONS: usize = 32;

/// Sessions in memcached, over one or more servers.
///
/// | Operation | Memcached (meta protocol) |
/// |---|---|
/// | `create` | add (`ms key ME`): refused if the key exists |
/// | `load` | get with CAS token (`mg key v c`) |
/// | `load_and_touch` | the same with a new TTL (`mg key v c T`), one round trip |
/// | `save` | compare-and-set (`ms key C<cas>`): not found is `Gone`, changed is `Conflict` |
/// | `touch` | `mg key T` without the value |
/// | `delete` | `md key` |
/// | `delete_if` | `md key C<cas>` |
///
/// It is a [`UserIndex`]: a best-effort record per user, kept with compare-and-set; read
/// the [crate docs](crate#user-index) for exactly what it can miss.
///
/// Keys are prefix + id, checked against memcached's rules when the store is built. Each
/// key lives on one server chosen by rendezvous hashing over the server names (stable
/// across processes and versions; adding a server moves about 1/N of the sessions): this
/// crate's own by default, or pymemcache's `HashClient`'s to share the servers with a
/// Flask-Session app ([`MemcachedPlacement`]).
/// Expiry follows memcached's rules: up to 30 days relative, beyond that (Flask's default
/// 31 days) an absolute unix time, never 0. A server that is down fails only the sessions
/// it holds, with a typed error within the timeout.
///
/// ```no_run
/// use sessionkit_memcached::MemcachedStore;
///
/// # async fn run() -> Result<(), sessionkit_core::Error> {
/// let store = MemcachedStore::builder(["127.0.0.1:11211", "127.0.0.1:11212"])
///     .key_prefix("session:")
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MemcachedStore {
    nodes: Arc<[Node]>,
    ring: Ring,
    placement: MemcachedPlacement,
    prefix: Arc<str>,
    timeout: Duration,
}

/// Builds a [`MemcachedStore`]. Its `Debug` passes the servers through [`redact_url`].
#[derive(Clone)]
pub struct MemcachedStoreBuilder {
    servers: Vec<String>,
    prefix: String,
    timeout: Duration,
    max_connections: usize,
    placement: MemcachedPlacement,
}

impl MemcachedStore {
    /// A builder for a store over `servers` (`host:port` each).
    pub fn builder<S: Into<String>>(servers: impl IntoIterator<Item = S>) -> MemcachedStoreBuilder {
        MemcachedStoreBuilder {
            servers: servers.into_iter().map(Into::into).collect(),
            prefix: sessionkit_core::DEFAULT_KEY_PREFIX.to_owned(),
            timeout: sessionkit_core::DEFAULT_STORE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            placement: MemcachedPlacement::default(),
        }
    }

    /// The key prefix.
    pub fn key_prefix(&self) -> &str {
        &self.prefix
    }

    /// The memcached key of `id`: prefix + id, as Flask-Session.
    pub fn key(&self, id: &Id) -> String {
        id.key(&self.prefix)
    }

    /// How keys are placed on the servers.
    pub fn placement(&self) -> MemcachedPlacement {
        self.placement
    }

    /// The server (`host:port`, as given to the builder) that holds `id`.
    pub fn server_for(&self, id: &Id) -> &str {
        self.node(self.key(id).as_bytes()).address()
    }

    /// The memcached key of `user`'s index record (see the [crate docs](crate#user-index)):
    /// prefix + `user:` + base64url of the SHA-256 of the name. It lives on the server
    /// the store's [`MemcachedPlacement`] picks for it, like any key.
    pub fn user_key(&self, user: &str) -> String {
        user_key(&self.prefix, user)
    }

    pub(crate) fn node(&self, key: &[u8]) -> &Node {
        &self.nodes[self.ring.pick(key)]
    }

    /// The index of the server for `key`, in the order the servers were given.
    pub(crate) fn node_index(&self, key: &[u8]) -> usize {
        self.ring.pick(key)
    }

    pub(crate) fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The limit on each call to a server.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs `call`, failing with [`Error::Timeout`] after the store's timeout. A plain
    /// function, not an `async fn`: one would hold `call` twice (the argument and the timer
    /// around it), doubling the future of every store call.
    pub(crate) fn bounded<T>(
        &self,
        call: impl Future<Output = Result<T, Error>>,
    ) -> impl Future<Output = Result<T, Error>> {
        let after = self.timeout;
        tokio::time::timeout(after, call).map(move |outcome| {
            outcome.unwrap_or(Err(Error::Timeout {
                backend: BACKEND,
                after,
            }))
        })
    }
}

impl MemcachedStoreBuilder {
    /// Uses `prefix` before every id (default `session:`).
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Bounds every call by `timeout` (default 1 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How keys are placed on the servers (`SESSION_MEMCACHED_PLACEMENT`, default
    /// [`MemcachedPlacement::Sessionkit`]); [`MemcachedPlacement::Pymemcache`] to share them
    /// with a Flask app whose Flask-Session uses a pymemcache `HashClient` over the same
    /// servers.
    pub fn placement(mut self, placement: MemcachedPlacement) -> Self {
        self.placement = placement;
        self
    }

    /// Caps the connections to each server (default 32); callers beyond the cap wait for
    /// a free connection, up to the timeout.
    pub fn max_connections_per_server(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Checks the settings and prepares a client per server. Connections are made on first
    /// use, so a server that is down now does not stop the others from serving.
    ///
    /// # Errors
    /// [`Error::Config`] for no servers, an address that does not resolve, or a prefix that
    /// breaks memcached's key rules.
    pub async fn build(self) -> Result<MemcachedStore, Error> {
        if self.servers.is_empty() {
            return Err(Error::config(
                ConfigKey::Memcached,
                "",
                "at least one memcached server (host:port) is needed",
            ));
        }
        validate_prefix(&self.prefix)?;
        let mut nodes = Vec::with_capacity(self.servers.len());
        for server in &self.servers {
            let node = Node::new(server, self.timeout, self.max_connections)
                .await
                .map_err(|e| {
                    Error::config(
                        ConfigKey::Memcached,
                        redact_url(server),
                        format!("not a reachable host:port: {}", describe(&e)),
                    )
                })?;
            nodes.push(node);
        }
        Ok(MemcachedStore {
            ring: Ring::new(self.placement, &self.servers),
            placement: self.placement,
            nodes: nodes.into(),
            prefix: self.prefix.into(),
            timeout: self.timeout,
        })
    }

    /// Like [`build`](Self::build), then checks that every server answers.
    ///
    /// # Errors
    /// As [`build`](Self::build), and [`Error::Unavailable`] or [`Error::Timeout`] for a
    /// server that does not answer.
    pub async fn build_and_ping(self) -> Result<MemcachedStore, Error> {
        let store = self.build().await?;
        for node in store.nodes.iter() {
            store.bounded(node.ping()).await?;
        }
        Ok(store)
    }
}

fn describe(error: &Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn record((value, cas): (Vec<u8>, u64)) -> Record {
    Record::new(Bytes::from(value), Version::new(cas))
}

#[async_trait]
impl SessionStore for MemcachedStore {
    async fn create(&self, id: &Id, payload: &[u8], expires_at: SystemTime) -> Result<(), Error> {
        let key = self.key(id);
        let exptime = Exptime::until(expires_at, SystemTime::now());
        let stored = self
            .bounded(
                self.node(key.as_bytes())
                    .add(key.as_bytes(), payload, exptime),
            )
            .await?;
        if stored {
            Ok(())
        } else {
            Err(Error::Collision)
        }
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
        let key = self.key(id);
        let found = self
            .bounded(self.node(key.as_bytes()).get(key.as_bytes(), None))
            .await?;
        Ok(found.map(record))
    }

    async fn load_and_touch(
        &self,
        id: &Id,
        expires_at: SystemTime,
    ) -> Result<Option<Record>, Error> {
        let key = self.key(id);
        let exptime = Exptime::until(expires_at, SystemTime::now());
        let found = self
            .bounded(self.node(key.as_bytes()).get(key.as_bytes(), Some(exptime)))
            .await?;
        Ok(found.map(record))
    }

    async fn save(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
    ) -> Result<(), Error> {
        let key = self.key(id);
        let exptime = Exptime::until(expires_at, SystemTime::now());
        let outcome = self
            .bounded(self.node(key.as_bytes()).cas(
                key.as_bytes(),
                payload,
                exptime,
                expected.get(),
            ))
            .await?;
        match outcome {
            CasOutcome::Stored => Ok(()),
            CasOutcome::NotFound => Err(Error::Gone),
            CasOutcome::Changed => Err(Error::Conflict),
        }
    }

    async fn touch(&self, id: &Id, expires_at: SystemTime) -> Result<(), Error> {
        let key = self.key(id);
        let exptime = Exptime::until(expires_at, SystemTime::now());
        let found = self
            .bounded(self.node(key.as_bytes()).touch(key.as_bytes(), exptime))
            .await?;
        if found { Ok(()) } else { Err(Error::Gone) }
    }

    async fn delete(&self, id: &Id) -> Result<(), Error> {
        let key = self.key(id);
        self.bounded(self.node(key.as_bytes()).delete(key.as_bytes()))
            .await
    }

    async fn delete_if(&self, id: &Id, expected: Version) -> Result<(), Error> {
        let key = self.key(id);
        let outcome = self
            .bounded(
                self.node(key.as_bytes())
                    .delete_if(key.as_bytes(), expected.get()),
            )
            .await?;
        match outcome {
            CasOutcome::Stored => Ok(()),
            CasOutcome::NotFound => Err(Error::Gone),
            CasOutcome::Changed => Err(Error::Conflict),
        }
    }

    fn user_index(&self) -> Option<&dyn UserIndex> {
        Some(self)
    }

    fn session_scan(&self) -> Option<&dyn SessionScan> {
        Some(self)
    }

    fn backend(&self) -> &'static str {
        "memcached"
    }
}

impl fmt::Debug for MemcachedStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemcachedStoreBuilder")
            .field(
                "servers",
                &self
                    .servers
                    .iter()
                    .map(|s| redact_url(s))
                    .collect::<Vec<_>>(),
            )
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("max_connections", &self.max_connections)
            .field("placement", &self.placement)
            .finish()
    }
}

impl fmt::Debug for MemcachedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemcachedStore")
            .field(
                "servers",
                &self
                    .nodes
                    .iter()
                    .map(|n| redact_url(n.address()))
                    .collect::<Vec<_>>(),
            )
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("placement", &self.placement)
            .finish()
    }
}
