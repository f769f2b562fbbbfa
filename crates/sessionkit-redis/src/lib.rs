//! Redis store for [sessionkit](https://docs.rs/sessionkit): sessions as Redis strings with
//! native expiry, stored exactly as Python's Flask-Session stores them (`session:` + id,
//! the codec's bytes, a TTL).
//!
//! Usable on its own (no facade needed):
//!
//! ```no_run
//! use std::sync::Arc;
//! use sessionkit_core::{SessionConfig, Sessions};
//! use sessionkit_redis::RedisStore;
//!
//! # async fn run() -> Result<(), sessionkit_core::Error> {
//! let store = RedisStore::builder("redis://127.0.0.1:6379")
//!     .key_prefix("session:")
//!     .build()
//!     .await?;
//! let sessions = Sessions::new(Arc::new(store), SessionConfig::default())?;
//! # let _ = sessions; Ok(()) }
//! ```
//!
//! Topologies ([`RedisUrl`]): standalone (`redis://`, `rediss://` over rustls, Unix
//! sockets), Sentinel (`redis+sentinel://h1:p1,h2:p2/service`) and Cluster
//! (`redis+cluster://h1:p1,h2:p2`). Connections ([`ConnectionKind`]): one multiplexed
//! connection (the default) or a bb8 pool. An application's own redis-rs client can be
//! passed in with [`RedisStore::builder_from_client`] and
//! [`RedisStore::builder_from_cluster`]; every setting goes through [`RedisStoreBuilder`].
//!
//! The store is also a [`UserIndex`](sessionkit_core::UserIndex) (a user's sessions, for
//! "log out everywhere"): one set per user at prefix + `user:` + name holding the session
//! ids, written in the same Lua script as the record on one server, and before the record
//! (taken back if the write fails) on a cluster; listings drop entries whose record is gone.
//! [`RedisStore`]'s docs list the commands and the exact guarantee per topology.
//!
//! The store is also a [`SessionScan`](sessionkit_core::SessionScan) (every session, page
//! by page, for admin tools): `SCAN` over the key prefix, on every master of a cluster.
//!
//! A connection on which a call timed out or failed is dropped and replaced, on every
//! topology and both connection kinds, and each reply is checked to be the one to its own
//! call: a network blip costs the calls made during it, nothing after.
//!
//! The multiplexed connection against the pool, and the store against raw redis-rs
//! commands, are measured by `benches/redis.rs`; the figures are in the README.

mod builder;
mod connection;
mod deadline;
mod error;
mod near_cache;
mod pool;
mod replica_ack;
mod scan;
mod script;
mod shared;
mod source;
mod store;
mod telemetry;
mod tracking;
mod url;
mod user_index;

pub use builder::{
    ConnectionKind, DEFAULT_NEAR_CACHE_BYTES, DEFAULT_NEAR_CACHE_ENTRIES, RedisStoreBuilder,
};
pub use near_cache::NearCacheStats;
pub use store::RedisStore;
pub use url::RedisUrl;

/// The client crate, re-exported so an application can build its own client.
pub use redis;
