//! The in-process store, sessionkit's embedded default.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;

use crate::{DynClock, Error, ExpiredDeletion, Id, Record, SessionStore, SystemClock, Version};

/// The smallest map size at which the store sweeps out expired entries.
const MIN_SWEEP_LEN: usize = 1024;

/// Sessions in this process's memory.
///
/// Meant for development, tests and single-process apps: sessions vanish on restart and are
/// not shared between processes. Expiry is exact (checked on every read against the store's
/// [`Clock`](crate::Clock)); expired entries are swept out whenever the map has doubled since the last
/// sweep, so memory stays within about twice the live sessions without a background task.
/// [`ExpiredDeletion::delete_expired`] sweeps on demand.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use sessionkit_core::{Id, MemoryStore, SessionStore};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// let id = Id::random();
/// let expires = SystemTime::now() + Duration::from_secs(60);
/// store.create(&id, b"\x80", expires).await?;
/// let record = store.load(&id).await?.expect("stored");
/// assert_eq!(record.payload().as_ref(), b"\x80");
/// # Ok::<(), sessionkit_core::Error>(())
/// # }).unwrap();
/// ```
pub struct MemoryStore {
    state: Mutex<State>,
    clock: DynClock,
}

struct State {
    entries: HashMap<Id, Entry>,
    /// Versions come from one counter, so a deleted and re-created id never reuses one.
    next_version: u64,
    /// Sweep expired entries when the map reaches this size.
    sweep_at: usize,
}

struct Entry {
    payload: Bytes,
    expires_at: SystemTime,
    version: u64,
}

impl MemoryStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty store that reads the time from `clock`.
    pub fn with_clock(clock: DynClock) -> Self {
        Self {
            state: Mutex::new(State {
                entries: HashMap::new(),
                next_version: 1,
                sweep_at: MIN_SWEEP_LEN,
            }),
            clock,
        }
    }

    /// How many entries the map holds, expired ones not yet swept included.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether the map holds no entries at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves the map consistent, so a panic elsewhere while the
        // lock was held does not invalidate it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// The live entry under `id`; an expired one is removed on the way.
    fn live(&mut self, id: &Id, now: SystemTime) -> Option<&mut Entry> {
        let expired = self.entries.get(id)?.expires_at <= now;
        if expired {
            self.entries.remove(id);
            return None;
        }
        self.entries.get_mut(id)
    }

    fn next_version(&mut self) -> u64 {
        let version = self.next_version;
        self.next_version += 1;
        version
    }

    fn sweep(&mut self, now: SystemTime) -> u64 {
        let before = self.entries.len();
        self.entries.retain(|_, entry| entry.expires_at > now);
        self.sweep_at = (self.entries.len() * 2).max(MIN_SWEEP_LEN);
        (before - self.entries.len()) as u64
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entries", &self.len())
            .field("clock", &self.clock)
            .finish()
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create(&self, id: &Id, payload: &[u8], expires_at: SystemTime) -> Result<(), Error> {
        let now = self.clock.now();
        let mut state = self.lock();
        if state.live(id, now).is_some() {
            return Err(Error::Collision);
        }
        let version = state.next_version();
        state.entries.insert(
            *id,
            Entry {
                payload: Bytes::copy_from_slice(payload),
                expires_at,
                version,
            },
        );
        if state.entries.len() >= state.sweep_at {
            state.sweep(now);
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
        let now = self.clock.now();
        let mut state = self.lock();
        Ok(state
            .live(id, now)
            .map(|entry| Record::new(entry.payload.clone(), Version::new(entry.version))))
    }

    async fn load_and_touch(
        &self,
        id: &Id,
        expires_at: SystemTime,
    ) -> Result<Option<Record>, Error> {
        let now = self.clock.now();
        let mut state = self.lock();
        Ok(state.live(id, now).map(|entry| {
            entry.expires_at = expires_at;
            Record::new(entry.payload.clone(), Version::new(entry.version))
        }))
    }

    async fn save(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
    ) -> Result<(), Error> {
        let now = self.clock.now();
        let mut state = self.lock();
        let current = state.live(id, now).ok_or(Error::Gone)?.version;
        if current != expected.get() {
            return Err(Error::Conflict);
        }
        let version = state.next_version();
        let entry = state.entries.get_mut(id).expect("checked live above");
        entry.payload = Bytes::copy_from_slice(payload);
        entry.expires_at = expires_at;
        entry.version = version;
        Ok(())
    }

    async fn touch(&self, id: &Id, expires_at: SystemTime) -> Result<(), Error> {
        let now = self.clock.now();
        let mut state = self.lock();
        state.live(id, now).ok_or(Error::Gone)?.expires_at = expires_at;
        Ok(())
    }

    async fn delete(&self, id: &Id) -> Result<(), Error> {
        self.lock().entries.remove(id);
        Ok(())
    }

    async fn delete_if(&self, id: &Id, expected: Version) -> Result<(), Error> {
        let now = self.clock.now();
        let mut state = self.lock();
        if state.live(id, now).ok_or(Error::Gone)?.version != expected.get() {
            return Err(Error::Conflict);
        }
        state.entries.remove(id);
        Ok(())
    }

    /// Calls never wait.
    fn call_timeout(&self) -> Option<std::time::Duration> {
        Some(std::time::Duration::ZERO)
    }
}

#[async_trait]
impl ExpiredDeletion for MemoryStore {
    async fn delete_expired(&self) -> Result<u64, Error> {
        let now = self.clock.now();
        Ok(self.lock().sweep(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Clock, ManualClock};
    use std::time::Duration;

    #[tokio::test]
    async fn expired_entries_are_swept_as_the_map_grows() {
        let clock = ManualClock::new();
        let store = MemoryStore::with_clock(Arc::new(clock.clone()));
        let short = clock.now() + Duration::from_secs(1);
        for _ in 0..MIN_SWEEP_LEN - 1 {
            store.create(&Id::random(), b"\x80", short).await.unwrap();
        }
        assert_eq!(store.len(), MIN_SWEEP_LEN - 1);
        clock.advance(Duration::from_secs(2));
        // Never loaded again, these would stay forever without a sweep; the next create
        // reaches the threshold and sweeps them.
        let long = clock.now() + Duration::from_secs(3600);
        store.create(&Id::random(), b"\x80", long).await.unwrap();
        assert_eq!(store.len(), 1);
    }

    #[tokio::test]
    async fn memory_stays_bounded_under_churn() {
        let clock = ManualClock::new();
        let store = MemoryStore::with_clock(Arc::new(clock.clone()));
        for _ in 0..50_000 {
            let expires = clock.now() + Duration::from_secs(1);
            store.create(&Id::random(), b"\x80", expires).await.unwrap();
            clock.advance(Duration::from_millis(100));
        }
        // Only about ten entries are live at any time.
        assert!(store.len() <= 2 * MIN_SWEEP_LEN, "{} entries", store.len());
    }

    #[tokio::test]
    async fn delete_expired_reports_the_count() {
        let clock = ManualClock::new();
        let store = MemoryStore::with_clock(Arc::new(clock.clone()));
        let now = clock.now();
        for secs in [1, 2, 3, 100] {
            store
                .create(&Id::random(), b"\x80", now + Duration::from_secs(secs))
                .await
                .unwrap();
        }
        clock.advance(Duration::from_secs(3));
        assert_eq!(store.delete_expired().await.unwrap(), 3);
        assert_eq!(store.len(), 1);
        assert_eq!(store.delete_expired().await.unwrap(), 0);
    }
}
