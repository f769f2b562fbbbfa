//! [`UserIndex`] for [`MemcachedStore`]: a record per user, changed by compare-and-set
//! before each session write, read back with one pipelined fetch of its members per server.
//! The guarantee is in the [crate docs](crate#user-index).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::future::try_join_all;
use sessionkit_core::{
    Error, ErrorKind, Id, IndexedRecord, Record, SessionStore, UserIndex, Version,
};

use crate::client::Item;
use crate::members::{Member, unix_millis, unix_secs};
use crate::store::MemcachedStore;
use crate::user_record::{UserRecord, random_u32};

/// How much longer than its session an entry is kept: memcached counts expiry on a clock
/// that ticks once a second, so a session may be readable up to about a second past its
/// expiry, and the index record, written a moment before it, must not go first.
const EXPIRY_MARGIN: Duration = Duration::from_secs(2);

/// Added to the store's timeout to give the time after which an entry whose session is
/// missing is dropped by `sessions_of`: the binding write's own session write may still be
/// on its way (at most the timeout), and the app servers' clocks may differ.
const CLOCK_ALLOWANCE: Duration = Duration::from_secs(5);

/// What a binding did, to undo it when the session write that follows fails.
#[derive(Debug, Clone, Copy)]
struct Binding {
    /// The entry was absent and this call added it.
    added: bool,
    tag: u32,
}

impl MemcachedStore {
    /// How long an entry whose session is missing is kept after its last binding write.
    pub(crate) fn repair_grace(&self) -> Duration {
        self.timeout() + CLOCK_ALLOWANCE
    }

    /// Adds `id` to `user`'s record, or refreshes its entry, before a create or save.
    /// `None` when contention kept the change from being made.
    async fn bind(
        &self,
        user: &str,
        id: &Id,
        expires_at: SystemTime,
    ) -> Result<Option<Binding>, Error> {
        let now = SystemTime::now();
        let member = Member {
            id: *id,
            expires: entry_expiry(expires_at, now),
            bound: unix_millis(now),
            tag: random_u32(),
        };
        let mut added = false;
        let made = UserRecord::new(self, user)
            .update(|members| {
                added = members.get(id).is_none();
                members.bind(member);
                true
            })
            .await?;
        Ok(made.then_some(Binding {
            added,
            tag: member.tag,
        }))
    }

    /// Makes `id`'s entry in `user`'s record last until `expires_at` at least, before a
    /// touch: adds it when it is missing, and writes nothing when it already lasts as long.
    async fn extend(
        &self,
        user: &str,
        id: &Id,
        expires_at: SystemTime,
    ) -> Result<Option<Binding>, Error> {
        let now = SystemTime::now();
        let member = Member {
            id: *id,
            expires: entry_expiry(expires_at, now),
            bound: unix_millis(now),
            tag: random_u32(),
        };
        let mut added = false;
        let made = UserRecord::new(self, user)
            .update(|members| {
                added = members.get(id).is_none();
                if added {
                    members.bind(member);
                    true
                } else {
                    members.extend(id, member.expires)
                }
            })
            .await?;
        Ok(made.then_some(Binding {
            added,
            tag: member.tag,
        }))
    }

    /// Undoes `binding` after its session write failed with `result`, when the failure
    /// says nothing was written (`Gone`, `Conflict`, `Collision`): removes the entry if this
    /// call added it and no binding write refreshed it since (another request may have
    /// bound the same session to the same user meanwhile). Best effort: on failure the
    /// entry stays, a stale entry `sessions_of` drops later.
    async fn undo(
        &self,
        user: &str,
        id: &Id,
        binding: Option<Binding>,
        result: &Result<(), Error>,
    ) {
        let Err(error) = result else { return };
        if !matches!(
            error.kind(),
            ErrorKind::Gone | ErrorKind::Conflict | ErrorKind::Collision
        ) {
            // A timeout or a lost connection may have written the session: keep the entry.
            return;
        }
        let Some(Binding { added: true, tag }) = binding else {
            return;
        };
        let undone = UserRecord::new(self, user)
            .update(|members| members.remove_if(|m| m.id == *id && m.tag == tag))
            .await;
        if let Err(error) = undone {
            tracing::warn!(
                key = %self.user_key(user),
                error = %error,
                "memcached user index: could not remove the entry of a failed write; \
                 sessions_of drops it later"
            );
        }
    }

    /// The sessions under `ids`, in order (`None`: missing or expired), fetched with one
    /// pipelined batch per server, the servers in parallel.
    async fn fetch(&self, ids: &[Id]) -> Result<Vec<Option<Item>>, Error> {
        let keys: Vec<String> = ids.iter().map(|id| self.key(id)).collect();
        let mut groups = vec![Vec::new(); self.nodes().len()];
        for (position, key) in keys.iter().enumerate() {
            groups[self.node_index(key.as_bytes())].push(position);
        }
        let batches = groups
            .iter()
            .enumerate()
            .filter(|(_, group)| !group.is_empty())
            .map(|(node, group)| {
                let group_keys: Vec<&[u8]> = group
                    .iter()
                    .map(|&position| keys[position].as_bytes())
                    .collect();
                async move {
                    let items = self
                        .bounded(self.nodes()[node].get_many(&group_keys))
                        .await?;
                    Ok::<_, Error>(group.iter().copied().zip(items))
                }
            });
        let mut found = vec![None; ids.len()];
        for batch in try_join_all(batches).await? {
            for (position, item) in batch {
                found[position] = item;
            }
        }
        Ok(found)
    }
}

/// The expiry written in an entry: the session's, never less than the one second
/// memcached gives an already expired write, plus [`EXPIRY_MARGIN`], in unix seconds.
fn entry_expiry(expires_at: SystemTime, now: SystemTime) -> u64 {
    let lives_until = expires_at.max(now + Duration::from_secs(1));
    unix_secs(lives_until + EXPIRY_MARGIN)
}

#[async_trait]
impl UserIndex for MemcachedStore {
    async fn create_for(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        user: Option<&str>,
    ) -> Result<(), Error> {
        let Some(user) = user else {
            return self.create(id, payload, expires_at).await;
        };
        let binding = self.bind(user, id, expires_at).await?;
        let result = self.create(id, payload, expires_at).await;
        self.undo(user, id, binding, &result).await;
        result
    }

    async fn save_for(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
        user: Option<&str>,
    ) -> Result<(), Error> {
        let Some(user) = user else {
            return self.save(id, payload, expires_at, expected).await;
        };
        let binding = self.bind(user, id, expires_at).await?;
        let result = self.save(id, payload, expires_at, expected).await;
        self.undo(user, id, binding, &result).await;
        result
    }

    async fn touch_for(
        &self,
        id: &Id,
        expires_at: SystemTime,
        user: Option<&str>,
    ) -> Result<(), Error> {
        let Some(user) = user else {
            return self.touch(id, expires_at).await;
        };
        let binding = self.extend(user, id, expires_at).await?;
        let result = self.touch(id, expires_at).await;
        self.undo(user, id, binding, &result).await;
        result
    }

    async fn sessions_of(&self, user: &str) -> Result<Vec<IndexedRecord>, Error> {
        let record = UserRecord::new(self, user);
        let members: Vec<Member> = record.read().await?.members.iter().copied().collect();
        if members.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Id> = members.iter().map(|m| m.id).collect();
        let items = self.fetch(&ids).await?;
        let now = SystemTime::now();
        let grace = self.repair_grace();
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for (member, item) in members.iter().zip(items) {
            match item {
                Some(item) => found.push(listed(member, item, now)),
                None if UNIX_EPOCH + Duration::from_millis(member.bound) + grace <= now => {
                    missing.push((member.id, member.tag));
                }
                // Bound a moment ago: its session write may still be on its way.
                None => {}
            }
        }
        if !missing.is_empty() {
            // Lazy repair, best effort: an entry refreshed since (another tag) stays.
            let repaired = record
                .update(|members| members.remove_if(|m| missing.contains(&(m.id, m.tag))))
                .await;
            if let Err(error) = repaired {
                tracing::warn!(
                    key = %self.user_key(user),
                    error = %error,
                    "memcached user index: could not drop the entries of missing sessions"
                );
            }
        }
        Ok(found)
    }

    async fn unindex(&self, user: &str, id: &Id) -> Result<(), Error> {
        // On contention the entry stays, a stale entry as before: nothing more to report.
        UserRecord::new(self, user)
            .update(|members| members.remove_if(|m| m.id == *id))
            .await?;
        Ok(())
    }
}

/// A fetched session as `sessions_of` lists it: payload and CAS token as `load` returns
/// them, and the expiry from the remaining TTL the server reported.
fn listed(member: &Member, item: Item, now: SystemTime) -> IndexedRecord {
    let expires_at = match item.ttl {
        Some(secs) => now + Duration::from_secs(secs),
        // Stored without expiry: not by this crate; the entry's expiry is the best known.
        None => UNIX_EPOCH + Duration::from_secs(member.expires),
    };
    IndexedRecord::new(
        member.id,
        Record::new(Bytes::from(item.value), Version::new(item.cas)),
        expires_at,
    )
}
