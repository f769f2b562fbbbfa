//! Helpers for an application's own tests (feature `testing`): a store built from the same
//! configuration keys as the application's, isolated from every other test, and cleaned up
//! afterwards.
//!
//! An application's test suite that runs on the memory store by default, and on Redis (or
//! any compiled-in store) when the environment says so:
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use sessionkit::testing::TestStore;
//!
//! # fn app_routes() -> Router { Router::new() }
//! // SESSION_TYPE=redis SESSION_REDIS=redis://127.0.0.1:6379 cargo test
//! #[tokio::test]
//! async fn login_sets_a_session() {
//!     let store = TestStore::from_env().await.unwrap();
//!     let app = app_routes().layer(store.layer().unwrap());
//!     // ... drive `app` with requests ...
//!     store.cleanup().await.unwrap();
//! }
//! # fn main() {}
//! ```
//!
//! Each `TestStore` gets its own key prefix (`SESSION_KEY_PREFIX` + `test-<random>:`) or,
//! for SQL stores, its own table (`SESSION_SQL_TABLE` + `_t<random>`), so tests running in
//! parallel never see each other's sessions. [`TestStore::cleanup`] deletes every session
//! created through it (and drops the SQL table). The memory store runs on a
//! [`ManualClock`] that the test can move.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use async_trait::async_trait;
use sessionkit_core::{
    CookieStore, DynClock, DynSessionStore, Error, Id, IndexedRecord, ManualClock, MemoryStore,
    Record, SessionScan, SessionStore, Sessions, SystemClock, UserIndex, Version,
};

use crate::{Config, ConfigBuilder, SessionType, connect};

/// A store for one test: see the [module docs](self).
pub struct TestStore {
    config: Config,
    store: Arc<Recorded>,
    clock: Option<ManualClock>,
}

impl TestStore {
    /// Builds an isolated store from the process environment, as [`Config::from_env`].
    ///
    /// # Errors
    /// Configuration errors; connection errors when the configured server is down.
    pub async fn from_env() -> Result<Self, Error> {
        Self::from_builder(ConfigBuilder::from_env()?).await
    }

    /// Builds an isolated store from configuration pairs, as [`Config::from_pairs`].
    ///
    /// # Errors
    /// As [`TestStore::from_env`].
    pub async fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self, Error>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        Self::from_builder(ConfigBuilder::from_pairs(pairs)?).await
    }

    /// Builds an isolated store from `builder`: the key prefix and the SQL table get a
    /// random suffix first.
    ///
    /// # Errors
    /// As [`TestStore::from_env`].
    pub async fn from_builder(builder: ConfigBuilder) -> Result<Self, Error> {
        let suffix: String = Id::random()
            .to_string()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(10)
            .collect::<String>()
            .to_ascii_lowercase();
        let base = builder.clone().build()?;
        let config = builder
            .key_prefix(format!("{}test-{suffix}:", base.key_prefix()))
            .sql_table(format!("{}_t{suffix}", base.sql_table()))
            .build()?;
        let (store, clock): (DynSessionStore, _) = match config.session_type() {
            SessionType::Memory => {
                let clock = ManualClock::new();
                (
                    Arc::new(MemoryStore::with_clock(Arc::new(clock.clone()))),
                    Some(clock),
                )
            }
            SessionType::Cookie => (Arc::new(CookieStore), Some(ManualClock::new())),
            _ => (connect(&config).await?, None),
        };
        Ok(Self {
            config,
            store: Arc::new(Recorded {
                inner: store,
                created: Mutex::new(HashSet::new()),
                users: Mutex::new(HashSet::new()),
            }),
            clock,
        })
    }

    /// The store; every session created through it is removed by
    /// [`cleanup`](Self::cleanup).
    pub fn store(&self) -> DynSessionStore {
        self.store.clone()
    }

    /// The configuration in effect, with the isolated prefix and table.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The memory store's clock, for moving time; `None` for real servers, where tests
    /// use short lifetimes (`PERMANENT_SESSION_LIFETIME`) instead.
    pub fn clock(&self) -> Option<&ManualClock> {
        self.clock.as_ref()
    }

    /// The request lifecycle over this store, on the same clock.
    ///
    /// # Errors
    /// [`Error::Config`] when the session settings do not validate.
    pub fn sessions(&self) -> Result<Sessions, Error> {
        let clock: DynClock = match &self.clock {
            Some(clock) => Arc::new(clock.clone()),
            None => Arc::new(SystemClock),
        };
        Sessions::with_clock(self.store(), self.config.session().clone(), clock)
    }

    /// The axum / tower layer over this store.
    ///
    /// # Errors
    /// As [`sessions`](Self::sessions).
    #[cfg(feature = "axum")]
    pub fn layer(&self) -> Result<crate::axum::SessionLayer, Error> {
        Ok(crate::axum::SessionLayer::new(self.sessions()?))
    }

    /// The actix-web middleware over this store.
    ///
    /// # Errors
    /// As [`sessions`](Self::sessions).
    #[cfg(feature = "actix")]
    pub fn middleware(&self) -> Result<crate::actix::SessionMiddleware, Error> {
        Ok(crate::actix::SessionMiddleware::new(self.sessions()?))
    }

    /// Deletes every session created through this store, and drops the SQL table.
    ///
    /// # Errors
    /// Store failures.
    pub async fn cleanup(self) -> Result<(), Error> {
        let created: Vec<Id> = self.store.created().drain().collect();
        for id in &created {
            self.store.inner.delete(id).await?;
        }
        // Listing a user's sessions drops the index entries of deleted ones.
        let users: Vec<String> = self
            .store
            .users
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .collect();
        if let Some(index) = self.store.inner.user_index() {
            for user in &users {
                index.sessions_of(user).await?;
            }
        }
        drop_sql_table(&self.config).await
    }
}

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
async fn drop_sql_table(config: &Config) -> Result<(), Error> {
    async fn drop<D: sessionkit_sql::Dialect>(url: &str, table: &str) -> Result<(), Error> {
        let builder = sessionkit_sql::SqlStoreBuilder::<D>::connect(url).await?;
        builder.table(table).build()?.drop_table().await
    }
    let Some(url) = config.sql_url() else {
        return Ok(());
    };
    match config.session_type() {
        #[cfg(feature = "postgres")]
        SessionType::Postgres => drop::<sessionkit_sql::Postgres>(url, config.sql_table()).await,
        #[cfg(feature = "mysql")]
        SessionType::MySql => drop::<sessionkit_sql::MySql>(url, config.sql_table()).await,
        #[cfg(feature = "sqlite")]
        SessionType::Sqlite => drop::<sessionkit_sql::Sqlite>(url, config.sql_table()).await,
        _ => Ok(()),
    }
}

#[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
async fn drop_sql_table(_config: &Config) -> Result<(), Error> {
    Ok(())
}

impl fmt::Debug for TestStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestStore")
            .field("config", &self.config)
            .field("store", &self.store.inner)
            .finish_non_exhaustive()
    }
}

/// Remembers the ids it created, for cleanup.
struct Recorded {
    inner: DynSessionStore,
    created: Mutex<HashSet<Id>>,
    /// The users sessions were bound to, whose index entries cleanup repairs away.
    users: Mutex<HashSet<String>>,
}

impl Recorded {
    fn created(&self) -> std::sync::MutexGuard<'_, HashSet<Id>> {
        self.created.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

#[async_trait]
impl SessionStore for Recorded {
    async fn create(&self, id: &Id, payload: &[u8], expires_at: SystemTime) -> Result<(), Error> {
        self.inner.create(id, payload, expires_at).await?;
        self.created().insert(*id);
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
        self.inner.load(id).await
    }

    async fn load_and_touch(
        &self,
        id: &Id,
        expires_at: SystemTime,
    ) -> Result<Option<Record>, Error> {
        self.inner.load_and_touch(id, expires_at).await
    }

    async fn save(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
    ) -> Result<(), Error> {
        self.inner.save(id, payload, expires_at, expected).await
    }

    async fn touch(&self, id: &Id, expires_at: SystemTime) -> Result<(), Error> {
        self.inner.touch(id, expires_at).await
    }

    async fn delete(&self, id: &Id) -> Result<(), Error> {
        self.inner.delete(id).await?;
        self.created().remove(id);
        Ok(())
    }

    async fn delete_if(&self, id: &Id, expected: Version) -> Result<(), Error> {
        self.inner.delete_if(id, expected).await?;
        self.created().remove(id);
        Ok(())
    }

    fn call_timeout(&self) -> Option<std::time::Duration> {
        self.inner.call_timeout()
    }

    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn data_in_cookie(&self) -> bool {
        self.inner.data_in_cookie()
    }

    fn user_index(&self) -> Option<&dyn UserIndex> {
        self.inner.user_index().map(|_| self as &dyn UserIndex)
    }

    /// The inner store's: a scan only reads, so there is nothing to record.
    fn session_scan(&self) -> Option<&dyn SessionScan> {
        self.inner.session_scan()
    }
}

/// The inner store's index, recording created ids and the users bound, for cleanup.
#[async_trait]
impl UserIndex for Recorded {
    async fn create_for(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        user: Option<&str>,
    ) -> Result<(), Error> {
        self.note_user(user);
        self.index()
            .create_for(id, payload, expires_at, user)
            .await?;
        self.created().insert(*id);
        Ok(())
    }

    async fn save_for(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
        user: Option<&str>,
    ) -> Result<(), Error> {
        self.note_user(user);
        self.index()
            .save_for(id, payload, expires_at, expected, user)
            .await
    }

    async fn touch_for(
        &self,
        id: &Id,
        expires_at: SystemTime,
        user: Option<&str>,
    ) -> Result<(), Error> {
        self.index().touch_for(id, expires_at, user).await
    }

    async fn sessions_of(&self, user: &str) -> Result<Vec<IndexedRecord>, Error> {
        self.index().sessions_of(user).await
    }

    async fn unindex(&self, user: &str, id: &Id) -> Result<(), Error> {
        self.index().unindex(user, id).await
    }
}

impl Recorded {
    fn index(&self) -> &dyn UserIndex {
        self.inner
            .user_index()
            .expect("reached only through user_index(), which checks")
    }

    fn note_user(&self, user: Option<&str>) {
        if let Some(user) = user {
            self.users
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(user.to_owned());
        }
    }
}
