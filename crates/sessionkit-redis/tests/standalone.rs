//! The conformance suite and the user index cases against standalone Redis
//! (127.0.0.1:6379), over the default multiplexed connection (with the near cache, the
//! default, and without), a pool, and an application's own redis-rs client.

mod support;

use sessionkit_redis::{ConnectionKind, RedisStore};
use sessionkit_testkit::{Harness, TimeTravel};
use support::{STANDALONE, connect, unique_prefix};

async fn multiplexed() -> Harness {
    let store = connect(STANDALONE, ConnectionKind::Multiplexed).await;
    assert!(store.near_cache_stats().is_some_and(|stats| stats.active));
    Harness::new(store, TimeTravel::Real)
}

async fn without_near_cache() -> Harness {
    let store = RedisStore::builder(STANDALONE)
        .key_prefix(unique_prefix())
        .near_cache(false)
        .build()
        .await
        .unwrap_or_else(|e| {
            panic!("Redis is not reachable at {STANDALONE}: {e}. Start it with ./scripts/services")
        });
    assert_eq!(store.near_cache_stats(), None);
    Harness::new(store, TimeTravel::Real)
}

async fn pooled() -> Harness {
    Harness::new(
        connect(STANDALONE, ConnectionKind::Pool { max_size: 8 }).await,
        TimeTravel::Real,
    )
}

async fn application_client() -> Harness {
    let client = redis::Client::open(STANDALONE).unwrap();
    let store = RedisStore::builder_from_client(client)
        .key_prefix(unique_prefix())
        .build()
        .await
        .unwrap_or_else(|e| {
            panic!("Redis is not reachable at {STANDALONE}: {e}. Start it with ./scripts/services")
        });
    Harness::new(store, TimeTravel::Real)
}

mod multiplexed {
    sessionkit_testkit::conformance_tests!(super::multiplexed);
    sessionkit_testkit::user_index_tests!(super::multiplexed);
    sessionkit_testkit::scan_tests!(super::multiplexed);
}

mod without_near_cache {
    sessionkit_testkit::conformance_tests!(super::without_near_cache);
    sessionkit_testkit::user_index_tests!(super::without_near_cache);
    sessionkit_testkit::scan_tests!(super::without_near_cache);
}

mod pooled {
    sessionkit_testkit::conformance_tests!(super::pooled);
    sessionkit_testkit::user_index_tests!(super::pooled);
    sessionkit_testkit::scan_tests!(super::pooled);
}

mod application_client {
    sessionkit_testkit::conformance_tests!(super::application_client);
    sessionkit_testkit::user_index_tests!(super::application_client);
    sessionkit_testkit::scan_tests!(super::application_client);
}
