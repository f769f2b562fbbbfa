//! SQL stores for [sessionkit](https://docs.rs/sessionkit) through sqlx: PostgreSQL,
//! MySQL/MariaDB and SQLite, one file per dialect, each behind its cargo feature.
//!
//! One row per session: the store key (prefix + id) as primary key, the codec's bytes, the
//! expiry as unix milliseconds (indexed, for the cleanup), a version number for
//! compare-and-set, and the user the session is bound to (indexed, for
//! [`UserIndex`](sessionkit_core::UserIndex)). [`SqlStore::ddl`] returns the exact
//! statements `migrate` runs on a new database:
//!
//! PostgreSQL:
//! ```sql
//! CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, data BYTEA NOT NULL,
//!   expires_at BIGINT NOT NULL, version BIGINT NOT NULL, user_hash BYTEA);
//! CREATE INDEX IF NOT EXISTS sessions_expires_at_idx ON sessions (expires_at);
//! CREATE INDEX IF NOT EXISTS sessions_user_hash_idx ON sessions (user_hash)
//!   WHERE user_hash IS NOT NULL;
//! ```
//! MySQL / MariaDB:
//! ```sql
//! CREATE TABLE IF NOT EXISTS sessions (
//!   id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
//!   data LONGBLOB NOT NULL, expires_at BIGINT NOT NULL, version BIGINT NOT NULL,
//!   user_hash BINARY(32) NULL,
//!   INDEX sessions_expires_at_idx (expires_at), INDEX sessions_user_hash_idx (user_hash));
//! ```
//! SQLite:
//! ```sql
//! CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY NOT NULL, data BLOB NOT NULL,
//!   expires_at INTEGER NOT NULL, version INTEGER NOT NULL, user_hash BLOB);
//! CREATE INDEX IF NOT EXISTS sessions_expires_at_idx ON sessions (expires_at);
//! CREATE INDEX IF NOT EXISTS sessions_user_hash_idx ON sessions (user_hash)
//!   WHERE user_hash IS NOT NULL;
//! ```
//!
//! # The user column
//!
//! `user_hash` holds the SHA-256 of the user name's UTF-8 bytes (32 bytes: `BYTEA`,
//! `BINARY(32)`, `BLOB`), or `NULL` for a session bound to nobody: one created by plain
//! `create`, bound with `None`, or written by another program (Flask-Session, an older
//! sessionkit) that does not know the column. A hash rather than the name itself because:
//!
//! - **exact**: bytes compare byte for byte on every database. MySQL's and MariaDB's
//!   default collations are case- and accent-insensitive (and many ignore trailing
//!   spaces); a text column would need a binary collation, and any slip there (a table
//!   created by hand, a changed server default) merges two users.
//! - **any length**: user names are opaque text of any size, while an index key is not
//!   (InnoDB allows 3,072 bytes, 768 `utf8mb4` characters). A text column would need a
//!   length limit plus a fallback for longer names; 32 bytes fit every name.
//! - **small**: every index entry is 32 bytes, whatever the names.
//!
//! Two names with the same SHA-256 are not known to exist; if they did, each user's
//! listing would show the other's sessions as stale entries, which the request lifecycle
//! already skips (it checks the user in each listed payload). The name itself is not
//! kept, so the column cannot be read back as a name: the payload holds it.
//!
//! On PostgreSQL and SQLite the index is partial (`WHERE user_hash IS NOT NULL`), so
//! unbound sessions, usually most of them, cost it nothing; MySQL has no partial indexes.
//! The binding is part of the row: `create_for` and `save_for` write it in the same
//! statement as the record, it expires and is deleted with the row, and `sessions_of` is
//! one `SELECT` through the index of the rows whose expiry is in the future (the rule of
//! `load`), each with the same data and version `load` returns. Plain `save`, `touch` and
//! `load_and_touch` leave it alone; the sliding expiry still writes only `expires_at`.
//!
//! # Upgrading a table from before the user index
//!
//! [`SqlStore::migrate`] (which `sessionkit::connect` runs) adds the column and its index
//! to a table created by an earlier version, once: it checks for the column, then runs
//! [`SqlStore::upgrade_ddl`]. Running it again, or from several processes at once, is
//! harmless. Existing sessions keep loading unchanged and start unbound; each is bound the
//! next time the lifecycle saves it with the index on. Instances of the earlier version
//! keep working against the upgraded table during a rolling deploy (they never name the
//! column). The statements, for a table named `sessions`:
//!
//! ```sql
//! -- PostgreSQL: adding a nullable column only changes the catalog.
//! ALTER TABLE sessions ADD COLUMN IF NOT EXISTS user_hash BYTEA;
//! CREATE INDEX IF NOT EXISTS sessions_user_hash_idx ON sessions (user_hash)
//!   WHERE user_hash IS NOT NULL;
//! -- MySQL / MariaDB: one statement, online: writes go on while InnoDB runs it.
//! ALTER TABLE sessions ADD COLUMN user_hash BINARY(32) NULL,
//!   ADD INDEX sessions_user_hash_idx (user_hash);
//! -- SQLite.
//! ALTER TABLE sessions ADD COLUMN user_hash BLOB;
//! CREATE INDEX IF NOT EXISTS sessions_user_hash_idx ON sessions (user_hash)
//!   WHERE user_hash IS NOT NULL;
//! ```
//!
//! `CREATE INDEX` blocks writes to the table while it runs on PostgreSQL: on a large
//! table, create the index `CONCURRENTLY` under the same name first, and `migrate` keeps
//! it. Teams that manage the schema themselves apply these statements before deploying
//! this version: every `create` names the column (a new record starts unbound even when it
//! takes over an expired row that was bound).
//!
//! # Statements
//!
//! | Operation | SQL |
//! |---|---|
//! | `create`, `create_for` | insert that leaves a live row alone (PostgreSQL/SQLite `ON CONFLICT ... WHERE expired`; MySQL insert, then take over the row only if expired), `user_hash` `NULL` or the user's |
//! | `load` | `SELECT ... WHERE id = ? AND expires_at > now` |
//! | `load_and_touch` | `UPDATE ... RETURNING` (MySQL: update, then select) |
//! | `save`, `save_for` | `UPDATE ... WHERE id = ? AND version = ? AND expires_at > now` (`save_for` also sets `user_hash`); no row: `Gone`, other version: `Conflict` |
//! | `touch`, `touch_for` | `UPDATE ... SET expires_at` |
//! | `sessions_of` | `SELECT ... WHERE user_hash = ? AND expires_at > now` |
//! | `unindex` | `UPDATE ... SET user_hash = NULL WHERE id = ? AND user_hash = ?` |
//! | `delete_expired` | deletes in batches of 1,000 rows through the expiry index |
//! | `scan` ([`SessionScan`](sessionkit_core::SessionScan)) | `SELECT ... WHERE id > cursor AND expires_at > now ORDER BY id LIMIT n`: keyset pagination on the primary key, the cursor the last key read |
//!
//! The table name is checked as a plain identifier ([`TableName`]) before it is put into
//! any statement. No compile-time-checked macros are used, so building needs no database.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod cleanup;
mod dialect;
mod driver;
mod error;
mod scan;
mod schema;
mod store;
mod table;
mod user_index;

#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
mod mysql;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
mod postgres;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
mod sqlite;

pub use builder::SqlStoreBuilder;
pub use cleanup::CLEANUP_BATCH;
pub use dialect::Dialect;
#[cfg(feature = "mysql")]
pub use mysql::{MySql, MySqlStore};
#[cfg(feature = "postgres")]
pub use postgres::{Postgres, PostgresStore};
#[cfg(feature = "sqlite")]
pub use sqlite::{Sqlite, SqliteStore};
pub use store::SqlStore;
pub use table::{MAX_TABLE_NAME_LEN, TableName};

/// sqlx, re-exported so an application can build its own pool.
pub use sqlx;
