//! Memcached store for [sessionkit](https://docs.rs/sessionkit): sessions spread over one or
//! more memcached servers, stored as Flask-Session stores them (`session:` + id, the codec's
//! bytes), with memcached's expiry rules applied correctly.
//!
//! Usable on its own (no facade needed): see [`MemcachedStore`].
//!
//! The client is the `memcache` crate's async meta-protocol client (`memcache::exp`,
//! marked experimental, so pinned to `~0.21`); only `client.rs` knows it. Key routing
//! (rendezvous hashing: with XXH3 by default, or pymemcache `HashClient`'s MurmurHash3 to
//! share the servers with a Flask-Session app, see [`MemcachedPlacement`]), expiry
//! conversion and key validation are this crate's own.
//!
//! # Listing sessions
//!
//! [`MemcachedStore`] is a [`SessionScan`](sessionkit_core::SessionScan) through memcached's
//! LRU crawler: `lru_crawler metadump all` on each server in turn (one page per server),
//! which needs memcached 1.4.31 or later with the crawler enabled (the default since 1.5).
//! A server without it (older, or started with `-o no_lru_crawler`) cannot list its keys
//! and the scan fails with an error that says so. Sizes are memcached's item sizes (the
//! payload plus the key and the item header).
//!
//! # User index
//!
//! [`MemcachedStore`] is a [`UserIndex`](sessionkit_core::UserIndex), on a **best-effort**
//! basis: memcached cannot list keys, so the store keeps one record per user and may lose
//! it. The record lives under [`MemcachedStore::user_key`] (prefix + `user:` + base64url of
//! the SHA-256 of the user name), on the server the [`MemcachedPlacement`] picks for that
//! key, which may not be the server of the sessions. It lists the user's session ids, each with the
//! latest expiry a `_for` call wrote for it, and expires with its latest entry (plus 2 s
//! for memcached's one-second clock). Every change is a compare-and-set (`mg key v c`,
//! then `ms key C<cas>`, `ms key ME` to create it, `md key C<cas>` when it is left empty),
//! tried up to 24 times with random pauses while other writers win.
//!
//! `create_for`, `save_for` and `touch_for` write the entry **before** the session; when
//! the session write then fails with `Gone`, `Conflict` or `Collision`, the entry is
//! removed again if that call added it. `sessions_of` reads the record, then fetches every
//! listed session (`mg key v c t`, one pipelined batch per server). Entries whose session is
//! missing are dropped by compare-and-set once their last binding write is older than the
//! store's timeout plus 5 s (a younger one may still have its session write on the way).
//!
//! **Always true:**
//! - Every record `sessions_of` returns was live when fetched, with the payload and
//!   version `load` would have returned then and the expiry the server reported (within
//!   about 2 s). A deleted or expired session is never returned.
//! - As the contract allows, a returned record may have been bound to another user since
//!   (until `unindex`); the request lifecycle checks the payload.
//! - `sessions_of` never returns a partial list: if the index record or any listed session
//!   cannot be read, it fails with the error (`Unavailable`, `Timeout`).
//! - If the index record cannot be written (server down, timeout), the `_for` call fails
//!   with that error before touching the session.
//!
//! **May be missed** (a live session bound to the user that `sessions_of` does not return):
//! - **Eviction.** Memcached may evict the index record under memory pressure before it
//!   expires; a restart or flush of its server loses it too, as does a value this crate did
//!   not write (read as empty, with a warning). Every entry of that user is lost until the
//!   session's next `_for` write adds it back: with a sliding expiry, at its next request.
//! - **Contention.** A change that loses the race 24 times in a row is not made (a
//!   warning is logged) and the session write goes ahead without it.
//! - **The index record's server down.** The user's `_for` writes and listings fail while
//!   it is down, and it comes back empty (as eviction).
//! - **Writes without `_for`.** `create`, `save`, `touch` and `load_and_touch` leave the
//!   index alone; a session they keep alive past its entry's expiry is not listed.
//! - **`unindex` racing a re-binding.** `unindex` removes the entry whatever happened since
//!   the listing that found it stale; a request that binds the same session back to the
//!   user at that moment can lose its entry.
//!
//! A user's record holds about 13,000 sessions at memcached's default item size (1 MiB);
//! beyond that its `_for` writes fail with an `Encode` error.

mod client;
mod exptime;
mod key;
mod members;
mod placement;
mod pymemcache_hash;
mod rendezvous;
mod scan;
mod store;
mod user_index;
mod user_record;

pub use placement::MemcachedPlacement;
pub use store::{DEFAULT_MAX_CONNECTIONS, MemcachedStore, MemcachedStoreBuilder};
