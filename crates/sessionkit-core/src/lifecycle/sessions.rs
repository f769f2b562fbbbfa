//! [`Sessions`]: what all requests share.

use std::fmt;
use std::sync::Arc;

use crate::cookies::SessionCookies;
use crate::events::EventBus;
use crate::in_cookie::InCookie;
use crate::lifecycle::refreshes::Refreshes;
use crate::lifecycle::session::Session;
use crate::lifecycle::shared::Shared;
use crate::lifecycle::{Outcome, UserSession, finish, users};
use crate::telemetry::{self, StoreCalls};
use crate::{
    ConfigKey, DynClock, DynSessionStore, Error, Id, SessionConfig, SessionEvents, SystemClock,
    TimeoutStore,
};

/// The request lifecycle shared by all requests: the store (every call bounded by the
/// configured timeout: by the store itself when it says so through
/// [`SessionStore::call_timeout`](crate::SessionStore::call_timeout), otherwise by a
/// timer of its own), the configuration, the cookie codec and the clock. Cheap to clone.
///
/// A web adapter calls [`Sessions::start`] with the request's `Cookie` headers, hands the
/// [`Session`] to the handler, then calls [`Sessions::finish`] and adds the returned
/// `Set-Cookie` to the response:
///
/// ```
/// use std::sync::Arc;
/// use sessionkit_core::{MemoryStore, SessionConfig, Sessions, Action};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let sessions = Sessions::new(Arc::new(MemoryStore::new()), SessionConfig::default())?;
///
/// // First request: no cookie; the handler stores something.
/// let session = sessions.start([]);
/// session.insert("refreshed", &1).await?;
/// let outcome = sessions.finish(&session).await?;
/// assert_eq!(outcome.action, Action::Created);
/// let set_cookie = outcome.set_cookie.unwrap();
///
/// // Second request: the browser sends the cookie back.
/// let cookie = set_cookie.split(';').next().unwrap();
/// let session = sessions.start([cookie.as_bytes()]);
/// assert_eq!(session.get::<u32>("refreshed").await?, Some(1));
/// # Ok::<(), sessionkit_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Sessions {
    shared: Arc<Shared>,
}

impl Sessions {
    /// The lifecycle over `store` with `config`, on the system clock.
    ///
    /// # Errors
    /// [`Error::Config`] when `config` does not validate ([`SessionConfig::validate`]).
    pub fn new(store: DynSessionStore, config: SessionConfig) -> Result<Self, Error> {
        Self::with_clock(store, config, Arc::new(SystemClock))
    }

    /// Like [`Sessions::new`], reading the time from `clock` (share it with the store in
    /// tests).
    ///
    /// # Errors
    /// [`Error::Config`] when `config` does not validate; [`Error::Unsupported`] when it
    /// asks for a user index and the store has none.
    pub fn with_clock(
        store: DynSessionStore,
        config: SessionConfig,
        clock: DynClock,
    ) -> Result<Self, Error> {
        config.validate()?;
        let in_cookie = if store.data_in_cookie() {
            config.validate_in_cookie()?;
            Some(InCookie::new(&config))
        } else {
            None
        };
        if config.indexes_users() && store.user_index().is_none() {
            return Err(Error::Unsupported {
                feature: "find a user's sessions",
                key: if config.user_index {
                    ConfigKey::UserIndex
                } else {
                    ConfigKey::MaxPerUser
                },
            });
        }
        let bounded = store
            .call_timeout()
            .is_some_and(|limit| limit <= config.store_timeout);
        let store: DynSessionStore = if bounded {
            store
        } else {
            Arc::new(TimeoutStore::new(store, config.store_timeout))
        };
        telemetry::describe();
        Ok(Self {
            shared: Arc::new(Shared {
                calls: StoreCalls::new(store.backend()),
                store,
                cookies: SessionCookies::new(&config),
                refreshes: Refreshes::new(config.effective_refresh_step()),
                in_cookie,
                events: EventBus::default(),
                config,
                clock,
            }),
        })
    }

    /// The session of a request, given the values of its `Cookie` headers. Makes no store
    /// call: the session loads when the handler first reads or writes it. A missing,
    /// malformed, ambiguous or wrongly signed cookie means a new, empty session.
    pub fn start<'a>(&self, cookie_headers: impl IntoIterator<Item = &'a [u8]>) -> Session {
        if let Some(in_cookie) = &self.shared.in_cookie {
            let now = self.shared.now();
            let opened = self
                .shared
                .cookies
                .find(cookie_headers, |value| in_cookie.open(value, now));
            return Session::from_cookie(Arc::clone(&self.shared), opened);
        }
        let cookie_id = self.shared.cookies.find_id(cookie_headers);
        Session::new(Arc::clone(&self.shared), cookie_id)
    }

    /// Ends the request: decides what to store and returns the `Set-Cookie` to send.
    /// Calling it twice for one session does nothing the second time.
    ///
    /// # Errors
    /// Store failures ([`Error::Unavailable`], [`Error::Timeout`], ...), and
    /// [`Error::Conflict`] when concurrent writers kept changing the record through every
    /// merge attempt.
    pub async fn finish(&self, session: &Session) -> Result<Outcome, Error> {
        finish::settle(&self.shared, session.take_state().await).await
    }

    /// The live sessions of `user` (bound through `SESSION_USER_KEY`), oldest first: for
    /// an admin page or a job, outside any request.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sessionkit_core::{MemoryStore, SessionConfig, Sessions};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let mut config = SessionConfig::default();
    /// config.user_index = true;
    /// let sessions = Sessions::new(Arc::new(MemoryStore::new()), config)?;
    ///
    /// // Two logins of ada, from two browsers.
    /// for _ in 0..2 {
    ///     let session = sessions.start([]);
    ///     session.insert("_user_id", "ada").await?;
    ///     sessions.finish(&session).await?;
    /// }
    /// assert_eq!(sessions.user_sessions("ada").await?.len(), 2);
    /// assert_eq!(sessions.revoke_user("ada").await?, 2);
    /// assert!(sessions.user_sessions("ada").await?.is_empty());
    /// # Ok::<(), sessionkit_core::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] without `SESSION_USER_INDEX`; store failures.
    pub async fn user_sessions(&self, user: &str) -> Result<Vec<UserSession>, Error> {
        users::list(&self.shared, user, &[]).await
    }

    /// Revokes every session of `user` ("log out everywhere"); returns how many. Each ends
    /// as a logout does: its next request has no session, and a request in flight on it
    /// cannot bring it back.
    ///
    /// # Errors
    /// [`Error::Config`] without `SESSION_USER_INDEX`; store failures.
    pub async fn revoke_user(&self, user: &str) -> Result<usize, Error> {
        users::revoke_all(&self.shared, user, &[]).await
    }

    /// Revokes every session of `user` except the one under `keep` (a session id, as
    /// [`Session::id`] returns it); returns how many.
    ///
    /// # Errors
    /// [`Error::Config`] without `SESSION_USER_INDEX`; store failures.
    pub async fn revoke_user_except(&self, user: &str, keep: &Id) -> Result<usize, Error> {
        users::revoke_all(&self.shared, user, &[self.shared.store_id(keep)]).await
    }

    /// Revokes the session of `user` whose [`hint`](UserSession::hint) is `hint`; returns
    /// whether there was one.
    ///
    /// # Errors
    /// [`Error::Config`] without `SESSION_USER_INDEX`; store failures.
    pub async fn revoke_session(&self, user: &str, hint: &str) -> Result<bool, Error> {
        users::revoke_one(&self.shared, user, hint).await
    }

    /// Subscribes to lifecycle events, for an audit log: every session created, rotated,
    /// destroyed (logout), revoked or expired from now on, by every request and job of
    /// these sessions and their clones (an adapter's `sessions()` included), with its hint,
    /// its user and the time. The channel holds up to `capacity` events (at least 1);
    /// a request never waits for a subscriber: when the channel is full the event is
    /// dropped and counted ([`SessionEvents::dropped`]). Each call is a subscription of
    /// its own.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sessionkit_core::{MemoryStore, SessionConfig, SessionEventKind, Sessions};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let sessions = Sessions::new(Arc::new(MemoryStore::new()), SessionConfig::default())?;
    /// let mut events = sessions.subscribe(1024);
    ///
    /// let session = sessions.start([]);
    /// session.insert("_user_id", "ada").await?;
    /// sessions.finish(&session).await?;
    ///
    /// let event = events.recv().await.unwrap();
    /// assert_eq!(event.kind, SessionEventKind::Created);
    /// assert_eq!(event.user.as_deref(), Some("ada"));
    /// # Ok::<(), sessionkit_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn subscribe(&self, capacity: usize) -> SessionEvents {
        self.shared.events.subscribe(capacity)
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.shared.config
    }

    #[cfg(test)]
    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }
}

impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sessions")
            .field("store", &self.shared.store)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}
