//! Building a [`SqlStore`]: over a pool of your own, or connected by URL the dialect's way.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sessionkit_core::{ConfigKey, DynClock, Error, Id, SystemClock};
use sqlx::Pool;

use crate::error::connect_error;
use crate::store::Inner;
use crate::{Dialect, SqlStore, TableName};

/// The longest store key (prefix + id): the key column is `VARCHAR(255)` on MySQL.
const MAX_KEY_LEN: usize = 255;

impl<D: Dialect> SqlStore<D> {
    /// A store over an existing pool, using the default table, prefix and timeout. Call
    /// [`migrate`](Self::migrate) once (or create the table yourself; see the crate docs).
    pub fn new(pool: Pool<D::Database>) -> Self {
        Self::builder(pool).build().expect("the defaults are valid")
    }

    /// A builder over an existing pool.
    pub fn builder(pool: Pool<D::Database>) -> SqlStoreBuilder<D> {
        SqlStoreBuilder {
            pool,
            table: sessionkit_core::DEFAULT_SQL_TABLE.to_owned(),
            prefix: sessionkit_core::DEFAULT_KEY_PREFIX.to_owned(),
            timeout: sessionkit_core::DEFAULT_STORE_TIMEOUT,
            clock: Arc::new(SystemClock),
        }
    }

    /// Connects a pool to `url` as [`SqlStoreBuilder::connect`] does and builds a store with
    /// the defaults.
    ///
    /// # Errors
    /// As [`SqlStoreBuilder::connect`].
    pub async fn connect(url: &str) -> Result<Self, Error> {
        SqlStoreBuilder::connect(url).await?.build()
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
    /// A builder over a pool connected to `url` with the dialect's options: SQLite opens
    /// (creating if needed) the file in WAL mode with a 5 s busy timeout (see
    /// [`SqliteStore`](crate::SqliteStore)).
    ///
    /// # Errors
    /// [`Error::Unavailable`] when the database cannot be reached; [`Error::Config`] for a
    /// malformed URL.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        // Boxed: sqlx's connect future is large, and runs once.
        let pool = Box::pin(D::connect(url))
            .await
            .map_err(|e| connect_error(D::NAME, url, e))?;
        Ok(SqlStore::builder(pool))
    }

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
