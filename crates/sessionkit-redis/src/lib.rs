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
//! connection (the default) or a bb8 pool; an application's own pool or connection can be
//! passed in with [`RedisStore::from_pool`] and friends.
//!
//! # Multiplexed or pooled
//!
//! `benches/redis.rs` at the workspace root runs 64 concurrent tasks doing load + save on
//! one server. On the 2-core development machine the single multiplexed connection did
//! about as well as or better than a bb8 pool of 16 (it pipelines every task's commands on
//! one socket), so it is the default; see the README for the figures.

mod connection;
mod error;
mod sentinel;
mod store;
mod url;

pub use store::{
    ConnectionKind, DEFAULT_KEY_PREFIX, DEFAULT_TIMEOUT, RedisStore, RedisStoreBuilder,
};
pub use url::RedisUrl;

/// The client crates, re-exported so an application can build its own pool or connection.
pub use {bb8, bb8_redis, redis};
