//! [`Refreshes`]: when this process last moved each session's expiry, so that a read moves
//! it again only once it would move by more than the refresh step.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use hashlink::LruCache;

use crate::Id;

/// How many sessions' last refresh a process remembers. A session it forgot is refreshed
/// on its next read (one write more, never one less). About 80 bytes each.
const REMEMBERED: usize = 16_384;

/// The expiry this process last wrote for each recently used session.
///
/// Expiries only ever move forward (each write sets "now + lifetime", capped by the same
/// absolute lifetime), so the store's expiry is at least the one remembered here: skipping
/// a refresh that would move it by at most `step` leaves it at most `step` behind a strict
/// sliding window, whatever other processes do.
pub(crate) struct Refreshes {
    step: Duration,
    last: Mutex<LruCache<Id, SystemTime>>,
}

impl Refreshes {
    pub(crate) fn new(step: Duration) -> Self {
        Self {
            step,
            last: Mutex::new(LruCache::new(if step.is_zero() { 0 } else { REMEMBERED })),
        }
    }

    /// Whether moving `id`'s expiry to `expiry` is worth a store write: the step is zero,
    /// this process never moved it, or it would move by more than the step.
    pub(crate) fn is_due(&self, id: &Id, expiry: SystemTime) -> bool {
        if self.step.is_zero() {
            return true;
        }
        match self.lock().get(id) {
            Some(last) => expiry > *last + self.step,
            None => true,
        }
    }

    /// Remembers that the store now has `expiry` for `id`.
    pub(crate) fn note(&self, id: &Id, expiry: SystemTime) {
        if !self.step.is_zero() {
            self.lock().insert(*id, expiry);
        }
    }

    /// Forgets `id` (deleted).
    pub(crate) fn forget(&self, id: &Id) {
        if !self.step.is_zero() {
            self.lock().remove(id);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<Id, SystemTime>> {
        // Every critical section leaves the map consistent.
        self.last.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
