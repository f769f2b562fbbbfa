//! [`Session`]: the handle a request handler reads and writes.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{Mutex, MutexGuard};

use crate::lifecycle::PERMANENT_KEY;
use crate::lifecycle::sessions::Shared;
use crate::{Error, Id, SessionData, SessionStore, Version};

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
    state: Mutex<State>,
}

/// The session's state during a request.
pub(crate) enum State {
    /// Nothing read or written yet.
    Unloaded,
    /// Loaded (or started fresh).
    Loaded(Loaded),
}

/// A loaded session.
pub(crate) struct Loaded {
    /// The session's id: the cookie's for a stored session, a fresh one otherwise.
    pub(crate) id: Id,
    /// The version of the record stored under `id`, if there is one.
    pub(crate) stored: Option<Version>,
    /// The data with this request's changes.
    pub(crate) data: SessionData,
    /// An id whose record must be deleted once the data lives under `id` (`cycle_id`).
    pub(crate) cycled_from: Option<Id>,
}

impl Session {
    pub(crate) fn new(shared: Arc<Shared>, cookie_id: Option<Id>) -> Self {
        Self {
            inner: Arc::new(Inner {
                shared,
                cookie_id,
                state: Mutex::new(State::Unloaded),
            }),
        }
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
    /// Store failures while loading; [`Error::Encode`] when `value` cannot be serialized.
    pub async fn insert<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<(), Error> {
        self.with_data(|data| data.insert(key, value)).await?
    }

    /// Removes `key`; returns whether it was present.
    ///
    /// # Errors
    /// Store failures while loading.
    pub async fn remove(&self, key: &str) -> Result<bool, Error> {
        self.with_data(|data| data.remove(key)).await
    }

    /// Removes `key` and returns its value as a `T` (Flask's `session.pop`).
    ///
    /// # Errors
    /// Store failures while loading; [`Error::Decode`] when the value is not a `T` (the key
    /// then stays).
    pub async fn take<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.with_data(|data| data.take(key)).await?
    }

    /// Whether `key` is present.
    ///
    /// # Errors
    /// Store failures while loading.
    pub async fn contains_key(&self, key: &str) -> Result<bool, Error> {
        self.with_data(|data| data.contains_key(key)).await
    }

    /// The keys, in sorted order, without the internal `_permanent` marker.
    ///
    /// # Errors
    /// Store failures while loading.
    pub async fn keys(&self) -> Result<Vec<String>, Error> {
        self.with_data(|data| {
            data.keys()
                .filter(|k| *k != PERMANENT_KEY)
                .map(str::to_owned)
                .collect()
        })
        .await
    }

    /// Whether the session holds no keys (the `_permanent` marker does not count).
    ///
    /// # Errors
    /// Store failures while loading.
    pub async fn is_empty(&self) -> Result<bool, Error> {
        self.with_data(|data| is_effectively_empty(data)).await
    }

    /// Removes every key. A session that is still empty when the request ends is deleted
    /// from the store and its cookie removed (logout). Permanence is kept.
    ///
    /// # Errors
    /// Store failures while loading.
    pub async fn clear(&self) -> Result<(), Error> {
        self.with_data(|data| {
            let permanent = is_permanent(data);
            data.clear();
            if permanent {
                data.insert(PERMANENT_KEY, &true)
                    .expect("a bool always encodes");
            }
        })
        .await
    }

    /// Moves the session to a new id when the request ends, keeping its data, and deletes
    /// the record under the old id: call it at login, against session fixation.
    ///
    /// # Errors
    /// Store failures while loading.
    pub async fn cycle_id(&self) -> Result<(), Error> {
        let mut state = self.loaded().await?;
        let loaded = expect_loaded(&mut state);
        if loaded.stored.is_some() {
            loaded.cycled_from.get_or_insert(loaded.id);
        }
        loaded.id = Id::random();
        loaded.stored = None;
        Ok(())
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
    /// be stored under (after [`cycle_id`](Session::cycle_id), the new one).
    ///
    /// # Errors
    /// Store failures while loading.
    pub async fn id(&self) -> Result<Id, Error> {
        let mut state = self.loaded().await?;
        Ok(expect_loaded(&mut state).id)
    }

    async fn with_data<R>(&self, f: impl FnOnce(&mut SessionData) -> R) -> Result<R, Error> {
        let mut state = self.loaded().await?;
        Ok(f(&mut expect_loaded(&mut state).data))
    }

    /// The state, loading it on first use.
    async fn loaded(&self) -> Result<MutexGuard<'_, State>, Error> {
        let mut state = self.inner.state.lock().await;
        if let State::Unloaded = *state {
            *state = State::Loaded(self.load().await?);
        }
        Ok(state)
    }

    async fn load(&self) -> Result<Loaded, Error> {
        let shared = &self.inner.shared;
        if let Some(id) = self.inner.cookie_id {
            let record = if shared.config.refresh_each_request {
                shared.store.load_and_touch(&id, shared.expiry()).await?
            } else {
                shared.store.load(&id).await?
            };
            if let Some(record) = record
                && let Some(data) = shared.decode_or_warn(&id, record.payload())
            {
                return Ok(Loaded {
                    id,
                    stored: Some(record.version()),
                    data,
                    cycled_from: None,
                });
            }
        }
        // No valid cookie, or an unknown, expired or unreadable session: a fresh one under a
        // new id (an id the client supplied is never adopted).
        let mut data = SessionData::new();
        if shared.config.permanent {
            data.insert(PERMANENT_KEY, &true)
                .expect("a bool always encodes");
            data.mark_unmodified();
        }
        Ok(Loaded {
            id: Id::random(),
            stored: None,
            data,
            cycled_from: None,
        })
    }

    /// Takes the loaded state out (leaving the session unloaded), for finishing.
    pub(crate) async fn take_state(&self) -> Option<Loaded> {
        let mut state = self.inner.state.lock().await;
        match std::mem::replace(&mut *state, State::Unloaded) {
            State::Loaded(loaded) => Some(loaded),
            State::Unloaded => None,
        }
    }

    pub(crate) fn store(&self) -> &dyn SessionStore {
        &*self.inner.shared.store
    }
}

fn expect_loaded(state: &mut State) -> &mut Loaded {
    match state {
        State::Loaded(loaded) => loaded,
        State::Unloaded => unreachable!("Session::loaded always loads"),
    }
}

pub(crate) fn is_permanent(data: &SessionData) -> bool {
    matches!(data.get::<bool>(PERMANENT_KEY), Ok(Some(true)))
}

pub(crate) fn is_effectively_empty(data: &SessionData) -> bool {
    data.keys().all(|k| k == PERMANENT_KEY)
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("cookie_id", &self.inner.cookie_id)
            .finish_non_exhaustive()
    }
}
