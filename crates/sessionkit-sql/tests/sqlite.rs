//! SQLite on a temporary file: the conformance suite, the user index and its upgrade,
//! batched cleanup.

mod support;

use sessionkit_core::ManualClock;
use sessionkit_sql::SqliteStore;
use sessionkit_sql::sqlx::{self, Row};
use support::sqlite_harness;

sessionkit_testkit::conformance_tests!(sqlite_harness);
sessionkit_testkit::user_index_tests!(sqlite_harness);
sessionkit_testkit::scan_tests!(sqlite_harness);

async fn sqlite(clock: &ManualClock) -> SqliteStore {
    support::sqlite(clock).await.0
}

support::dialect_tests!(sqlite);

/// The table as sessionkit-sql created it before the user index (commit a513b1a).
fn before_user_index(table: &str) -> support::BeforeUserIndex {
    support::BeforeUserIndex {
        ddl: vec![
            format!(
                "CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY NOT NULL, \
                 data BLOB NOT NULL, expires_at INTEGER NOT NULL, version INTEGER NOT NULL)"
            ),
            format!("CREATE INDEX IF NOT EXISTS {table}_expires_at_idx ON {table} (expires_at)"),
        ],
        insert: format!(
            "INSERT INTO {table} (id, data, expires_at, version) VALUES (?1, ?2, ?3, 1)"
        ),
        user_index_exists: format!(
            "SELECT 1 FROM sqlite_master WHERE type = 'index' \
             AND tbl_name = '{table}' AND name = '{table}_user_hash_idx'"
        ),
    }
}

#[tokio::test]
async fn sessions_of_uses_the_user_index() {
    let clock = ManualClock::new();
    let (store, path) = support::sqlite(&clock).await;
    let table = store.table().to_string();
    // The statement `sessions_of` runs.
    let explain = sqlx::AssertSqlSafe(format!(
        "EXPLAIN QUERY PLAN SELECT id, data, version, expires_at FROM {table} \
         WHERE user_hash = ?1 AND expires_at > ?2"
    ));
    let rows = sqlx::query(explain)
        .bind(&[7_u8; 32][..])
        .bind(1_000_000_i64)
        .fetch_all(store.pool())
        .await
        .unwrap();
    let plan: Vec<String> = rows.iter().map(|r| r.get::<String, _>(3)).collect();
    let plan = plan.join("\n");
    assert!(
        plan.contains(&format!("USING INDEX {table}_user_hash_idx")),
        "sessions_of does not use the user index:\n{plan}"
    );
    store.pool().close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
