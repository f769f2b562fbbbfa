//! One user's index record: read it, and change it by compare-and-set, retrying a bounded
//! number of times when another writer got there first.

use std::time::{Duration, SystemTime};

use sessionkit_core::Error;

use crate::client::{CasOutcome, Node};
use crate::exptime::Exptime;
use crate::members::Members;
use crate::store::MemcachedStore;

/// How many times an update reads and tries to write the record before giving up on
/// contention (each try is one `mg` and one `ms`/`md`, with a random pause between tries).
pub(crate) const MAX_ATTEMPTS: u32 = 24;

/// The longest random pause between two tries, reached after a few lost races.
const MAX_PAUSE: Duration = Duration::from_millis(40);

/// The index record of one user, under [`MemcachedStore::user_key`].
pub(crate) struct UserRecord<'a> {
    store: &'a MemcachedStore,
    key: String,
}

/// The record as read: its members (none when it is absent or corrupt) and its CAS token
/// (`None` when it is absent).
pub(crate) struct Snapshot {
    pub(crate) members: Members,
    cas: Option<u64>,
}

impl<'a> UserRecord<'a> {
    pub(crate) fn new(store: &'a MemcachedStore, user: &str) -> Self {
        Self {
            store,
            key: store.user_key(user),
        }
    }

    fn node(&self) -> &Node {
        self.store.node(self.key.as_bytes())
    }

    /// Reads the record (`mg key v c`). A value that is not an index record reads as empty,
    /// with a warning; the next update replaces it.
    ///
    /// # Errors
    /// The server's failures.
    pub(crate) async fn read(&self) -> Result<Snapshot, Error> {
        let found = self
            .store
            .bounded(self.node().get(self.key.as_bytes(), None))
            .await?;
        let Some((value, cas)) = found else {
            return Ok(Snapshot {
                members: Members::default(),
                cas: None,
            });
        };
        let members = Members::parse(&value).unwrap_or_else(|corrupt| {
            tracing::warn!(
                key = %self.key,
                %corrupt,
                "memcached user index record is corrupt: read as empty, replaced on the next \
                 update; the user's sessions bound before are no longer listed"
            );
            Members::default()
        });
        Ok(Snapshot {
            members,
            cas: Some(cas),
        })
    }

    /// Applies `change` to the record by compare-and-set: read, change, write only if no one
    /// wrote in between (`ms key C<cas>`, or `ms key ME` when absent, or `md key C<cas>`
    /// when no member is left), else read again, up to [`MAX_ATTEMPTS`] times. `change`
    /// says whether it changed anything; nothing is written when it did not. Entries past
    /// their expiry are dropped on every write, and the record expires with its latest
    /// entry.
    ///
    /// Returns false, after a warning, when every try lost a race: the change was not made.
    ///
    /// # Errors
    /// The server's failures (the change may or may not have been made when the failure
    /// is a timeout).
    pub(crate) async fn update(
        &self,
        mut change: impl FnMut(&mut Members) -> bool,
    ) -> Result<bool, Error> {
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0 {
                pause(attempt).await;
            }
            let Snapshot { mut members, cas } = self.read().await?;
            if !change(&mut members) {
                return Ok(true);
            }
            if self.write(&mut members, cas).await? {
                return Ok(true);
            }
        }
        tracing::warn!(
            key = %self.key,
            attempts = MAX_ATTEMPTS,
            "memcached user index record: too much contention, change not made"
        );
        Ok(false)
    }

    /// Writes `members` over the record read with `cas`; false when it changed meanwhile.
    async fn write(&self, members: &mut Members, cas: Option<u64>) -> Result<bool, Error> {
        let now = SystemTime::now();
        members.drop_expired(now);
        let key = self.key.as_bytes();
        let node = self.node();
        match (members.latest_expiry(), cas) {
            (None, None) => Ok(true),
            (None, Some(cas)) => {
                let outcome = self.store.bounded(node.delete_if(key, cas)).await?;
                // Not found: someone else removed it, which leaves it as wanted.
                Ok(outcome != CasOutcome::Changed)
            }
            (Some(latest), None) => {
                let exptime = Exptime::until(latest, now);
                self.store
                    .bounded(node.add(key, &members.encode(), exptime))
                    .await
            }
            (Some(latest), Some(cas)) => {
                let exptime = Exptime::until(latest, now);
                let outcome = self
                    .store
                    .bounded(node.cas(key, &members.encode(), exptime, cas))
                    .await?;
                Ok(outcome == CasOutcome::Stored)
            }
        }
    }
}

/// A random pause before try `attempt` (1 or more), in a window that doubles from 0.4 ms
/// up to [`MAX_PAUSE`], so that writers who lost a race do not meet again.
async fn pause(attempt: u32) {
    let window = Duration::from_micros(200 << attempt.min(8)).min(MAX_PAUSE);
    let window_us = u64::try_from(window.as_micros()).unwrap_or(u64::MAX).max(1);
    let jitter = u64::from(random_u32()) % window_us;
    tokio::time::sleep(Duration::from_micros(jitter)).await;
}

/// A random number from the operating system; the clock's nanoseconds if it has none
/// (only spreading retries and telling writes apart depend on it).
pub(crate) fn random_u32() -> u32 {
    getrandom::u32().unwrap_or_else(|_| {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    })
}
