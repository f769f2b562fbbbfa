//! [`TimeoutStore`]: a bound on every store call.

use std::future::Future;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use crate::{Error, Id, Record, SessionStore, Version};

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
}
