//! [`UserIndex`] for [`RedisStore`]: one Redis set per user holding the ids of the sessions
//! bound to them, kept in the record's own Lua script on one server and written ahead of
//! the record on a cluster (see [`IndexWrites`]).

mod listing;
mod ordered;
mod scripts;

use std::time::SystemTime;

use async_trait::async_trait;
use sessionkit_core::{Error, Id, IndexedRecord, SessionStore, UserIndex, Version};

use crate::RedisStore;
use crate::source::Source;
use crate::store::{compare_and_set, expected_digest, ttl_ms, unexpected};

/// How a user's index entry is written beside the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IndexWrites {
    /// In the same Lua script as the record, atomically: one server (standalone, TLS,
    /// Sentinel's master), where the script may touch both keys.
    WithTheRecord,
    /// In a command of its own on the set's node, before the record, and taken back when
    /// the record's write fails: a cluster, where the set and the record are in different
    /// slots and no command may touch both.
    BeforeTheRecord,
}

impl IndexWrites {
    pub(crate) fn for_source(source: &Source) -> Self {
        match source {
            Source::Cluster(_) => Self::BeforeTheRecord,
            Source::Standalone(_) | Source::Sentinel(..) => Self::WithTheRecord,
        }
    }
}

/// A record's key and its member in the user's set (the id as the key carries it).
struct Entry {
    key: String,
    prefix_len: usize,
}

impl Entry {
    fn new(store: &RedisStore, id: &Id) -> Self {
        Self {
            key: store.key(id),
            prefix_len: store.key_prefix().len(),
        }
    }

    fn member(&self) -> &str {
        &self.key[self.prefix_len..]
    }
}

/// The index as the type's docs (`RedisStore`) describe it: a set per user, in the write's
/// own script on one server, written first and taken back on failure on a cluster.
#[async_trait]
impl UserIndex for RedisStore {
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
        let (entry, ttl) = (Entry::new(self, id), ttl_ms(expires_at));
        // Not kept, as `create`: Redis does not track the key for this process yet.
        self.write_through(&entry.key, || {
            create_bound(self, &entry, payload, ttl, user)
        })
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
        let Some(user) = user else {
            return self.save(id, payload, expires_at, expected).await;
        };
        let (entry, ttl) = (Entry::new(self, id), ttl_ms(expires_at));
        // Not kept: written on the store's connection, which Redis reports like anybody's.
        self.write_through(&entry.key, || {
            save_bound(self, &entry, payload, ttl, expected, user)
        })
        .await
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
        let entry = Entry::new(self, id);
        self.write_through(&entry.key, || {
            touch_bound(self, &entry, ttl_ms(expires_at), user)
        })
        .await
    }

    async fn sessions_of(&self, user: &str) -> Result<Vec<IndexedRecord>, Error> {
        listing::sessions_of(self, user).await
    }

    async fn unindex(&self, user: &str, id: &Id) -> Result<(), Error> {
        let entry = Entry::new(self, id);
        let mut cmd = redis::cmd("SREM");
        cmd.arg(self.user_key(user)).arg(entry.member());
        self.connection()
            .query::<i64>(cmd, &self.deadline())
            .await
            .map(drop)
    }
}

/// `create_for`'s writes for a session bound to `user`.
async fn create_bound(
    store: &RedisStore,
    entry: &Entry,
    payload: &[u8],
    ttl: u64,
    user: &str,
) -> Result<(), Error> {
    let deadline = store.deadline();
    match store.index_writes() {
        IndexWrites::WithTheRecord => {
            let reply = scripts::CREATE_FOR
                .run(
                    store.connection(),
                    &[entry.key.as_bytes(), store.user_key(user).as_bytes()],
                    &[
                        payload,
                        ttl.to_string().as_bytes(),
                        entry.member().as_bytes(),
                    ],
                    &deadline,
                )
                .await?;
            match reply {
                1 => Ok(()),
                0 => Err(Error::Collision),
                other => Err(unexpected(other)),
            }
        }
        IndexWrites::BeforeTheRecord => {
            let create = store.create_within(&entry.key, payload, ttl, &deadline);
            ordered::write_bound(store, user, entry.member(), ttl, &deadline, create).await?;
            // Again after the record exists: a listing that found no record under the
            // entry a moment ago may have dropped it (see `listing::repair`).
            ordered::reassert(store, user, entry.member(), ttl, &deadline).await;
            Ok(())
        }
    }
}

/// `save_for`'s writes for a session bound to `user`.
async fn save_bound(
    store: &RedisStore,
    entry: &Entry,
    payload: &[u8],
    ttl: u64,
    expected: Version,
    user: &str,
) -> Result<(), Error> {
    let deadline = store.deadline();
    match store.index_writes() {
        IndexWrites::WithTheRecord => {
            let reply = scripts::SAVE_FOR
                .run(
                    store.connection(),
                    &[entry.key.as_bytes(), store.user_key(user).as_bytes()],
                    &[
                        expected_digest(expected).as_bytes(),
                        payload,
                        ttl.to_string().as_bytes(),
                        entry.member().as_bytes(),
                    ],
                    &deadline,
                )
                .await?;
            compare_and_set(reply)
        }
        IndexWrites::BeforeTheRecord => {
            let save = store.save_within(
                store.connection(),
                &entry.key,
                payload,
                ttl,
                expected,
                &deadline,
            );
            ordered::write_bound(store, user, entry.member(), ttl, &deadline, save).await
        }
    }
}

/// `touch_for`'s writes for a session bound to `user`.
async fn touch_bound(store: &RedisStore, entry: &Entry, ttl: u64, user: &str) -> Result<(), Error> {
    let deadline = store.deadline();
    match store.index_writes() {
        IndexWrites::WithTheRecord => {
            let reply = scripts::TOUCH_FOR
                .run(
                    store.connection(),
                    &[entry.key.as_bytes(), store.user_key(user).as_bytes()],
                    &[ttl.to_string().as_bytes(), entry.member().as_bytes()],
                    &deadline,
                )
                .await?;
            match reply {
                1 => Ok(()),
                0 => Err(Error::Gone),
                other => Err(unexpected(other)),
            }
        }
        IndexWrites::BeforeTheRecord => {
            let touch = store.touch_within(&entry.key, ttl, &deadline);
            ordered::write_bound(store, user, entry.member(), ttl, &deadline, touch).await
        }
    }
}
