//! PostgreSQL: the conformance suite, the expiry index, batched cleanup.

mod support;

use sessionkit_core::ManualClock;
use sessionkit_sql::sqlx::{self, Row};
use support::{postgres, postgres_harness};

sessionkit_testkit::conformance_tests!(postgres_harness);

support::dialect_tests!(postgres);

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
