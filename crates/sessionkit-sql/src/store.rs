//! [`SqlStore`]: what the three dialects share.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sessionkit_core::ConfigKey;
use sessionkit_core::{DynClock, Error, ExpiredDeletion, Id, SystemClock};
use sqlx::{AssertSqlSafe, Pool, SqlSafeStr, SqlStr};

use crate::TableName;

/// The key prefix Flask-Session uses.
pub const DEFAULT_KEY_PREFIX: &str = "session:";

/// The default table.
pub const DEFAULT_TABLE: &str = "sessions";

/// The default bound on each call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// Rows deleted per statement by [`ExpiredDeletion::delete_expired`], so a large backlog
/// never holds locks for long.
pub const CLEANUP_BATCH: i64 = 1000;

/// The longest store key (prefix + id): the key column is `VARCHAR(255)` on MySQL.
const MAX_KEY_LEN: usize = 255;

/// A SQL database's flavour of the session table.
pub trait Dialect: Send + Sync + 'static + sealed::Sealed {
    /// The sqlx database driver.
    type Database: sqlx::Database;
    /// The backend name in errors.
    const NAME: &'static str;
    /// The statements that create the table and its expiry index, idempotently.
    fn ddl(table: &TableName) -> Vec<String>;
    /// The statements of every operation, for `table`.
    fn statements(table: &TableName) -> Statements;
}

mod sealed {
    pub trait Sealed {}
}

/// The SQL of each operation, built once per store.
#[derive(Debug, Clone)]
pub struct Statements {
    pub(crate) create: SqlStr,
    /// For dialects whose insert cannot take over an expired row by itself (MySQL).
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    pub(crate) create_over_expired: Option<SqlStr>,
    pub(crate) load: SqlStr,
    pub(crate) load_and_touch: SqlStr,
    pub(crate) save: SqlStr,
    pub(crate) live_version: SqlStr,
    pub(crate) touch: SqlStr,
    pub(crate) delete: SqlStr,
    /// Parameters: key, version, now.
    pub(crate) delete_if: SqlStr,
    pub(crate) delete_expired: SqlStr,
}

/// Marks a statement as safe to run. Sound because the only thing ever interpolated into
/// our statements is a [`TableName`], checked to be a plain identifier; every value is a
/// bound parameter.
pub(crate) fn sql(statement: String) -> SqlStr {
    AssertSqlSafe(statement).into_sql_str()
}

/// Sessions in a SQL table: one row per session, keyed by prefix + id, with the codec's
/// bytes, the expiry (unix milliseconds, indexed) and a version for compare-and-set.
///
/// The dialects are [`PostgresStore`](crate::PostgresStore),
/// [`MySqlStore`](crate::MySqlStore) and [`SqliteStore`](crate::SqliteStore). Clones share
/// the pool. Expired rows are never returned, and are deleted by
/// [`ExpiredDeletion::delete_expired`] in batches of [`CLEANUP_BATCH`], or by a background
/// task started with [`SqlStore::start_cleanup`].
pub struct SqlStore<D: Dialect> {
    pub(crate) inner: Arc<Inner<D>>,
}

pub(crate) struct Inner<D: Dialect> {
    pub(crate) pool: Pool<D::Database>,
    pub(crate) table: TableName,
    pub(crate) sql: Statements,
    prefix: String,
    timeout: Duration,
    clock: DynClock,
}

impl<D: Dialect> Clone for SqlStore<D> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<D: Dialect> SqlStore<D> {
    /// A store over an existing pool, using the default table, prefix and timeout. Call
    /// [`migrate`](Self::migrate) once (or create the table yourself; see the crate docs).
    pub fn new(pool: Pool<D::Database>) -> Self {
        Self::builder(pool).build_unchecked()
    }

    /// A builder over an existing pool.
    pub fn builder(pool: Pool<D::Database>) -> SqlStoreBuilder<D> {
        SqlStoreBuilder {
            pool,
            table: DEFAULT_TABLE.to_owned(),
            prefix: DEFAULT_KEY_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            clock: Arc::new(SystemClock),
        }
    }

    /// The pool.
    pub fn pool(&self) -> &Pool<D::Database> {
        &self.inner.pool
    }

    /// The limit on every call.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The table.
    pub fn table(&self) -> &TableName {
        &self.inner.table
    }

    /// The statements [`migrate`](Self::migrate) runs, for teams that manage schemas
    /// themselves.
    pub fn ddl(&self) -> Vec<String> {
        D::ddl(&self.inner.table)
    }

    /// The key of `id`: prefix + id.
    pub fn key(&self, id: &Id) -> String {
        id.key(&self.inner.prefix)
    }

    /// Unix milliseconds now, on the store's clock.
    pub(crate) fn now_ms(&self) -> i64 {
        unix_ms(self.inner.clock.now())
    }

    /// Runs `call` within the store's timeout, mapping its error.
    pub(crate) async fn bounded<T>(
        &self,
        call: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, Error> {
        self.within(call)
            .await?
            .map_err(|e| crate::error::from_sqlx(D::NAME, e))
    }

    /// Runs `call` within the store's timeout, leaving its own error for the caller.
    pub(crate) async fn within<T>(
        &self,
        call: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<Result<T, sqlx::Error>, Error> {
        tokio::time::timeout(self.inner.timeout, call)
            .await
            .map_err(|_| Error::Timeout {
                backend: D::NAME,
                after: self.inner.timeout,
            })
    }
}

impl<D: Dialect> SqlStore<D>
where
    Self: ExpiredDeletion,
{
    /// Starts a task that deletes expired rows every `interval`. It stops by itself once
    /// every clone of the store is dropped; the handle is only needed to wait for that.
    pub fn start_cleanup(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Inner<D>> = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                let store = SqlStore { inner };
                match store.delete_expired().await {
                    Ok(0) => {}
                    Ok(deleted) => {
                        tracing::debug!(deleted, table = %store.table(), "deleted expired sessions");
                    }
                    Err(error) => {
                        tracing::warn!(?error, table = %store.table(), "expired-session cleanup failed");
                    }
                }
            }
        })
    }
}

/// Builds a [`SqlStore`].
pub struct SqlStoreBuilder<D: Dialect> {
    pool: Pool<D::Database>,
    table: String,
    prefix: String,
    timeout: Duration,
    clock: DynClock,
}

impl<D: Dialect> SqlStoreBuilder<D> {
    /// The table (default `sessions`); checked by [`build`](Self::build).
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// The key prefix (default `session:`).
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Bounds every call by `timeout` (default 1 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Reads "now" from `clock` (the expiry of rows is compared with it).
    pub fn clock(mut self, clock: DynClock) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the table name and prefix and returns the store.
    ///
    /// # Errors
    /// [`Error::Config`] for a table name that is not a plain identifier, or a prefix that
    /// makes keys longer than 255 bytes.
    pub fn build(self) -> Result<SqlStore<D>, Error> {
        let table = TableName::new(self.table)?;
        if self.prefix.len() + Id::ENCODED_LEN > MAX_KEY_LEN {
            return Err(Error::config(
                ConfigKey::KeyPrefix,
                self.prefix,
                format!(
                    "keys are at most {MAX_KEY_LEN} bytes; the prefix may have at most {}",
                    MAX_KEY_LEN - Id::ENCODED_LEN
                ),
            ));
        }
        Ok(SqlStore {
            inner: Arc::new(Inner {
                sql: D::statements(&table),
                pool: self.pool,
                table,
                prefix: self.prefix,
                timeout: self.timeout,
                clock: self.clock,
            }),
        })
    }

    fn build_unchecked(self) -> SqlStore<D> {
        self.build().expect("the defaults are valid")
    }
}

impl<D: Dialect> fmt::Debug for SqlStore<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("dialect", &D::NAME)
            .field("table", &self.inner.table.as_str())
            .field("prefix", &self.inner.prefix)
            .field("timeout", &self.inner.timeout)
            .finish()
    }
}

impl<D: Dialect> fmt::Debug for SqlStoreBuilder<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStoreBuilder")
            .field("dialect", &D::NAME)
            .field("table", &self.table)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Unix milliseconds of `time`, rounded up (an expiry is never moved earlier).
pub(crate) fn unix_ms(time: SystemTime) -> i64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    i64::try_from(since.as_nanos().div_ceil(1_000_000)).unwrap_or(i64::MAX)
}

#[cfg(feature = "postgres")]
impl sealed::Sealed for crate::Postgres {}
#[cfg(feature = "mysql")]
impl sealed::Sealed for crate::MySql {}
#[cfg(feature = "sqlite")]
impl sealed::Sealed for crate::Sqlite {}
