//! SQL stores for [sessionkit](https://docs.rs/sessionkit) through sqlx: PostgreSQL,
//! MySQL/MariaDB and SQLite, one file per dialect, each behind its cargo feature.
//!
//! One row per session: the store key (prefix + id) as primary key, the codec's bytes, the
//! expiry as unix milliseconds (indexed, for the cleanup) and a version number for
//! compare-and-set. [`SqlStore::ddl`] returns the exact statements `migrate` runs:
//!
//! PostgreSQL:
//! ```sql
//! CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, data BYTEA NOT NULL,
//!   expires_at BIGINT NOT NULL, version BIGINT NOT NULL);
//! CREATE INDEX IF NOT EXISTS sessions_expires_at_idx ON sessions (expires_at);
//! ```
//! MySQL / MariaDB:
//! ```sql
//! CREATE TABLE IF NOT EXISTS sessions (
//!   id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
//!   data LONGBLOB NOT NULL, expires_at BIGINT NOT NULL, version BIGINT NOT NULL,
//!   INDEX sessions_expires_at_idx (expires_at));
//! ```
//! SQLite:
//! ```sql
//! CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY NOT NULL, data BLOB NOT NULL,
//!   expires_at INTEGER NOT NULL, version INTEGER NOT NULL);
//! CREATE INDEX IF NOT EXISTS sessions_expires_at_idx ON sessions (expires_at);
//! ```
//!
//! | Operation | SQL |
//! |---|---|
//! | `create` | insert that leaves a live row alone (PostgreSQL/SQLite `ON CONFLICT ... WHERE expired`; MySQL insert, then take over the row only if expired) |
//! | `load` | `SELECT ... WHERE id = ? AND expires_at > now` |
//! | `load_and_touch` | `UPDATE ... RETURNING` (MySQL: update, then select) |
//! | `save` | `UPDATE ... WHERE id = ? AND version = ? AND expires_at > now`; no row: `Gone`, other version: `Conflict` |
//! | `touch` | `UPDATE ... SET expires_at` |
//! | `delete_expired` | deletes in batches of 1,000 rows through the expiry index |
//!
//! The table name is checked as a plain identifier ([`TableName`]) before it is put into
//! any statement. No compile-time-checked macros are used, so building needs no database.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod cleanup;
mod dialect;
mod driver;
mod error;
mod store;
mod table;

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
