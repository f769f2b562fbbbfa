//! Shared by the Redis test files: connecting to the servers `scripts/services` starts.

#![allow(dead_code)]

use sessionkit_core::Id;
use sessionkit_redis::{ConnectionKind, RedisStore};

pub(crate) const STANDALONE: &str = "redis://127.0.0.1:6379";
pub(crate) const CLUSTER: &str = "redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002";
pub(crate) const SENTINEL: &str = "redis+sentinel://127.0.0.1:26379/sessionkit";

/// A key prefix of its own, so parallel tests and runs never see each other's keys.
pub(crate) fn unique_prefix() -> String {
    format!("sessionkit-test:{}:", &Id::random().to_string()[..12])
}

/// Connects to `url`, failing the test with instructions when the server is not there.
pub(crate) async fn connect(url: &str, kind: ConnectionKind) -> RedisStore {
    RedisStore::builder(url)
        .key_prefix(unique_prefix())
        .connection(kind)
        .build()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "Redis is not reachable at {url}: {e:?}.\n\
                 Start the test servers with ./scripts/services (Redis on 6379, a 3-node \
                 cluster on 7000-7002, Sentinel on 26379 watching a master on 6380)."
            )
        })
}
