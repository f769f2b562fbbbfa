//! PostgreSQL.

use sessionkit_core::Error;
use sqlx::postgres::PgPoolOptions;

use crate::TableName;
use crate::store::{Dialect, SqlStore, Statements, sql};

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

    fn ddl(table: &TableName) -> Vec<String> {
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS {table} (\
                 id TEXT PRIMARY KEY, \
                 data BYTEA NOT NULL, \
                 expires_at BIGINT NOT NULL, \
                 version BIGINT NOT NULL)"
            ),
            format!("CREATE INDEX IF NOT EXISTS {table}_expires_at_idx ON {table} (expires_at)"),
        ]
    }

    fn statements(t: &TableName) -> Statements {
        Statements {
            // Inserts, or takes over an expired row; a live row is left alone (0 rows).
            create: sql(format!(
                "INSERT INTO {t} (id, data, expires_at, version) VALUES ($1, $2, $3, 1) \
                 ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, \
                 expires_at = EXCLUDED.expires_at, version = {t}.version + 1 \
                 WHERE {t}.expires_at <= $4"
            )),
            create_over_expired: None,
            load: sql(format!(
                "SELECT data, version FROM {t} WHERE id = $1 AND expires_at > $2"
            )),
            load_and_touch: sql(format!(
                "UPDATE {t} SET expires_at = $3 WHERE id = $1 AND expires_at > $2 \
                 RETURNING data, version"
            )),
            save: sql(format!(
                "UPDATE {t} SET data = $2, expires_at = $3, version = version + 1 \
                 WHERE id = $1 AND version = $4 AND expires_at > $5"
            )),
            live_version: sql(format!(
                "SELECT version FROM {t} WHERE id = $1 AND expires_at > $2"
            )),
            touch: sql(format!(
                "UPDATE {t} SET expires_at = $2 WHERE id = $1 AND expires_at > $3"
            )),
            delete: sql(format!("DELETE FROM {t} WHERE id = $1")),
            delete_if: sql(format!(
                "DELETE FROM {t} WHERE id = $1 AND version = $2 AND expires_at > $3"
            )),
            delete_expired: sql(format!(
                "DELETE FROM {t} WHERE id IN \
                 (SELECT id FROM {t} WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)"
            )),
        }
    }
}

impl SqlStore<Postgres> {
    /// Connects a pool to `url` and builds a store with the defaults.
    ///
    /// # Errors
    /// [`Error::Unavailable`] when the database cannot be reached; [`Error::Config`] for a
    /// malformed URL.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let pool = PgPoolOptions::new()
            .connect(url)
            .await
            .map_err(|e| crate::error::connect_error(Postgres::NAME, url, e))?;
        Ok(Self::new(pool))
    }
}

crate::dialect_macros::common_impls!(Postgres, sqlx::postgres::PgRow);
crate::dialect_macros::returning_session_store!(Postgres);
