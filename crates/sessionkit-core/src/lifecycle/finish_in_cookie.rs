//! The end of a request whose session is kept in the cookie ([`CookieStore`]): no store
//! call; the session is sealed into a new cookie when it changed, when it moved (a
//! rotation, a logout followed by writes) or when its issue time is more than the refresh
//! step old; a session left empty removes the cookie.
//!
//! There is no record to delete, so a logout cannot outlive a copy of the cookie taken
//! before it: the README's guarantees say so.
//!
//! [`CookieStore`]: crate::CookieStore

use crate::in_cookie::{InCookie, MAX_COOKIE_LEN};
use crate::lifecycle::shared::{
    Happened, Shared, created_at, is_effectively_empty, is_permanent, user_in,
};
use crate::lifecycle::state::{Leaving, Loaded};
use crate::lifecycle::{Action, CREATED_KEY, Outcome};
use crate::telemetry::{self, keys};
use crate::{Error, Timestamp};

/// Decides the cookie for `state`.
///
/// # Errors
/// [`Error::TooLarge`] when the session does not fit in a cookie ([`MAX_COOKIE_LEN`]
/// bytes for the whole `Set-Cookie`) or exceeds `SESSION_MAX_SIZE`; [`Error::Encode`]
/// for a value the format cannot hold. The browser's cookie is then left as it was.
pub(crate) fn settle(
    shared: &Shared,
    in_cookie: &InCookie,
    state: Loaded,
) -> Result<Outcome, Error> {
    let Loaded {
        id,
        stored,
        mut data,
        leaving,
        user: loaded_user,
        cookie,
        ..
    } = state;
    let live = stored.is_some() || leaving.is_some();
    let sent_cookie = cookie.is_some();
    let ended = matches!(leaving, Some(Leaving::Destroy { .. }));
    let now = shared.now();
    let empty = is_effectively_empty(&data);

    if empty {
        if !sent_cookie {
            return Ok(Outcome::new(Action::None, None));
        }
        if live {
            // A logout, or the last key removed.
            shared.report(Happened::Destroyed, &id, move || loaded_user);
        }
        return Ok(Outcome::new(Action::Deleted, Some(shared.removal_cookie())));
    }

    let issued = cookie.as_ref().and_then(|c| c.issued);
    let due = issued.is_some_and(|issued| {
        shared.config.refresh_each_request
            && now
                .duration_since(issued)
                .is_ok_and(|age| age >= shared.config.effective_refresh_step())
    });
    let changed = data.is_modified() || leaving.is_some();
    if live && !changed && !due {
        return Ok(Outcome::new(Action::None, None));
    }
    if !live && !data.is_modified() {
        return Ok(Outcome::new(Action::None, None));
    }

    if created_at(&data).is_none() {
        data.set_untracked(CREATED_KEY, &Timestamp::from(now))?;
    }
    let kept = cookie.map(|c| c.kept).unwrap_or_default();
    let value = in_cookie.seal(&data, &kept, now)?;
    let expires_at = is_permanent(&data).then(|| shared.expiry(&data));
    let set_cookie = shared.cookies.set_cookie_value(value, expires_at, now);
    if set_cookie.len() > MAX_COOKIE_LEN {
        return Err(Error::TooLarge {
            size: set_cookie.len(),
            limit: MAX_COOKIE_LEN,
        });
    }

    let user = || user_in(&data, &shared.config.user_key);
    let action = match leaving {
        None if !live => {
            shared.report(Happened::Created, &id, user);
            Action::Created
        }
        None if data.is_modified() => {
            telemetry::count(&keys::SESSION_SAVED);
            Action::Saved
        }
        None => Action::Refreshed,
        Some(Leaving::Cycle { id: from, .. }) => {
            shared.report(Happened::Rotated { from }, &id, user);
            Action::Cycled
        }
        Some(Leaving::Destroy { id: old, .. }) => {
            debug_assert!(ended);
            shared.report(Happened::Destroyed, &old, move || loaded_user);
            shared.report(Happened::Created, &id, user);
            Action::Cycled
        }
    };
    Ok(Outcome::new(action, Some(set_cookie)))
}
