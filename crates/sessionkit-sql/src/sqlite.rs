//! SQLite.

use std::str::FromStr;
use std::time::Duration;

use sessionkit_core::Error;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::TableName;
use crate::store::{Dialect, SqlStore, Statements, sql};

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
            delete_if: sql(format!(
                "DELETE FROM {t} WHERE id = ?1 AND version = ?2 AND expires_at > ?3"
            )),
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
}

crate::dialect_macros::common_impls!(Sqlite, sqlx::sqlite::SqliteRow);
crate::dialect_macros::returning_session_store!(Sqlite);
