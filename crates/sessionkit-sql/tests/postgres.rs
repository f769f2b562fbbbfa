//! PostgreSQL: the conformance suite, the user index and its upgrade, the expiry and user
//! indexes in query plans, batched cleanup.

mod support;

use sessionkit_core::ManualClock;
use sessionkit_sql::sqlx::{self, Row};
use support::{postgres, postgres_harness};

sessionkit_testkit::conformance_tests!(postgres_harness);
sessionkit_testkit::user_index_tests!(postgres_harness);
sessionkit_testkit::scan_tests!(postgres_harness);

support::dialect_tests!(postgres);

/// The table as sessionkit-sql created it before the user index (commit a513b1a).
fn before_user_index(table: &str) -> support::BeforeUserIndex {
    support::BeforeUserIndex {
        ddl: vec![
            format!(
                "CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, data BYTEA NOT NULL, \
                 expires_at BIGINT NOT NULL, version BIGINT NOT NULL)"
            ),
            format!("CREATE INDEX IF NOT EXISTS {table}_expires_at_idx ON {table} (expires_at)"),
        ],
        insert: format!(
            "INSERT INTO {table} (id, data, expires_at, version) VALUES ($1, $2, $3, 1)"
        ),
        user_index_exists: format!(
            "SELECT 1 FROM pg_indexes WHERE tablename = '{table}' \
             AND indexname = '{table}_user_hash_idx'"
        ),
    }
}

#[tokio::test]
async fn cleanup_query_uses_the_expiry_index() {
    let clock = ManualClock::new();
    let store = postgres(&clock).await;
    let table = store.table().to_string();
    // Many live rows and a few expired ones, as in production; then fresh statistics.
    let fill = sqlx::AssertSqlSafe(format!(
        "INSERT INTO {table} (id, data, expires_at, version) \
         SELECT 'k' || g, '\\x80'::bytea, CASE WHEN g % 100 = 0 THEN 1 ELSE 9000000000000 END, 1 \
         FROM generate_series(1, 20000) g"
    ));
    sqlx::query(fill).execute(store.pool()).await.unwrap();
    let analyze = sqlx::AssertSqlSafe(format!("ANALYZE {table}"));
    sqlx::query(analyze).execute(store.pool()).await.unwrap();

    let explain = sqlx::AssertSqlSafe(format!(
        "EXPLAIN DELETE FROM {table} WHERE id IN \
         (SELECT id FROM {table} WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)"
    ));
    let rows = sqlx::query(explain)
        .bind(1_000_000_i64)
        .bind(1000_i64)
        .fetch_all(store.pool())
        .await
        .unwrap();
    let plan: Vec<String> = rows.iter().map(|r| r.get::<String, _>(0)).collect();
    let plan = plan.join("\n");
    assert!(
        plan.contains(&format!("{table}_expires_at_idx")),
        "the cleanup does not use the expiry index:\n{plan}"
    );
    assert_eq!(
        sessionkit_core::ExpiredDeletion::delete_expired(&store)
            .await
            .unwrap(),
        200
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {table}")))
        .execute(store.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn sessions_of_uses_the_user_index() {
    let clock = ManualClock::new();
    let store = postgres(&clock).await;
    let table = store.table().to_string();
    // Many sessions, one in ten bound (each to a user of its own); then fresh statistics.
    let fill = sqlx::AssertSqlSafe(format!(
        "INSERT INTO {table} (id, data, expires_at, version, user_hash) \
         SELECT 'k' || g, '\\x80'::bytea, 9000000000000, 1, \
         CASE WHEN g % 10 = 0 THEN decode(md5(g::text) || md5(g::text), 'hex') END \
         FROM generate_series(1, 20000) g"
    ));
    sqlx::query(fill).execute(store.pool()).await.unwrap();
    let analyze = sqlx::AssertSqlSafe(format!("ANALYZE {table}"));
    sqlx::query(analyze).execute(store.pool()).await.unwrap();

    // The statement `sessions_of` runs.
    let explain = sqlx::AssertSqlSafe(format!(
        "EXPLAIN SELECT id, data, version, expires_at FROM {table} \
         WHERE user_hash = $1 AND expires_at > $2"
    ));
    let rows = sqlx::query(explain)
        .bind(&[7_u8; 32][..])
        .bind(1_000_000_i64)
        .fetch_all(store.pool())
        .await
        .unwrap();
    let plan: Vec<String> = rows.iter().map(|r| r.get::<String, _>(0)).collect();
    let plan = plan.join("\n");
    assert!(
        plan.contains(&format!("{table}_user_hash_idx")),
        "sessions_of does not use the user index:\n{plan}"
    );
    store.drop_table().await.unwrap();
}
