//! The end of a request: one decision over the loaded state, at most a few store calls,
//! and the cookie to send.
//!
//! What the browser sees, by outcome:
//! - `Created`, `Saved`, `Merged`, `Cycled`, `Refreshed`: a cookie for an id whose record
//!   the store confirmed live during this end of request.
//! - `Deleted` (a logout): a removal cookie.
//! - `Gone` (the record was deleted, revoked, expired or moved meanwhile): no cookie at
//!   all. The browser keeps whatever it holds: the stale id, which is now "no session",
//!   or a newer id that a concurrent request (a login) set, which a removal cookie would
//!   have wiped out.
//! - `None`: no cookie.

use crate::lifecycle::shared::{Shared, is_effectively_empty, is_permanent};
use crate::lifecycle::state::{Leaving, Loaded};
use crate::lifecycle::{Action, Outcome};
use crate::{DynSessionStore, Error, Id, SessionData, Version};

/// How often `create` is retried with a fresh id after a collision (2^-256 odds each).
const CREATE_ATTEMPTS: usize = 3;

/// How often a conflicting write is merged and retried before giving up.
const MERGE_ATTEMPTS: usize = 5;

/// Decides and carries out what the request's session needs: `state` is what the handler
/// left, `None` when it never touched the session.
pub(crate) async fn settle(shared: &Shared, state: Option<Loaded>) -> Result<Outcome, Error> {
    let Some(Loaded {
        id,
        stored,
        mut data,
        leaving,
    }) = state
    else {
        return Ok(Outcome::untouched());
    };
    let empty = is_effectively_empty(&data);
    match (leaving, stored) {
        (
            Some(Leaving::Destroy {
                id: old,
                version,
                keeps_data,
            }),
            _,
        ) => {
            // Encoded first: a session too large to store fails before the logout is
            // carried out, so the handler's error leaves everything as it was.
            let payload = if empty {
                None
            } else {
                Some(shared.encode(&mut data)?)
            };
            let was_live = destroy(&shared.store, &old, version).await?;
            match payload {
                // The rest of the old data must not outlive a session that someone else
                // ended meanwhile.
                Some(_) if keeps_data && !was_live => Ok(Outcome::new(Action::Gone, None)),
                Some(payload) => {
                    let id = create(shared, id, &payload, &data).await?;
                    Ok(Outcome::new(
                        Action::Cycled,
                        Some(shared.set_cookie(&id, &data)),
                    ))
                }
                None => Ok(Outcome::new(Action::Deleted, Some(shared.removal_cookie()))),
            }
        }
        // Rotated, then emptied key by key: a logout.
        (Some(Leaving::Cycle { id: old, .. }), _) if empty => {
            shared.store.delete(&old).await?;
            Ok(Outcome::new(Action::Deleted, Some(shared.removal_cookie())))
        }
        (Some(Leaving::Cycle { id: old, version }), _) => {
            cycle(shared, id, data, old, version).await
        }
        // A new session left empty: nothing is stored and no cookie is sent.
        (None, None) if empty => Ok(Outcome::new(Action::None, None)),
        (None, None) => {
            let payload = shared.encode(&mut data)?;
            let id = create(shared, id, &payload, &data).await?;
            Ok(Outcome::new(
                Action::Created,
                Some(shared.set_cookie(&id, &data)),
            ))
        }
        // A stored session emptied by this request: logout.
        (None, Some(_)) if empty && data.is_modified() => {
            shared.store.delete(&id).await?;
            Ok(Outcome::new(Action::Deleted, Some(shared.removal_cookie())))
        }
        (None, Some(version)) if data.is_modified() => {
            match save(shared, &id, &mut data, version).await? {
                Saved::First => Ok(Outcome::new(
                    Action::Saved,
                    Some(shared.set_cookie(&id, &data)),
                )),
                Saved::Merged => Ok(Outcome::new(
                    Action::Merged,
                    Some(shared.set_cookie(&id, &data)),
                )),
                Saved::Gone => Ok(Outcome::new(Action::Gone, None)),
            }
        }
        (None, Some(_)) => unchanged(shared, &id, &data).await,
    }
}

/// An unchanged stored session. With `SESSION_REFRESH_EACH_REQUEST` its expiry slides,
/// and a permanent session's cookie is re-sent with the new expiry, as Flask does: the
/// slide is a `touch`, which also tells whether the id is still live (a concurrent login
/// may have moved the session away meanwhile; re-sending the old id would log it out).
/// When the slide was folded into the load instead (browser sessions), nothing is sent.
/// The data is never rewritten.
async fn unchanged(shared: &Shared, id: &Id, data: &SessionData) -> Result<Outcome, Error> {
    let refresh = shared.config.refresh_each_request;
    let permanent = is_permanent(data);
    if !(refresh && (shared.config.permanent || permanent)) {
        return Ok(Outcome::new(Action::None, None));
    }
    match shared.store.touch(id, shared.expiry(data)).await {
        Ok(()) if permanent => Ok(Outcome::new(
            Action::Refreshed,
            Some(shared.set_cookie(id, data)),
        )),
        Ok(()) => Ok(Outcome::new(Action::None, None)),
        Err(e) if e.is_gone() => Ok(Outcome::new(Action::Gone, None)),
        Err(e) => Err(e),
    }
}

/// Stores a new session, drawing a fresh id on the (astronomically unlikely) collision.
async fn create(
    shared: &Shared,
    mut id: Id,
    payload: &[u8],
    data: &SessionData,
) -> Result<Id, Error> {
    for _ in 0..CREATE_ATTEMPTS {
        match shared.store.create(&id, payload, shared.expiry(data)).await {
            Ok(()) => return Ok(id),
            Err(e) if e.is_collision() => id = Id::random(),
            Err(e) => return Err(e),
        }
    }
    Err(Error::Collision)
}

/// Deletes the record a logout leaves behind, whatever its version now (a logout always
/// wins); returns whether it was still live.
async fn destroy(store: &DynSessionStore, id: &Id, version: Version) -> Result<bool, Error> {
    match store.delete_if(id, version).await {
        Ok(()) => Ok(true),
        Err(e) if e.is_conflict() => store.delete(id).await.map(|()| true),
        Err(e) if e.is_gone() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Moves the data from `old` to a new record: creates it, then deletes `old` only if it is
/// still the version loaded. A logout or revocation that removed `old` meanwhile wins: the
/// new record is deleted and the request ends as `Gone`. A concurrent save is merged, as
/// in [`save`], and the move retried.
async fn cycle(
    shared: &Shared,
    mut id: Id,
    mut data: SessionData,
    old: Id,
    mut version: Version,
) -> Result<Outcome, Error> {
    for _ in 0..MERGE_ATTEMPTS {
        let payload = shared.encode(&mut data)?;
        id = create(shared, id, &payload, &data).await?;
        let new = Unconfirmed::new(&shared.store, id);
        match shared.store.delete_if(&old, version).await {
            Ok(()) => {
                new.confirm();
                return Ok(Outcome::new(
                    Action::Cycled,
                    Some(shared.set_cookie(&id, &data)),
                ));
            }
            Err(e) => {
                new.discard().await;
                if e.is_gone() {
                    return Ok(Outcome::new(Action::Gone, None));
                }
                if !e.is_conflict() {
                    return Err(e);
                }
            }
        }
        let Some(current) = reload(shared, &old).await? else {
            return Ok(Outcome::new(Action::Gone, None));
        };
        (data, version) = (data.rebase(current.0), current.1);
        id = Id::random();
    }
    Err(Error::Conflict)
}

/// The current data and version of `id`; `None` when it is gone or no longer decodes (a
/// corrupt record is treated as on load: no session, a warning).
async fn reload(shared: &Shared, id: &Id) -> Result<Option<(SessionData, Version)>, Error> {
    let Some(record) = shared.store.load(id).await? else {
        return Ok(None);
    };
    Ok(shared
        .decode_or_warn(id, record.payload())
        .map(|data| (data, record.version())))
}

enum Saved {
    /// Saved on the first attempt.
    First,
    /// Saved after merging onto a concurrent change.
    Merged,
    /// The record no longer exists; nothing was written.
    Gone,
}

/// Saves `data`; on a conflict, re-loads the record, replays this request's changes onto
/// it (per key: set or removed) and tries again.
async fn save(
    shared: &Shared,
    id: &Id,
    data: &mut SessionData,
    mut version: Version,
) -> Result<Saved, Error> {
    for attempt in 0..MERGE_ATTEMPTS {
        let payload = shared.encode(data)?;
        match shared
            .store
            .save(id, &payload, shared.expiry(data), version)
            .await
        {
            Ok(()) if attempt == 0 => return Ok(Saved::First),
            Ok(()) => return Ok(Saved::Merged),
            Err(e) if e.is_gone() => return Ok(Saved::Gone),
            Err(e) if e.is_conflict() => {
                let Some((current, current_version)) = reload(shared, id).await? else {
                    return Ok(Saved::Gone);
                };
                *data = std::mem::take(data).rebase(current);
                version = current_version;
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::Conflict)
}

/// A record created by a rotation whose old record has not been removed yet. Unless
/// confirmed, it is deleted: by [`discard`](Unconfirmed::discard), or, when the request's
/// future is dropped midway (a client that went away), by a task spawned on drop, so a
/// cancelled rotation never leaves two live records.
struct Unconfirmed {
    store: DynSessionStore,
    id: Option<Id>,
}

impl Unconfirmed {
    fn new(store: &DynSessionStore, id: Id) -> Self {
        Self {
            store: DynSessionStore::clone(store),
            id: Some(id),
        }
    }

    fn confirm(mut self) {
        self.id = None;
    }

    async fn discard(mut self) {
        if let Some(id) = self.id {
            if let Err(error) = self.store.delete(&id).await {
                // Its id was never sent to anybody: it expires unseen.
                tracing::warn!(session = ?id, %error, "could not delete the record of a rotation that was given up");
            }
            self.id = None;
        }
    }
}

impl Drop for Unconfirmed {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let store = DynSessionStore::clone(&self.store);
                runtime.spawn(async move {
                    if let Err(error) = store.delete(&id).await {
                        tracing::warn!(session = ?id, %error, "could not delete the record of a cancelled rotation");
                    }
                });
            }
            Err(_) => {
                tracing::warn!(session = ?id, "a rotation was cancelled outside a Tokio runtime; its new record expires unseen");
            }
        }
    }
}
