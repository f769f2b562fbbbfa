//! The table's definition: [`SqlStore::migrate`], its statements, and its inverse.

use sessionkit_core::Error;
use sqlx::SqlStr;

use crate::dialect::sql;
use crate::driver::Driver;
use crate::error::from_sqlx;
use crate::{Dialect, SqlStore};

impl<D: Dialect> SqlStore<D> {
    /// The statements [`migrate`](Self::migrate) runs on a database without the table
    /// ([`Dialect::ddl`]), for teams that manage schemas themselves.
    pub fn ddl(&self) -> Vec<String> {
        D::ddl(self.table())
    }

    /// The statements that add the user column and its index to a table created before
    /// them ([`Dialect::upgrade_ddl`]), for teams that manage schemas themselves.
    pub fn upgrade_ddl(&self) -> Vec<String> {
        D::upgrade_ddl(self.table())
    }

    /// Creates the table and its indexes if they do not exist, and adds the user column
    /// and its index to a table created before them (see the crate docs). Running it again,
    /// or from several processes at once, changes nothing more. Not bounded by the store's
    /// timeout: building an index on a large table takes as long as it takes.
    ///
    /// # Errors
    /// Database failures.
    pub async fn migrate(&self) -> Result<(), Error> {
        let schema = D::schema(self.table());
        let mut conn = self
            .pool()
            .acquire()
            .await
            .map_err(|e| from_sqlx(D::NAME, e))?;
        run::<D>(&mut conn, schema.create_table).await?;
        let probe = self.user_column_probe();
        if !has_column::<D>(&mut conn, &probe).await?
            && let Err(error) = run::<D>(&mut conn, schema.add_user_column).await
            // Another process's `migrate` may have added it first.
            && !has_column::<D>(&mut conn, &probe).await?
        {
            return Err(error);
        }
        for index in schema.expiry_index.into_iter().chain(schema.user_index) {
            run::<D>(&mut conn, index).await?;
        }
        Ok(())
    }

    /// Drops the table: the inverse of [`migrate`](Self::migrate), for tests and teardown.
    ///
    /// # Errors
    /// Database failures.
    pub async fn drop_table(&self) -> Result<(), Error> {
        let statement = sql(format!("DROP TABLE IF EXISTS {}", self.table()));
        self.execute(&statement, &[]).await.map(drop)
    }

    /// A query that fails when the table has no user column: it names the table exactly as
    /// the store's statements do, so it finds the same table on every dialect (schemas,
    /// search paths and case rules included).
    fn user_column_probe(&self) -> SqlStr {
        sql(format!(
            "SELECT user_hash FROM {} WHERE 1 = 0",
            self.table()
        ))
    }
}

/// Runs one statement of the schema.
async fn run<D: Dialect>(
    conn: &mut <D::Database as sqlx::Database>::Connection,
    statement: String,
) -> Result<(), Error> {
    D::Database::execute(conn, &sql(statement), &[])
        .await
        .map(drop)
        .map_err(|e| from_sqlx(D::NAME, e))
}

/// Whether `probe` runs: an error from the database (no such column) is `false`; a failure
/// to talk to it is an error.
async fn has_column<D: Dialect>(
    conn: &mut <D::Database as sqlx::Database>::Connection,
    probe: &SqlStr,
) -> Result<bool, Error> {
    match D::Database::exists(conn, probe, &[]).await {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(_)) => Ok(false),
        Err(other) => Err(from_sqlx(D::NAME, other)),
    }
}
