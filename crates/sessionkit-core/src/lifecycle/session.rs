//! [`Session`]: the handle a request handler reads and writes.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{Mutex, MutexGuard};

use crate::in_cookie::{Kept, Opened};
use crate::lifecycle::shared::{
    Happened, Shared, is_effectively_empty, is_permanent, is_reserved, user_in,
};
use crate::lifecycle::state::{FromCookie, Loaded};
use crate::lifecycle::{PERMANENT_KEY, UserSession, users};
use crate::telemetry::{self, keys};
use crate::{Error, Id, SessionData, Version};

/// One request's session: Flask's `session` object, in Rust.
///
/// Clones share the same state, and the handle is `Send + Sync`, so it can be held across
/// `.await` and passed to spawned tasks. Nothing is loaded until the first read or write;
/// a handler that never touches the session costs no store call. Every method that needs
/// the data is `async` for that reason, and fails only when the store does.
///
/// Changes are written once, when the request ends (see [`Sessions::finish`]).
///
/// [`Sessions::finish`]: crate::Sessions::finish
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    /// The verified id from the request's cookie, if any.
    cookie_id: Option<Id>,
    /// With the session kept in the cookie: the verified session the cookie carried.
    opened: Option<Opened>,
    state: Mutex<State>,
}

/// The session's state during a request.
enum State {
    /// Nothing read or written yet.
    Unloaded,
    /// Loaded (or started fresh).
    Loaded(Loaded),
}

impl Session {
    pub(crate) fn new(shared: Arc<Shared>, cookie_id: Option<Id>) -> Self {
        Self::with(shared, cookie_id, None)
    }

    /// The session of a request whose session is kept in the cookie.
    pub(crate) fn from_cookie(shared: Arc<Shared>, opened: Option<Opened>) -> Self {
        Self::with(shared, None, opened)
    }

    fn with(shared: Arc<Shared>, cookie_id: Option<Id>, opened: Option<Opened>) -> Self {
        Self {
            inner: Arc::new(Inner {
                shared,
                cookie_id,
                opened,
                state: Mutex::new(State::Unloaded),
            }),
        }
    }

    /// Whether the request's cookie carried a verified session id (or, with the session
    /// kept in the cookie, a verified unexpired session). Makes no store call: the session
    /// it names may still turn out unknown or expired when it loads (see
    /// [`is_new`](Session::is_new)).
    pub fn has_cookie_id(&self) -> bool {
        self.inner.cookie_id.is_some() || self.inner.opened.is_some()
    }

    /// Whether no stored record was loaded for this request: there was no valid cookie, or
    /// the session it named is unknown or expired. False after a logout or rotation of a
    /// stored session.
    ///
    /// # Errors
    /// Store failures while loading.
    pub async fn is_new(&self) -> Result<bool, Error> {
        self.with_loaded(|loaded| loaded.stored.is_none() && loaded.leaving.is_none())
            .await
    }

    /// Reads `key` as a `T`.
    ///
    /// # Errors
    /// Store failures while loading; [`Error::Decode`] when the value is not a `T`.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.with_data(|data| data.get(key)).await?
    }

    /// Sets `key` to `value` (a no-op when equal to the current value).
    ///
    /// # Errors
    /// Store failures while loading; [`Error::Encode`] when `value` cannot be serialized;
    /// [`Error::TooLarge`] when the session would grow past `SESSION_MAX_SIZE` (the value
    /// is then not set).
    pub async fn insert<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<(), Error> {
        let limit = self.inner.shared.config.max_size;
        self.with_data(|data| data.insert_within(key.to_owned(), value, limit))
            .await?
    }

    /// Removes `key`; returns whether it was present. Removing an authentication key
    /// (`SESSION_AUTH_KEYS`, default Flask-Login's `_user_id`) is a logout: see
    /// [`clear`](Session::clear).
    ///
    /// # Errors
    /// Store failures while loading.
    pub async fn remove(&self, key: &str) -> Result<bool, Error> {
        let shared = Arc::clone(&self.inner.shared);
        self.with_loaded(|loaded| {
            let removed = loaded.data.remove(key);
            if removed && shared.is_auth_key(key) {
                loaded.destroy(true);
            }
            removed
        })
        .await
    }

    /// Removes `key` and returns its value as a `T` (Flask's `session.pop`). Taking an
    /// authentication key is a logout, as with [`remove`](Session::remove).
    ///
    /// # Errors
    /// Store failures while loading; [`Error::Decode`] when the value is not a `T` (the key
    /// then stays).
    pub async fn take<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        let shared = Arc::clone(&self.inner.shared);
        self.with_loaded(|loaded| {
            let value = loaded.data.take(key)?;
            if value.is_some() && shared.is_auth_key(key) {
                loaded.destroy(true);
            }
            Ok(value)
        })
        .await?
    }

    /// Whether `key` is present.
    ///
    /// # Errors
    /// Store failures while loading.
    pub async fn contains_key(&self, key: &str) -> Result<bool, Error> {
        self.with_data(|data| data.contains_key(key)).await
    }

    /// The keys, in sorted order, without sessionkit's reserved `_permanent` and
    /// `_created`.
    ///
    /// # Errors
    /// Store failures while loading.
    pub async fn keys(&self) -> Result<Vec<String>, Error> {
        self.with_data(|data| {
            data.keys()
                .filter(|k| !is_reserved(k))
                .map(str::to_owned)
                .collect()
        })
        .await
    }

    /// Whether the session holds no keys (the reserved `_permanent` and `_created` do not
    /// count).
    ///
    /// # Errors
    /// Store failures while loading.
    pub async fn is_empty(&self) -> Result<bool, Error> {
        self.with_data(|data| is_effectively_empty(data)).await
    }

    /// Logs out: removes every key, deletes the stored record when the request ends, and
    /// moves anything written afterwards (a flash message) to a new session under a fresh
    /// id, as Django's `flush()`, express's `regenerate` and Rails' `reset_session` do.
    /// A slower request that loaded the session before the logout can then no longer
    /// write to it: its save finds the record gone. Permanence is kept, as Flask-Session
    /// does; [`destroy`](Session::destroy) drops it too.
    ///
    /// # Errors
    /// Store failures while loading.
    pub async fn clear(&self) -> Result<(), Error> {
        self.with_loaded(|loaded| {
            let permanent = is_permanent(&loaded.data);
            loaded.destroy(false);
            loaded.data.clear();
            if permanent {
                loaded
                    .data
                    .insert(PERMANENT_KEY, &true)
                    .expect("a bool always encodes");
            }
        })
        .await
    }

    /// Ends the session: like [`clear`](Session::clear), and what is written afterwards
    /// starts from a new session's defaults (permanence included).
    ///
    /// # Errors
    /// Store failures while loading.
    pub async fn destroy(&self) -> Result<(), Error> {
        let fresh = self.inner.shared.new_data();
        self.with_loaded(|loaded| {
            loaded.destroy(false);
            loaded.data = fresh;
        })
        .await
    }

    /// Moves the session to a new id when the request ends, keeping its data, and deletes
    /// the record under the old id: call it at login, against session fixation. The new
    /// id only survives if the old record is still there at the end of the request: if a
    /// logout (or a revocation) removed it meanwhile, nothing is stored and the request
    /// ends as for a gone session.
    ///
    /// # Errors
    /// Store failures while loading.
    pub async fn cycle_id(&self) -> Result<(), Error> {
        self.with_loaded(Loaded::cycle).await
    }

    /// Makes the session permanent (its cookie outlives the browser session, with the
    /// configured lifetime) or a browser session. Stored as Flask does, as `_permanent`.
    ///
    /// # Errors
    /// Store failures while loading.
    pub async fn set_permanent(&self, permanent: bool) -> Result<(), Error> {
        self.with_data(|data| {
            if permanent {
                data.insert(PERMANENT_KEY, &true)
                    .expect("a bool always encodes");
            } else {
                data.remove(PERMANENT_KEY);
            }
        })
        .await
    }

    /// Whether the session is permanent.
    ///
    /// # Errors
    /// Store failures while loading.
    pub async fn is_permanent(&self) -> Result<bool, Error> {
        self.with_data(|data| is_permanent(data)).await
    }

    /// The session's id: the cookie's for a stored session, otherwise the fresh id it will
    /// be stored under (after [`cycle_id`](Session::cycle_id) or a logout, the new one).
    /// A session kept in the cookie ([`CookieStore`](crate::CookieStore)) has no id: this is
    /// a random one, different on every request.
    ///
    /// # Errors
    /// Store failures while loading.
    pub async fn id(&self) -> Result<Id, Error> {
        self.with_loaded(|loaded| loaded.id).await
    }

    /// The live sessions of the user this session is bound to (its `SESSION_USER_KEY`),
    /// oldest first, this one marked [`current`](UserSession::current): a "your devices"
    /// page. Empty when the session is bound to nobody.
    ///
    /// # Errors
    /// [`Error::Config`] without `SESSION_USER_INDEX`; store failures.
    pub async fn user_sessions(&self) -> Result<Vec<UserSession>, Error> {
        let (user, own) = self.user_and_own_ids().await?;
        match user {
            Some(user) => users::list(&self.inner.shared, &user, &own).await,
            None => Ok(Vec::new()),
        }
    }

    /// Revokes every other session of the user this session is bound to ("sign out of all
    /// other devices", after a password change); returns how many. This session stays,
    /// including when it is moving to a new id in this request. The revoked sessions end
    /// as a logout does: their next request has no session, and a request in flight on
    /// one cannot bring it back.
    ///
    /// # Errors
    /// [`Error::Config`] without `SESSION_USER_INDEX`; store failures.
    pub async fn revoke_other_sessions(&self) -> Result<usize, Error> {
        let (user, own) = self.user_and_own_ids().await?;
        match user {
            Some(user) => users::revoke_all(&self.inner.shared, &user, &own).await,
            None => Ok(0),
        }
    }

    /// The user this session is bound to now, and the ids the store keeps for the records
    /// this request lives under or leaves.
    async fn user_and_own_ids(&self) -> Result<(Option<String>, Vec<Id>), Error> {
        let shared = Arc::clone(&self.inner.shared);
        self.with_loaded(|loaded| {
            let user = user_in(&loaded.data, &shared.config.user_key);
            let own = loaded
                .own_ids()
                .into_iter()
                .flatten()
                .map(|id| shared.store_id(&id))
                .collect();
            (user, own)
        })
        .await
    }

    async fn with_data<R>(&self, f: impl FnOnce(&mut SessionData) -> R) -> Result<R, Error> {
        self.with_loaded(|loaded| f(&mut loaded.data)).await
    }

    async fn with_loaded<R>(&self, f: impl FnOnce(&mut Loaded) -> R) -> Result<R, Error> {
        let mut state = self.loaded().await?;
        match &mut *state {
            State::Loaded(loaded) => Ok(f(loaded)),
            State::Unloaded => unreachable!("Session::loaded always loads"),
        }
    }

    /// The state, loading it on first use.
    async fn loaded(&self) -> Result<MutexGuard<'_, State>, Error> {
        let mut state = self.inner.state.lock().await;
        if let State::Unloaded = *state {
            *state = State::Loaded(self.load().await?);
        }
        Ok(state)
    }

    /// Loads the cookie's session. When reads slide the expiry, new sessions are not
    /// permanent and there is no user index, the slide is folded into the load (one round
    /// trip); otherwise the end of the request refreshes it, checking at the same time that
    /// the id is still live before its cookie is re-sent. Either way only when the expiry
    /// would move by more than the refresh step since this process last moved it.
    async fn load(&self) -> Result<Loaded, Error> {
        let shared = &self.inner.shared;
        if shared.in_cookie.is_some() {
            return Ok(self.load_from_cookie());
        }
        if let Some(id) = self.inner.cookie_id {
            let expiry = shared.idle_expiry();
            let refreshed_on_load = shared.folds_refresh() && shared.refreshes.is_due(&id, expiry);
            let record = if refreshed_on_load {
                shared.load_and_touch(&id, expiry).await?
            } else {
                shared.load(&id, 1).await?
            };
            if let Some(record) = record
                && let Some(data) = shared.decode_or_warn(&id, record.payload())
            {
                if !shared.is_past_absolute(&data) {
                    return Ok(Loaded {
                        id,
                        stored: Some(record.version()),
                        user: shared.named_user(&data),
                        data,
                        leaving: None,
                        refreshed_on_load,
                        cookie: None,
                    });
                }
                // Past its absolute lifetime: gone, whatever its activity.
                tracing::debug!(session = ?id, "session reached SESSION_ABSOLUTE_LIFETIME");
                shared.delete(&id).await?;
                shared.report(Happened::Expired, &id, || {
                    user_in(&data, &shared.config.user_key)
                });
            }
        }
        // No valid cookie, or an unknown, expired or unreadable session: a fresh one under a
        // new id (an id the client supplied is never adopted).
        Ok(Loaded::fresh(Id::random(), shared.new_data()))
    }

    /// Loads the session kept in the cookie: decodes what the cookie carried (verified when
    /// the request started). A payload that does not decode is "no session" with a warning,
    /// as a corrupt stored record is; a session past its absolute lifetime ends here.
    fn load_from_cookie(&self) -> Loaded {
        let shared = &self.inner.shared;
        let in_cookie = shared
            .in_cookie
            .as_ref()
            .expect("only with the session in the cookie");
        // Sessions in cookies have no id: events name them by a hint of a random one.
        let id = Id::random();
        let mut loaded = Loaded::fresh(id, shared.new_data());
        let Some(opened) = &self.inner.opened else {
            return loaded;
        };
        match in_cookie.decode(opened) {
            Ok((data, kept)) if !shared.is_past_absolute(&data) => {
                loaded.stored = Some(Version::new(0));
                loaded.user = shared.named_user(&data);
                loaded.data = data;
                loaded.cookie = Some(Box::new(FromCookie {
                    issued: Some(opened.issued),
                    kept,
                }));
            }
            Ok((data, _)) => {
                tracing::debug!("session in the cookie reached SESSION_ABSOLUTE_LIFETIME");
                shared.report(Happened::Expired, &id, || {
                    user_in(&data, &shared.config.user_key)
                });
                loaded.cookie = Some(Box::new(FromCookie {
                    issued: None,
                    kept: Kept::default(),
                }));
            }
            Err(error) => {
                telemetry::count(&keys::SESSION_UNREADABLE_DECODE);
                tracing::warn!(
                    error = %std::error::Error::source(&error).map_or_else(|| error.to_string(), ToString::to_string),
                    "the session in the cookie does not decode; treating the request as having no session"
                );
            }
        }
        loaded
    }

    /// Takes the loaded state out (leaving the session unloaded), for finishing.
    pub(crate) async fn take_state(&self) -> Option<Loaded> {
        let mut state = self.inner.state.lock().await;
        match std::mem::replace(&mut *state, State::Unloaded) {
            State::Loaded(loaded) => Some(loaded),
            State::Unloaded => None,
        }
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("cookie_id", &self.inner.cookie_id)
            .finish_non_exhaustive()
    }
}
