//! [`Sessions`]: what all requests share.

use std::fmt;
use std::sync::Arc;

use crate::cookies::SessionCookies;
use crate::lifecycle::session::Session;
use crate::lifecycle::shared::Shared;
use crate::lifecycle::{Outcome, finish};
use crate::{DynClock, DynSessionStore, Error, SessionConfig, SystemClock, TimeoutStore};

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
    /// [`Error::Config`] when `config` does not validate.
    pub fn with_clock(
        store: DynSessionStore,
        config: SessionConfig,
        clock: DynClock,
    ) -> Result<Self, Error> {
        config.validate()?;
        let bounded = store
            .call_timeout()
            .is_some_and(|limit| limit <= config.store_timeout);
        let store: DynSessionStore = if bounded {
            store
        } else {
            Arc::new(TimeoutStore::new(store, config.store_timeout))
        };
        Ok(Self {
            shared: Arc::new(Shared {
                store,
                cookies: SessionCookies::new(&config),
                config,
                clock,
            }),
        })
    }

    /// The session of a request, given the values of its `Cookie` headers. Makes no store
    /// call: the session loads when the handler first reads or writes it. A missing,
    /// malformed, ambiguous or wrongly signed cookie means a new, empty session.
    pub fn start<'a>(&self, cookie_headers: impl IntoIterator<Item = &'a [u8]>) -> Session {
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

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.shared.config
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
