//! MySQL and MariaDB.

use std::time::SystemTime;

use async_trait::async_trait;
use sessionkit_core::{Error, Id, Record, SessionStore, Version};
use sqlx::mysql::MySqlPoolOptions;

use crate::TableName;
use crate::error::is_unique_violation;
use crate::store::{Dialect, SqlStore, Statements, sql, unix_ms};

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

    fn statements(t: &TableName) -> Statements {
        Statements {
            // A plain insert: a duplicate key is a collision unless the row has expired,
            // which `create_over_expired` then takes over (MySQL's upsert reports the same
            // row count for "inserted" and "left alone", so it cannot tell them apart).
            create: sql(format!(
                "INSERT INTO {t} (id, data, expires_at, version) VALUES (?, ?, ?, 1)"
            )),
            create_over_expired: Some(sql(format!(
                "UPDATE {t} SET data = ?, expires_at = ?, version = version + 1 \
                 WHERE id = ? AND expires_at <= ?"
            ))),
            load: sql(format!(
                "SELECT data, version FROM {t} WHERE id = ? AND expires_at > ?"
            )),
            // No RETURNING on UPDATE: the touch, then the read.
            load_and_touch: sql(format!(
                "UPDATE {t} SET expires_at = ? WHERE id = ? AND expires_at > ?"
            )),
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
}

impl SqlStore<MySql> {
    /// Connects a pool to `url` and builds a store with the defaults.
    ///
    /// # Errors
    /// [`Error::Unavailable`] when the database cannot be reached; [`Error::Config`] for a
    /// malformed URL.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let pool = MySqlPoolOptions::new()
            .connect(url)
            .await
            .map_err(|e| crate::error::connect_error(MySql::NAME, url, e))?;
        Ok(Self::new(pool))
    }
}

#[async_trait]
impl SessionStore for SqlStore<MySql> {
    async fn create(&self, id: &Id, payload: &[u8], expires_at: SystemTime) -> Result<(), Error> {
        let key = self.key(id);
        let expires = unix_ms(expires_at);
        let insert = sqlx::query(self.inner.sql.create.clone())
            .bind(&key)
            .bind(payload)
            .bind(expires);
        match self.within(insert.execute(self.pool())).await? {
            Ok(_) => return Ok(()),
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => return Err(crate::error::from_sqlx(MySql::NAME, e)),
        }
        let take_over = self
            .inner
            .sql
            .create_over_expired
            .clone()
            .expect("set for MySQL");
        let query = sqlx::query(take_over)
            .bind(payload)
            .bind(expires)
            .bind(&key)
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
        record(row)
    }

    async fn load_and_touch(
        &self,
        id: &Id,
        expires_at: SystemTime,
    ) -> Result<Option<Record>, Error> {
        let key = self.key(id);
        let now = self.now_ms();
        let touch = sqlx::query(self.inner.sql.load_and_touch.clone())
            .bind(unix_ms(expires_at))
            .bind(&key)
            .bind(now);
        if self
            .bounded(touch.execute(self.pool()))
            .await?
            .rows_affected()
            == 0
        {
            return Ok(None);
        }
        let query = sqlx::query(self.inner.sql.load.clone())
            .bind(&key)
            .bind(now);
        let row = self.bounded(query.fetch_optional(self.pool())).await?;
        record(row)
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
            .bind(payload)
            .bind(unix_ms(expires_at))
            .bind(&key)
            .bind(expected.get() as i64)
            .bind(now);
        // sqlx connects with CLIENT_FOUND_ROWS: the count is of matched rows.
        if self
            .bounded(query.execute(self.pool()))
            .await?
            .rows_affected()
            == 1
        {
            return Ok(());
        }
        Err(self.unsaved(&key, now).await)
    }

    async fn touch(&self, id: &Id, expires_at: SystemTime) -> Result<(), Error> {
        let query = sqlx::query(self.inner.sql.touch.clone())
            .bind(unix_ms(expires_at))
            .bind(self.key(id))
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

    async fn delete_if(&self, id: &Id, expected: Version) -> Result<(), Error> {
        let key = self.key(id);
        let now = self.now_ms();
        let query = sqlx::query(self.inner.sql.delete_if.clone())
            .bind(&key)
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
        Err(self.unsaved(&key, now).await)
    }

    fn call_timeout(&self) -> Option<std::time::Duration> {
        Some(self.timeout())
    }
}

crate::dialect_macros::common_impls!(MySql, sqlx::mysql::MySqlRow);
