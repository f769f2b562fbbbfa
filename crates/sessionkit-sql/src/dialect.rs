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

    /// The statements that create the table with its expiry and user indexes, idempotently:
    /// what [`migrate`](crate::SqlStore::migrate) runs on a database without the table.
    fn ddl(table: &TableName) -> Vec<String> {
        let schema = Self::schema(table);
        std::iter::once(schema.create_table)
            .chain(schema.expiry_index)
            .chain(schema.user_index)
            .collect()
    }

    /// The statements that add the user column and its index to a table created before
    /// them (sessionkit-sql 0.1 without the user index): what
    /// [`migrate`](crate::SqlStore::migrate) runs on such a table. Run them once: on MySQL and
    /// SQLite the `ALTER TABLE` fails on a table that already has the column.
    fn upgrade_ddl(table: &TableName) -> Vec<String> {
        let schema = Self::schema(table);
        std::iter::once(schema.add_user_column)
            .chain(schema.user_index)
            .collect()
    }
}

/// The parts of a dialect only the store uses.
pub(crate) trait Sealed {
    /// The table's definition, for `table`.
    fn schema(table: &TableName) -> Schema;

    /// The statements of every operation, for `table`.
    fn statements(table: &TableName) -> Statements;

    /// A pool connected to `url` with the dialect's options.
    fn connect(url: &str) -> impl Future<Output = Result<Pool<Self::Database>, sqlx::Error>> + Send
    where
        Self: Dialect;
}

/// The statements that define the table. The user column is `user_hash`, the SHA-256 of
/// the user name (see the crate docs); the indexes are `{table}_expires_at_idx` and
/// `{table}_user_hash_idx`.
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    /// `CREATE TABLE IF NOT EXISTS`, with every column (and, on MySQL, every index).
    pub(crate) create_table: String,
    /// `CREATE INDEX IF NOT EXISTS` on the expiry, where `CREATE TABLE` cannot make it.
    pub(crate) expiry_index: Option<String>,
    /// `CREATE INDEX IF NOT EXISTS` on the user column, where `CREATE TABLE` cannot make it;
    /// run after [`add_user_column`](Self::add_user_column) on a table from before it.
    pub(crate) user_index: Option<String>,
    /// `ALTER TABLE` adding the user column (and, on MySQL, its index in the same
    /// statement) to a table created before it.
    pub(crate) add_user_column: String,
}

/// The SQL of each operation, built once per store. Each binds its parameters in the order
/// listed, which is the order of the placeholders in the text. `now` is the store clock's
/// time and every time is in unix milliseconds.
#[derive(Debug, Clone)]
pub(crate) struct Statements {
    /// `key, data, expires_at, user_hash, now`: inserts, or takes over an expired row
    /// (its user column included); a live row is left alone (0 rows). With
    /// [`take_over`](Self::take_over), a plain insert of `key, data, expires_at, user_hash`
    /// that fails on a duplicate key.
    pub(crate) create: SqlStr,
    /// `data, expires_at, user_hash, key, now`: takes over the row `create` collided with if
    /// it has expired, for dialects whose upsert cannot tell "inserted" from "left alone"
    /// (MySQL).
    pub(crate) take_over: Option<SqlStr>,
    /// `key, now`: selects `data, version` of the live row.
    pub(crate) load: SqlStr,
    /// `expires_at, key, now`: `touch` returning `data, version`. Without it (no
    /// `UPDATE ... RETURNING`), the store runs `touch`, then `load`.
    pub(crate) load_and_touch: Option<SqlStr>,
    /// `data, expires_at, key, version, now`: rewrites the live row of that version, its
    /// user column left as it is.
    pub(crate) save: SqlStr,
    /// `data, expires_at, user_hash, key, version, now`: `save`, writing the user column too.
    pub(crate) save_for: SqlStr,
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
    /// `user_hash, now`: selects `id, data, version, expires_at` of the live rows bound to
    /// that user, through the user index.
    pub(crate) sessions_of: SqlStr,
    /// `key, user_hash`: clears the user column of the row if it holds that user.
    pub(crate) unindex: SqlStr,
    /// `after, now, limit`: selects `id, length(data), expires_at, version` of up to
    /// `limit` live rows whose id sorts after `after`, in id order (keyset pagination on
    /// the primary key).
    pub(crate) scan: SqlStr,
}

/// Marks a statement as safe to run. Sound because the only thing ever interpolated into
/// our statements is a [`TableName`], checked to be a plain identifier; every value is a
/// bound parameter.
pub(crate) fn sql(statement: String) -> SqlStr {
    AssertSqlSafe(statement).into_sql_str()
}
