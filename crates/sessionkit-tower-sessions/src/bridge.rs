//! [`RequestStore`]: the `tower_sessions_core::SessionStore` behind one request's
//! `tower_sessions_core::Session`, delegating to that request's sessionkit session.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use serde_json::Value as Json;
use sessionkit_core::{Error, Session};
use time::OffsetDateTime;
use tower_sessions_core::Expiry;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{self, SessionStore};

use crate::value::to_json;

/// One request's bridge. tower-sessions keeps the handler's view of the data in its own
/// `Session`; this store feeds it from the sessionkit session (`load`) and writes back only
/// the keys the handler changed (`save`, `create`), so the lifecycle's per-key merge,
/// compare-and-set and logout rules apply to them unchanged. `delete` is a logout
/// (`flush`) or the end of a rotation (`cycle_id`): see [`RequestStore::delete`].
pub(crate) struct RequestStore {
    session: Session,
    /// The tower-sessions handle this store serves: held for the request only, to tell a
    /// rotation from a logout; [`detach`](RequestStore::detach) breaks the cycle.
    tower: Mutex<Option<tower_sessions_core::Session>>,
    /// The JSON data as the handler last saw or wrote it: what a save is compared with.
    synced: Mutex<HashMap<String, Json>>,
    /// The first sessionkit error, answered as the lifecycle says (503 for an outage).
    failure: Mutex<Option<Arc<Error>>>,
    /// The `expiry_date` reported on loaded records (tower-sessions recomputes its own).
    lifetime: time::Duration,
}

impl RequestStore {
    pub(crate) fn new(session: Session, lifetime: std::time::Duration) -> Arc<Self> {
        Arc::new(Self {
            session,
            tower: Mutex::new(None),
            synced: Mutex::new(HashMap::new()),
            failure: Mutex::new(None),
            lifetime: time::Duration::try_from(lifetime).unwrap_or(time::Duration::weeks(2)),
        })
    }

    /// The `tower_sessions_core::Session` for the request, backed by this store. A placeholder
    /// id stands for the cookie's session: tower-sessions' ids are not sessionkit's.
    pub(crate) fn attach(self: &Arc<Self>) -> tower_sessions_core::Session {
        let id = self.session.has_cookie_id().then(Id::default);
        let handle = tower_sessions_core::Session::new(id, Arc::clone(self), None);
        *lock(&self.tower) = Some(handle.clone());
        handle
    }

    /// Forgets the tower-sessions handle (a reference cycle while the request runs).
    pub(crate) fn detach(&self) {
        lock(&self.tower).take();
    }

    /// The first sessionkit error the request met, if any.
    pub(crate) fn failure(&self) -> Option<Arc<Error>> {
        lock(&self.failure).clone()
    }

    /// Writes the handler's changes into the sessionkit session: the data (if the handler
    /// modified it) and the expiry, which maps to permanence: `OnSessionEnd` is a browser
    /// session, `OnInactivity` and `AtDateTime` a permanent one with the configured lifetime.
    pub(crate) async fn write_back(
        &self,
        handle: &tower_sessions_core::Session,
    ) -> Result<(), Arc<Error>> {
        if handle.is_modified() && handle.save().await.is_err() {
            return Err(self.failure().unwrap_or_else(|| {
                Arc::new(Error::Encode(
                    "tower-sessions could not save the session".into(),
                ))
            }));
        }
        match handle.expiry() {
            None => Ok(()),
            Some(expiry) => {
                let permanent = !matches!(expiry, Expiry::OnSessionEnd);
                self.session
                    .set_permanent(permanent)
                    .await
                    .map_err(|error| self.record(error))
            }
        }
    }

    fn record(&self, error: Error) -> Arc<Error> {
        let error = Arc::new(error);
        lock(&self.failure).get_or_insert_with(|| Arc::clone(&error));
        error
    }

    fn fail(&self, error: Error) -> session_store::Error {
        let message = error.to_string();
        self.record(error);
        session_store::Error::Backend(message)
    }

    /// The session's keys as JSON, leaving out values JSON cannot hold (see `value.rs`).
    async fn snapshot(&self) -> Result<HashMap<String, Json>, Error> {
        let mut data = HashMap::new();
        for key in self.session.keys().await? {
            let Some(value) = self.session.get::<rmpv::Value>(&key).await? else {
                continue;
            };
            match to_json(&value) {
                Some(json) => {
                    data.insert(key, json);
                }
                None => tracing::debug!(key, "session value has no JSON form; not shown"),
            }
        }
        Ok(data)
    }

    /// Applies the difference between what the handler last saw and `data`.
    async fn sync(&self, data: &HashMap<String, Json>) -> Result<(), Error> {
        let previous = std::mem::take(&mut *lock(&self.synced));
        for key in previous.keys().filter(|key| !data.contains_key(*key)) {
            self.session.remove(key).await?;
        }
        for (key, value) in data {
            if previous.get(key) != Some(value) {
                self.session.insert(key, value).await?;
            }
        }
        *lock(&self.synced) = data.clone();
        Ok(())
    }
}

#[async_trait]
impl SessionStore for RequestStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        record.id = Id::default();
        self.sync(&record.data).await.map_err(|e| self.fail(e))
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.sync(&record.data).await.map_err(|e| self.fail(e))
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let loaded = async {
            if self.session.is_new().await? {
                return Ok(None);
            }
            self.snapshot().await.map(Some)
        };
        let Some(data) = loaded.await.map_err(|e| self.fail(e))? else {
            return Ok(None);
        };
        lock(&self.synced).clone_from(&data);
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date: OffsetDateTime::now_utc().saturating_add(self.lifetime),
        }))
    }

    /// tower-sessions calls `delete` from `cycle_id` after clearing the handle's id, and
    /// from `flush` and `delete` while the id is still set: the first is sessionkit's
    /// rotation, the others a logout (`destroy`: what the handler writes afterwards goes
    /// to a fresh session, and a slower request can no longer write to the old one).
    async fn delete(&self, _id: &Id) -> session_store::Result<()> {
        let rotating = lock(&self.tower).as_ref().is_some_and(|t| t.id().is_none());
        let result = if rotating {
            self.session.cycle_id().await
        } else {
            lock(&self.synced).clear();
            self.session.destroy().await
        };
        result.map_err(|e| self.fail(e))
    }
}

impl fmt::Debug for RequestStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the tower-sessions handle: its own Debug prints this store.
        f.debug_struct("RequestStore")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
