//! [`SqlStore`] and its one [`SessionStore`] impl, for every dialect.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use sessionkit_core::{DynClock, Error, Id, Record, SessionScan, SessionStore, UserIndex, Version};
use sqlx::pool::PoolConnection;
use sqlx::{Pool, SqlStr};

use crate::dialect::Statements;
use crate::driver::Param::{self, Bytes, Int, MaybeBytes, Text};
use crate::driver::{Driver, ListedRow, ScannedRow};
use crate::error::{from_sqlx, is_unique_violation};
use crate::{Dialect, TableName};

/// Sessions in a SQL table: one row per session, keyed by prefix + id, with the codec's
/// bytes, the expiry (unix milliseconds, indexed), a version for compare-and-set and the
/// hash of the user it is bound to (indexed; see the crate docs). It implements
/// [`UserIndex`] exactly: a binding is written with its row and lives as long.
///
/// The dialects are [`PostgresStore`](crate::PostgresStore),
/// [`MySqlStore`](crate::MySqlStore) and [`SqliteStore`](crate::SqliteStore). Clones share
/// the pool. Expired rows are never returned, and are deleted by
/// [`ExpiredDeletion::delete_expired`](sessionkit_core::ExpiredDeletion::delete_expired) in
/// batches of [`CLEANUP_BATCH`](crate::CLEANUP_BATCH), or by a background task started with
/// [`SqlStore::start_cleanup`].
pub struct SqlStore<D: Dialect> {
    pub(crate) inner: Arc<Inner<D>>,
}

pub(crate) struct Inner<D: Dialect> {
    pub(crate) pool: Pool<D::Database>,
    pub(crate) table: TableName,
    pub(crate) sql: Statements,
    pub(crate) prefix: String,
    pub(crate) timeout: Duration,
    pub(crate) clock: DynClock,
}

impl<D: Dialect> Clone for SqlStore<D> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<D: Dialect> SqlStore<D> {
    /// The pool.
    pub fn pool(&self) -> &Pool<D::Database> {
        &self.inner.pool
    }

    /// The limit on every call.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The table.
    pub fn table(&self) -> &TableName {
        &self.inner.table
    }

    /// The key of `id`: prefix + id.
    pub fn key(&self, id: &Id) -> String {
        id.key(&self.inner.prefix)
    }

    /// Unix milliseconds now, on the store's clock.
    pub(crate) fn now_ms(&self) -> i64 {
        unix_ms(self.inner.clock.now())
    }

    /// Runs `sql` within the timeout and returns the rows it changed.
    pub(crate) async fn execute(&self, sql: &SqlStr, params: &[Param<'_>]) -> Result<u64, Error> {
        self.execute_raw(sql, params)
            .await?
            .map_err(|e| from_sqlx(D::NAME, e))
    }

    /// Like [`execute`](Self::execute), leaving sqlx's own error to the caller.
    async fn execute_raw(
        &self,
        sql: &SqlStr,
        params: &[Param<'_>],
    ) -> Result<Result<u64, sqlx::Error>, Error> {
        let mut call = self.connection().await?;
        let limit = call.limit;
        let outcome = limit
            .bounded(D::Database::execute(call.conn(), sql, params))
            .await
            .map_err(|_| limit.expired());
        call.finish(outcome)
    }

    /// Runs `sql` within the timeout and reads the record it returns, if any.
    async fn fetch_record(
        &self,
        sql: &SqlStr,
        params: &[Param<'_>],
    ) -> Result<Option<Record>, Error> {
        let mut call = self.connection().await?;
        let limit = call.limit;
        let outcome = limit
            .bounded(D::Database::fetch_record(call.conn(), sql, params))
            .await
            .map_err(|_| limit.expired());
        call.finish(outcome)?.map_err(|e| from_sqlx(D::NAME, e))
    }

    /// Runs `sql` within the timeout and reads the `id, data, version, expires_at` rows it
    /// returns.
    pub(crate) async fn fetch_listed(
        &self,
        sql: &SqlStr,
        params: &[Param<'_>],
    ) -> Result<Vec<ListedRow>, Error> {
        let mut call = self.connection().await?;
        let limit = call.limit;
        let outcome = limit
            .bounded(D::Database::fetch_listed(call.conn(), sql, params))
            .await
            .map_err(|_| limit.expired());
        call.finish(outcome)?.map_err(|e| from_sqlx(D::NAME, e))
    }

    /// Runs `sql` within the timeout and reads the `id, length(data), expires_at, version`
    /// rows it returns.
    pub(crate) async fn fetch_scanned(
        &self,
        sql: &SqlStr,
        params: &[Param<'_>],
    ) -> Result<Vec<ScannedRow>, Error> {
        let mut call = self.connection().await?;
        let limit = call.limit;
        let outcome = limit
            .bounded(D::Database::fetch_scanned(call.conn(), sql, params))
            .await
            .map_err(|_| limit.expired());
        call.finish(outcome)?.map_err(|e| from_sqlx(D::NAME, e))
    }

    /// The key prefix.
    pub(crate) fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// The statements.
    pub(crate) fn statements(&self) -> &Statements {
        &self.inner.sql
    }

    /// Whether `sql` returns a row, within the timeout.
    async fn exists(&self, sql: &SqlStr, params: &[Param<'_>]) -> Result<bool, Error> {
        let mut call = self.connection().await?;
        let limit = call.limit;
        let outcome = limit
            .bounded(D::Database::exists(call.conn(), sql, params))
            .await
            .map_err(|_| limit.expired());
        call.finish(outcome)?.map_err(|e| from_sqlx(D::NAME, e))
    }

    /// `create` of a row whose user column holds `user_hash` (`None`: SQL `NULL`). The
    /// take-over of an expired row writes the column too: a new record starts unbound
    /// unless bound here.
    pub(crate) async fn create_bound(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        user_hash: Option<&[u8]>,
    ) -> Result<(), Error> {
        let (key, expires, now) = (self.key(id), unix_ms(expires_at), self.now_ms());
        let user = MaybeBytes(user_hash);
        let sql = &self.inner.sql;
        let created = match &sql.take_over {
            // An upsert that takes over an expired row and leaves a live one alone.
            None => {
                let params = [Text(&key), Bytes(payload), Int(expires), user, Int(now)];
                self.execute(&sql.create, &params).await?
            }
            // A plain insert; on a duplicate key, the take-over of an expired row.
            Some(take_over) => {
                let params = [Text(&key), Bytes(payload), Int(expires), user];
                match self.execute_raw(&sql.create, &params).await? {
                    Ok(inserted) => inserted,
                    Err(e) if is_unique_violation(&e) => {
                        let params = [Bytes(payload), Int(expires), user, Text(&key), Int(now)];
                        self.execute(take_over, &params).await?
                    }
                    Err(e) => return Err(from_sqlx(D::NAME, e)),
                }
            }
        };
        if created == 1 {
            Ok(())
        } else {
            Err(Error::Collision)
        }
    }

    /// `save`, leaving the user column as it is ([`UserColumn::Keep`]) or writing it in
    /// the same statement.
    pub(crate) async fn save_bound(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
        user: UserColumn<'_>,
    ) -> Result<(), Error> {
        let (key, now) = (self.key(id), self.now_ms());
        let (expires, version) = (Int(unix_ms(expires_at)), Int(expected.get() as i64));
        // MySQL: sqlx connects with CLIENT_FOUND_ROWS, so the count is of matched rows.
        let saved = match user {
            UserColumn::Keep => {
                let params = [Bytes(payload), expires, Text(&key), version, Int(now)];
                self.execute(&self.inner.sql.save, &params).await?
            }
            UserColumn::Set(user_hash) => {
                let params = [
                    Bytes(payload),
                    expires,
                    MaybeBytes(user_hash),
                    Text(&key),
                    version,
                    Int(now),
                ];
                self.execute(&self.inner.sql.save_for, &params).await?
            }
        };
        if saved == 1 {
            return Ok(());
        }
        Err(self.unsaved(&key, now).await)
    }

    /// Why a version-guarded write changed no row: the record is gone, or another version
    /// is live.
    async fn unsaved(&self, key: &str, now: i64) -> Error {
        let params = [Text(key), Int(now)];
        match self.exists(&self.inner.sql.live_version, &params).await {
            Ok(false) => Error::Gone,
            Ok(true) => Error::Conflict,
            Err(e) => e,
        }
    }

    /// A pooled connection for one call, acquired within the store's timeout; the call
    /// must end by the same deadline.
    async fn connection(&self) -> Result<Call<D::Database>, Error> {
        let limit = Limit {
            deadline: tokio::time::Instant::now() + self.inner.timeout,
            after: self.inner.timeout,
            backend: D::NAME,
        };
        // Boxed: sqlx's `acquire` future is large (it may open a connection), and every
        // call would carry it.
        let conn = limit
            .bounded(Box::pin(self.pool().acquire()))
            .await
            .map_err(|_| limit.expired())?
            .map_err(|e| from_sqlx(D::NAME, e))?;
        Ok(Call {
            conn: Some(conn),
            limit,
            done: false,
        })
    }
}

/// One call on one pooled connection. A connection whose call did not finish (it timed
/// out, or the caller went away) is dropped, never returned to the pool: its reply may
/// still be on the way, and the pool would hand it out, or wait on it, again.
struct Call<DB: sqlx::Database> {
    conn: Option<PoolConnection<DB>>,
    limit: Limit,
    done: bool,
}

impl<DB: sqlx::Database> Call<DB> {
    fn conn(&mut self) -> &mut DB::Connection {
        self.conn.as_mut().expect("held until drop")
    }

    /// The call's outcome; a connection whose call finished goes back to the pool.
    fn finish<T>(mut self, outcome: Result<T, Error>) -> Result<T, Error> {
        self.done = outcome.is_ok();
        outcome
    }
}

impl<DB: sqlx::Database> Drop for Call<DB> {
    fn drop(&mut self) {
        if !self.done
            && let Some(conn) = self.conn.take()
        {
            // Out of the pool at once (the pool may open a replacement), and the socket
            // closed without a goodbye that could itself wait on the broken network.
            drop(conn.detach());
        }
    }
}

/// The deadline of one store call.
#[derive(Debug, Clone, Copy)]
struct Limit {
    deadline: tokio::time::Instant,
    after: Duration,
    backend: &'static str,
}

impl Limit {
    /// `call`, ended at the deadline; [`expired`](Self::expired) is the error of a call so
    /// ended. A plain function, not an `async fn`: one would hold `call` twice (the
    /// argument and the timer around it), doubling the future of every store call.
    fn bounded<F: Future>(self, call: F) -> tokio::time::Timeout<F> {
        tokio::time::timeout_at(self.deadline, call)
    }

    /// The error of a call that reached the deadline.
    fn expired(self) -> Error {
        Error::Timeout {
            backend: self.backend,
            after: self.after,
        }
    }
}

#[async_trait]
impl<D: Dialect> SessionStore for SqlStore<D> {
    async fn create(&self, id: &Id, payload: &[u8], expires_at: SystemTime) -> Result<(), Error> {
        self.create_bound(id, payload, expires_at, None).await
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
        let params = [Text(&self.key(id)), Int(self.now_ms())];
        self.fetch_record(&self.inner.sql.load, &params).await
    }

    async fn load_and_touch(
        &self,
        id: &Id,
        expires_at: SystemTime,
    ) -> Result<Option<Record>, Error> {
        let (key, now) = (self.key(id), self.now_ms());
        let params = [Int(unix_ms(expires_at)), Text(&key), Int(now)];
        let sql = &self.inner.sql;
        if let Some(load_and_touch) = &sql.load_and_touch {
            return self.fetch_record(load_and_touch, &params).await;
        }
        if self.execute(&sql.touch, &params).await? == 0 {
            return Ok(None);
        }
        self.fetch_record(&sql.load, &[Text(&key), Int(now)]).await
    }

    async fn save(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
    ) -> Result<(), Error> {
        self.save_bound(id, payload, expires_at, expected, UserColumn::Keep)
            .await
    }

    async fn touch(&self, id: &Id, expires_at: SystemTime) -> Result<(), Error> {
        let params = [
            Int(unix_ms(expires_at)),
            Text(&self.key(id)),
            Int(self.now_ms()),
        ];
        if self.execute(&self.inner.sql.touch, &params).await? == 1 {
            Ok(())
        } else {
            Err(Error::Gone)
        }
    }

    async fn delete(&self, id: &Id) -> Result<(), Error> {
        let params = [Text(&self.key(id))];
        self.execute(&self.inner.sql.delete, &params)
            .await
            .map(drop)
    }

    async fn delete_if(&self, id: &Id, expected: Version) -> Result<(), Error> {
        let (key, now) = (self.key(id), self.now_ms());
        let params = [Text(&key), Int(expected.get() as i64), Int(now)];
        if self.execute(&self.inner.sql.delete_if, &params).await? == 1 {
            return Ok(());
        }
        Err(self.unsaved(&key, now).await)
    }

    fn call_timeout(&self) -> Option<Duration> {
        Some(self.timeout())
    }

    fn user_index(&self) -> Option<&dyn UserIndex> {
        Some(self)
    }

    fn session_scan(&self) -> Option<&dyn SessionScan> {
        Some(self)
    }

    fn backend(&self) -> &'static str {
        D::NAME
    }
}

impl<D: Dialect> fmt::Debug for SqlStore<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("dialect", &D::NAME)
            .field("table", &self.inner.table.as_str())
            .field("prefix", &self.inner.prefix)
            .field("timeout", &self.inner.timeout)
            .finish()
    }
}

/// What a `save` writes to the row's user column.
#[derive(Debug, Clone, Copy)]
pub(crate) enum UserColumn<'a> {
    /// Nothing: the binding stays as it is (plain `save`).
    Keep,
    /// This user's hash, or `NULL` (`save_for`).
    Set(Option<&'a [u8]>),
}

/// The time `ms` unix milliseconds name (the epoch for a negative number).
pub(crate) fn from_unix_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// Unix milliseconds of `time`, rounded up (an expiry is never moved earlier).
fn unix_ms(time: SystemTime) -> i64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    i64::try_from(since.as_nanos().div_ceil(1_000_000)).unwrap_or(i64::MAX)
}
