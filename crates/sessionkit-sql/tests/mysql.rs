//! MySQL / MariaDB: the conformance suite, case-sensitive keys, batched cleanup.

mod support;

use std::time::Duration;

use sessionkit_core::{Id, ManualClock, SessionStore};
use sessionkit_sql::sqlx;
use support::{mysql, mysql_harness};

sessionkit_testkit::conformance_tests!(mysql_harness);

support::dialect_tests!(mysql);

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
