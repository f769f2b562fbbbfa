//! The conformance suite against standalone Redis (127.0.0.1:6379), over the default
//! multiplexed connection, a pool the store builds, and an application's own bb8 pool.

mod support;

use bb8_redis::RedisConnectionManager;
use sessionkit_redis::{ConnectionKind, RedisStore};
use sessionkit_testkit::{Harness, TimeTravel};
use support::{STANDALONE, connect, unique_prefix};

async fn multiplexed() -> Harness {
    Harness::new(
        connect(STANDALONE, ConnectionKind::Multiplexed).await,
        TimeTravel::Real,
    )
}

async fn pooled() -> Harness {
    Harness::new(
        connect(STANDALONE, ConnectionKind::Pool { max_size: 8 }).await,
        TimeTravel::Real,
    )
}

async fn application_pool() -> Harness {
    let manager = RedisConnectionManager::new(STANDALONE).unwrap();
    let pool = bb8::Pool::builder()
        .max_size(8)
        .test_on_check_out(false)
        .build(manager)
        .await
        .unwrap_or_else(|e| {
            panic!("Redis is not reachable at {STANDALONE}: {e}. Start it with ./scripts/services")
        });
    let store = RedisStore::from_pool(pool).with_key_prefix(unique_prefix());
    Harness::new(store, TimeTravel::Real)
}

mod multiplexed {
    sessionkit_testkit::conformance_tests!(super::multiplexed);
}

mod pooled {
    sessionkit_testkit::conformance_tests!(super::pooled);
}

mod application_pool {
    sessionkit_testkit::conformance_tests!(super::application_pool);
}
