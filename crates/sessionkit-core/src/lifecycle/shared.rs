//! What every request of one [`Sessions`](crate::Sessions) shares: the store, the settings,
//! the cookie codec and the clock, and the rules that follow from them (expiry, decoding,
//! the reserved keys). The handle and the end of request both read it; it imports neither.

use std::time::SystemTime;

use bytes::Bytes;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::cookies::SessionCookies;
use crate::events::EventBus;
use crate::in_cookie::InCookie;
use crate::lifecycle::refreshes::Refreshes;
use crate::lifecycle::{CREATED_KEY, PERMANENT_KEY};
use crate::telemetry::{self, Call, Operation, StoreCalls, keys};
use crate::{
    DynClock, DynSessionStore, Error, Id, IndexedRecord, Record, SessionConfig, SessionData,
    SessionEvent, SessionEventKind, Timestamp, UserIndex, Version,
};

pub(crate) struct Shared {
    /// The store, behind a [`TimeoutStore`](crate::TimeoutStore) unless it bounds its calls
    /// itself.
    pub(crate) store: DynSessionStore,
    pub(crate) config: SessionConfig,
    pub(crate) cookies: SessionCookies,
    pub(crate) clock: DynClock,
    /// When this process last moved each session's expiry (`SESSION_REFRESH_STEP`).
    pub(crate) refreshes: Refreshes,
    /// With [`CookieStore`](crate::CookieStore): how sessions are sealed into cookies.
    pub(crate) in_cookie: Option<InCookie>,
    /// Spans and metrics of the store calls.
    pub(crate) calls: StoreCalls,
    /// The application's subscribers to lifecycle events.
    pub(crate) events: EventBus,
}

/// Store calls. Every call from the lifecycle goes through these, so the id given is
/// always turned into the id the store keeps ([`Shared::store_id`]), with the user index
/// on every write carries the session's user, and every call is reported (a span, its
/// duration, its failures: [`StoreCalls`]). `attempt` counts the tries of a loop (a
/// merge, a collision), from 1.
impl Shared {
    /// The id the store keeps for `id`: its SHA-256 with `SESSION_HASH_IDS`, else itself.
    pub(crate) fn store_id(&self, id: &Id) -> Id {
        if self.config.hash_ids {
            id.hashed()
        } else {
            *id
        }
    }

    /// The store's user index, when the configuration asks for one (checked at startup).
    pub(crate) fn index(&self) -> Option<&dyn UserIndex> {
        if self.config.indexes_users() {
            self.store.user_index()
        } else {
            None
        }
    }

    /// Whether a read slides the expiry in the same call as the load (browser sessions
    /// without the user index, which needs the user known for its refresh).
    pub(crate) fn folds_refresh(&self) -> bool {
        self.config.refresh_each_request && !self.config.permanent && self.index().is_none()
    }

    pub(crate) async fn load(&self, id: &Id, attempt: usize) -> Result<Option<Record>, Error> {
        let key = self.store_id(id);
        let call = Call::on(Operation::Load, &key).attempt(attempt);
        self.calls.run(call, self.store.load(&key)).await
    }

    pub(crate) async fn load_and_touch(
        &self,
        id: &Id,
        expires_at: SystemTime,
    ) -> Result<Option<Record>, Error> {
        let key = self.store_id(id);
        let call = Call::on(Operation::LoadAndTouch, &key);
        let record = self
            .calls
            .run(call, self.store.load_and_touch(&key, expires_at))
            .await?;
        if record.is_some() {
            self.refreshes.note(id, expires_at);
        }
        Ok(record)
    }

    pub(crate) async fn create(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        user: Option<&str>,
        attempt: usize,
    ) -> Result<(), Error> {
        let key = self.store_id(id);
        let call = Call::on(Operation::Create, &key)
            .writing(payload.len())
            .attempt(attempt);
        match self.index() {
            Some(index) => {
                self.calls
                    .run(call, index.create_for(&key, payload, expires_at, user))
                    .await
            }
            None => {
                self.calls
                    .run(call, self.store.create(&key, payload, expires_at))
                    .await
            }
        }?;
        self.refreshes.note(id, expires_at);
        Ok(())
    }

    pub(crate) async fn save(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
        user: Option<&str>,
        attempt: usize,
    ) -> Result<(), Error> {
        let key = self.store_id(id);
        let call = Call::on(Operation::Save, &key)
            .writing(payload.len())
            .attempt(attempt);
        match self.index() {
            Some(index) => {
                let save = index.save_for(&key, payload, expires_at, expected, user);
                self.calls.run(call, save).await
            }
            None => {
                let save = self.store.save(&key, payload, expires_at, expected);
                self.calls.run(call, save).await
            }
        }?;
        self.refreshes.note(id, expires_at);
        Ok(())
    }

    pub(crate) async fn touch(
        &self,
        id: &Id,
        expires_at: SystemTime,
        user: Option<&str>,
    ) -> Result<(), Error> {
        let key = self.store_id(id);
        let call = Call::on(Operation::Touch, &key);
        match self.index() {
            Some(index) => {
                self.calls
                    .run(call, index.touch_for(&key, expires_at, user))
                    .await
            }
            None => {
                self.calls
                    .run(call, self.store.touch(&key, expires_at))
                    .await
            }
        }?;
        self.refreshes.note(id, expires_at);
        Ok(())
    }

    pub(crate) async fn delete(&self, id: &Id) -> Result<(), Error> {
        self.refreshes.forget(id);
        self.delete_stored(&self.store_id(id)).await
    }

    /// Deletes the record the store keeps under `key` (an id already turned into the
    /// store's, as the user index lists them).
    pub(crate) async fn delete_stored(&self, key: &Id) -> Result<(), Error> {
        let call = Call::on(Operation::Delete, key);
        self.calls.run(call, self.store.delete(key)).await
    }

    pub(crate) async fn delete_if(
        &self,
        id: &Id,
        expected: Version,
        attempt: usize,
    ) -> Result<(), Error> {
        self.refreshes.forget(id);
        let key = self.store_id(id);
        let call = Call::on(Operation::DeleteIf, &key).attempt(attempt);
        self.calls
            .run(call, self.store.delete_if(&key, expected))
            .await
    }

    /// The records the index binds to `user`.
    pub(crate) async fn sessions_of(
        &self,
        index: &dyn UserIndex,
        user: &str,
    ) -> Result<Vec<IndexedRecord>, Error> {
        let call = Call {
            operation: Operation::SessionsOf,
            key: None,
            size: None,
            attempt: 1,
        };
        self.calls.run(call, index.sessions_of(user)).await
    }

    /// Drops the index entry binding `key` (a store id) to `user`.
    pub(crate) async fn unindex(
        &self,
        index: &dyn UserIndex,
        user: &str,
        key: &Id,
    ) -> Result<(), Error> {
        let call = Call::on(Operation::Unindex, key);
        self.calls.run(call, index.unindex(user, key)).await
    }
}

/// Something that happened to a session, before it becomes a metric and an event.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Happened {
    Created,
    /// Moved from the session under `from` (a cookie id).
    Rotated {
        from: Id,
    },
    Destroyed,
    Expired,
}

/// Lifecycle events: each one moves its counter and, when anybody subscribed, reaches the
/// subscribers.
impl Shared {
    /// Reports that `happened` to the session under `id` (a cookie id); `user` says whose
    /// it is, asked only when there are subscribers.
    pub(crate) fn report(
        &self,
        happened: Happened,
        id: &Id,
        user: impl FnOnce() -> Option<String>,
    ) {
        telemetry::count(match happened {
            Happened::Created => &keys::SESSION_CREATED,
            Happened::Rotated { .. } => &keys::SESSION_ROTATED,
            Happened::Destroyed => &keys::SESSION_DELETED,
            Happened::Expired => &keys::SESSION_EXPIRED,
        });
        if !self.events.is_active() {
            return;
        }
        let kind = match happened {
            Happened::Created => SessionEventKind::Created,
            Happened::Rotated { from } => SessionEventKind::Rotated {
                previous: self.store_id(&from).hint(),
            },
            Happened::Destroyed => SessionEventKind::Destroyed,
            Happened::Expired => SessionEventKind::Expired,
        };
        self.publish(kind, &self.store_id(id), user());
    }

    /// Reports the revocation of `user`'s session kept under `key` (a store id).
    pub(crate) fn report_revoked(&self, key: &Id, user: &str) {
        telemetry::count(&keys::SESSION_REVOKED);
        if self.events.is_active() {
            self.publish(SessionEventKind::Revoked, key, Some(user.to_owned()));
        }
    }

    fn publish(&self, kind: SessionEventKind, key: &Id, user: Option<String>) {
        self.events.publish(&SessionEvent {
            kind,
            hint: key.hint(),
            user,
            at: self.now(),
        });
    }

    /// The user `data` names for events and the user index: the value of
    /// `SESSION_USER_KEY`, when either wants it.
    pub(crate) fn named_user(&self, data: &SessionData) -> Option<String> {
        if self.index().is_some() || self.events.is_active() {
            user_in(data, &self.config.user_key)
        } else {
            None
        }
    }
}

impl Shared {
    pub(crate) fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// The expiry of a session refreshed now, before its data is known.
    pub(crate) fn idle_expiry(&self) -> SystemTime {
        self.now() + self.config.lifetime
    }

    /// The expiry of `data` written or refreshed now: the idle lifetime from now, never past
    /// the absolute lifetime from its creation.
    pub(crate) fn expiry(&self, data: &SessionData) -> SystemTime {
        self.expiry_at(data, self.now())
    }

    fn expiry_at(&self, data: &SessionData, now: SystemTime) -> SystemTime {
        let idle = now + self.config.lifetime;
        match (self.config.absolute_lifetime, created_at(data)) {
            (Some(absolute), Some(created)) => idle.min(created + absolute),
            (Some(absolute), None) => idle.min(now + absolute),
            (None, _) => idle,
        }
    }

    /// Whether `data` has outlived the absolute lifetime.
    pub(crate) fn is_past_absolute(&self, data: &SessionData) -> bool {
        match (self.config.absolute_lifetime, created_at(data)) {
            (Some(absolute), Some(created)) => created + absolute <= self.now(),
            _ => false,
        }
    }

    /// The data of a session that starts in this request.
    pub(crate) fn new_data(&self) -> SessionData {
        let mut data = SessionData::new();
        if self.config.permanent {
            data.insert(PERMANENT_KEY, &true)
                .expect("a bool always encodes");
            data.mark_unmodified();
        }
        data
    }

    /// The user `data` is bound to: the value of `SESSION_USER_KEY` as text (a string as
    /// it is, an integer in decimal), when the user index is on. Any other value binds to
    /// nobody.
    pub(crate) fn user_of(&self, data: &SessionData) -> Option<String> {
        self.index()?;
        user_in(data, &self.config.user_key)
    }

    /// Whether removing `key` is a logout ([`SessionConfig::auth_keys`]).
    pub(crate) fn is_auth_key(&self, key: &str) -> bool {
        self.config.auth_keys.iter().any(|k| k == key)
    }

    /// Decodes a stored payload. One that is over the size limit (not decoded at all) or
    /// does not decode is logged and treated as no session; the record is left alone.
    pub(crate) fn decode_or_warn(&self, id: &Id, payload: &Bytes) -> Option<SessionData> {
        if payload.len() > self.config.max_size {
            telemetry::count(&keys::SESSION_UNREADABLE_TOO_LARGE);
            tracing::warn!(
                session = ?id,
                size = payload.len(),
                limit = self.config.max_size,
                "stored session is over SESSION_MAX_SIZE; treating the request as having no session"
            );
            return None;
        }
        match self.config.codec.decode(payload) {
            Ok(data) => Some(data),
            Err(error) => {
                telemetry::count(&keys::SESSION_UNREADABLE_DECODE);
                tracing::warn!(
                    session = ?id,
                    error = %std::error::Error::source(&error).map_or_else(|| error.to_string(), ToString::to_string),
                    "stored session does not decode; treating the request as having no session"
                );
                None
            }
        }
    }

    /// The bytes to store for `data`: stamps the creation time on data that has none
    /// (sessions written by Python get one on their first save from Rust), encodes, and
    /// checks the size limit before anything is written.
    ///
    /// # Errors
    /// [`Error::TooLarge`] over `SESSION_MAX_SIZE`; [`Error::Encode`].
    pub(crate) fn encode(&self, data: &mut SessionData) -> Result<Vec<u8>, Error> {
        if created_at(data).is_none() {
            data.set_untracked(CREATED_KEY, &Timestamp::from(self.now()))?;
        }
        let payload = self.config.codec.encode(data)?;
        if payload.len() > self.config.max_size {
            return Err(Error::TooLarge {
                size: payload.len(),
                limit: self.config.max_size,
            });
        }
        Ok(payload)
    }

    /// `Set-Cookie` for `id` holding `data`: a permanent session's cookie expires with it.
    pub(crate) fn set_cookie(&self, id: &Id, data: &SessionData) -> String {
        let now = self.now();
        let expires_at = is_permanent(data).then(|| self.expiry_at(data, now));
        self.cookies.set_cookie(id, expires_at, now)
    }

    /// `Set-Cookie` that removes the session cookie.
    pub(crate) fn removal_cookie(&self) -> String {
        self.cookies.removal_cookie()
    }
}

/// The user named in `data` by `key`: the value of that session key, or with `key/field`
/// the field of the map under `key` (axum-login keeps its user id as `user_id` in the map
/// under `axum-login.data`). A string names a user as it is, an integer in decimal; any
/// other value names nobody.
pub(crate) fn user_in(data: &SessionData, key: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum UserRef {
        Text(String),
        Signed(i64),
        Unsigned(u64),
        Other(serde::de::IgnoredAny),
    }
    let user = match key.split_once('/') {
        None => data.get::<UserRef>(key).ok()??,
        Some((key, field)) => data
            .get::<std::collections::HashMap<String, UserRef>>(key)
            .ok()??
            .remove(field)?,
    };
    match user {
        UserRef::Text(text) => Some(text),
        UserRef::Signed(n) => Some(n.to_string()),
        UserRef::Unsigned(n) => Some(n.to_string()),
        UserRef::Other(_) => None,
    }
}

/// Whether `data` is permanent (Flask's `_permanent`).
pub(crate) fn is_permanent(data: &SessionData) -> bool {
    matches!(data.get::<bool>(PERMANENT_KEY), Ok(Some(true)))
}

/// Whether `data` holds nothing but the reserved keys.
pub(crate) fn is_effectively_empty(data: &SessionData) -> bool {
    data.keys().all(is_reserved)
}

/// The keys sessionkit keeps in the session for itself.
pub(crate) fn is_reserved(key: &str) -> bool {
    key == PERMANENT_KEY || key == CREATED_KEY
}

/// When `data` was created: a MessagePack timestamp, or the RFC 3339 text the JSON codec
/// writes for one.
pub(crate) fn created_at(data: &SessionData) -> Option<SystemTime> {
    if let Ok(Some(at)) = data.get::<Timestamp>(CREATED_KEY) {
        return Some(at.into());
    }
    let text = data.get::<String>(CREATED_KEY).ok()??;
    OffsetDateTime::parse(&text, &Rfc3339)
        .ok()
        .map(SystemTime::from)
}
