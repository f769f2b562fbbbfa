//! `sessions_of`: a user's set read, each member's record and expiry fetched as `load`
//! sees them, and members whose record is gone dropped from the set (lazy repair).

use std::time::{Duration, SystemTime};

use futures_util::future::join_all;
use redis::{Cmd, FromRedisValue, Value};
use sessionkit_core::{Error, Id, IndexedRecord};

use super::{IndexWrites, ordered};
use crate::RedisStore;
use crate::deadline::Deadline;
use crate::error::from_redis;
use crate::store::record;

/// What one member's record turned out to be.
enum Found {
    /// Live: listed.
    Live(IndexedRecord),
    /// No record under the id: the member is dropped.
    Missing,
    /// Deleted between its `GET` and its `PTTL`, or kept without an expiry (not written by
    /// sessionkit or Flask-Session): not listed, not dropped now.
    Skipped,
}

pub(super) async fn sessions_of(
    store: &RedisStore,
    user: &str,
) -> Result<Vec<IndexedRecord>, Error> {
    let deadline = store.deadline();
    let mut smembers = redis::cmd("SMEMBERS");
    smembers.arg(store.user_key(user));
    let members: Vec<Vec<u8>> = store.connection().query(smembers, &deadline).await?;

    // A member that is not an id was not written by this store: dropped with the missing.
    let mut dropped: Vec<Vec<u8>> = Vec::new();
    let mut ids = Vec::with_capacity(members.len());
    for member in members {
        match Id::parse_bytes(&member) {
            Some(id) => ids.push(id),
            None => dropped.push(member),
        }
    }

    let found = match store.index_writes() {
        // One server: every record's GET and PTTL in one round trip.
        IndexWrites::WithTheRecord => {
            let cmds = ids
                .iter()
                .flat_map(|id| reads(store, id))
                .collect::<Vec<_>>();
            let replies = if cmds.is_empty() {
                Vec::new()
            } else {
                store.connection().query_all(cmds, &deadline).await?
            };
            ids.iter()
                .zip(replies.chunks_exact(2))
                .map(|(id, replies)| found(*id, &replies[0], &replies[1]))
                .collect::<Result<Vec<_>, _>>()?
        }
        // A cluster: each record's GET and PTTL on its own node (one slot per call), all
        // at once.
        IndexWrites::BeforeTheRecord => join_all(ids.iter().map(|id| async {
            let replies = store
                .connection()
                .query_all(reads(store, id), &deadline)
                .await?;
            found(*id, &replies[0], &replies[1])
        }))
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?,
    };

    let mut listed = Vec::with_capacity(found.len());
    let mut missing = Vec::new();
    for (id, found) in ids.into_iter().zip(found) {
        match found {
            Found::Live(record) => listed.push(record),
            Found::Missing => missing.push(id),
            Found::Skipped => {}
        }
    }
    repair(store, user, &missing, &dropped, &deadline).await;
    Ok(listed)
}

/// `GET key` and `PTTL key`: the record as `load` returns it and its expiry.
fn reads(store: &RedisStore, id: &Id) -> [Cmd; 2] {
    let key = store.key(id);
    let mut get = redis::cmd("GET");
    get.arg(&key);
    let mut pttl = redis::cmd("PTTL");
    pttl.arg(&key);
    [get, pttl]
}

fn found(id: Id, get: &Value, pttl: &Value) -> Result<Found, Error> {
    let payload = Option::<Vec<u8>>::from_redis_value_ref(get).map_err(|e| from_redis(e.into()))?;
    let pttl = i64::from_redis_value_ref(pttl).map_err(|e| from_redis(e.into()))?;
    Ok(match (record(payload), u64::try_from(pttl)) {
        (None, _) => Found::Missing,
        (Some(record), Ok(ms)) => Found::Live(IndexedRecord::new(
            id,
            record,
            SystemTime::now() + Duration::from_millis(ms),
        )),
        // -2: deleted since the GET (the next listing drops it); -1: no expiry.
        (Some(_), Err(_)) => Found::Skipped,
    })
}

/// Drops the members without a record (and any that are not ids) from `user`'s set. A
/// failure is logged, not returned: the listing is right without the repair, and the next
/// one repairs again.
///
/// On a cluster a member may also be missing because its record is being created right now
/// (`create_for` writes the entry first): so after dropping, each such record is checked
/// again and, if it exists by then, its member is put back. A creation that finishes after
/// that check puts its own entry back (`ordered::reassert`), so no live record is left out
/// of its user's set. On one server the entry and the record are written together, and a
/// missing record is gone for good.
async fn repair(
    store: &RedisStore,
    user: &str,
    missing: &[Id],
    dropped: &[Vec<u8>],
    deadline: &Deadline,
) {
    let keys = missing.iter().map(|id| store.key(id)).collect::<Vec<_>>();
    let prefix_len = store.key_prefix().len();
    let members = keys
        .iter()
        .map(|key| &key.as_bytes()[prefix_len..])
        .chain(dropped.iter().map(Vec::as_slice))
        .collect::<Vec<_>>();
    if members.is_empty() {
        return;
    }
    if let Err(error) = ordered::remove(store, user, &members, deadline).await {
        tracing::warn!(error = %error, "could not drop stale user index entries from Redis");
        return;
    }
    if store.index_writes() != IndexWrites::BeforeTheRecord {
        return;
    }
    for result in join_all(keys.iter().map(|key| async move {
        let mut pttl = redis::cmd("PTTL");
        pttl.arg(key);
        match store.connection().query::<i64>(pttl, deadline).await? {
            ttl if ttl > 0 => {
                let ttl = u64::try_from(ttl).expect("positive");
                ordered::add(store, user, &key[prefix_len..], ttl, deadline)
                    .await
                    .map(drop)
            }
            _ => Ok(()),
        }
    }))
    .await
    {
        if let Err(error) = result {
            tracing::warn!(error = %error, "could not check a dropped user index entry in Redis");
        }
    }
}
