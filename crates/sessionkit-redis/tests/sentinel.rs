//! The conformance suite and the user index cases against the master of service
//! `sessionkit`, found through a Sentinel on 127.0.0.1:26379.

mod support;

use sessionkit_redis::ConnectionKind;
use sessionkit_testkit::{Harness, TimeTravel};
use support::{SENTINEL, connect};

async fn sentinel() -> Harness {
    Harness::new(
        connect(SENTINEL, ConnectionKind::default()).await,
        TimeTravel::Real,
    )
}

async fn sentinel_without_near_cache() -> Harness {
    let store = sessionkit_redis::RedisStore::builder(SENTINEL)
        .key_prefix(support::unique_prefix())
        .near_cache(false)
        .build()
        .await
        .unwrap_or_else(|e| {
            panic!("Sentinel is not reachable at {SENTINEL}: {e}. Start it with ./scripts/services")
        });
    Harness::new(store, TimeTravel::Real)
}

/// With the near cache (the default).
mod near_cache {
    sessionkit_testkit::conformance_tests!(super::sentinel);
    sessionkit_testkit::user_index_tests!(super::sentinel);
    sessionkit_testkit::scan_tests!(super::sentinel);
}

mod without_near_cache {
    sessionkit_testkit::conformance_tests!(super::sentinel_without_near_cache);
    sessionkit_testkit::user_index_tests!(super::sentinel_without_near_cache);
    sessionkit_testkit::scan_tests!(super::sentinel_without_near_cache);
}
