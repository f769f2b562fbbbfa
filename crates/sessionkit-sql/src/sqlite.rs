//! SQLite.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use sessionkit_core::{Error, ExpiredDeletion, Id, Record, SessionStore, Version};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::TableName;
use crate::store::{CLEANUP_BATCH, Dialect, SqlStore, Statements, sql, unix_ms};

/// The SQLite dialect.
#[derive(Debug, Clone, Copy)]
pub struct Sqlite;

/// Sessions in an SQLite table.
///
/// [`SqliteStore::connect`] opens the file in WAL mode (`synchronous = NORMAL`) with a busy
/// timeout, so concurrent requests wait for each other's writes instead of failing. (`sqlite::memory:` gives each
/// pooled connection its own database: use a file.)
///
/// ```no_run
/// use sessionkit_sql::SqliteStore;
///
/// # async fn run() -> Result<(), sessionkit_core::Error> {
/// let store = SqliteStore::connect("sqlite:///var/lib/app/sessions.db").await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
pub type SqliteStore = SqlStore<Sqlite>;

impl Dialect for Sqlite {
    type Database = sqlx::Sqlite;
    const NAME: &'static str = "sqlite";

    fn ddl(table: &TableName) -> Vec<String> {
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS {table} (\
                 id TEXT PRIMARY KEY NOT NULL, \
                 data BLOB NOT NULL, \
                 expires_at INTEGER NOT NULL, \
                 version INTEGER NOT NULL)"
            ),
            format!("CREATE INDEX IF NOT EXISTS {table}_expires_at_idx ON {table} (expires_at)"),
        ]
    }

    fn statements(t: &TableName) -> Statements {
        Statements {
            create: sql(format!(
                "INSERT INTO {t} (id, data, expires_at, version) VALUES (?1, ?2, ?3, 1) \
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data, \
                 expires_at = excluded.expires_at, version = {t}.version + 1 \
                 WHERE {t}.expires_at <= ?4"
            )),
            create_over_expired: None,
            load: sql(format!(
                "SELECT data, version FROM {t} WHERE id = ?1 AND expires_at > ?2"
            )),
            load_and_touch: sql(format!(
                "UPDATE {t} SET expires_at = ?3 WHERE id = ?1 AND expires_at > ?2 \
                 RETURNING data, version"
            )),
            save: sql(format!(
                "UPDATE {t} SET data = ?2, expires_at = ?3, version = version + 1 \
                 WHERE id = ?1 AND version = ?4 AND expires_at > ?5"
            )),
            live_version: sql(format!(
                "SELECT version FROM {t} WHERE id = ?1 AND expires_at > ?2"
            )),
            touch: sql(format!(
                "UPDATE {t} SET expires_at = ?2 WHERE id = ?1 AND expires_at > ?3"
            )),
            delete: sql(format!("DELETE FROM {t} WHERE id = ?1")),
            delete_expired: sql(format!(
                "DELETE FROM {t} WHERE id IN (SELECT id FROM {t} WHERE expires_at <= ?1 LIMIT ?2)"
            )),
        }
    }
}

impl SqlStore<Sqlite> {
    /// Opens (creating if needed) the database at `url` in WAL mode with a 5 s busy timeout
    /// and builds a store with the defaults. Every call is still bounded by the store's
    /// timeout.
    ///
    /// # Errors
    /// [`Error::Config`] for a malformed URL; [`Error::Unavailable`] when the file cannot be
    /// opened.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| crate::error::connect_error(Sqlite::NAME, url, e))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // In WAL mode NORMAL is safe against corruption and only risks the last
            // commits on power loss: the usual choice for sessions, and far fewer fsyncs.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .connect_with(options)
            .await
            .map_err(|e| crate::error::connect_error(Sqlite::NAME, url, e))?;
        Ok(Self::new(pool))
    }

    /// Creates the table and its expiry index if they do not exist.
    ///
    /// # Errors
    /// Database failures.
    pub async fn migrate(&self) -> Result<(), Error> {
        for statement in self.ddl() {
            sqlx::query(sql(statement))
                .execute(self.pool())
                .await
                .map_err(|e| crate::error::from_sqlx(Sqlite::NAME, e))?;
        }
        Ok(())
    }
}

fn record(row: &sqlx::sqlite::SqliteRow) -> Result<Record, sqlx::Error> {
    let data: Vec<u8> = row.try_get(0)?;
    let version: i64 = row.try_get(1)?;
    Ok(Record::new(Bytes::from(data), Version::new(version as u64)))
}

#[async_trait]
impl SessionStore for SqlStore<Sqlite> {
    async fn create(&self, id: &Id, payload: &[u8], expires_at: SystemTime) -> Result<(), Error> {
        let query = sqlx::query(self.inner.sql.create.clone())
            .bind(self.key(id))
            .bind(payload)
            .bind(unix_ms(expires_at))
            .bind(self.now_ms());
        let done = self.bounded(query.execute(self.pool())).await?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(Error::Collision)
        }
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
        let query = sqlx::query(self.inner.sql.load.clone())
            .bind(self.key(id))
            .bind(self.now_ms());
        let row = self.bounded(query.fetch_optional(self.pool())).await?;
        row.map(|r| record(&r))
            .transpose()
            .map_err(|e| crate::error::from_sqlx(Sqlite::NAME, e))
    }

    async fn load_and_touch(
        &self,
        id: &Id,
        expires_at: SystemTime,
    ) -> Result<Option<Record>, Error> {
        let query = sqlx::query(self.inner.sql.load_and_touch.clone())
            .bind(self.key(id))
            .bind(self.now_ms())
            .bind(unix_ms(expires_at));
        let row = self.bounded(query.fetch_optional(self.pool())).await?;
        row.map(|r| record(&r))
            .transpose()
            .map_err(|e| crate::error::from_sqlx(Sqlite::NAME, e))
    }

    async fn save(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
    ) -> Result<(), Error> {
        let key = self.key(id);
        let now = self.now_ms();
        let query = sqlx::query(self.inner.sql.save.clone())
            .bind(&key)
            .bind(payload)
            .bind(unix_ms(expires_at))
            .bind(expected.get() as i64)
            .bind(now);
        if self
            .bounded(query.execute(self.pool()))
            .await?
            .rows_affected()
            == 1
        {
            return Ok(());
        }
        let live = sqlx::query(self.inner.sql.live_version.clone())
            .bind(&key)
            .bind(now);
        match self.bounded(live.fetch_optional(self.pool())).await? {
            None => Err(Error::Gone),
            Some(_) => Err(Error::Conflict),
        }
    }

    async fn touch(&self, id: &Id, expires_at: SystemTime) -> Result<(), Error> {
        let query = sqlx::query(self.inner.sql.touch.clone())
            .bind(self.key(id))
            .bind(unix_ms(expires_at))
            .bind(self.now_ms());
        let done = self.bounded(query.execute(self.pool())).await?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(Error::Gone)
        }
    }

    async fn delete(&self, id: &Id) -> Result<(), Error> {
        let query = sqlx::query(self.inner.sql.delete.clone()).bind(self.key(id));
        self.bounded(query.execute(self.pool())).await.map(drop)
    }

    fn call_timeout(&self) -> Option<Duration> {
        Some(self.timeout())
    }
}

#[async_trait]
impl ExpiredDeletion for SqlStore<Sqlite> {
    async fn delete_expired(&self) -> Result<u64, Error> {
        let now = self.now_ms();
        let mut total = 0;
        loop {
            let query = sqlx::query(self.inner.sql.delete_expired.clone())
                .bind(now)
                .bind(CLEANUP_BATCH);
            let deleted = self
                .bounded(query.execute(self.pool()))
                .await?
                .rows_affected();
            total += deleted;
            if deleted < CLEANUP_BATCH as u64 {
                return Ok(total);
            }
        }
    }
}
