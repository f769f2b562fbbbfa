//! [`NearCache`]: records recently loaded or written by this process, kept coherent with
//! Redis by the invalidations of a tracking connection (`tracking.rs`).
//!
//! Three rules keep it from ever serving what Redis no longer holds, beyond the time an
//! invalidation takes to arrive:
//!
//! - **In flight.** A call registers its key ([`NearCache::begin`]) before its command is
//!   sent. An invalidation of a key in flight marks the registration; the call's result is
//!   then returned but not cached. A write of this process marks the other calls in flight
//!   on its key the same way, and evicts the key, when it finishes.
//! - **Epochs.** Losing the tracking connection flushes everything and stops serving
//!   ([`NearCache::deactivate`]); a call that began before tracking is back never caches.
//! - **Expiry.** An entry carries the record's expiry as measured from before the command
//!   was sent (so never later than Redis's), and is not served past it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use hashlink::LruCache;
use sessionkit_core::{Record, Version};

use crate::telemetry::{self, keys};

/// Bytes counted for an entry beyond its key and payload (its bookkeeping, roughly).
const ENTRY_OVERHEAD: usize = 96;

/// The cache's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The most entries held.
    pub(crate) entries: usize,
    /// The most bytes held (keys, payloads and bookkeeping).
    pub(crate) bytes: usize,
}

/// What the near cache did so far, for metrics and tests ([`crate::RedisStore::near_cache_stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct NearCacheStats {
    /// Whether it serves reads now: tracking is established. `false` while the tracking
    /// connection is being (re)established.
    pub active: bool,
    /// Loads answered from the cache, without a round trip.
    pub hits: u64,
    /// Loads that went to Redis.
    pub misses: u64,
    /// Keys invalidated by Redis (whether or not they were cached).
    pub invalidations: u64,
    /// Times the whole cache was flushed (tracking lost, `FLUSHDB`).
    pub flushes: u64,
    /// Entries held now.
    pub entries: usize,
    /// Bytes held now (keys, payloads and bookkeeping).
    pub bytes: usize,
}

/// One cached record.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) payload: Bytes,
    pub(crate) version: Version,
    /// When the record expires, measured from before the command that read its TTL went
    /// out. `None`: not known (the load sent no `PTTL`); the entry is kept only for its
    /// bytes, which a save's `SET ... IFEQ` compares, and is never served.
    pub(crate) expires: Option<Instant>,
}

/// What the cache holds for a key ([`NearCache::lookup`]).
#[derive(Debug)]
pub(crate) enum Lookup {
    /// A live record: the load is answered.
    Hit(Record),
    /// The record's bytes without its expiry: a miss, on a key read before.
    BytesOnly,
    /// Nothing (or an expired record, now evicted).
    Miss,
}

/// What a finished call leaves in the cache for its key.
#[derive(Debug)]
pub(crate) enum Fill {
    /// The record as Redis now holds it.
    Record(Entry),
    /// Nothing: the key is absent, or what Redis holds is not known (a touch: Redis
    /// invalidates a key whose expiry moved, so the entry goes anyway).
    Nothing,
}

/// Whether a call reads or writes its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

pub(crate) struct NearCache {
    state: Mutex<State>,
    limits: Limits,
    hits: AtomicU64,
    misses: AtomicU64,
    invalidations: AtomicU64,
    flushes: AtomicU64,
}

struct State {
    entries: LruCache<String, Entry>,
    bytes: usize,
    in_flight: HashMap<String, InFlight>,
    /// Moved on every flush and every activation: a call that began in another epoch never
    /// caches.
    epoch: u64,
    /// Whether tracking is established: entries are served and filled only then.
    active: bool,
}

/// The calls in flight on one key.
struct InFlight {
    count: usize,
    /// Moved by every invalidation of the key while calls are in flight.
    generation: u64,
}

impl NearCache {
    /// An empty cache, inactive until tracking is established.
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            state: Mutex::new(State {
                entries: LruCache::new_unbounded(),
                bytes: 0,
                in_flight: HashMap::new(),
                epoch: 0,
                active: false,
            }),
            limits,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            invalidations: AtomicU64::new(0),
            flushes: AtomicU64::new(0),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The record cached under `key`, if tracking is established and it has not expired.
    #[cfg(test)]
    pub(crate) fn get(&self, key: &str) -> Option<Record> {
        match self.lookup(key) {
            Lookup::Hit(record) => Some(record),
            Lookup::BytesOnly | Lookup::Miss => None,
        }
    }

    /// What is cached under `key`: a live record only if tracking is established and it
    /// has not expired.
    pub(crate) fn lookup(&self, key: &str) -> Lookup {
        let found = {
            let mut state = self.state();
            if !state.active {
                Lookup::Miss
            } else {
                match state.entries.get(key) {
                    Some(entry) => match entry.expires {
                        Some(expires) if expires > Instant::now() => {
                            Lookup::Hit(Record::new(entry.payload.clone(), entry.version))
                        }
                        Some(_) => {
                            state.remove(key);
                            Lookup::Miss
                        }
                        None => Lookup::BytesOnly,
                    },
                    None => Lookup::Miss,
                }
            }
        };
        let (counter, key) = if matches!(found, Lookup::Hit(_)) {
            (&self.hits, &keys::NEAR_CACHE_HITS)
        } else {
            (&self.misses, &keys::NEAR_CACHE_MISSES)
        };
        counter.fetch_add(1, Ordering::Relaxed);
        telemetry::count(key, 1);
        found
    }

    /// The bytes cached under `key` if their version is `version`, expired or not, for a
    /// compare-and-set that compares bytes (the server checks them, so they need not be
    /// current).
    pub(crate) fn payload_of(&self, key: &str, version: Version) -> Option<Bytes> {
        self.state()
            .entries
            .peek(key)
            .filter(|entry| entry.version == version)
            .map(|entry| entry.payload.clone())
    }

    /// Registers a call on `key` before its command is sent. Finish it with
    /// [`Ticket::finish`]; dropped unfinished (the call failed or was cancelled), a write's
    /// ticket evicts the key, as its outcome is unknown.
    pub(crate) fn begin(&self, key: &str, access: Access) -> Ticket<'_> {
        let mut state = self.state();
        let epoch = state.epoch;
        let in_flight = state.in_flight.entry(key.to_owned()).or_insert(InFlight {
            count: 0,
            generation: 0,
        });
        in_flight.count += 1;
        let generation = in_flight.generation;
        Ticket {
            cache: self,
            key: key.to_owned(),
            access,
            epoch,
            generation,
            finished: false,
        }
    }

    /// Redis says `keys` changed: evicts them and marks the calls in flight on them.
    pub(crate) fn invalidate<'k>(&self, keys: impl IntoIterator<Item = &'k [u8]>) {
        let mut state = self.state();
        let mut invalidated = 0;
        for key in keys {
            invalidated += 1;
            let Ok(key) = std::str::from_utf8(key) else {
                continue;
            };
            state.invalidate(key);
        }
        self.invalidations.fetch_add(invalidated, Ordering::Relaxed);
        telemetry::count(&keys::NEAR_CACHE_INVALIDATIONS, invalidated);
    }

    /// Redis says every key changed (`FLUSHDB`, `FLUSHALL`): flushes, and no call in flight
    /// caches. Stays active.
    pub(crate) fn invalidate_all(&self) {
        let mut state = self.state();
        state.flush();
        self.flushed();
    }

    /// Tracking is lost: flushes, and serves and fills nothing until [`activate`](Self::activate).
    pub(crate) fn deactivate(&self) {
        let mut state = self.state();
        let was_active = state.active;
        state.active = false;
        state.flush();
        self.flushed();
        if was_active {
            tracing::info!("Redis near cache: tracking lost, cache flushed until it is back");
        }
    }

    /// Tracking is established (its `CLIENT TRACKING ON` was acknowledged): calls that begin
    /// from now on may cache.
    pub(crate) fn activate(&self) {
        let mut state = self.state();
        state.epoch += 1;
        state.active = true;
    }

    fn flushed(&self) {
        self.flushes.fetch_add(1, Ordering::Relaxed);
        telemetry::count(&keys::NEAR_CACHE_FLUSHES, 1);
    }

    pub(crate) fn stats(&self) -> NearCacheStats {
        let state = self.state();
        NearCacheStats {
            active: state.active,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            invalidations: self.invalidations.load(Ordering::Relaxed),
            flushes: self.flushes.load(Ordering::Relaxed),
            entries: state.entries.len(),
            bytes: state.bytes,
        }
    }
}

impl State {
    fn remove(&mut self, key: &str) {
        if let Some(old) = self.entries.remove(key) {
            self.bytes -= size(key, &old);
            self.report_size();
        }
    }

    /// Sets the size gauges (an atomic load or two without a recorder).
    fn report_size(&self) {
        telemetry::set(&keys::NEAR_CACHE_ENTRIES, self.entries.len() as f64);
        telemetry::set(&keys::NEAR_CACHE_SIZE, self.bytes as f64);
    }

    fn invalidate(&mut self, key: &str) {
        self.remove(key);
        if let Some(in_flight) = self.in_flight.get_mut(key) {
            in_flight.generation += 1;
        }
    }

    fn flush(&mut self) {
        self.entries.clear();
        self.bytes = 0;
        self.epoch += 1;
        self.report_size();
    }

    fn insert(&mut self, key: String, entry: Entry, limits: Limits) {
        self.remove(&key);
        let added = size(&key, &entry);
        if added > limits.bytes || limits.entries == 0 {
            return;
        }
        self.bytes += added;
        self.entries.insert(key, entry);
        while self.entries.len() > limits.entries || self.bytes > limits.bytes {
            let Some((key, old)) = self.entries.remove_lru() else {
                break;
            };
            self.bytes -= size(&key, &old);
        }
        self.report_size();
    }
}

fn size(key: &str, entry: &Entry) -> usize {
    key.len() + entry.payload.len() + ENTRY_OVERHEAD
}

/// A call in flight on one key (see [`NearCache::begin`]).
pub(crate) struct Ticket<'a> {
    cache: &'a NearCache,
    key: String,
    access: Access,
    epoch: u64,
    generation: u64,
    finished: bool,
}

impl Ticket<'_> {
    /// Whether what the call found may still be cached: tracking has been established all
    /// along and no invalidation of the key arrived. (Checked again by
    /// [`finish`](Self::finish); the tests use this to see a crossing.)
    #[cfg(test)]
    pub(crate) fn may_fill(&self) -> bool {
        self.cache.state().may_fill(self)
    }

    /// The call is done: caches `fill` if nothing invalidated the key meanwhile. A write
    /// also evicts the key otherwise, and marks the other calls in flight on it.
    pub(crate) fn finish(mut self, fill: Fill) {
        self.finished = true;
        let limits = self.cache.limits;
        let mut state = self.cache.state();
        let valid = state.may_fill(&self);
        state.leave(&self.key);
        if self.access == Access::Write {
            state.invalidate(&self.key);
        }
        match fill {
            Fill::Record(entry) if valid => state.insert(self.key.clone(), entry, limits),
            Fill::Record(_) => {}
            Fill::Nothing => state.remove(&self.key),
        }
    }
}

impl State {
    fn may_fill(&self, ticket: &Ticket<'_>) -> bool {
        self.active
            && self.epoch == ticket.epoch
            && self
                .in_flight
                .get(&ticket.key)
                .is_some_and(|in_flight| in_flight.generation == ticket.generation)
    }

    /// One call on `key` is no longer in flight.
    fn leave(&mut self, key: &str) {
        if let Some(in_flight) = self.in_flight.get_mut(key) {
            in_flight.count -= 1;
            if in_flight.count == 0 {
                self.in_flight.remove(key);
            }
        }
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let mut state = self.cache.state();
        state.leave(&self.key);
        if self.access == Access::Write {
            state.invalidate(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn cache() -> NearCache {
        let cache = NearCache::new(Limits {
            entries: 3,
            bytes: 10_000,
        });
        cache.activate();
        cache
    }

    fn entry(payload: &'static [u8]) -> Entry {
        Entry {
            payload: Bytes::from_static(payload),
            version: Version::new(payload.len() as u64),
            expires: Some(Instant::now() + Duration::from_secs(60)),
        }
    }

    fn payload(cache: &NearCache, key: &str) -> Option<Bytes> {
        cache.get(key).map(|record| record.payload().clone())
    }

    #[test]
    fn hits_misses_invalidations_flushes_and_size_are_reported_as_metrics() {
        let recorder = sessionkit_testkit::MetricsRecorder::install();
        let counter = |name| recorder.counter(name, &[]);
        let cache = cache();
        assert_eq!(payload(&cache, "k"), None);
        assert_eq!(counter(telemetry::NEAR_CACHE_MISSES), 1);
        assert_eq!(counter(telemetry::NEAR_CACHE_HITS), 0);

        cache
            .begin("k", Access::Read)
            .finish(Fill::Record(entry(b"v1")));
        let gauges = recorder.gauges();
        assert_eq!(gauges[telemetry::NEAR_CACHE_ENTRIES], 1.0);
        assert_eq!(
            gauges[telemetry::NEAR_CACHE_SIZE],
            (1 + 2 + ENTRY_OVERHEAD) as f64
        );
        assert_eq!(payload(&cache, "k").as_deref(), Some(&b"v1"[..]));
        assert_eq!(payload(&cache, "k").as_deref(), Some(&b"v1"[..]));
        assert_eq!(counter(telemetry::NEAR_CACHE_HITS), 2);
        assert_eq!(counter(telemetry::NEAR_CACHE_MISSES), 1);
        assert_eq!(cache.stats().hits, 2, "the stats and the metrics agree");

        cache.invalidate([&b"k"[..], &b"other"[..]]);
        assert_eq!(counter(telemetry::NEAR_CACHE_INVALIDATIONS), 2);
        assert_eq!(recorder.gauges()[telemetry::NEAR_CACHE_ENTRIES], 0.0);

        cache
            .begin("k", Access::Read)
            .finish(Fill::Record(entry(b"v2")));
        assert_eq!(counter(telemetry::NEAR_CACHE_FLUSHES), 0);
        cache.deactivate();
        assert_eq!(counter(telemetry::NEAR_CACHE_FLUSHES), 1);
        let gauges = recorder.gauges();
        assert_eq!(gauges[telemetry::NEAR_CACHE_ENTRIES], 0.0);
        assert_eq!(gauges[telemetry::NEAR_CACHE_SIZE], 0.0);
        cache.activate();
        cache.invalidate_all();
        assert_eq!(counter(telemetry::NEAR_CACHE_FLUSHES), 2);
    }

    #[test]
    fn a_loaded_record_is_served_until_invalidated() {
        let cache = cache();
        cache
            .begin("k", Access::Read)
            .finish(Fill::Record(entry(b"v1")));
        assert_eq!(payload(&cache, "k").as_deref(), Some(&b"v1"[..]));
        cache.invalidate([&b"k"[..]]);
        assert_eq!(payload(&cache, "k"), None);
    }

    #[test]
    fn a_load_crossed_by_an_invalidation_is_returned_but_not_cached() {
        let cache = cache();
        let ticket = cache.begin("k", Access::Read);
        // The GET's reply (the old value) is on its way while Redis invalidates the key.
        cache.invalidate([&b"k"[..]]);
        assert!(!ticket.may_fill());
        ticket.finish(Fill::Record(entry(b"old")));
        assert_eq!(payload(&cache, "k"), None);
        // The next load caches again.
        cache
            .begin("k", Access::Read)
            .finish(Fill::Record(entry(b"new")));
        assert_eq!(payload(&cache, "k").as_deref(), Some(&b"new"[..]));
    }

    #[test]
    fn a_write_of_this_process_keeps_loads_in_flight_from_caching() {
        let cache = cache();
        let load = cache.begin("k", Access::Read);
        let save = cache.begin("k", Access::Write);
        save.finish(Fill::Record(entry(b"saved")));
        assert_eq!(payload(&cache, "k").as_deref(), Some(&b"saved"[..]));
        // The load may have read the value from before the save: not cached, and the
        // saved entry is left alone.
        load.finish(Fill::Record(entry(b"before")));
        assert_eq!(payload(&cache, "k").as_deref(), Some(&b"saved"[..]));
    }

    #[test]
    fn an_unfinished_write_evicts_its_key() {
        let cache = cache();
        cache
            .begin("k", Access::Read)
            .finish(Fill::Record(entry(b"v1")));
        drop(cache.begin("k", Access::Write));
        assert_eq!(payload(&cache, "k"), None);
        assert!(cache.state().in_flight.is_empty());
    }

    #[test]
    fn nothing_is_served_or_filled_while_tracking_is_lost() {
        let cache = cache();
        cache
            .begin("k", Access::Read)
            .finish(Fill::Record(entry(b"v1")));
        let straddling = cache.begin("k", Access::Read);
        cache.deactivate();
        assert_eq!(payload(&cache, "k"), None);
        cache
            .begin("k", Access::Read)
            .finish(Fill::Record(entry(b"v2")));
        assert_eq!(cache.stats().entries, 0);
        cache.activate();
        // Began before tracking was back: its GET may predate the tracking.
        straddling.finish(Fill::Record(entry(b"v3")));
        assert_eq!(payload(&cache, "k"), None);
    }

    #[test]
    fn an_expired_entry_is_never_served() {
        let cache = cache();
        let mut expired = entry(b"v1");
        expired.expires = Some(Instant::now());
        cache.begin("k", Access::Read).finish(Fill::Record(expired));
        assert_eq!(payload(&cache, "k"), None);
        assert_eq!(cache.stats().entries, 0);
    }

    #[test]
    fn an_entry_without_its_expiry_is_kept_for_its_bytes_and_never_served() {
        let cache = cache();
        let mut bytes_only = entry(b"v1");
        bytes_only.expires = None;
        let version = bytes_only.version;
        cache
            .begin("k", Access::Read)
            .finish(Fill::Record(bytes_only));
        assert!(matches!(cache.lookup("k"), Lookup::BytesOnly));
        assert_eq!(payload(&cache, "k"), None);
        assert_eq!(cache.stats().hits, 0);
        assert_eq!(cache.payload_of("k", version).as_deref(), Some(&b"v1"[..]));
        assert_eq!(cache.payload_of("k", Version::new(version.get() + 1)), None);
        cache.invalidate([&b"k"[..]]);
        assert!(matches!(cache.lookup("k"), Lookup::Miss));
        assert_eq!(cache.payload_of("k", version), None);
    }

    #[test]
    fn least_recently_used_entries_go_first_by_count_and_by_bytes() {
        let cache = cache();
        for key in ["a", "b", "c"] {
            cache
                .begin(key, Access::Read)
                .finish(Fill::Record(entry(b"v")));
        }
        assert!(cache.get("a").is_some());
        cache
            .begin("d", Access::Read)
            .finish(Fill::Record(entry(b"v")));
        assert!(cache.get("b").is_none(), "b was the least recently used");
        assert_eq!(cache.stats().entries, 3);

        let small = NearCache::new(Limits {
            entries: 100,
            bytes: 2 * (1 + 2 + ENTRY_OVERHEAD),
        });
        small.activate();
        for key in ["a", "b", "c"] {
            small
                .begin(key, Access::Read)
                .finish(Fill::Record(entry(b"vv")));
        }
        assert_eq!(small.stats().entries, 2);
        assert_eq!(small.stats().bytes, 2 * (1 + 2 + ENTRY_OVERHEAD));
        assert!(small.get("a").is_none());
    }

    #[test]
    fn a_flush_of_the_database_drops_everything_and_every_call_in_flight() {
        let cache = cache();
        cache
            .begin("k", Access::Read)
            .finish(Fill::Record(entry(b"v1")));
        let in_flight = cache.begin("j", Access::Read);
        cache.invalidate_all();
        in_flight.finish(Fill::Record(entry(b"v2")));
        assert_eq!(cache.stats().entries, 0);
        assert!(cache.stats().active);
    }
}
