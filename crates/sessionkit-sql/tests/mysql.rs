//! MySQL / MariaDB: the conformance suite, the user index and its upgrade, case-sensitive
//! keys, batched cleanup.

mod support;

use std::time::Duration;

use sessionkit_core::{Id, ManualClock, SessionStore};
use sessionkit_sql::sqlx;
use support::{mysql, mysql_harness};

sessionkit_testkit::conformance_tests!(mysql_harness);
sessionkit_testkit::user_index_tests!(mysql_harness);
sessionkit_testkit::scan_tests!(mysql_harness);

support::dialect_tests!(mysql);

/// The table as sessionkit-sql created it before the user index (commit a513b1a).
fn before_user_index(table: &str) -> support::BeforeUserIndex {
    support::BeforeUserIndex {
        ddl: vec![format!(
            "CREATE TABLE IF NOT EXISTS {table} (\
             id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY, \
             data LONGBLOB NOT NULL, expires_at BIGINT NOT NULL, version BIGINT NOT NULL, \
             INDEX {table}_expires_at_idx (expires_at))"
        )],
        insert: format!("INSERT INTO {table} (id, data, expires_at, version) VALUES (?, ?, ?, 1)"),
        user_index_exists: format!(
            "SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE() \
             AND table_name = '{table}' AND index_name = '{table}_user_hash_idx'"
        ),
    }
}

#[tokio::test]
async fn ids_differing_only_in_case_are_different_sessions() {
    let clock = ManualClock::new();
    let store = mysql(&clock).await;
    // Find an id with a letter in the middle and flip that letter's case.
    let (lower, upper) = loop {
        let text = Id::random().to_string();
        if let Some(pos) = text[..40].find(|c: char| c.is_ascii_lowercase()) {
            let mut flipped = text.clone();
            flipped.replace_range(pos..=pos, &text[pos..=pos].to_ascii_uppercase());
            break (Id::parse(&text).unwrap(), Id::parse(&flipped).unwrap());
        }
    };
    let expires = sessionkit_core::Clock::now(&clock) + Duration::from_secs(60);
    store
        .create(&lower, b"\x81\xa1a\x01", expires)
        .await
        .unwrap();
    store
        .create(&upper, b"\x81\xa1a\x02", expires)
        .await
        .expect("a case-insensitive key collided");
    assert_eq!(
        store
            .load(&lower)
            .await
            .unwrap()
            .unwrap()
            .payload()
            .as_ref(),
        b"\x81\xa1a\x01"
    );
    assert_eq!(
        store
            .load(&upper)
            .await
            .unwrap()
            .unwrap()
            .payload()
            .as_ref(),
        b"\x81\xa1a\x02"
    );
    let statement = sqlx::AssertSqlSafe(format!("DROP TABLE {}", store.table()));
    sqlx::query(statement).execute(store.pool()).await.unwrap();
}
