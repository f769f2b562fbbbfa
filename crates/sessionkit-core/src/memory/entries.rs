//! The memory store's sessions: a map in least-recently-used order plus an index by expiry,
//! kept in step by every method here.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::num::NonZeroUsize;
use std::time::SystemTime;

use bytes::Bytes;
use hashlink::LinkedHashMap;

use crate::{Id, telemetry};

/// How many expired entries an insert removes before it adds its own, oldest expiry first.
/// More than one, so a backlog shrinks while new sessions keep coming.
pub(super) const INSERT_PURGE: usize = 32;

/// One stored session.
pub(super) struct Entry {
    pub(super) payload: Bytes,
    pub(super) expires_at: SystemTime,
    pub(super) version: u64,
    /// The user the session is bound to, for the user index.
    pub(super) user: Option<String>,
}

/// Sessions by id, never more than `max`.
pub(super) struct Entries {
    /// Front: least recently used. SipHash with a per-map random key (the standard
    /// library's `RandomState`), as `HashMap`, since ids can come from clients.
    by_id: LinkedHashMap<Id, Entry, RandomState>,
    /// Every entry's `(expires_at, id)`, earliest first; an id is in `by_id` at most once,
    /// so the pair is unique.
    by_expiry: BTreeSet<(SystemTime, Id)>,
    /// The ids of the entries bound to each user; a user with none has no set.
    by_user: HashMap<String, HashSet<Id>>,
    max: NonZeroUsize,
    /// The sum of the entries' payload sizes.
    payload_bytes: usize,
}

impl Entries {
    pub(super) fn new(max: NonZeroUsize) -> Self {
        Self {
            by_id: LinkedHashMap::with_hasher(RandomState::new()),
            by_expiry: BTreeSet::new(),
            by_user: HashMap::new(),
            max,
            payload_bytes: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.by_id.len()
    }

    pub(super) fn max(&self) -> NonZeroUsize {
        self.max
    }

    /// The sum of the entries' payload sizes, in bytes.
    pub(super) fn payload_bytes(&self) -> usize {
        self.payload_bytes
    }

    /// The live entry under `id`, now the most recently used; an expired one is removed
    /// on the way.
    pub(super) fn live(&mut self, id: &Id, now: SystemTime) -> Option<&Entry> {
        if self.by_id.get(id)?.expires_at <= now {
            self.remove(id);
            return None;
        }
        self.by_id.to_back(id).map(|entry| &*entry)
    }

    /// Adds `entry` under `id`, which must be free, as the most recently used. Makes room
    /// first: up to [`INSERT_PURGE`] expired entries go, then, if the store is still full,
    /// the least recently used. Expired entries always go before a live one is evicted: a
    /// full batch leaves room, a short one leaves no expired entry behind.
    pub(super) fn insert(&mut self, id: Id, entry: Entry, now: SystemTime) {
        debug_assert!(!self.by_id.contains_key(&id), "insert over a stored id");
        self.remove_expired(now, INSERT_PURGE);
        while self.by_id.len() >= self.max.get() {
            self.evict_least_recently_used();
        }
        self.by_expiry.insert((entry.expires_at, id));
        self.payload_bytes += entry.payload.len();
        if let Some(user) = &entry.user {
            self.by_user.entry(user.clone()).or_default().insert(id);
        }
        self.by_id.insert(id, entry);
    }

    /// Up to `limit` live entries with ids after `after`, in id order: the ids, payload
    /// sizes, expiries and versions. Visits every entry (the map has no id order): the
    /// memory store's scan is for tests and small stores.
    pub(super) fn live_after(
        &self,
        after: Option<&Id>,
        now: SystemTime,
        limit: usize,
    ) -> Vec<(Id, u64, SystemTime, u64)> {
        let mut found: Vec<_> = self
            .by_id
            .iter()
            .filter(|(id, entry)| after.is_none_or(|after| *id > after) && entry.expires_at > now)
            .map(|(id, entry)| {
                (
                    *id,
                    entry.payload.len() as u64,
                    entry.expires_at,
                    entry.version,
                )
            })
            .collect();
        found.sort_unstable_by_key(|found| found.0);
        found.truncate(limit);
        found
    }

    /// Binds the entry under `id`, if any, to `user`.
    pub(super) fn set_user(&mut self, id: &Id, user: Option<&str>) {
        let Some(entry) = self.by_id.get_mut(id) else {
            return;
        };
        if entry.user.as_deref() == user {
            return;
        }
        let old = std::mem::replace(&mut entry.user, user.map(str::to_owned));
        unbind(&mut self.by_user, id, old.as_deref());
        if let Some(user) = user {
            self.by_user.entry(user.to_owned()).or_default().insert(*id);
        }
    }

    /// The ids of the entries bound to `user`, live or not.
    pub(super) fn ids_of(&self, user: &str) -> Vec<Id> {
        self.by_user
            .get(user)
            .map(|ids| ids.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Moves the expiry of the entry under `id`, if any.
    pub(super) fn set_expiry(&mut self, id: &Id, expires_at: SystemTime) {
        if let Some(entry) = self.by_id.get_mut(id) {
            self.by_expiry.remove(&(entry.expires_at, *id));
            self.by_expiry.insert((expires_at, *id));
            entry.expires_at = expires_at;
        }
    }

    /// Replaces the data, expiry and version of the entry under `id`, if any, keeping its
    /// place in the recency order.
    pub(super) fn replace(
        &mut self,
        id: &Id,
        payload: Bytes,
        expires_at: SystemTime,
        version: u64,
    ) {
        self.set_expiry(id, expires_at);
        if let Some(entry) = self.by_id.get_mut(id) {
            self.payload_bytes = self.payload_bytes - entry.payload.len() + payload.len();
            entry.payload = payload;
            entry.version = version;
        }
    }

    /// Removes the entry under `id`; whether there was one.
    pub(super) fn remove(&mut self, id: &Id) -> bool {
        match self.by_id.remove(id) {
            Some(entry) => {
                self.payload_bytes -= entry.payload.len();
                unbind(&mut self.by_user, id, entry.user.as_deref());
                self.by_expiry.remove(&(entry.expires_at, *id))
            }
            None => false,
        }
    }

    /// Removes up to `limit` entries whose expiry is at or before `now`, earliest first,
    /// each in O(log n); returns how many. Live entries are never visited.
    pub(super) fn remove_expired(&mut self, now: SystemTime, limit: usize) -> usize {
        let mut removed = 0;
        while removed < limit {
            match self.by_expiry.first() {
                Some(&(expires_at, id)) if expires_at <= now => {
                    self.by_expiry.pop_first();
                    if let Some(entry) = self.by_id.remove(&id) {
                        self.payload_bytes -= entry.payload.len();
                        unbind(&mut self.by_user, &id, entry.user.as_deref());
                    }
                    removed += 1;
                }
                _ => break,
            }
        }
        removed
    }

    fn evict_least_recently_used(&mut self) {
        if let Some((id, entry)) = self.by_id.pop_front() {
            self.by_expiry.remove(&(entry.expires_at, id));
            self.payload_bytes -= entry.payload.len();
            unbind(&mut self.by_user, &id, entry.user.as_deref());
            telemetry::count(&telemetry::keys::MEMORY_EVICTED);
            tracing::debug!(
                max_sessions = self.max.get(),
                "memory store full: evicted the least recently used session"
            );
        }
    }

    /// Panics unless the map and the index describe the same entries.
    #[cfg(test)]
    pub(super) fn assert_consistent(&self) {
        assert_eq!(self.by_id.len(), self.by_expiry.len(), "index out of step");
        assert!(self.by_id.len() <= self.max.get(), "over the maximum");
        let bound: usize = self.by_user.values().map(HashSet::len).sum();
        let with_user = self.by_id.values().filter(|e| e.user.is_some()).count();
        assert_eq!(bound, with_user, "user index out of step");
        let bytes: usize = self.by_id.values().map(|e| e.payload.len()).sum();
        assert_eq!(bytes, self.payload_bytes, "payload size out of step");
        assert!(
            self.by_user.values().all(|ids| !ids.is_empty()),
            "empty user set kept"
        );
        for (id, entry) in &self.by_id {
            assert!(
                self.by_expiry.contains(&(entry.expires_at, *id)),
                "{id:?} missing from the expiry index"
            );
        }
    }
}

/// Drops `id` from `user`'s set, and the set when it is left empty.
fn unbind(by_user: &mut HashMap<String, HashSet<Id>>, id: &Id, user: Option<&str>) {
    let Some(user) = user else { return };
    if let Some(ids) = by_user.get_mut(user) {
        ids.remove(id);
        if ids.is_empty() {
            by_user.remove(user);
        }
    }
}
