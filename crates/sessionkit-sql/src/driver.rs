//! [`Driver`]: the sqlx calls the store makes, written once for every driver.

use std::future::Future;

use bytes::Bytes;
use sessionkit_core::{Record, Version};
use sqlx::query::Query;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, SqlStr, Type};

/// A value bound to a statement's next placeholder.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
    /// Bytes, or SQL `NULL`.
    MaybeBytes(Option<&'a [u8]>),
    Int(i64),
}

/// A row of a listing: `id, data, version, expires_at`.
#[derive(Debug)]
pub(crate) struct ListedRow {
    /// The store key (prefix + id).
    pub(crate) key: String,
    pub(crate) record: Record,
    /// Unix milliseconds.
    pub(crate) expires_at: i64,
}

/// A row of a scan: `id, length(data), expires_at, version`.
#[derive(Debug)]
pub(crate) struct ScannedRow {
    /// The store key (prefix + id).
    pub(crate) key: String,
    pub(crate) size: i64,
    /// Unix milliseconds.
    pub(crate) expires_at: i64,
    pub(crate) version: i64,
}

/// What the store asks of a sqlx driver. Implemented for every driver that binds text, bytes
/// (or `NULL`) and integers and reads text, bytes and integers back, which gathers those
/// bounds here instead of on every generic impl.
pub(crate) trait Driver: sqlx::Database {
    /// `sql` with `params` bound in order.
    fn query(sql: &SqlStr, params: &[Param<'_>]) -> Query<'static, Self, Self::Arguments>;

    /// Runs `sql` with `params` (in placeholder order) and returns the rows it changed.
    fn execute(
        conn: &mut Self::Connection,
        sql: &SqlStr,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;

    /// Runs `sql` with `params` and tells whether it returns a row.
    fn exists(
        conn: &mut Self::Connection,
        sql: &SqlStr,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<bool, sqlx::Error>> + Send;

    /// Runs `sql` with `params` and reads the `data, version` row it returns, if any.
    fn fetch_record(
        conn: &mut Self::Connection,
        sql: &SqlStr,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<Option<Record>, sqlx::Error>> + Send;

    /// Runs `sql` with `params` and reads the `id, data, version, expires_at` rows it returns.
    fn fetch_listed(
        conn: &mut Self::Connection,
        sql: &SqlStr,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<Vec<ListedRow>, sqlx::Error>> + Send;

    /// Runs `sql` with `params` and reads the `id, length(data), expires_at, version` rows
    /// it returns.
    fn fetch_scanned(
        conn: &mut Self::Connection,
        sql: &SqlStr,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<Vec<ScannedRow>, sqlx::Error>> + Send;
}

/// The number of rows a statement changed: sqlx's result types share no trait for it.
pub(crate) trait RowsAffected {
    fn rows(&self) -> u64;
}

impl<DB> Driver for DB
where
    DB: sqlx::Database<QueryResult: RowsAffected, Arguments: IntoArguments<DB>>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'t> &'t str: Encode<'t, DB> + Type<DB>,
    for<'t> &'t [u8]: Encode<'t, DB> + Type<DB>,
    for<'t> Option<&'t [u8]>: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Decode<'t, DB> + Type<DB>,
    for<'r> Vec<u8>: Decode<'r, DB> + Type<DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    fn query(sql: &SqlStr, params: &[Param<'_>]) -> Query<'static, Self, Self::Arguments> {
        let query = sqlx::query(sql.clone());
        params.iter().fold(query, |query, param| match *param {
            Param::Text(text) => query.bind(text),
            Param::Bytes(bytes) => query.bind(bytes),
            Param::MaybeBytes(bytes) => query.bind(bytes),
            Param::Int(int) => query.bind(int),
        })
    }

    async fn execute(
        conn: &mut Self::Connection,
        sql: &SqlStr,
        params: &[Param<'_>],
    ) -> Result<u64, sqlx::Error> {
        Ok(Self::query(sql, params).execute(conn).await?.rows())
    }

    async fn exists(
        conn: &mut Self::Connection,
        sql: &SqlStr,
        params: &[Param<'_>],
    ) -> Result<bool, sqlx::Error> {
        Ok(Self::query(sql, params)
            .fetch_optional(conn)
            .await?
            .is_some())
    }

    async fn fetch_record(
        conn: &mut Self::Connection,
        sql: &SqlStr,
        params: &[Param<'_>],
    ) -> Result<Option<Record>, sqlx::Error> {
        let Some(row) = Self::query(sql, params).fetch_optional(conn).await? else {
            return Ok(None);
        };
        record(&row, 0).map(Some)
    }

    async fn fetch_listed(
        conn: &mut Self::Connection,
        sql: &SqlStr,
        params: &[Param<'_>],
    ) -> Result<Vec<ListedRow>, sqlx::Error> {
        let rows = Self::query(sql, params).fetch_all(conn).await?;
        rows.iter()
            .map(|row| {
                Ok(ListedRow {
                    key: row.try_get(0)?,
                    record: record(row, 1)?,
                    expires_at: row.try_get(3)?,
                })
            })
            .collect()
    }

    async fn fetch_scanned(
        conn: &mut Self::Connection,
        sql: &SqlStr,
        params: &[Param<'_>],
    ) -> Result<Vec<ScannedRow>, sqlx::Error> {
        let rows = Self::query(sql, params).fetch_all(conn).await?;
        rows.iter()
            .map(|row| {
                Ok(ScannedRow {
                    key: row.try_get(0)?,
                    size: row.try_get(1)?,
                    expires_at: row.try_get(2)?,
                    version: row.try_get(3)?,
                })
            })
            .collect()
    }
}

/// The record in the `data, version` columns of `row` that start at `first`.
fn record<R>(row: &R, first: usize) -> Result<Record, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let data: Vec<u8> = row.try_get(first)?;
    let version: i64 = row.try_get(first + 1)?;
    Ok(Record::new(Bytes::from(data), Version::new(version as u64)))
}
