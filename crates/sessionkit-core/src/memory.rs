//! The in-process store, sessionkit's embedded default.

mod builder;
mod entries;

use std::fmt;
use std::num::NonZeroUsize;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;

pub use builder::MemoryStoreBuilder;
use entries::{Entries, Entry};

use crate::{
    DynClock, Error, ExpiredDeletion, Id, IndexedRecord, Record, ScanCursor, ScanPage,
    ScannedRecord, SessionScan, SessionStore, SystemClock, UserIndex, Version, telemetry,
};
use telemetry::keys;

/// How many expired entries [`ExpiredDeletion::delete_expired`] removes per hold of the lock.
const CLEANUP_BATCH: usize = 1000;

/// Sessions in this process's memory, at most [`max_sessions`](MemoryStore::max_sessions)
/// of them.
///
/// Meant for development, tests and single-process apps: sessions vanish on restart and are
/// not shared between processes.
///
/// - **Bounded.** The store holds at most a maximum number of sessions,
///   [`DEFAULT_MAX_SESSIONS`](MemoryStore::DEFAULT_MAX_SESSIONS) unless set with
///   [`MemoryStore::builder`]. Creating one more first removes an expired session if there
///   is one, else evicts the **least recently used**; every `create`, `load`,
///   `load_and_touch`, `save` and `touch` counts as a use. An evicted session is gone, as
///   after a logout (`save` answers [`Error::Gone`]). Memory is about
///   `max_sessions × (payload + 250 bytes)`: the payload is stored as written, and the
///   bookkeeping (the id twice, expiry, version, recency links, hash and B-tree slots) is
///   roughly 250 bytes. At the default maximum that is about 25 MB plus the payloads, so
///   100,000 sessions of 1 KiB take about 125 MB.
/// - **Expiry.** Exact: every read checks it against the store's
///   [`Clock`](crate::Clock). Expired sessions are removed without a background task and
///   without scanning live ones: an index by expiry hands out the earliest first, each
///   `create` removes up to 32 of them, and [`ExpiredDeletion::delete_expired`] removes
///   all of them in batches.
/// - **Cost.** Every call but `delete_expired` takes the lock once and does O(log n) work
///   for the expiry index and O(1) for the recency order.
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
    entries: Entries,
    /// Versions come from one counter, so a deleted and re-created id never reuses one.
    next_version: u64,
}

impl MemoryStore {
    /// The maximum number of sessions of [`MemoryStore::new`] and [`MemoryStore::with_clock`]:
    /// 100,000, about 25 MB of bookkeeping plus the payloads (see [`MemoryStore`]).
    pub const DEFAULT_MAX_SESSIONS: NonZeroUsize = NonZeroUsize::new(100_000).unwrap();

    /// An empty store on the system clock, holding at most
    /// [`DEFAULT_MAX_SESSIONS`](MemoryStore::DEFAULT_MAX_SESSIONS).
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty store that reads the time from `clock`, holding at most
    /// [`DEFAULT_MAX_SESSIONS`](MemoryStore::DEFAULT_MAX_SESSIONS).
    pub fn with_clock(clock: DynClock) -> Self {
        Self::builder().clock(clock).build()
    }

    /// A builder to set the maximum number of sessions and the clock.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder::new()
    }

    fn from_builder(max_sessions: NonZeroUsize, clock: DynClock) -> Self {
        Self {
            state: Mutex::new(State {
                entries: Entries::new(max_sessions),
                next_version: 1,
            }),
            clock,
        }
    }

    /// The most sessions this store holds.
    pub fn max_sessions(&self) -> NonZeroUsize {
        self.lock().entries.max()
    }

    /// How many entries the store holds: live sessions plus expired ones not yet removed.
    /// Never more than [`max_sessions`](MemoryStore::max_sessions).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether the store holds no entries at all, live or expired.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The state, locked; its size is reported (`sessionkit.memory.*` gauges) when the
    /// lock is released.
    fn lock(&self) -> Locked<'_> {
        // Every critical section leaves the entries consistent, so a panic elsewhere while
        // the lock was held does not invalidate them.
        Locked(self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The locked state. Reports the store's size to the metrics recorder before unlocking,
/// so reports from concurrent calls arrive in the order of their changes.
struct Locked<'a>(MutexGuard<'a, State>);

impl Deref for Locked<'_> {
    type Target = State;

    fn deref(&self) -> &State {
        &self.0
    }
}

impl DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.0
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        telemetry::set(&keys::MEMORY_SESSIONS, self.0.entries.len() as f64);
        telemetry::set(&keys::MEMORY_SIZE, self.0.entries.payload_bytes() as f64);
    }
}

impl State {
    fn next_version(&mut self) -> u64 {
        let version = self.next_version;
        self.next_version += 1;
        version
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (entries, max_sessions) = {
            let state = self.lock();
            (state.entries.len(), state.entries.max())
        };
        f.debug_struct("MemoryStore")
            .field("entries", &entries)
            .field("max_sessions", &max_sessions)
            .field("clock", &self.clock)
            .finish()
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create(&self, id: &Id, payload: &[u8], expires_at: SystemTime) -> Result<(), Error> {
        let now = self.clock.now();
        let mut state = self.lock();
        if state.entries.live(id, now).is_some() {
            return Err(Error::Collision);
        }
        let version = state.next_version();
        let entry = Entry {
            payload: Bytes::copy_from_slice(payload),
            expires_at,
            version,
            user: None,
        };
        state.entries.insert(*id, entry, now);
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
        let now = self.clock.now();
        let mut state = self.lock();
        Ok(state.entries.live(id, now).map(record))
    }

    async fn load_and_touch(
        &self,
        id: &Id,
        expires_at: SystemTime,
    ) -> Result<Option<Record>, Error> {
        let now = self.clock.now();
        let mut state = self.lock();
        let Some(record) = state.entries.live(id, now).map(record) else {
            return Ok(None);
        };
        state.entries.set_expiry(id, expires_at);
        Ok(Some(record))
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
        let current = state.entries.live(id, now).ok_or(Error::Gone)?.version;
        if current != expected.get() {
            return Err(Error::Conflict);
        }
        let version = state.next_version();
        let payload = Bytes::copy_from_slice(payload);
        state.entries.replace(id, payload, expires_at, version);
        Ok(())
    }

    async fn touch(&self, id: &Id, expires_at: SystemTime) -> Result<(), Error> {
        let now = self.clock.now();
        let mut state = self.lock();
        state.entries.live(id, now).ok_or(Error::Gone)?;
        state.entries.set_expiry(id, expires_at);
        Ok(())
    }

    async fn delete(&self, id: &Id) -> Result<(), Error> {
        self.lock().entries.remove(id);
        Ok(())
    }

    async fn delete_if(&self, id: &Id, expected: Version) -> Result<(), Error> {
        let now = self.clock.now();
        let mut state = self.lock();
        if state.entries.live(id, now).ok_or(Error::Gone)?.version != expected.get() {
            return Err(Error::Conflict);
        }
        state.entries.remove(id);
        Ok(())
    }

    /// Calls never wait.
    fn call_timeout(&self) -> Option<Duration> {
        Some(Duration::ZERO)
    }

    fn session_scan(&self) -> Option<&dyn SessionScan> {
        Some(self)
    }

    fn user_index(&self) -> Option<&dyn UserIndex> {
        Some(self)
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}

/// An exact index: a map from user to ids kept in step with every write, removal,
/// eviction and expiry, under the same lock.
#[async_trait]
impl UserIndex for MemoryStore {
    async fn create_for(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        user: Option<&str>,
    ) -> Result<(), Error> {
        let now = self.clock.now();
        let mut state = self.lock();
        if state.entries.live(id, now).is_some() {
            return Err(Error::Collision);
        }
        let version = state.next_version();
        let entry = Entry {
            payload: Bytes::copy_from_slice(payload),
            expires_at,
            version,
            user: user.map(str::to_owned),
        };
        state.entries.insert(*id, entry, now);
        Ok(())
    }

    async fn save_for(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
        user: Option<&str>,
    ) -> Result<(), Error> {
        let now = self.clock.now();
        let mut state = self.lock();
        let current = state.entries.live(id, now).ok_or(Error::Gone)?.version;
        if current != expected.get() {
            return Err(Error::Conflict);
        }
        let version = state.next_version();
        let payload = Bytes::copy_from_slice(payload);
        state.entries.replace(id, payload, expires_at, version);
        state.entries.set_user(id, user);
        Ok(())
    }

    async fn touch_for(
        &self,
        id: &Id,
        expires_at: SystemTime,
        _user: Option<&str>,
    ) -> Result<(), Error> {
        // The binding lives in the entry, so it lives exactly as long.
        self.touch(id, expires_at).await
    }

    async fn sessions_of(&self, user: &str) -> Result<Vec<IndexedRecord>, Error> {
        let now = self.clock.now();
        let mut state = self.lock();
        let mut found = Vec::new();
        for id in state.entries.ids_of(user) {
            if let Some(entry) = state.entries.live(&id, now) {
                found.push(IndexedRecord::new(id, record(entry), entry.expires_at));
            }
        }
        Ok(found)
    }

    async fn unindex(&self, user: &str, id: &Id) -> Result<(), Error> {
        // The map holds only current bindings: an entry bound to someone else is not in
        // `user`'s set, and one bound to `user` is unbound.
        let mut state = self.lock();
        if state.entries.ids_of(user).contains(id) {
            state.entries.set_user(id, None);
        }
        Ok(())
    }
}

fn record(entry: &Entry) -> Record {
    Record::new(entry.payload.clone(), Version::new(entry.version))
}

/// Lists this process's sessions in id order; the cursor is the last id listed. Another
/// process (the `sessionkit` command-line tool) has nothing to list: the memory store lives
/// and dies with its process.
#[async_trait]
impl SessionScan for MemoryStore {
    async fn scan(
        &self,
        from: Option<&ScanCursor>,
        limit: NonZeroUsize,
    ) -> Result<ScanPage, Error> {
        let after = match from {
            None => None,
            Some(cursor) => Some(
                Id::parse(cursor.as_str())
                    .ok_or_else(|| Error::decode("not a cursor of the memory store"))?,
            ),
        };
        let now = self.clock.now();
        let found = self
            .lock()
            .entries
            .live_after(after.as_ref(), now, limit.get());
        let next = (found.len() == limit.get())
            .then(|| found.last().map(|last| ScanCursor::new(last.0.to_string())))
            .flatten();
        let records = found
            .into_iter()
            .map(|(id, size, expires_at, version)| {
                ScannedRecord::new(id, size, Some(expires_at)).with_version(Version::new(version))
            })
            .collect();
        Ok(ScanPage::new(records, next))
    }
}

#[async_trait]
impl ExpiredDeletion for MemoryStore {
    /// Removes every entry expired by the time of the call, 1,000 per hold of the lock,
    /// visiting expired entries only.
    async fn delete_expired(&self) -> Result<u64, Error> {
        let now = self.clock.now();
        let mut deleted = 0;
        loop {
            let batch = self.lock().entries.remove_expired(now, CLEANUP_BATCH);
            deleted += batch as u64;
            if batch < CLEANUP_BATCH {
                return Ok(deleted);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Clock, ManualClock};
    use entries::INSERT_PURGE;
    use sessionkit_testkit::MetricsRecorder;

    const HOUR: Duration = Duration::from_secs(3600);

    fn store(max_sessions: usize, clock: &ManualClock) -> MemoryStore {
        MemoryStore::builder()
            .max_sessions(NonZeroUsize::new(max_sessions).unwrap())
            .clock(Arc::new(clock.clone()))
            .build()
    }

    /// Creates `n` sessions expiring at `expires_at`.
    async fn create_many(store: &MemoryStore, n: usize, expires_at: SystemTime) -> Vec<Id> {
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            let id = Id::random();
            store.create(&id, b"\x80", expires_at).await.unwrap();
            ids.push(id);
        }
        ids
    }

    async fn is_stored(store: &MemoryStore, id: &Id) -> bool {
        store.load(id).await.unwrap().is_some()
    }

    async fn version(store: &MemoryStore, id: &Id) -> Version {
        store.load(id).await.unwrap().expect("live").version()
    }

    fn assert_consistent(store: &MemoryStore) {
        store.lock().entries.assert_consistent();
    }

    /// The ways of using a stored session, each of which counts for recency.
    #[derive(Debug, Clone, Copy)]
    enum Use {
        Load,
        LoadAndTouch,
        Save,
        Touch,
    }

    impl Use {
        const ALL: [Use; 4] = [Use::Load, Use::LoadAndTouch, Use::Save, Use::Touch];

        /// Uses the session under `id`, stored with `version`, by this call alone; the
        /// calls that can move its expiry move it to `expires_at`.
        async fn apply(self, store: &MemoryStore, id: &Id, version: Version, at: SystemTime) {
            match self {
                Use::Load => {
                    store.load(id).await.unwrap().expect("live");
                }
                Use::LoadAndTouch => {
                    store.load_and_touch(id, at).await.unwrap().expect("live");
                }
                Use::Save => store.save(id, b"\x81", at, version).await.unwrap(),
                Use::Touch => store.touch(id, at).await.unwrap(),
            }
        }
    }

    #[tokio::test]
    async fn its_size_and_evictions_are_reported() {
        let recorder = MetricsRecorder::install();
        let clock = ManualClock::new();
        let store = store(2, &clock);
        let expires = clock.now() + HOUR;
        // (Read right after the call that set them: a read resets what it reads.)
        let gauges = |sessions: f64, bytes: f64| {
            let gauges = recorder.gauges();
            assert_eq!(gauges["sessionkit.memory.sessions"], sessions);
            assert_eq!(gauges["sessionkit.memory.size"], bytes);
        };
        let first = Id::random();
        store.create(&first, b"abc", expires).await.unwrap();
        gauges(1.0, 3.0);
        let second = Id::random();
        store.create(&second, b"12345", expires).await.unwrap();
        gauges(2.0, 8.0);
        let v = version(&store, &second).await;
        store.save(&second, b"1", expires, v).await.unwrap();
        gauges(2.0, 4.0);
        assert_eq!(recorder.counter("sessionkit.memory.evicted", &[]), 0);
        store.create(&Id::random(), b"xy", expires).await.unwrap();
        gauges(2.0, 3.0);
        assert_eq!(recorder.counter("sessionkit.memory.evicted", &[]), 1);
        store.delete(&second).await.unwrap();
        gauges(1.0, 2.0);
        clock.advance(2 * HOUR);
        assert_eq!(store.delete_expired().await.unwrap(), 1);
        gauges(0.0, 0.0);
        assert_eq!(
            recorder.counter("sessionkit.memory.evicted", &[]),
            1,
            "expiry is not eviction"
        );
        assert_consistent(&store);
    }

    #[test]
    fn new_store_has_the_default_maximum() {
        let store = MemoryStore::new();
        assert_eq!(store.max_sessions(), MemoryStore::DEFAULT_MAX_SESSIONS);
        assert_eq!(MemoryStore::DEFAULT_MAX_SESSIONS.get(), 100_000);
        let clock = ManualClock::new();
        let store = MemoryStore::with_clock(Arc::new(clock));
        assert_eq!(store.max_sessions(), MemoryStore::DEFAULT_MAX_SESSIONS);
    }

    #[tokio::test]
    async fn debug_shows_the_count_and_the_maximum() {
        let clock = ManualClock::new();
        let store = store(7, &clock);
        create_many(&store, 2, clock.now() + HOUR).await;
        let debug = format!("{store:?}");
        assert!(debug.starts_with("MemoryStore"), "{debug}");
        assert!(debug.contains("entries: 2"), "{debug}");
        assert!(debug.contains("max_sessions: 7"), "{debug}");
    }

    #[tokio::test]
    async fn full_store_evicts_the_least_recently_used() {
        let clock = ManualClock::new();
        let store = store(3, &clock);
        let ids = create_many(&store, 3, clock.now() + HOUR).await;
        let newcomer = Id::random();
        store
            .create(&newcomer, b"\x80", clock.now() + HOUR)
            .await
            .unwrap();
        assert_eq!(store.len(), 3);
        assert!(
            !is_stored(&store, &ids[0]).await,
            "the oldest was not evicted"
        );
        assert!(is_stored(&store, &ids[1]).await);
        assert!(is_stored(&store, &ids[2]).await);
        assert!(is_stored(&store, &newcomer).await);
        assert_consistent(&store);
    }

    #[tokio::test]
    async fn every_use_refreshes_recency() {
        for used in Use::ALL {
            let clock = ManualClock::new();
            let store = store(3, &clock);
            let oldest = create_many(&store, 1, clock.now() + HOUR).await[0];
            let version = version(&store, &oldest).await;
            let others = create_many(&store, 2, clock.now() + HOUR).await;
            // The oldest is used, so the second oldest becomes the least recently used.
            used.apply(&store, &oldest, version, clock.now() + HOUR)
                .await;
            create_many(&store, 1, clock.now() + HOUR).await;
            assert_eq!(store.len(), 3, "{used:?}");
            assert!(is_stored(&store, &oldest).await, "{used:?} did not count");
            assert!(
                !is_stored(&store, &others[0]).await,
                "{used:?}: wrong eviction"
            );
            assert_consistent(&store);
        }
    }

    #[tokio::test]
    async fn evicted_session_is_gone_for_save() {
        let clock = ManualClock::new();
        let store = store(1, &clock);
        let first = create_many(&store, 1, clock.now() + HOUR).await[0];
        let version = version(&store, &first).await;
        create_many(&store, 1, clock.now() + HOUR).await;
        let err = store
            .save(&first, b"\x81", clock.now() + HOUR, version)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Gone), "{err:?}");
        assert_eq!(store.len(), 1);
    }

    #[tokio::test]
    async fn count_never_exceeds_the_maximum() {
        let clock = ManualClock::new();
        let store = store(10, &clock);
        for i in 0..500u64 {
            // A mix of lifetimes, some touched to live longer.
            let expires = clock.now() + Duration::from_secs(1 + i % 7);
            let ids = create_many(&store, 1, expires).await;
            if i % 3 == 0 {
                store.touch(&ids[0], clock.now() + HOUR).await.unwrap();
            }
            clock.advance(Duration::from_secs(1));
            assert!(store.len() <= 10, "{} entries after {i}", store.len());
        }
        assert_eq!(store.len(), 10);
        assert_consistent(&store);
    }

    #[tokio::test]
    async fn expired_sessions_go_before_live_ones_are_evicted() {
        let clock = ManualClock::new();
        let store = store(3, &clock);
        let short = create_many(&store, 1, clock.now() + Duration::from_secs(1)).await[0];
        // Used last, so the expired session is the most recently used one.
        let live = create_many(&store, 2, clock.now() + HOUR).await;
        store.load(&short).await.unwrap().unwrap();
        clock.advance(Duration::from_secs(2));
        create_many(&store, 1, clock.now() + HOUR).await;
        assert_eq!(store.len(), 3);
        assert!(is_stored(&store, &live[0]).await);
        assert!(is_stored(&store, &live[1]).await);
    }

    #[tokio::test]
    async fn expired_sessions_are_removed_a_batch_per_create() {
        let clock = ManualClock::new();
        let store = MemoryStore::with_clock(Arc::new(clock.clone()));
        let backlog = 3 * INSERT_PURGE + 5;
        create_many(&store, backlog, clock.now() + Duration::from_secs(1)).await;
        clock.advance(Duration::from_secs(2));
        // Never loaded again, these would stay forever without removal. Each create
        // removes one batch, oldest expiry first, not a sweep of everything.
        let long = clock.now() + HOUR;
        for created in 1..=3 {
            create_many(&store, 1, long).await;
            assert_eq!(store.len(), backlog - created * INSERT_PURGE + created);
        }
        create_many(&store, 1, long).await;
        assert_eq!(store.len(), 4, "the rest of the backlog is gone");
        assert_consistent(&store);
    }

    #[tokio::test]
    async fn memory_stays_bounded_under_churn() {
        let clock = ManualClock::new();
        let store = MemoryStore::with_clock(Arc::new(clock.clone()));
        for _ in 0..50_000 {
            let expires = clock.now() + Duration::from_secs(1);
            create_many(&store, 1, expires).await;
            clock.advance(Duration::from_millis(100));
        }
        // Only about ten entries are live at any time, and each create removes the ones
        // that expired since the last.
        assert!(store.len() <= 11, "{} entries", store.len());
    }

    #[tokio::test]
    async fn a_longer_expiry_moves_in_the_index() {
        for used in [Use::LoadAndTouch, Use::Save, Use::Touch] {
            let clock = ManualClock::new();
            let store = store(100, &clock);
            let id = create_many(&store, 1, clock.now() + Duration::from_secs(1)).await[0];
            let version = version(&store, &id).await;
            used.apply(&store, &id, version, clock.now() + HOUR).await;
            clock.advance(Duration::from_secs(2));
            // Past the old expiry: neither a create nor a cleanup removes it.
            create_many(&store, 1, clock.now() + HOUR).await;
            assert_eq!(store.delete_expired().await.unwrap(), 0, "{used:?}");
            assert!(is_stored(&store, &id).await, "{used:?}");
            assert_consistent(&store);
        }
    }

    #[tokio::test]
    async fn a_shorter_expiry_moves_in_the_index() {
        for used in [Use::LoadAndTouch, Use::Save, Use::Touch] {
            let clock = ManualClock::new();
            let store = store(100, &clock);
            let id = create_many(&store, 1, clock.now() + HOUR).await[0];
            let version = version(&store, &id).await;
            let soon = clock.now() + Duration::from_secs(1);
            used.apply(&store, &id, version, soon).await;
            clock.advance(Duration::from_secs(2));
            assert_eq!(store.delete_expired().await.unwrap(), 1, "{used:?}");
            assert!(store.is_empty(), "{used:?}");
        }
    }

    #[tokio::test]
    async fn deletes_leave_nothing_in_the_index() {
        let clock = ManualClock::new();
        let store = store(100, &clock);
        let [deleted, deleted_if] =
            <[Id; 2]>::try_from(create_many(&store, 2, clock.now() + Duration::from_secs(1)).await)
                .unwrap();
        store.delete(&deleted).await.unwrap();
        let version = version(&store, &deleted_if).await;
        store.delete_if(&deleted_if, version).await.unwrap();
        assert_consistent(&store);
        // Re-created with a longer life, the ids must not be removed at their old expiry.
        for id in [deleted, deleted_if] {
            store
                .create(&id, b"\x80", clock.now() + HOUR)
                .await
                .unwrap();
        }
        clock.advance(Duration::from_secs(2));
        assert_eq!(store.delete_expired().await.unwrap(), 0);
        assert!(is_stored(&store, &deleted).await);
        assert!(is_stored(&store, &deleted_if).await);
        assert_consistent(&store);
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

    #[tokio::test]
    async fn delete_expired_clears_a_backlog_larger_than_a_batch() {
        let clock = ManualClock::new();
        let store = MemoryStore::with_clock(Arc::new(clock.clone()));
        let backlog = 2 * CLEANUP_BATCH + 7;
        create_many(&store, backlog, clock.now() + Duration::from_secs(1)).await;
        let live = create_many(&store, 1, clock.now() + HOUR).await[0];
        clock.advance(Duration::from_secs(2));
        assert_eq!(store.delete_expired().await.unwrap(), backlog as u64);
        assert_eq!(store.len(), 1);
        assert!(is_stored(&store, &live).await);
        assert_consistent(&store);
    }
}
