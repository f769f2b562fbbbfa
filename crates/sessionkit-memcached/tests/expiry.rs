//! Memcached reads an exptime above 30 days as a unix time: both sides of the line land
//! with the right remaining lifetime on a real server, and nothing is stored forever.

mod support;

use std::time::{Duration, SystemTime};

use sessionkit_core::{Id, SessionStore};
use support::{NODE_A, connect};

const DAY: u64 = 24 * 60 * 60;

/// How far above the lifetime the server's TTL may read: beyond 30 days the exptime is a
/// unix time, which memcached counts on its own clock, ticking once a second from its
/// start, so the remaining TTL it reports can run up to two seconds long.
const CLOCK_SLACK: i64 = 3;

/// The remaining TTL the server reports for `key`, or None on a miss.
fn server_ttl(key: &str) -> Option<i64> {
    support::server_ttl(NODE_A, key)
}

#[tokio::test]
async fn lifetimes_on_both_sides_of_thirty_days_are_kept() {
    let store = connect(&[NODE_A]).await;
    for days in [1, 29, 30, 31, 60] {
        let lifetime = Duration::from_secs(days * DAY);
        let id = Id::random();
        store
            .create(&id, b"\x80", SystemTime::now() + lifetime)
            .await
            .unwrap();
        let ttl =
            server_ttl(&store.key(&id)).unwrap_or_else(|| panic!("{days}-day session is missing"));
        let expected = lifetime.as_secs() as i64;
        assert!(
            (expected - 5..=expected + CLOCK_SLACK).contains(&ttl),
            "{days} days: server TTL {ttl}, expected {expected}"
        );
        assert_ne!(ttl, -1, "stored without expiry");

        // The same on save and touch.
        let version = store.load(&id).await.unwrap().unwrap().version();
        store
            .save(&id, b"\x81\xa1a\x01", SystemTime::now() + lifetime, version)
            .await
            .unwrap();
        let ttl = server_ttl(&store.key(&id)).unwrap();
        assert!(
            (expected - 5..=expected + CLOCK_SLACK).contains(&ttl),
            "{days} days after save: {ttl}"
        );
        store
            .touch(&id, SystemTime::now() + lifetime)
            .await
            .unwrap();
        let ttl = server_ttl(&store.key(&id)).unwrap();
        assert!(
            (expected - 5..=expected + CLOCK_SLACK).contains(&ttl),
            "{days} days after touch: {ttl}"
        );
    }
}

#[tokio::test]
async fn an_already_past_expiry_is_never_forever() {
    let store = connect(&[NODE_A]).await;
    let id = Id::random();
    store
        .create(&id, b"\x80", SystemTime::now() - Duration::from_secs(10))
        .await
        .unwrap();
    let ttl = server_ttl(&store.key(&id));
    assert!(
        matches!(ttl, None | Some(0..=1)),
        "an expired record got TTL {ttl:?}"
    );
}
