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

/// A dialect's table as sessionkit-sql created it before the user index (commit a513b1a),
/// for the upgrade tests; each test file gives its own.
pub(crate) struct BeforeUserIndex {
    /// The statements that version's `migrate` ran, verbatim.
    pub(crate) ddl: Vec<String>,
    /// How that version inserted a new session: binds `key, data, expires_at`.
    pub(crate) insert: String,
    /// Returns a row when the table has the index `{table}_user_hash_idx`.
    pub(crate) user_index_exists: String,
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
            use std::collections::BTreeSet;
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

            /// The upgrade of a table from before the user index, by `migrate` (twice) or by
            /// hand with `upgrade_ddl`: the old session loads as it was, the index works for
            /// old and new sessions, and the old version's inserts still work during a
            /// rolling deploy.
            async fn check_upgrade(by_hand: bool) {
                let clock = ManualClock::new();
                let store = super::$make(&clock).await;
                let table = store.table().to_string();
                let old = super::before_user_index(&table);
                drop_table!(store);
                for statement in &old.ddl {
                    let statement = sqlx::AssertSqlSafe(statement.clone());
                    sqlx::query(statement).execute(store.pool()).await.unwrap();
                }
                let expires = clock_now(&clock) + Duration::from_secs(60);
                let insert_as_before = |id: Id| {
                    let (key, pool) = (store.key(&id), store.pool().clone());
                    let insert = sqlx::AssertSqlSafe(old.insert.clone());
                    async move {
                        sqlx::query(insert)
                            .bind(key)
                            .bind(&b"\x81\xa1a\x01"[..])
                            .bind(unix_ms(expires))
                            .execute(&pool)
                            .await
                            .unwrap();
                    }
                };
                let before = Id::random();
                insert_as_before(before).await;

                if by_hand {
                    for statement in store.upgrade_ddl() {
                        let statement = sqlx::AssertSqlSafe(statement);
                        sqlx::query(statement).execute(store.pool()).await.unwrap();
                    }
                }
                store.migrate().await.expect("migrate an old table");
                store.migrate().await.expect("migrate it again");

                let loaded = store
                    .load(&before)
                    .await
                    .unwrap()
                    .expect("the old session survives the upgrade");
                assert_eq!(loaded.payload().as_ref(), b"\x81\xa1a\x01");
                assert_eq!(loaded.version().get(), 1, "the upgrade touched the old row");

                let index = store.user_index().expect("a SQL store has a user index");
                assert!(index.sessions_of("ada").await.unwrap().is_empty());
                let created = Id::random();
                index
                    .create_for(&created, b"\x81\xa1a\x02", expires, Some("ada"))
                    .await
                    .unwrap();
                index
                    .save_for(
                        &before,
                        b"\x81\xa1a\x03",
                        expires,
                        loaded.version(),
                        Some("ada"),
                    )
                    .await
                    .unwrap();
                let listed: BTreeSet<Id> = index
                    .sessions_of("ada")
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|r| r.id)
                    .collect();
                assert_eq!(listed, BTreeSet::from([before, created]));

                // An instance still on the old version keeps working against the new table.
                let during = Id::random();
                insert_as_before(during).await;
                assert!(store.load(&during).await.unwrap().is_some());
                assert_eq!(index.sessions_of("ada").await.unwrap().len(), 2);

                let exists = sqlx::AssertSqlSafe(old.user_index_exists.clone());
                let found = sqlx::query(exists)
                    .fetch_optional(store.pool())
                    .await
                    .unwrap();
                assert!(
                    found.is_some(),
                    "no {table}_user_hash_idx after the upgrade"
                );
                drop_table!(store);
            }

            #[tokio::test]
            async fn migrate_upgrades_a_table_from_before_the_user_index() {
                check_upgrade(false).await;
            }

            #[tokio::test]
            async fn upgrade_ddl_upgrades_a_table_from_before_the_user_index() {
                check_upgrade(true).await;
            }

            #[tokio::test]
            async fn a_new_table_has_the_user_index() {
                let clock = ManualClock::new();
                let store = super::$make(&clock).await;
                let table = store.table().to_string();
                let exists =
                    sqlx::AssertSqlSafe(super::before_user_index(&table).user_index_exists);
                let found = sqlx::query(exists)
                    .fetch_optional(store.pool())
                    .await
                    .unwrap();
                assert!(found.is_some(), "no {table}_user_hash_idx");
                assert!(store.ddl().iter().any(|s| s.contains("user_hash")));
                drop_table!(store);
            }

            /// Plain `save`, `touch` and `load_and_touch` keep the binding; a plain `create`
            /// that takes over an expired bound row starts it unbound; `unindex` clears only
            /// the named user's binding and leaves the record as it was.
            #[tokio::test]
            async fn plain_writes_keep_the_binding_and_create_clears_it() {
                let clock = ManualClock::new();
                let store = super::$make(&clock).await;
                let index = store.user_index().expect("a SQL store has a user index");
                let listed = |user: &'static str| {
                    let store = store.clone();
                    async move {
                        let found = store.user_index().unwrap().sessions_of(user).await.unwrap();
                        found.into_iter().map(|r| r.id).collect::<Vec<_>>()
                    }
                };
                let id = Id::random();
                let soon = clock_now(&clock) + Duration::from_secs(1);
                index
                    .create_for(&id, b"\x81\xa1a\x01", soon, Some("ada"))
                    .await
                    .unwrap();
                let version = store.load(&id).await.unwrap().unwrap().version();
                store
                    .save(&id, b"\x81\xa1a\x02", soon, version)
                    .await
                    .unwrap();
                store.touch(&id, soon).await.unwrap();
                store.load_and_touch(&id, soon).await.unwrap().unwrap();
                assert_eq!(
                    listed("ada").await,
                    [id],
                    "a plain write dropped the binding"
                );

                clock.advance(Duration::from_secs(2));
                assert!(listed("ada").await.is_empty(), "an expired row is listed");
                let later = clock_now(&clock) + Duration::from_secs(60);
                store.create(&id, b"\x81\xa1a\x03", later).await.unwrap();
                assert!(
                    listed("ada").await.is_empty(),
                    "a plain create kept the expired row's binding"
                );

                let other = Id::random();
                index
                    .create_for(&other, b"\x81\xa1a\x04", later, Some("ada"))
                    .await
                    .unwrap();
                let before = store.load(&other).await.unwrap().unwrap();
                index.unindex("bob", &other).await.unwrap();
                assert_eq!(listed("ada").await, [other], "unindex of another user");
                index.unindex("ada", &other).await.unwrap();
                assert!(listed("ada").await.is_empty(), "unindex");
                assert_eq!(
                    store.load(&other).await.unwrap(),
                    Some(before),
                    "unindex changed the record"
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
