//! MySQL and MariaDB: their SQL and how they connect.

use sqlx::MySqlPool;
use sqlx::mysql::{MySqlPoolOptions, MySqlQueryResult};

use crate::dialect::{Dialect, Sealed, Statements, sql};
use crate::driver::RowsAffected;
use crate::{SqlStore, TableName};

/// The MySQL / MariaDB dialect.
#[derive(Debug, Clone, Copy)]
pub struct MySql;

/// Sessions in a MySQL or MariaDB table.
///
/// The key column uses a binary collation: ids are case-sensitive, and the default
/// case-insensitive collations would let two ids collide.
///
/// ```no_run
/// use sessionkit_sql::MySqlStore;
///
/// # async fn run() -> Result<(), sessionkit_core::Error> {
/// let store = MySqlStore::connect("mysql://root@127.0.0.1/test").await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
pub type MySqlStore = SqlStore<MySql>;

impl Dialect for MySql {
    type Database = sqlx::MySql;
    const NAME: &'static str = "mysql";

    fn ddl(table: &TableName) -> Vec<String> {
        vec![format!(
            "CREATE TABLE IF NOT EXISTS {table} (\
             id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY, \
             data LONGBLOB NOT NULL, \
             expires_at BIGINT NOT NULL, \
             version BIGINT NOT NULL, \
             INDEX {table}_expires_at_idx (expires_at))"
        )]
    }
}

impl Sealed for MySql {
    fn statements(t: &TableName) -> Statements {
        Statements {
            // A plain insert: a duplicate key is a collision unless the row has expired,
            // which `take_over` then takes over (MySQL's upsert reports the same row count
            // for "inserted" and "left alone", so it cannot tell them apart).
            create: sql(format!(
                "INSERT INTO {t} (id, data, expires_at, version) VALUES (?, ?, ?, 1)"
            )),
            take_over: Some(sql(format!(
                "UPDATE {t} SET data = ?, expires_at = ?, version = version + 1 \
                 WHERE id = ? AND expires_at <= ?"
            ))),
            load: sql(format!(
                "SELECT data, version FROM {t} WHERE id = ? AND expires_at > ?"
            )),
            // No RETURNING on UPDATE: `touch`, then `load`.
            load_and_touch: None,
            save: sql(format!(
                "UPDATE {t} SET data = ?, expires_at = ?, version = version + 1 \
                 WHERE id = ? AND version = ? AND expires_at > ?"
            )),
            live_version: sql(format!(
                "SELECT version FROM {t} WHERE id = ? AND expires_at > ?"
            )),
            touch: sql(format!(
                "UPDATE {t} SET expires_at = ? WHERE id = ? AND expires_at > ?"
            )),
            delete: sql(format!("DELETE FROM {t} WHERE id = ?")),
            delete_if: sql(format!(
                "DELETE FROM {t} WHERE id = ? AND version = ? AND expires_at > ?"
            )),
            delete_expired: sql(format!("DELETE FROM {t} WHERE expires_at <= ? LIMIT ?")),
        }
    }

    async fn connect(url: &str) -> Result<MySqlPool, sqlx::Error> {
        MySqlPoolOptions::new().connect(url).await
    }
}

impl RowsAffected for MySqlQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}
