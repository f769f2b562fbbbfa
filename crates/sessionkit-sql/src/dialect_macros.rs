//! The parts of the dialects' stores that read the same in every dialect, written once.
//! Each dialect's file keeps its own SQL, connection options and anything that differs.

/// `migrate`, row decoding and batched expired-row deletion for `$dialect`, whose rows are
/// `$row`.
macro_rules! common_impls {
    ($dialect:ident, $row:ty) => {
        impl crate::SqlStore<$dialect> {
            /// Creates the table and its expiry index if they do not exist.
            ///
            /// # Errors
            /// Database failures.
            pub async fn migrate(&self) -> Result<(), sessionkit_core::Error> {
                for statement in self.ddl() {
                    sqlx::query(crate::store::sql(statement))
                        .execute(self.pool())
                        .await
                        .map_err(|e| crate::error::from_sqlx($dialect::NAME, e))?;
                }
                Ok(())
            }
        }

        /// The record in an optional row.
        fn record(
            row: Option<$row>,
        ) -> Result<Option<sessionkit_core::Record>, sessionkit_core::Error> {
            use sqlx::Row as _;
            let Some(row) = row else { return Ok(None) };
            let decode = |row: &$row| -> Result<sessionkit_core::Record, sqlx::Error> {
                let data: Vec<u8> = row.try_get(0)?;
                let version: i64 = row.try_get(1)?;
                Ok(sessionkit_core::Record::new(
                    bytes::Bytes::from(data),
                    sessionkit_core::Version::new(version as u64),
                ))
            };
            decode(&row)
                .map(Some)
                .map_err(|e| crate::error::from_sqlx($dialect::NAME, e))
        }

        impl crate::SqlStore<$dialect> {
            /// Why a version-guarded update changed no row: the record is gone, or another
            /// version is live.
            async fn unsaved(&self, key: &str, now: i64) -> sessionkit_core::Error {
                let live = sqlx::query(self.inner.sql.live_version.clone())
                    .bind(key)
                    .bind(now);
                match self.bounded(live.fetch_optional(self.pool())).await {
                    Ok(None) => sessionkit_core::Error::Gone,
                    Ok(Some(_)) => sessionkit_core::Error::Conflict,
                    Err(e) => e,
                }
            }
        }

        #[::async_trait::async_trait]
        impl sessionkit_core::ExpiredDeletion for SqlStore<$dialect> {
            async fn delete_expired(&self) -> Result<u64, sessionkit_core::Error> {
                let now = self.now_ms();
                let mut total = 0;
                loop {
                    let query = sqlx::query(self.inner.sql.delete_expired.clone())
                        .bind(now)
                        .bind(crate::store::CLEANUP_BATCH);
                    let deleted = self
                        .bounded(query.execute(self.pool()))
                        .await?
                        .rows_affected();
                    total += deleted;
                    if deleted < crate::store::CLEANUP_BATCH as u64 {
                        return Ok(total);
                    }
                }
            }
        }
    };
}

/// `SessionStore` for the dialects whose `UPDATE` has `RETURNING` and whose insert takes
/// over an expired row by itself (PostgreSQL, SQLite): the statements differ, the calls
/// and their parameters do not.
#[cfg(any(feature = "postgres", feature = "sqlite"))]
macro_rules! returning_session_store {
    ($dialect:ident) => {
        #[::async_trait::async_trait]
        impl sessionkit_core::SessionStore for SqlStore<$dialect> {
            async fn create(
                &self,
                id: &sessionkit_core::Id,
                payload: &[u8],
                expires_at: ::std::time::SystemTime,
            ) -> Result<(), sessionkit_core::Error> {
                let query = sqlx::query(self.inner.sql.create.clone())
                    .bind(self.key(id))
                    .bind(payload)
                    .bind(crate::store::unix_ms(expires_at))
                    .bind(self.now_ms());
                let done = self.bounded(query.execute(self.pool())).await?;
                if done.rows_affected() == 1 {
                    Ok(())
                } else {
                    Err(sessionkit_core::Error::Collision)
                }
            }

            async fn load(
                &self,
                id: &sessionkit_core::Id,
            ) -> Result<Option<sessionkit_core::Record>, sessionkit_core::Error> {
                let query = sqlx::query(self.inner.sql.load.clone())
                    .bind(self.key(id))
                    .bind(self.now_ms());
                let row = self.bounded(query.fetch_optional(self.pool())).await?;
                record(row)
            }

            async fn load_and_touch(
                &self,
                id: &sessionkit_core::Id,
                expires_at: ::std::time::SystemTime,
            ) -> Result<Option<sessionkit_core::Record>, sessionkit_core::Error> {
                let query = sqlx::query(self.inner.sql.load_and_touch.clone())
                    .bind(self.key(id))
                    .bind(self.now_ms())
                    .bind(crate::store::unix_ms(expires_at));
                let row = self.bounded(query.fetch_optional(self.pool())).await?;
                record(row)
            }

            async fn save(
                &self,
                id: &sessionkit_core::Id,
                payload: &[u8],
                expires_at: ::std::time::SystemTime,
                expected: sessionkit_core::Version,
            ) -> Result<(), sessionkit_core::Error> {
                let key = self.key(id);
                let now = self.now_ms();
                let query = sqlx::query(self.inner.sql.save.clone())
                    .bind(&key)
                    .bind(payload)
                    .bind(crate::store::unix_ms(expires_at))
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

            async fn touch(
                &self,
                id: &sessionkit_core::Id,
                expires_at: ::std::time::SystemTime,
            ) -> Result<(), sessionkit_core::Error> {
                let query = sqlx::query(self.inner.sql.touch.clone())
                    .bind(self.key(id))
                    .bind(crate::store::unix_ms(expires_at))
                    .bind(self.now_ms());
                let done = self.bounded(query.execute(self.pool())).await?;
                if done.rows_affected() == 1 {
                    Ok(())
                } else {
                    Err(sessionkit_core::Error::Gone)
                }
            }

            async fn delete(&self, id: &sessionkit_core::Id) -> Result<(), sessionkit_core::Error> {
                let query = sqlx::query(self.inner.sql.delete.clone()).bind(self.key(id));
                self.bounded(query.execute(self.pool())).await.map(drop)
            }

            async fn delete_if(
                &self,
                id: &sessionkit_core::Id,
                expected: sessionkit_core::Version,
            ) -> Result<(), sessionkit_core::Error> {
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

            fn call_timeout(&self) -> Option<::std::time::Duration> {
                Some(self.timeout())
            }
        }
    };
}

pub(crate) use common_impls;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
pub(crate) use returning_session_store;
