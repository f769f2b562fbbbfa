//! [`Shared`]: the connection concurrent calls share, replaced (never reused) once a call
//! on it failed.

use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use sessionkit_core::Error;
use tokio::sync::Mutex;

use crate::error::from_redis;
use crate::source::{Link, Source};

/// One multiplexed or cluster connection, made on first use and dropped by
/// [`discard`](Self::discard): the next call makes a fresh one from the [`Source`].
pub(crate) struct Shared {
    current: RwLock<Current>,
    /// Held while connecting, so concurrent calls make one connection, not one each.
    source: Mutex<Source>,
    kind: &'static str,
}

/// The connection calls use now, numbered so a late failure on an older one cannot drop
/// its replacement.
#[derive(Default)]
struct Current {
    generation: u64,
    link: Option<Link>,
    /// The server (host, port) of a Sentinel connection: the master Sentinel named.
    server: Option<(String, u16)>,
}

impl Shared {
    /// Connects once, so a server that cannot be reached shows at startup.
    pub(crate) async fn connect(source: Source, timeout: Duration) -> Result<Self, Error> {
        let shared = Self {
            current: RwLock::default(),
            kind: source.kind(),
            source: Mutex::new(source),
        };
        shared.get(timeout).await?;
        Ok(shared)
    }

    pub(crate) fn kind(&self) -> &'static str {
        self.kind
    }

    /// The current connection and its generation, connecting first if there is none.
    pub(crate) async fn get(&self, timeout: Duration) -> Result<(u64, Link), Error> {
        if let Some(current) = self.current() {
            return Ok(current);
        }
        // Boxed: connecting (to Sentinel, to every node of a cluster) is rare, and its
        // future is many times the size of a call's; unboxed, every call would carry it.
        Box::pin(self.reconnect(timeout)).await
    }

    /// [`get`](Self::get) without a current connection: makes one, once for all waiters.
    async fn reconnect(&self, timeout: Duration) -> Result<(u64, Link), Error> {
        let mut source = self.source.lock().await;
        // Another call may have connected while this one waited for the lock.
        if let Some(current) = self.current() {
            return Ok(current);
        }
        let (link, server) = source.connect(timeout).await.map_err(from_redis)?;
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        current.generation += 1;
        current.link = Some(link.clone());
        current.server = server;
        Ok((current.generation, link))
    }

    fn current(&self) -> Option<(u64, Link)> {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        current.link.clone().map(|link| (current.generation, link))
    }

    /// The server (host, port) of the current connection, when Sentinel named it.
    pub(crate) fn server(&self) -> Option<(String, u16)> {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        current.link.as_ref().and(current.server.clone())
    }

    /// Drops the current connection, whichever it is: the next call connects afresh (for
    /// Sentinel, asking for the master again).
    pub(crate) fn discard_current(&self) {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if current.link.take().is_some() {
            tracing::info!(
                kind = self.kind,
                "dropped a Redis connection to ask for the master again"
            );
        }
    }

    /// Drops connection `generation` if it is still the current one. Calls already running
    /// on it finish there (each checks its own reply); new calls get a fresh connection.
    pub(crate) fn discard(&self, generation: u64) {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if current.generation == generation && current.link.take().is_some() {
            tracing::info!(
                kind = self.kind,
                "dropped a Redis connection after a failed call"
            );
        }
    }
}
