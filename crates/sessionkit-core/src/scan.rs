//! The optional capability of listing a store's sessions page by page: [`SessionScan`].

use std::fmt;
use std::num::NonZeroUsize;
use std::time::SystemTime;

use async_trait::async_trait;

use crate::{Error, Id, SessionStore, Version};

/// Where a scan goes on: opaque text written by the store that returned it, meaningful only
/// to a store of the same kind and configuration. It can be kept (in a file) and handed back
/// later, by another process, to resume the scan.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScanCursor(String);

impl ScanCursor {
    /// A cursor from its text, as [`as_str`](Self::as_str) wrote it.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The text to keep.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ScanCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A live record found by a scan: what the store can tell without loading it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScannedRecord {
    /// The id the record is stored under (with `SESSION_HASH_IDS`, the hashed id).
    pub id: Id,
    /// The size of the stored payload in bytes. Memcached reports its item size instead,
    /// which also counts the key and the item's header.
    pub size: u64,
    /// When the record expires, as the store keeps it (to the store's precision); `None`
    /// for a record stored without an expiry (never by sessionkit; by hand, or by another
    /// program sharing the keys).
    pub expires_at: Option<SystemTime>,
    /// The version `load` would return, where the listing reads it (SQL, memory).
    pub version: Option<Version>,
}

impl ScannedRecord {
    /// A record found under `id`, `size` bytes long, expiring at `expires_at`.
    pub fn new(id: Id, size: u64, expires_at: Option<SystemTime>) -> Self {
        Self {
            id,
            size,
            expires_at,
            version: None,
        }
    }

    /// The same, with the version the listing read.
    pub fn with_version(mut self, version: Version) -> Self {
        self.version = Some(version);
        self
    }
}

/// One page of a scan: the records found and where the scan goes on (`None`: it is done).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScanPage {
    /// The live records of this page, in no particular order.
    pub records: Vec<ScannedRecord>,
    /// The cursor of the next page; `None` when the scan is complete.
    pub next: Option<ScanCursor>,
}

impl ScanPage {
    /// A page of `records`, followed by `next`.
    pub fn new(records: Vec<ScannedRecord>, next: Option<ScanCursor>) -> Self {
        Self { records, next }
    }
}

/// A store that can list its sessions, page by page, without blocking its server: for
/// admin tools (the `sessionkit` command-line tool's `list`, `stats`, `copy`).
///
/// A store that implements it says so through [`SessionStore::session_scan`].
///
/// # Contract
///
/// - **Complete**: a scan started with `None` and continued with each page's
///   [`next`](ScanPage::next) until it is `None` lists every record that was live for the
///   whole scan at least once. Records created, deleted or expiring during the scan may or
///   may not be listed; a record may be listed twice (Redis `SCAN` does this while the
///   server resizes its table), so a caller that must not act twice checks.
/// - **Live records only**: never an expired record (as `load`), never an entry that is
///   not a session (a user index's sets or records).
/// - **Stored ids**: the ids the store keeps, which with `SESSION_HASH_IDS` are the
///   hashed ones, not cookies.
/// - **Bounded pages**: `limit` is a hint of how many keys to visit per page (Redis' `COUNT`);
///   a page may hold more or fewer records, **even none while `next` is `Some`**. Each page
///   is one bounded call (the store's timeout), and no page holds the server for long:
///   keyset pagination on SQL, `SCAN` on Redis. Memcached is the exception: a page is one
///   server's whole `lru_crawler metadump`, run by the server's crawler thread beside its
///   workers.
/// - **Resumable**: a cursor stays valid across processes for a store of the same kind and
///   configuration.
#[async_trait]
pub trait SessionScan: SessionStore {
    /// The page of live records that starts at `from` (`None`: the beginning), visiting
    /// about `limit` keys.
    ///
    /// # Errors
    /// Backend failures (a memcached server without `lru_crawler metadump` is
    /// [`Error::Backend`] saying so); [`Error::Decode`] for a cursor this store did not
    /// write.
    async fn scan(&self, from: Option<&ScanCursor>, limit: NonZeroUsize)
    -> Result<ScanPage, Error>;
}
