//! The end of a request: one decision, at most a few store calls, and the cookie to send.

use crate::lifecycle::session::{Loaded, Session, is_effectively_empty, is_permanent};
use crate::lifecycle::sessions::Shared;
use crate::lifecycle::{Action, Outcome};
use crate::{Error, Id, SessionData, Version};

/// How often `create` is retried with a fresh id after a collision (2^-256 odds each).
const CREATE_ATTEMPTS: usize = 3;

/// How often a conflicting save is merged and retried before giving up.
const SAVE_ATTEMPTS: usize = 5;

pub(crate) async fn finish(shared: &Shared, session: &Session) -> Result<Outcome, Error> {
    let Some(loaded) = session.take_state().await else {
        return Ok(Outcome::untouched());
    };
    let Loaded {
        id,
        stored,
        data,
        cycled_from,
    } = loaded;
    let store = session.store();
    let permanent = is_permanent(&data);
    let set_cookie = |id: &Id| Some(shared.cookies.set_cookie(id, permanent, shared.now()));
    let removal = || Some(shared.cookies.removal_cookie());

    if is_effectively_empty(&data) {
        return match (stored, cycled_from) {
            // A stored session emptied by this request: logout.
            (Some(_), _) if data.is_modified() => {
                store.delete(&id).await?;
                Ok(Outcome::new(Action::Deleted, removal()))
            }
            // A stored session that was empty all along: treat it as unchanged.
            (Some(_), _) => Ok(unchanged(shared, &id, permanent)),
            // Cycled, then emptied: the old record goes, nothing new is stored.
            (None, Some(old)) => {
                store.delete(&old).await?;
                Ok(Outcome::new(Action::Deleted, removal()))
            }
            // A new session left empty: nothing is stored and no cookie is sent.
            (None, None) => Ok(Outcome::new(Action::None, None)),
        };
    }

    match stored {
        None => {
            let id = create(shared, session, id, &data).await?;
            if let Some(old) = cycled_from {
                store.delete(&old).await?;
                return Ok(Outcome::new(Action::Cycled, set_cookie(&id)));
            }
            Ok(Outcome::new(Action::Created, set_cookie(&id)))
        }
        Some(version) if data.is_modified() => {
            match save(shared, session, &id, data, version).await? {
                Saved::First => Ok(Outcome::new(Action::Saved, set_cookie(&id))),
                Saved::Merged => Ok(Outcome::new(Action::Merged, set_cookie(&id))),
                Saved::Gone => Ok(Outcome::new(Action::Gone, removal())),
            }
        }
        Some(_) => Ok(unchanged(shared, &id, permanent)),
    }
}

/// An unchanged stored session: its expiry already slid with the load (when
/// `SESSION_REFRESH_EACH_REQUEST` is on), so only a permanent cookie is re-sent with the new
/// expiry, as Flask does. The data is never rewritten.
fn unchanged(shared: &Shared, id: &Id, permanent: bool) -> Outcome {
    if shared.config.refresh_each_request && permanent {
        let cookie = shared.cookies.set_cookie(id, true, shared.now());
        Outcome::new(Action::Refreshed, Some(cookie))
    } else {
        Outcome::new(Action::None, None)
    }
}

/// Stores a new session, drawing a fresh id on the (astronomically unlikely) collision.
async fn create(
    shared: &Shared,
    session: &Session,
    mut id: Id,
    data: &SessionData,
) -> Result<Id, Error> {
    let payload = shared.config.codec.encode(data)?;
    for _ in 0..CREATE_ATTEMPTS {
        match session.store().create(&id, &payload, shared.expiry()).await {
            Ok(()) => return Ok(id),
            Err(e) if e.is_collision() => id = Id::random(),
            Err(e) => return Err(e),
        }
    }
    Err(Error::Collision)
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
    session: &Session,
    id: &Id,
    mut data: SessionData,
    mut version: Version,
) -> Result<Saved, Error> {
    let store = session.store();
    for attempt in 0..SAVE_ATTEMPTS {
        let payload = shared.config.codec.encode(&data)?;
        match store.save(id, &payload, shared.expiry(), version).await {
            Ok(()) if attempt == 0 => return Ok(Saved::First),
            Ok(()) => return Ok(Saved::Merged),
            Err(e) if e.is_gone() => return Ok(Saved::Gone),
            Err(e) if e.is_conflict() => {
                let Some(record) = store.load(id).await? else {
                    return Ok(Saved::Gone);
                };
                let current = shared.config.codec.decode(record.payload())?;
                data = data.rebase(current);
                version = record.version();
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::Conflict)
}
