//! SQLite: its SQL and how it opens the file.

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};

use crate::dialect::{Dialect, Schema, Sealed, Statements, sql};
use crate::driver::RowsAffected;
use crate::{SqlStore, TableName};

/// The SQLite dialect.
#[derive(Debug, Clone, Copy)]
pub struct Sqlite;

/// Sessions in an SQLite table.
///
/// [`SqliteStore::connect`] opens (creating if needed) the file in WAL mode
/// (`synchronous = NORMAL`) with a 5 s busy timeout, so concurrent requests wait for each
/// other's writes instead of failing; every call is still bounded by the store's timeout.
/// (`sqlite::memory:` gives each pooled connection its own database: use a file.)
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
}

impl Sealed for Sqlite {
    fn schema(t: &TableName) -> Schema {
        Schema {
            create_table: format!(
                "CREATE TABLE IF NOT EXISTS {t} (\
                 id TEXT PRIMARY KEY NOT NULL, \
                 data BLOB NOT NULL, \
                 expires_at INTEGER NOT NULL, \
                 version INTEGER NOT NULL, \
                 user_hash BLOB)"
            ),
            expiry_index: Some(format!(
                "CREATE INDEX IF NOT EXISTS {t}_expires_at_idx ON {t} (expires_at)"
            )),
            // Partial: unbound sessions (most of them) cost the index nothing.
            user_index: Some(format!(
                "CREATE INDEX IF NOT EXISTS {t}_user_hash_idx ON {t} (user_hash) \
                 WHERE user_hash IS NOT NULL"
            )),
            add_user_column: format!("ALTER TABLE {t} ADD COLUMN user_hash BLOB"),
        }
    }

    fn statements(t: &TableName) -> Statements {
        Statements {
            create: sql(format!(
                "INSERT INTO {t} (id, data, expires_at, version, user_hash) \
                 VALUES (?1, ?2, ?3, 1, ?4) \
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data, \
                 expires_at = excluded.expires_at, version = {t}.version + 1, \
                 user_hash = excluded.user_hash \
                 WHERE {t}.expires_at <= ?5"
            )),
            take_over: None,
            load: sql(format!(
                "SELECT data, version FROM {t} WHERE id = ?1 AND expires_at > ?2"
            )),
            load_and_touch: Some(sql(format!(
                "UPDATE {t} SET expires_at = ?1 WHERE id = ?2 AND expires_at > ?3 \
                 RETURNING data, version"
            ))),
            save: sql(format!(
                "UPDATE {t} SET data = ?1, expires_at = ?2, version = version + 1 \
                 WHERE id = ?3 AND version = ?4 AND expires_at > ?5"
            )),
            save_for: sql(format!(
                "UPDATE {t} SET data = ?1, expires_at = ?2, user_hash = ?3, \
                 version = version + 1 \
                 WHERE id = ?4 AND version = ?5 AND expires_at > ?6"
            )),
            live_version: sql(format!(
                "SELECT version FROM {t} WHERE id = ?1 AND expires_at > ?2"
            )),
            touch: sql(format!(
                "UPDATE {t} SET expires_at = ?1 WHERE id = ?2 AND expires_at > ?3"
            )),
            delete: sql(format!("DELETE FROM {t} WHERE id = ?1")),
            delete_if: sql(format!(
                "DELETE FROM {t} WHERE id = ?1 AND version = ?2 AND expires_at > ?3"
            )),
            delete_expired: sql(format!(
                "DELETE FROM {t} WHERE id IN (SELECT id FROM {t} WHERE expires_at <= ?1 LIMIT ?2)"
            )),
            sessions_of: sql(format!(
                "SELECT id, data, version, expires_at FROM {t} \
                 WHERE user_hash = ?1 AND expires_at > ?2"
            )),
            unindex: sql(format!(
                "UPDATE {t} SET user_hash = NULL WHERE id = ?1 AND user_hash = ?2"
            )),
            scan: sql(format!(
                "SELECT id, length(data), expires_at, version FROM {t} \
                 WHERE id > ?1 AND expires_at > ?2 ORDER BY id LIMIT ?3"
            )),
        }
    }

    async fn connect(url: &str) -> Result<SqlitePool, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // In WAL mode NORMAL is safe against corruption and only risks the last
            // commits on power loss: the usual choice for sessions, and far fewer fsyncs.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        SqlitePoolOptions::new().connect_with(options).await
    }
}

impl RowsAffected for SqliteQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}
