//! The state of one request's session, from the load to the end of the request.

use std::time::SystemTime;

use crate::in_cookie::Kept;
use crate::{Id, SessionData, Version};

/// A loaded session: what the handler changed, and which record it came from.
pub(crate) struct Loaded {
    /// The id the data lives under at the end of the request: the cookie's for a stored
    /// session, a fresh one otherwise (and after a rotation or a logout).
    pub(crate) id: Id,
    /// The version of the record stored under `id`, if there is one.
    pub(crate) stored: Option<Version>,
    /// The data with this request's changes.
    pub(crate) data: SessionData,
    /// The record this request moves away from, if it does.
    pub(crate) leaving: Option<Leaving>,
    /// The user the stored record named when it loaded (with the user index on, or with
    /// subscribers to events: [`Shared::named_user`]), to tell a login at the end of the
    /// request and whose session a logout ends.
    ///
    /// [`Shared::named_user`]: crate::lifecycle::shared::Shared::named_user
    pub(crate) user: Option<String>,
    /// Whether the load itself moved the expiry (a browser session's folded refresh).
    pub(crate) refreshed_on_load: bool,
    /// With the session kept in the cookie: what the request's cookie held, if it sent one.
    pub(crate) cookie: Option<Box<FromCookie>>,
}

/// A session kept in the cookie, as the request's cookie held it.
#[derive(Debug, Clone)]
pub(crate) struct FromCookie {
    /// When the cookie was issued; `None` when it was valid but its session had outlived
    /// the absolute lifetime (the cookie is then removed unless the request writes anew).
    pub(crate) issued: Option<SystemTime>,
    /// What the format keeps to write unchanged values back as they were.
    pub(crate) kept: Kept,
}

/// A record the request leaves behind, and how it is removed at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leaving {
    /// `cycle_id`: the data moves to a new id; the old record is deleted only if it is still
    /// the version loaded, otherwise the move is merged or given up.
    Cycle { id: Id, version: Version },
    /// A logout (`clear`, `destroy`, removal of an authentication key): the old record is
    /// deleted whatever happened to it meanwhile, and what the request writes afterwards
    /// goes to a fresh id. `keeps_data` when the rest of the old data moves along (an
    /// authentication key was removed), not when everything was cleared.
    Destroy {
        id: Id,
        version: Version,
        keeps_data: bool,
    },
}

impl Loaded {
    /// A session that starts in this request under `id` with `data` (a new session's
    /// defaults): nothing stored, nothing left behind.
    pub(crate) fn fresh(id: Id, data: SessionData) -> Self {
        Self {
            id,
            stored: None,
            data,
            leaving: None,
            user: None,
            refreshed_on_load: false,
            cookie: None,
        }
    }

    /// The ids of records this request's session lives under or leaves behind.
    pub(crate) fn own_ids(&self) -> [Option<Id>; 2] {
        let leaving = match self.leaving {
            Some(Leaving::Cycle { id, .. } | Leaving::Destroy { id, .. }) => Some(id),
            None => None,
        };
        [Some(self.id), leaving]
    }

    /// Moves the session to a fresh id at the end of the request (`cycle_id`).
    pub(crate) fn cycle(&mut self) {
        if let Some(version) = self.stored.take() {
            self.leaving = Some(Leaving::Cycle {
                id: self.id,
                version,
            });
        }
        self.id = Id::random();
    }

    /// Ends the stored session now (a logout); later writes go to a fresh id.
    pub(crate) fn destroy(&mut self, keeps_data: bool) {
        self.leaving = match (self.stored.take(), self.leaving.take()) {
            (Some(version), _) => Some(Leaving::Destroy {
                id: self.id,
                version,
                keeps_data,
            }),
            (None, Some(Leaving::Cycle { id, version })) => Some(Leaving::Destroy {
                id,
                version,
                keeps_data,
            }),
            (
                None,
                Some(Leaving::Destroy {
                    id,
                    version,
                    keeps_data: kept,
                }),
            ) => Some(Leaving::Destroy {
                id,
                version,
                keeps_data: kept && keeps_data,
            }),
            (None, None) => None,
        };
        self.id = Id::random();
    }
}
