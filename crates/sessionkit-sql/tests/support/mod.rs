//! Shared by the SQL test files: stores on the servers `scripts/services` starts, each on
//! a table of its own that is dropped afterwards.

#![allow(dead_code)]

use std::sync::Arc;

use sessionkit_core::{Id, ManualClock};
use sessionkit_sql::sqlx::mysql::MySqlPoolOptions;
use sessionkit_sql::sqlx::postgres::PgPoolOptions;
use sessionkit_sql::{MySqlStore, PostgresStore, SqlStoreBuilder, Sqlite, SqliteStore, sqlx};
use sessionkit_testkit::{Harness, TimeTravel};

pub(crate) const POSTGRES_URL: &str = "postgres://sessionkit@127.0.0.1:15432/test";
pub(crate) const MYSQL_URL: &str = "mysql://sessionkit@127.0.0.1:13306/test";

/// A thousand concurrent creates queue for a handful of pooled connections (and SQLite
/// serializes writes), while other tests load the machine: the contract is checked with a
/// time limit that is about outages, not latency.
const TEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A fresh table name.
pub(crate) fn unique_table() -> String {
    let random: String = Id::random()
        .to_string()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect();
    format!("sk_{}", random.to_ascii_lowercase())
}

fn unreachable(what: &str, url: &str, error: impl std::fmt::Debug) -> ! {
    panic!(
        "{what} is not reachable at {url}: {error:?}.\n\
         Start the test servers with ./scripts/services (private PostgreSQL on 15432 and \
         MariaDB on 13306, each with user `sessionkit`, no password, database `test`)."
    )
}

pub(crate) async fn postgres(clock: &ManualClock) -> PostgresStore {
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(POSTGRES_URL)
        .await
        .unwrap_or_else(|e| unreachable("PostgreSQL", POSTGRES_URL, e));
    let store = PostgresStore::builder(pool)
        .table(unique_table())
        .clock(Arc::new(clock.clone()))
        .timeout(TEST_TIMEOUT)
        .build()
        .unwrap();
    store.migrate().await.unwrap();
    store
}

pub(crate) async fn mysql(clock: &ManualClock) -> MySqlStore {
    let pool = MySqlPoolOptions::new()
        .max_connections(4)
        .connect(MYSQL_URL)
        .await
        .unwrap_or_else(|e| unreachable("MariaDB/MySQL", MYSQL_URL, e));
    let store = MySqlStore::builder(pool)
        .table(unique_table())
        .clock(Arc::new(clock.clone()))
        .timeout(TEST_TIMEOUT)
        .build()
        .unwrap();
    store.migrate().await.unwrap();
    store
}

pub(crate) async fn sqlite(clock: &ManualClock) -> (SqliteStore, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!("{}.sqlite3", unique_table()));
    let url = format!("sqlite://{}", path.display());
    let store = SqlStoreBuilder::<Sqlite>::connect(&url)
        .await
        .unwrap()
        .clock(Arc::new(clock.clone()))
        .timeout(TEST_TIMEOUT)
        .build()
        .unwrap();
    store.migrate().await.unwrap();
    (store, path)
}

/// Drops the store's table, then closes its pool.
macro_rules! drop_table_teardown {
    ($store:expr) => {{
        let pool = $store.pool().clone();
        let table = $store.table().to_string();
        move || async move {
            let statement = sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}"));
            sqlx::query(statement)
                .execute(&pool)
                .await
                .expect("drop the test table");
            pool.close().await;
        }
    }};
}

pub(crate) async fn postgres_harness() -> Harness {
    let clock = ManualClock::new();
    let store = postgres(&clock).await;
    let teardown = drop_table_teardown!(store);
    Harness::new(store, TimeTravel::Manual(clock)).with_teardown(teardown)
}

pub(crate) async fn mysql_harness() -> Harness {
    let clock = ManualClock::new();
    let store = mysql(&clock).await;
    let teardown = drop_table_teardown!(store);
    Harness::new(store, TimeTravel::Manual(clock)).with_teardown(teardown)
}

pub(crate) async fn sqlite_harness() -> Harness {
    let clock = ManualClock::new();
    let (store, path) = sqlite(&clock).await;
    let pool = store.pool().clone();
    Harness::new(store, TimeTravel::Manual(clock)).with_teardown(move || async move {
        pool.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    })
}

/// Tests every dialect runs beyond the conformance suite: `dialect_tests!(constructor)`.
macro_rules! dialect_tests {
    ($make:ident) => {
        mod dialect {
            use std::time::{Duration, SystemTime};

            use sessionkit_core::{ExpiredDeletion, Id, ManualClock, SessionStore};
            use sessionkit_sql::sqlx;

            macro_rules! drop_table {
                ($store:expr) => {{
                    let statement =
                        sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {}", $store.table()));
                    sqlx::query(statement).execute($store.pool()).await.unwrap();
                }};
            }

            #[tokio::test]
            async fn migrate_is_idempotent_and_keeps_rows() {
                let clock = ManualClock::new();
                let store = super::$make(&clock).await;
                let id = Id::random();
                store
                    .create(&id, b"\x80", clock_now(&clock) + Duration::from_secs(60))
                    .await
                    .unwrap();
                store.migrate().await.unwrap();
                store.migrate().await.unwrap();
                assert!(store.load(&id).await.unwrap().is_some());
                drop_table!(store);
            }

            #[tokio::test]
            async fn expired_rows_are_deleted_in_batches_and_live_rows_kept() {
                let clock = ManualClock::new();
                let store = super::$make(&clock).await;
                let now = clock_now(&clock);
                let short = now + Duration::from_secs(1);
                let long = now + Duration::from_secs(3600);
                let expired: Vec<Id> = (0..2500).map(|_| Id::random()).collect();
                for id in &expired {
                    store.create(id, b"\x80", short).await.unwrap();
                }
                let live: Vec<Id> = (0..10).map(|_| Id::random()).collect();
                for id in &live {
                    store.create(id, b"\x80", long).await.unwrap();
                }
                clock.advance(Duration::from_secs(2));
                assert_eq!(
                    store.delete_expired().await.unwrap(),
                    2500,
                    "more than two batches"
                );
                assert_eq!(store.delete_expired().await.unwrap(), 0);
                for id in &live {
                    assert!(store.load(id).await.unwrap().is_some());
                }
                drop_table!(store);
            }

            #[tokio::test]
            async fn cleanup_task_deletes_and_stops_when_the_store_is_dropped() {
                let clock = ManualClock::new();
                let store = super::$make(&clock).await;
                let id = Id::random();
                store
                    .create(&id, b"\x80", clock_now(&clock) + Duration::from_secs(1))
                    .await
                    .unwrap();
                clock.advance(Duration::from_secs(2));
                let pool = store.pool().clone();
                let table = store.table().to_string();
                let task = store.start_cleanup(Duration::from_millis(20));
                // The task removes the expired row...
                // (It runs on a real timer against a real database: poll its effect, bounded.)
                let mut remaining = 1_i64;
                for _ in 0..500 {
                    let count = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
                    remaining = sqlx::query_scalar(count).fetch_one(&pool).await.unwrap();
                    if remaining == 0 {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                assert_eq!(
                    remaining, 0,
                    "the cleanup task did not delete the expired row"
                );
                // ...and ends once the store is gone.
                let drop_statement = sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}"));
                drop(store);
                tokio::time::timeout(Duration::from_secs(5), task)
                    .await
                    .expect("the cleanup task outlived its store")
                    .unwrap();
                sqlx::query(drop_statement).execute(&pool).await.unwrap();
            }

            #[tokio::test]
            async fn load_and_touch_writes_only_the_expiry() {
                let clock = ManualClock::new();
                let store = super::$make(&clock).await;
                let id = Id::random();
                let first_expiry = clock_now(&clock) + Duration::from_secs(60);
                store
                    .create(&id, b"\x81\xa1a\x01", first_expiry)
                    .await
                    .unwrap();
                let loaded = store.load(&id).await.unwrap().unwrap();
                store
                    .save(&id, b"\x81\xa1a\x02", first_expiry, loaded.version())
                    .await
                    .unwrap();
                // The row as the database holds it: the only row of the table.
                let row = || async {
                    let select = sqlx::AssertSqlSafe(format!(
                        "SELECT data, version, expires_at FROM {}",
                        store.table()
                    ));
                    sqlx::query_as::<_, (Vec<u8>, i64, i64)>(select)
                        .fetch_one(store.pool())
                        .await
                        .unwrap()
                };
                let (data, version, expires_at) = row().await;
                assert_eq!((data.as_slice(), version), (&b"\x81\xa1a\x02"[..], 2));

                clock.advance(Duration::from_secs(10));
                let new_expiry = clock_now(&clock) + Duration::from_secs(3600);
                let touched = store
                    .load_and_touch(&id, new_expiry)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(touched.payload().as_ref(), b"\x81\xa1a\x02");

                let (data_after, version_after, expires_after) = row().await;
                assert_eq!(data_after, data, "load_and_touch rewrote the data");
                assert_eq!(version_after, version, "load_and_touch bumped the version");
                assert_ne!(expires_after, expires_at);
                assert_eq!(
                    expires_after,
                    unix_ms(new_expiry),
                    "the expiry was not slid"
                );
                drop_table!(store);
            }

            /// Milliseconds since the epoch, rounded up, as the SQL stores write expiry times.
            fn unix_ms(time: SystemTime) -> i64 {
                let since = time.duration_since(SystemTime::UNIX_EPOCH).unwrap();
                i64::try_from(since.as_nanos().div_ceil(1_000_000)).unwrap()
            }

            fn clock_now(clock: &ManualClock) -> SystemTime {
                sessionkit_core::Clock::now(clock)
            }
        }
    };
}

pub(crate) use dialect_tests;
