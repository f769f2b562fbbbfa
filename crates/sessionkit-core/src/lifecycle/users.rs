//! A user's sessions through the store's [`UserIndex`]: listing, revocation and the cap
//! per user. Used by [`Sessions`](crate::Sessions) (outside a request: an admin endpoint,
//! a job) and by the handler's [`Session`](crate::Session).

use std::num::NonZeroUsize;
use std::time::SystemTime;

use crate::lifecycle::shared::{Shared, created_at, user_in};
use crate::{ConfigKey, Error, Id, IndexedRecord, UserIndex};

/// How many times a revocation lists the user's sessions again after deleting some, to
/// catch a session that a request in flight moved to a new id meanwhile (`cycle_id`): the
/// rotation writes the new record before it removes the old one, so a later pass finds it.
const REVOKE_PASSES: usize = 8;

/// One of a user's live sessions, as [`Sessions::user_sessions`] lists it.
///
/// [`Sessions::user_sessions`]: crate::Sessions::user_sessions
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserSession {
    /// A short text telling this session apart from the user's others, derived from the
    /// id by a one-way hash: safe to show and to send back to
    /// [`Sessions::revoke_session`](crate::Sessions::revoke_session), useless as a cookie.
    pub hint: String,
    /// When the session was created (sessionkit's `_created`), if it says.
    pub created_at: Option<SystemTime>,
    /// When the session was last used, as far as its sliding expiry tells: the expiry
    /// minus the lifetime. `None` when the absolute lifetime caps the expiry.
    pub last_active: Option<SystemTime>,
    /// When the session expires unless used again.
    pub expires_at: SystemTime,
    /// The size of its stored data, in bytes.
    pub size: usize,
    /// Whether it is the session of the request that asked
    /// ([`Session::user_sessions`](crate::Session::user_sessions)).
    pub current: bool,
    /// The id the store keeps it under.
    pub(crate) store_id: Id,
}

/// The index, or an error saying how to turn it on.
fn index(shared: &Shared) -> Result<&dyn UserIndex, Error> {
    shared.index().ok_or_else(|| {
        Error::config(
            ConfigKey::UserIndex,
            "false",
            "listing and revoking a user's sessions needs SESSION_USER_INDEX=true",
        )
    })
}

/// The live sessions bound to `user`, oldest first; `current` marks those under the ids
/// the store keeps for the asking request. Index entries of sessions since bound to
/// someone else are dropped on the way.
pub(crate) async fn list(
    shared: &Shared,
    user: &str,
    current: &[Id],
) -> Result<Vec<UserSession>, Error> {
    let index = index(shared)?;
    let mut sessions = Vec::new();
    for IndexedRecord {
        id,
        record,
        expires_at,
        ..
    } in shared.sessions_of(index, user).await?
    {
        let Some(data) = shared.decode_or_warn(&id, record.payload()) else {
            continue;
        };
        if user_in(&data, &shared.config.user_key).as_deref() != Some(user) {
            shared.unindex(index, user, &id).await?;
            continue;
        }
        let created_at = created_at(&data);
        let capped = match (shared.config.absolute_lifetime, created_at) {
            (Some(absolute), Some(created)) => expires_at >= created + absolute,
            _ => false,
        };
        sessions.push(UserSession {
            hint: id.hint(),
            created_at,
            last_active: (!capped)
                .then(|| expires_at.checked_sub(shared.config.lifetime))
                .flatten(),
            expires_at,
            size: record.payload().len(),
            current: current.contains(&id),
            store_id: id,
        });
    }
    // Oldest first; a session without a creation time (written by Python, never saved
    // here) counts as the oldest.
    sessions.sort_by_key(|s| (s.created_at, s.expires_at));
    Ok(sessions)
}

/// Deletes every session of `user` except those under `keep` (ids the store keeps), pass
/// after pass until one finds nothing more; returns how many were deleted. A request in
/// flight on a deleted session can no longer write it (`save` is `Gone`), and one that
/// rotates it meanwhile loses its new record or has it found by the next pass.
pub(crate) async fn revoke_all(shared: &Shared, user: &str, keep: &[Id]) -> Result<usize, Error> {
    let mut revoked = 0;
    for _ in 0..REVOKE_PASSES {
        let targets: Vec<Id> = list(shared, user, keep)
            .await?
            .into_iter()
            .filter(|s| !s.current)
            .map(|s| s.store_id)
            .collect();
        if targets.is_empty() {
            return Ok(revoked);
        }
        for id in &targets {
            revoke(shared, user, id).await?;
        }
        revoked += targets.len();
    }
    tracing::warn!(
        revoked,
        "sessions of a user kept appearing through every revocation pass; some created \
         during the revocation may remain"
    );
    Ok(revoked)
}

/// Deletes the session of `user` whose hint is `hint`; returns whether there was one.
pub(crate) async fn revoke_one(shared: &Shared, user: &str, hint: &str) -> Result<bool, Error> {
    let found = list(shared, user, &[])
        .await?
        .into_iter()
        .filter(|s| s.hint == hint)
        .map(|s| s.store_id)
        .collect::<Vec<_>>();
    for id in &found {
        revoke(shared, user, id).await?;
    }
    Ok(!found.is_empty())
}

/// After a login of `user` into the session now under `live` (the id the browser gets):
/// revokes the user's oldest sessions beyond `cap`, never `live`.
pub(crate) async fn enforce_cap(
    shared: &Shared,
    user: &str,
    live: &Id,
    cap: NonZeroUsize,
) -> Result<(), Error> {
    let current = shared.store_id(live);
    let sessions = list(shared, user, &[current]).await?;
    let excess = sessions.len().saturating_sub(cap.get());
    for session in sessions.iter().filter(|s| !s.current).take(excess) {
        tracing::debug!(hint = %session.hint, "revoking a session over SESSION_MAX_PER_USER");
        revoke(shared, user, &session.store_id).await?;
    }
    Ok(())
}

/// Deletes `user`'s session kept under `key` (a store id), and reports it.
async fn revoke(shared: &Shared, user: &str, key: &Id) -> Result<(), Error> {
    shared.delete_stored(key).await?;
    shared.report_revoked(key, user);
    Ok(())
}
