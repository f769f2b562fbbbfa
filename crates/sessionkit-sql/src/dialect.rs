//! [`Dialect`]: what differs between the SQL databases, and nothing else.

use std::future::Future;

use sqlx::{AssertSqlSafe, Pool, SqlSafeStr, SqlStr};

use crate::TableName;
use crate::driver::Driver;

/// A SQL database's flavour of the session table: [`Postgres`](crate::Postgres),
/// [`MySql`](crate::MySql) or [`Sqlite`](crate::Sqlite). Sealed: its statements and its
/// way of connecting stay inside this crate.
#[expect(private_bounds, reason = "sealed by a crate-private supertrait")]
pub trait Dialect: Sealed + Send + Sync + 'static {
    /// The sqlx database driver.
    type Database: Driver;
    /// The backend name in errors.
    const NAME: &'static str;
    /// The statements that create the table and its expiry index, idempotently.
    fn ddl(table: &TableName) -> Vec<String>;
}

/// The parts of a dialect only the store uses.
pub(crate) trait Sealed {
    /// The statements of every operation, for `table`.
    fn statements(table: &TableName) -> Statements;

    /// A pool connected to `url` with the dialect's options.
    fn connect(url: &str) -> impl Future<Output = Result<Pool<Self::Database>, sqlx::Error>> + Send
    where
        Self: Dialect;
}

/// The SQL of each operation, built once per store. Each binds its parameters in the order
/// listed, which is the order of the placeholders in the text. `now` is the store clock's
/// time and every time is in unix milliseconds.
#[derive(Debug, Clone)]
pub(crate) struct Statements {
    /// `key, data, expires_at, now`: inserts, or takes over an expired row; a live row is
    /// left alone (0 rows). With [`take_over`](Self::take_over), a plain insert of
    /// `key, data, expires_at` that fails on a duplicate key.
    pub(crate) create: SqlStr,
    /// `data, expires_at, key, now`: takes over the row `create` collided with if it has
    /// expired, for dialects whose upsert cannot tell "inserted" from "left alone" (MySQL).
    pub(crate) take_over: Option<SqlStr>,
    /// `key, now`: selects `data, version` of the live row.
    pub(crate) load: SqlStr,
    /// `expires_at, key, now`: `touch` returning `data, version`. Without it (no
    /// `UPDATE ... RETURNING`), the store runs `touch`, then `load`.
    pub(crate) load_and_touch: Option<SqlStr>,
    /// `data, expires_at, key, version, now`: rewrites the live row of that version.
    pub(crate) save: SqlStr,
    /// `key, now`: selects the version of the live row.
    pub(crate) live_version: SqlStr,
    /// `expires_at, key, now`: moves the expiry of the live row.
    pub(crate) touch: SqlStr,
    /// `key`.
    pub(crate) delete: SqlStr,
    /// `key, version, now`: deletes the live row of that version.
    pub(crate) delete_if: SqlStr,
    /// `now, limit`: deletes up to `limit` expired rows.
    pub(crate) delete_expired: SqlStr,
}

/// Marks a statement as safe to run. Sound because the only thing ever interpolated into
/// our statements is a [`TableName`], checked to be a plain identifier; every value is a
/// bound parameter.
pub(crate) fn sql(statement: String) -> SqlStr {
    AssertSqlSafe(statement).into_sql_str()
}
