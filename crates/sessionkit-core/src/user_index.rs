//! The optional capability of finding a user's sessions: [`UserIndex`].

use std::time::SystemTime;

use async_trait::async_trait;

use crate::{Error, Id, Record, SessionStore, Version};

/// A live record found through a [`UserIndex`]: its id in the store, the record as `load`
/// would return it, and its expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IndexedRecord {
    /// The id the record is stored under (with `SESSION_HASH_IDS`, the hashed id).
    pub id: Id,
    /// The payload and version, as [`SessionStore::load`] returns them.
    pub record: Record,
    /// When the record expires, as the store keeps it (to the store's precision).
    pub expires_at: SystemTime,
}

impl IndexedRecord {
    /// A record found under `id`.
    pub fn new(id: Id, record: Record, expires_at: SystemTime) -> Self {
        Self {
            id,
            record,
            expires_at,
        }
    }
}

/// A store that can find the sessions bound to a user, for "log out everywhere", a list of
/// a user's devices and a cap on sessions per user.
///
/// The request lifecycle binds a session to the user named by its `SESSION_USER_KEY`
/// value (default Flask-Login's `_user_id`) and, when `SESSION_USER_INDEX` is on, writes
/// through the `_for` methods below instead of their plain counterparts. A store that
/// implements this trait says so through [`SessionStore::user_index`]; configuring the
/// index on a store that does not is an error at startup.
///
/// # Contract
///
/// On top of the [`SessionStore`] contract (checked by `sessionkit-testkit`'s
/// `user_index_tests!`):
///
/// - **`create_for`, `save_for`, `touch_for`** do exactly what `create`, `save` and
///   `touch` do, with the same errors, and bind the record to `user` (`None`: to nobody).
///   The binding is written in the same atomic step as the record where the backend can;
///   where it cannot, the index entry is written **before** the record, so that a record
///   is never live and bound without being findable.
/// - **`sessions_of(user)`** returns every live record last written by a `_for` call with
///   that user, each with its current version and expiry. It never returns a deleted or
///   expired record. It may also return records since re-bound to someone else (a stale
///   index entry, until [`unindex`](UserIndex::unindex) drops it): callers decide from the
///   payload. `touch_for` keeps the entry findable for as long as the record lives.
/// - **The index leaves nothing behind**: entries of records that were deleted or expired
///   are dropped by `sessions_of` (lazily) or expire with the records.
/// - User names are opaque text: any characters, compared exactly.
///
/// A backend that can only keep the index on a best-effort basis (Memcached, which may
/// evict the index entry) documents exactly what may be missed.
#[async_trait]
pub trait UserIndex: SessionStore {
    /// [`SessionStore::create`], binding the new record to `user`.
    ///
    /// # Errors
    /// As `create`.
    async fn create_for(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        user: Option<&str>,
    ) -> Result<(), Error>;

    /// [`SessionStore::save`], binding the record to `user`.
    ///
    /// # Errors
    /// As `save`: [`Error::Gone`] and [`Error::Conflict`] write nothing, the index included.
    async fn save_for(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
        user: Option<&str>,
    ) -> Result<(), Error>;

    /// [`SessionStore::touch`], keeping `user`'s index entry for the record alive at least
    /// until `expires_at`.
    ///
    /// # Errors
    /// As `touch`.
    async fn touch_for(
        &self,
        id: &Id,
        expires_at: SystemTime,
        user: Option<&str>,
    ) -> Result<(), Error>;

    /// The live records bound to `user` (see the contract for stale entries).
    ///
    /// # Errors
    /// Backend failures.
    async fn sessions_of(&self, user: &str) -> Result<Vec<IndexedRecord>, Error>;

    /// Drops `id` from `user`'s index, if it is there; the record itself is untouched.
    /// Called for stale entries (a record re-bound to someone else).
    ///
    /// # Errors
    /// Backend failures.
    async fn unindex(&self, user: &str, id: &Id) -> Result<(), Error>;
}
