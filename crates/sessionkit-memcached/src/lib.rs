//! Memcached store for [sessionkit](https://docs.rs/sessionkit): sessions spread over one or
//! more memcached servers, stored as Flask-Session stores them (`session:` + id, the codec's
//! bytes), with memcached's expiry rules applied correctly.
//!
//! Usable on its own (no facade needed): see [`MemcachedStore`].
//!
//! The client is the `memcache` crate's async meta-protocol client (`memcache::exp`,
//! marked experimental, so pinned to `~0.21`); only `client.rs` knows it. Key routing
//! (rendezvous hashing with XXH3), expiry conversion and key validation are this crate's
//! own.

mod client;
mod exptime;
mod key;
mod rendezvous;
mod store;

pub use store::{DEFAULT_MAX_CONNECTIONS, MemcachedStore, MemcachedStoreBuilder};
