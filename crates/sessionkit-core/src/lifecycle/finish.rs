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

use tracing::Instrument as _;
use tracing::field::{Empty, debug};

use crate::lifecycle::shared::{Happened, Shared, is_effectively_empty, is_permanent, user_in};
use crate::lifecycle::state::{Leaving, Loaded};
use crate::lifecycle::{Action, Outcome, finish_in_cookie, users};
use crate::telemetry::{self, Call, Operation, StoreCalls, keys};
use crate::{DynSessionStore, Error, Id, SessionData, Version};

/// How often `create` is retried with a fresh id after a collision (2^-256 odds each).
const CREATE_ATTEMPTS: usize = 3;

/// How often a conflicting write is merged and retried before giving up.
const MERGE_ATTEMPTS: usize = 5;

/// Decides and carries out what the request's session needs: `state` is what the handler
/// left, `None` when it never touched the session.
///
/// With a cap on sessions per user, a request that binds its session to a user it was not
/// bound to (a login) revokes that user's oldest sessions beyond the cap once its own write
/// has succeeded.
///
/// Runs in a `sessionkit.finish` span (debug level) that records the action taken, the
/// merge attempts made, or the error; the store calls nest in it.
pub(crate) async fn settle(shared: &Shared, state: Option<Loaded>) -> Result<Outcome, Error> {
    let Some(state) = state else {
        return Ok(Outcome::untouched());
    };
    if let Some(in_cookie) = &shared.in_cookie {
        let outcome = finish_in_cookie::settle(shared, in_cookie, state)?;
        return Ok(outcome);
    }
    let span = tracing::debug_span!(
        "sessionkit.finish",
        action = Empty,
        merge_attempts = Empty,
        error = Empty,
    );
    let result = if span.is_disabled() {
        settle_loaded(shared, state).await
    } else {
        settle_loaded(shared, state).instrument(span.clone()).await
    };
    match &result {
        Ok(outcome) => {
            span.record("action", debug(outcome.action));
            if outcome.action == Action::Gone {
                telemetry::count(&keys::SESSION_GONE);
            }
        }
        Err(error) => {
            span.record("error", telemetry::kind_name(error.kind()));
        }
    }
    result
}

async fn settle_loaded(shared: &Shared, state: Loaded) -> Result<Outcome, Error> {
    let user = shared.user_of(&state.data);
    let login = user.is_some() && user != state.user;
    let (outcome, live) = write(shared, state, user.as_deref()).await?;
    if let (true, Some(user), Some(live), Some(cap)) =
        (login, &user, live, shared.config.max_per_user)
    {
        users::enforce_cap(shared, user, &live, cap).await?;
    }
    Ok(outcome)
}

/// Carries out what the state needs; returns the outcome and the id the session now lives
/// under, if it was written.
async fn write(
    shared: &Shared,
    state: Loaded,
    user: Option<&str>,
) -> Result<(Outcome, Option<Id>), Error> {
    let Loaded {
        id,
        stored,
        mut data,
        leaving,
        refreshed_on_load,
        user: loaded_user,
        cookie: _,
    } = state;
    // The user whose session a logout ends, for its event.
    let logged_out = move || loaded_user;
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
            let was_live = destroy(shared, &old, version).await?;
            if was_live {
                shared.report(Happened::Destroyed, &old, logged_out);
            }
            match payload {
                // The rest of the old data must not outlive a session that someone else
                // ended meanwhile.
                Some(_) if keeps_data && !was_live => done(Action::Gone, None),
                // What the request wrote after the logout starts a new session.
                Some(payload) => {
                    let id = create(shared, id, &payload, &data, user).await?;
                    report_new(shared, Happened::Created, &id, &data);
                    written(Action::Cycled, shared.set_cookie(&id, &data), id)
                }
                None => done(Action::Deleted, Some(shared.removal_cookie())),
            }
        }
        // Rotated, then emptied key by key: a logout.
        (Some(Leaving::Cycle { id: old, .. }), _) if empty => {
            shared.delete(&old).await?;
            shared.report(Happened::Destroyed, &old, logged_out);
            done(Action::Deleted, Some(shared.removal_cookie()))
        }
        (Some(Leaving::Cycle { id: old, version }), _) => {
            cycle(shared, id, data, old, version, user).await
        }
        // A new session left empty: nothing is stored and no cookie is sent.
        (None, None) if empty => done(Action::None, None),
        (None, None) => {
            let payload = shared.encode(&mut data)?;
            let id = create(shared, id, &payload, &data, user).await?;
            report_new(shared, Happened::Created, &id, &data);
            written(Action::Created, shared.set_cookie(&id, &data), id)
        }
        // A stored session emptied by this request: logout.
        (None, Some(_)) if empty && data.is_modified() => {
            shared.delete(&id).await?;
            shared.report(Happened::Destroyed, &id, logged_out);
            done(Action::Deleted, Some(shared.removal_cookie()))
        }
        (None, Some(version)) if data.is_modified() => {
            match save(shared, &id, &mut data, version, user).await? {
                Saved::First => {
                    telemetry::count(&keys::SESSION_SAVED);
                    written(Action::Saved, shared.set_cookie(&id, &data), id)
                }
                Saved::Merged => {
                    telemetry::count(&keys::SESSION_MERGED);
                    written(Action::Merged, shared.set_cookie(&id, &data), id)
                }
                Saved::Gone => done(Action::Gone, None),
                Saved::Emptied => {
                    telemetry::count(&keys::SESSION_MERGED);
                    shared.report(Happened::Destroyed, &id, logged_out);
                    done(Action::Deleted, Some(shared.removal_cookie()))
                }
            }
        }
        (None, Some(_)) => Ok((
            unchanged(shared, &id, &data, user, refreshed_on_load).await?,
            None,
        )),
    }
}

/// Reports that `data`, now stored under `id`, was created or moved there.
fn report_new(shared: &Shared, happened: Happened, id: &Id, data: &SessionData) {
    shared.report(happened, id, || user_in(data, &shared.config.user_key));
}

/// An outcome that wrote no session.
#[allow(clippy::unnecessary_wraps)] // the arms of `write` all return its `Result`
fn done(action: Action, set_cookie: Option<String>) -> Result<(Outcome, Option<Id>), Error> {
    Ok((Outcome::new(action, set_cookie), None))
}

/// An outcome that wrote the session under `id`.
#[allow(clippy::unnecessary_wraps)]
fn written(action: Action, set_cookie: String, id: Id) -> Result<(Outcome, Option<Id>), Error> {
    Ok((Outcome::new(action, Some(set_cookie)), Some(id)))
}

/// An unchanged stored session. With `SESSION_REFRESH_EACH_REQUEST` its expiry slides
/// (once it would move by more than `SESSION_REFRESH_STEP`),
/// and a permanent session's cookie is re-sent with the new expiry, as Flask does: the
/// slide is a `touch`, which also tells whether the id is still live (a concurrent login
/// may have moved the session away meanwhile; re-sending the old id would log it out).
/// When the slide was folded into the load instead (browser sessions), nothing is sent.
/// The data is never rewritten.
async fn unchanged(
    shared: &Shared,
    id: &Id,
    data: &SessionData,
    user: Option<&str>,
    refreshed_on_load: bool,
) -> Result<Outcome, Error> {
    let permanent = is_permanent(data);
    let due = if shared.folds_refresh() {
        // The load slid the expiry if it was due; a permanent session's cookie follows.
        refreshed_on_load && permanent
    } else {
        shared.refreshes.is_due(id, shared.expiry(data))
    };
    if !shared.config.refresh_each_request || !due {
        return Ok(Outcome::new(Action::None, None));
    }
    match shared.touch(id, shared.expiry(data), user).await {
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
    user: Option<&str>,
) -> Result<Id, Error> {
    for attempt in 1..=CREATE_ATTEMPTS {
        match shared
            .create(&id, payload, shared.expiry(data), user, attempt)
            .await
        {
            Ok(()) => return Ok(id),
            Err(e) if e.is_collision() => id = Id::random(),
            Err(e) => return Err(e),
        }
    }
    Err(Error::Collision)
}

/// Deletes the record a logout leaves behind, whatever its version now (a logout always
/// wins); returns whether it was still live.
async fn destroy(shared: &Shared, id: &Id, version: Version) -> Result<bool, Error> {
    match shared.delete_if(id, version, 1).await {
        Ok(()) => Ok(true),
        Err(e) if e.is_conflict() => shared.delete(id).await.map(|()| true),
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
    user: Option<&str>,
) -> Result<(Outcome, Option<Id>), Error> {
    for attempt in 1..=MERGE_ATTEMPTS {
        tracing::Span::current().record("merge_attempts", attempt);
        let payload = shared.encode(&mut data)?;
        id = create(shared, id, &payload, &data, user).await?;
        let new = Unconfirmed::new(shared, shared.store_id(&id));
        match shared.delete_if(&old, version, attempt).await {
            Ok(()) => {
                new.confirm();
                if attempt > 1 {
                    telemetry::count(&keys::SESSION_MERGED);
                }
                report_new(shared, Happened::Rotated { from: old }, &id, &data);
                return written(Action::Cycled, shared.set_cookie(&id, &data), id);
            }
            Err(e) => {
                new.discard().await;
                if e.is_gone() {
                    return done(Action::Gone, None);
                }
                if !e.is_conflict() {
                    return Err(e);
                }
            }
        }
        let Some(current) = reload(shared, &old, attempt).await? else {
            return done(Action::Gone, None);
        };
        (data, version) = (data.rebase(current.0), current.1);
        if is_effectively_empty(&data) {
            // Nothing left to move: the rotation ends as a logout of the old record.
            shared.delete(&old).await?;
            shared.report(Happened::Destroyed, &old, || None);
            return done(Action::Deleted, Some(shared.removal_cookie()));
        }
        id = Id::random();
    }
    telemetry::count(&keys::SESSION_MERGE_GIVEN_UP);
    Err(Error::Conflict)
}

/// The current data and version of `id`; `None` when it is gone or no longer decodes (a
/// corrupt record is treated as on load: no session, a warning).
async fn reload(
    shared: &Shared,
    id: &Id,
    attempt: usize,
) -> Result<Option<(SessionData, Version)>, Error> {
    let Some(record) = shared.load(id, attempt).await? else {
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
    /// Merged onto a concurrent change, nothing was left (each request removed what the
    /// other kept): the record was deleted, as for any session its requests emptied.
    Emptied,
}

/// Saves `data`; on a conflict, re-loads the record, replays this request's changes onto
/// it (per key: set or removed) and tries again.
async fn save(
    shared: &Shared,
    id: &Id,
    data: &mut SessionData,
    mut version: Version,
    user: Option<&str>,
) -> Result<Saved, Error> {
    for attempt in 1..=MERGE_ATTEMPTS {
        tracing::Span::current().record("merge_attempts", attempt);
        let payload = shared.encode(data)?;
        match shared
            .save(id, &payload, shared.expiry(data), version, user, attempt)
            .await
        {
            Ok(()) if attempt == 1 => return Ok(Saved::First),
            Ok(()) => return Ok(Saved::Merged),
            Err(e) if e.is_gone() => return Ok(Saved::Gone),
            Err(e) if e.is_conflict() => {
                let Some((current, current_version)) = reload(shared, id, attempt).await? else {
                    return Ok(Saved::Gone);
                };
                *data = std::mem::take(data).rebase(current);
                version = current_version;
                if is_effectively_empty(data) {
                    match shared.delete_if(id, version, attempt).await {
                        Ok(()) => return Ok(Saved::Emptied),
                        Err(e) if e.is_gone() => return Ok(Saved::Gone),
                        // Changed again meanwhile: merge onto that.
                        Err(e) if e.is_conflict() => {
                            let Some((current, current_version)) =
                                reload(shared, id, attempt).await?
                            else {
                                return Ok(Saved::Gone);
                            };
                            *data = std::mem::take(data).rebase(current);
                            version = current_version;
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    telemetry::count(&keys::SESSION_MERGE_GIVEN_UP);
    Err(Error::Conflict)
}

/// A record created by a rotation whose old record has not been removed yet (`id` is the
/// id the store keeps). Unless
/// confirmed, it is deleted: by [`discard`](Unconfirmed::discard), or, when the request's
/// future is dropped midway (a client that went away), by a task spawned on drop, so a
/// cancelled rotation never leaves two live records.
struct Unconfirmed {
    store: DynSessionStore,
    calls: StoreCalls,
    id: Option<Id>,
}

impl Unconfirmed {
    fn new(shared: &Shared, id: Id) -> Self {
        Self {
            store: DynSessionStore::clone(&shared.store),
            calls: shared.calls.clone(),
            id: Some(id),
        }
    }

    fn confirm(mut self) {
        self.id = None;
    }

    async fn discard(mut self) {
        if let Some(id) = self.id {
            let delete = self.store.delete(&id);
            if let Err(error) = self
                .calls
                .run(Call::on(Operation::Delete, &id), delete)
                .await
            {
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
                let calls = self.calls.clone();
                runtime.spawn(async move {
                    let delete = store.delete(&id);
                    if let Err(error) = calls.run(Call::on(Operation::Delete, &id), delete).await {
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
