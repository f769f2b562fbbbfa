//! Index entries on a cluster, where a user's set and the record are in different slots:
//! the entry is written first, on the set's node, then the record; a write that fails
//! takes back the entry it added.

use std::future::Future;

use sessionkit_core::Error;

use super::scripts;
use crate::RedisStore;
use crate::deadline::Deadline;

/// Adds `member` to `user`'s set, with the set's expiry moved to at least `ttl` ms from
/// now plus the call's whole limit: the record's write follows within that limit, and its
/// own expiry counts from then, so the set still outlives it. Returns whether the member
/// was new.
pub(super) async fn add(
    store: &RedisStore,
    user: &str,
    member: &str,
    ttl: u64,
    deadline: &Deadline,
) -> Result<bool, Error> {
    let slack = u64::try_from(deadline.limit().as_millis()).unwrap_or(u64::MAX);
    let ttl = ttl.saturating_add(slack).to_string();
    let reply = scripts::INDEX
        .run(
            store.connection(),
            &[store.user_key(user).as_bytes()],
            &[member.as_bytes(), ttl.as_bytes()],
            deadline,
        )
        .await?;
    Ok(reply == 1)
}

/// Removes `members` from `user`'s set.
pub(super) async fn remove(
    store: &RedisStore,
    user: &str,
    members: &[&[u8]],
    deadline: &Deadline,
) -> Result<(), Error> {
    let mut cmd = redis::cmd("SREM");
    cmd.arg(store.user_key(user)).arg(members);
    store
        .connection()
        .query::<i64>(cmd, deadline)
        .await
        .map(drop)
}

/// Runs `write` (the record's own command) with `member` in `user`'s set first. When the
/// write writes nothing (gone, changed, an id collision) and this call added the member,
/// the member is removed again: a failed write binds nothing. An entry that was there
/// before stays (it is another write's), and so does the entry of a write whose outcome is
/// unknown (a timeout, a lost connection): the record may exist, and an entry without a
/// record is dropped by the next listing.
pub(super) async fn write_bound(
    store: &RedisStore,
    user: &str,
    member: &str,
    ttl: u64,
    deadline: &Deadline,
    write: impl Future<Output = Result<(), Error>>,
) -> Result<(), Error> {
    let added = add(store, user, member, ttl, deadline).await?;
    let written = write.await;
    if let Err(error) = &written
        && added
        && (error.is_gone() || error.is_conflict() || error.is_collision())
        && let Err(undo) = remove(store, user, &[member.as_bytes()], deadline).await
    {
        // The entry stays, as a stale one: the lifecycle unindexes an entry whose record
        // is bound to someone else, and a listing drops one without a record.
        tracing::warn!(
            error = %undo,
            "could not take back the user index entry of a failed Redis write"
        );
    }
    written
}

/// Writes the entry of a record that now exists once more, after its creation. A failure
/// is logged, not returned: the record was created and its entry written before it; this
/// only closes the window in which a concurrent listing dropped that entry.
pub(super) async fn reassert(
    store: &RedisStore,
    user: &str,
    member: &str,
    ttl: u64,
    deadline: &Deadline,
) {
    if let Err(error) = add(store, user, member, ttl, deadline).await {
        tracing::warn!(
            error = %error,
            "could not re-assert the user index entry of a new Redis record"
        );
    }
}
