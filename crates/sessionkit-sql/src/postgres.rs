//! PostgreSQL: its SQL and how it connects.

use sqlx::PgPool;
use sqlx::postgres::{PgPoolOptions, PgQueryResult};

use crate::dialect::{Dialect, Schema, Sealed, Statements, sql};
use crate::driver::RowsAffected;
use crate::{SqlStore, TableName};

/// The PostgreSQL dialect.
#[derive(Debug, Clone, Copy)]
pub struct Postgres;

/// Sessions in a PostgreSQL table.
///
/// ```no_run
/// use sessionkit_sql::PostgresStore;
///
/// # async fn run() -> Result<(), sessionkit_core::Error> {
/// let store = PostgresStore::connect("postgres://postgres@127.0.0.1/test").await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
pub type PostgresStore = SqlStore<Postgres>;

impl Dialect for Postgres {
    type Database = sqlx::Postgres;
    const NAME: &'static str = "postgres";
}

impl Sealed for Postgres {
    fn schema(t: &TableName) -> Schema {
        Schema {
            create_table: format!(
                "CREATE TABLE IF NOT EXISTS {t} (\
                 id TEXT PRIMARY KEY, \
                 data BYTEA NOT NULL, \
                 expires_at BIGINT NOT NULL, \
                 version BIGINT NOT NULL, \
                 user_hash BYTEA)"
            ),
            expiry_index: Some(format!(
                "CREATE INDEX IF NOT EXISTS {t}_expires_at_idx ON {t} (expires_at)"
            )),
            // Partial: unbound sessions (most of them) cost the index nothing.
            user_index: Some(format!(
                "CREATE INDEX IF NOT EXISTS {t}_user_hash_idx ON {t} (user_hash) \
                 WHERE user_hash IS NOT NULL"
            )),
            // A nullable column without a default: a change of the catalog only.
            add_user_column: format!("ALTER TABLE {t} ADD COLUMN IF NOT EXISTS user_hash BYTEA"),
        }
    }

    fn statements(t: &TableName) -> Statements {
        Statements {
            create: sql(format!(
                "INSERT INTO {t} (id, data, expires_at, version, user_hash) \
                 VALUES ($1, $2, $3, 1, $4) \
                 ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, \
                 expires_at = EXCLUDED.expires_at, version = {t}.version + 1, \
                 user_hash = EXCLUDED.user_hash \
                 WHERE {t}.expires_at <= $5"
            )),
            take_over: None,
            load: sql(format!(
                "SELECT data, version FROM {t} WHERE id = $1 AND expires_at > $2"
            )),
            load_and_touch: Some(sql(format!(
                "UPDATE {t} SET expires_at = $1 WHERE id = $2 AND expires_at > $3 \
                 RETURNING data, version"
            ))),
            save: sql(format!(
                "UPDATE {t} SET data = $1, expires_at = $2, version = version + 1 \
                 WHERE id = $3 AND version = $4 AND expires_at > $5"
            )),
            save_for: sql(format!(
                "UPDATE {t} SET data = $1, expires_at = $2, user_hash = $3, \
                 version = version + 1 \
                 WHERE id = $4 AND version = $5 AND expires_at > $6"
            )),
            live_version: sql(format!(
                "SELECT version FROM {t} WHERE id = $1 AND expires_at > $2"
            )),
            touch: sql(format!(
                "UPDATE {t} SET expires_at = $1 WHERE id = $2 AND expires_at > $3"
            )),
            delete: sql(format!("DELETE FROM {t} WHERE id = $1")),
            delete_if: sql(format!(
                "DELETE FROM {t} WHERE id = $1 AND version = $2 AND expires_at > $3"
            )),
            delete_expired: sql(format!(
                "DELETE FROM {t} WHERE id IN \
                 (SELECT id FROM {t} WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)"
            )),
            sessions_of: sql(format!(
                "SELECT id, data, version, expires_at FROM {t} \
                 WHERE user_hash = $1 AND expires_at > $2"
            )),
            unindex: sql(format!(
                "UPDATE {t} SET user_hash = NULL WHERE id = $1 AND user_hash = $2"
            )),
            scan: sql(format!(
                "SELECT id, CAST(length(data) AS BIGINT), expires_at, version FROM {t} \
                 WHERE id > $1 AND expires_at > $2 ORDER BY id LIMIT $3"
            )),
        }
    }

    async fn connect(url: &str) -> Result<PgPool, sqlx::Error> {
        PgPoolOptions::new().connect(url).await
    }
}

impl RowsAffected for PgQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}
