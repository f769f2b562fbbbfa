//! [`TimeoutStore`]: a bound on every store call.

use std::future::Future;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use std::num::NonZeroUsize;

use crate::{
    ConfigKey, Error, Id, IndexedRecord, Record, ScanCursor, ScanPage, SessionScan, SessionStore,
    UserIndex, Version,
};

/// Wraps a store so that every call fails with [`Error::Timeout`] after `timeout`, instead
/// of hanging on a dead backend. The request lifecycle wraps its store in one
/// (`SESSION_STORE_TIMEOUT`, default 1 s) unless the store bounds its calls itself.
#[derive(Debug, Clone)]
pub(crate) struct TimeoutStore<S> {
    inner: S,
    timeout: Duration,
}

impl<S> TimeoutStore<S> {
    /// Bounds every call to `inner` by `timeout`.
    pub(crate) fn new(inner: S, timeout: Duration) -> Self {
        Self { inner, timeout }
    }

    async fn bounded<T>(&self, call: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        let after = self.timeout;
        tokio::time::timeout(after, call)
            .await
            .map_err(|_| Error::Timeout {
                backend: "session store",
                after,
            })?
    }
}

#[async_trait]
impl<S: SessionStore> SessionStore for TimeoutStore<S> {
    async fn create(&self, id: &Id, payload: &[u8], expires_at: SystemTime) -> Result<(), Error> {
        self.bounded(self.inner.create(id, payload, expires_at))
            .await
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
        self.bounded(self.inner.load(id)).await
    }

    async fn load_and_touch(
        &self,
        id: &Id,
        expires_at: SystemTime,
    ) -> Result<Option<Record>, Error> {
        self.bounded(self.inner.load_and_touch(id, expires_at))
            .await
    }

    async fn save(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
    ) -> Result<(), Error> {
        self.bounded(self.inner.save(id, payload, expires_at, expected))
            .await
    }

    async fn touch(&self, id: &Id, expires_at: SystemTime) -> Result<(), Error> {
        self.bounded(self.inner.touch(id, expires_at)).await
    }

    async fn delete(&self, id: &Id) -> Result<(), Error> {
        self.bounded(self.inner.delete(id)).await
    }

    async fn delete_if(&self, id: &Id, expected: Version) -> Result<(), Error> {
        self.bounded(self.inner.delete_if(id, expected)).await
    }

    fn call_timeout(&self) -> Option<Duration> {
        Some(self.timeout)
    }

    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn data_in_cookie(&self) -> bool {
        self.inner.data_in_cookie()
    }

    fn user_index(&self) -> Option<&dyn UserIndex> {
        // Only when the inner store has one, and then through the bounds below.
        self.inner.user_index().map(|_| self as &dyn UserIndex)
    }

    fn session_scan(&self) -> Option<&dyn SessionScan> {
        // As for the index: only when the inner store can scan, each page bounded.
        self.inner.session_scan().map(|_| self as &dyn SessionScan)
    }
}

/// The inner store's scan, each page bounded like every other call. Only reached through
/// [`SessionStore::session_scan`], which returns `Some` only when the inner store scans.
#[async_trait]
impl<S: SessionStore> SessionScan for TimeoutStore<S> {
    async fn scan(
        &self,
        from: Option<&ScanCursor>,
        limit: NonZeroUsize,
    ) -> Result<ScanPage, Error> {
        let scan = self.inner.session_scan().ok_or(Error::Unsupported {
            feature: "list its sessions",
            key: ConfigKey::SessionType,
        })?;
        self.bounded(scan.scan(from, limit)).await
    }
}

/// The index calls of the inner store, each bounded like the rest. Only reached through
/// [`SessionStore::user_index`], which returns `Some` only when the inner store has an
/// index.
#[async_trait]
impl<S: SessionStore> UserIndex for TimeoutStore<S> {
    async fn create_for(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        user: Option<&str>,
    ) -> Result<(), Error> {
        self.bounded(self.index()?.create_for(id, payload, expires_at, user))
            .await
    }

    async fn save_for(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
        user: Option<&str>,
    ) -> Result<(), Error> {
        self.bounded(
            self.index()?
                .save_for(id, payload, expires_at, expected, user),
        )
        .await
    }

    async fn touch_for(
        &self,
        id: &Id,
        expires_at: SystemTime,
        user: Option<&str>,
    ) -> Result<(), Error> {
        self.bounded(self.index()?.touch_for(id, expires_at, user))
            .await
    }

    async fn sessions_of(&self, user: &str) -> Result<Vec<IndexedRecord>, Error> {
        self.bounded(self.index()?.sessions_of(user)).await
    }

    async fn unindex(&self, user: &str, id: &Id) -> Result<(), Error> {
        self.bounded(self.index()?.unindex(user, id)).await
    }
}

impl<S: SessionStore> TimeoutStore<S> {
    fn index(&self) -> Result<&dyn UserIndex, Error> {
        self.inner.user_index().ok_or(Error::Unsupported {
            feature: "find a user's sessions",
            key: ConfigKey::UserIndex,
        })
    }
}
