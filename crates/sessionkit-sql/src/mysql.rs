//! MySQL and MariaDB: their SQL and how they connect.

use sqlx::MySqlPool;
use sqlx::mysql::{MySqlPoolOptions, MySqlQueryResult};

use crate::dialect::{Dialect, Schema, Sealed, Statements, sql};
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
}

impl Sealed for MySql {
    fn schema(t: &TableName) -> Schema {
        Schema {
            // BINARY(32): compared byte by byte whatever the server's default collation.
            create_table: format!(
                "CREATE TABLE IF NOT EXISTS {t} (\
                 id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY, \
                 data LONGBLOB NOT NULL, \
                 expires_at BIGINT NOT NULL, \
                 version BIGINT NOT NULL, \
                 user_hash BINARY(32) NULL, \
                 INDEX {t}_expires_at_idx (expires_at), \
                 INDEX {t}_user_hash_idx (user_hash))"
            ),
            expiry_index: None,
            user_index: None,
            // One statement for both (MySQL has no `CREATE INDEX IF NOT EXISTS`).
            add_user_column: format!(
                "ALTER TABLE {t} ADD COLUMN user_hash BINARY(32) NULL, \
                 ADD INDEX {t}_user_hash_idx (user_hash)"
            ),
        }
    }

    fn statements(t: &TableName) -> Statements {
        Statements {
            // A plain insert: a duplicate key is a collision unless the row has expired,
            // which `take_over` then takes over (MySQL's upsert reports the same row count
            // for "inserted" and "left alone", so it cannot tell them apart).
            create: sql(format!(
                "INSERT INTO {t} (id, data, expires_at, version, user_hash) \
                 VALUES (?, ?, ?, 1, ?)"
            )),
            take_over: Some(sql(format!(
                "UPDATE {t} SET data = ?, expires_at = ?, user_hash = ?, version = version + 1 \
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
            save_for: sql(format!(
                "UPDATE {t} SET data = ?, expires_at = ?, user_hash = ?, version = version + 1 \
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
            sessions_of: sql(format!(
                "SELECT id, data, version, expires_at FROM {t} \
                 WHERE user_hash = ? AND expires_at > ?"
            )),
            unindex: sql(format!(
                "UPDATE {t} SET user_hash = NULL WHERE id = ? AND user_hash = ?"
            )),
            scan: sql(format!(
                "SELECT id, CAST(LENGTH(data) AS SIGNED), expires_at, version FROM {t} \
                 WHERE id > ? AND expires_at > ? ORDER BY id LIMIT ?"
            )),
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
