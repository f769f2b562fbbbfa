//! The storage contract every backend implements.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use crate::{Error, Id, Record, SessionScan, UserIndex, Version};

/// A shared, type-erased store, as [`sessionkit::connect`] returns it.
///
/// [`sessionkit::connect`]: https://docs.rs/sessionkit/latest/sessionkit/fn.connect.html
pub type DynSessionStore = Arc<dyn SessionStore>;

/// Where sessions live: a map from [`Id`] to encoded bytes with an expiry.
///
/// A store knows bytes, versions and expiry times; it knows nothing of HTTP, cookies or the
/// codec. The keys it uses (such as `session:` + id) are its own business.
///
/// # Contract
///
/// Every implementation guarantees the following; `sessionkit-testkit` checks each point and
/// a store is done when it passes the whole suite.
///
/// - **`create`** stores a new record only if no live record has the id. It never
///   overwrites: on an existing id it writes nothing and returns [`Error::Collision`]. The
///   check and the write are one atomic step (no read-then-write race).
/// - **`load`** returns the payload exactly as written and a [`Version`], or `None` when no
///   record exists. It **never returns an expired record**, even if the backend has not
///   evicted it yet.
/// - **`load_and_touch`** is `load` followed by `touch`, as one step where the backend can
///   (Redis `GETEX`); the version it returns is valid for a later `save`.
/// - **`save`** replaces the payload and expiry of a record loaded earlier, given the
///   version `load` returned:
///   - no live record (deleted, revoked, expired): writes nothing, returns [`Error::Gone`].
///     A logout can never be undone by a slower concurrent request.
///   - the record changed since that load (another `save`, or a delete and re-create):
///     writes nothing, returns [`Error::Conflict`].
///   - otherwise writes, atomically with the check. Of two saves from the same loaded
///     version exactly one succeeds.
/// - **`touch`** moves the expiry of a live record without rewriting its data and without
///   changing its version; [`Error::Gone`] when there is none.
/// - **`delete`** removes the record; deleting a missing record succeeds (idempotent).
/// - **`delete_if`** removes the record only if it is still the one loaded with the given
///   version, atomically with the check, as `save` does: no live record is [`Error::Gone`],
///   another version is [`Error::Conflict`], and nothing is deleted in either case. The
///   lifecycle moves a session to a new id (`cycle_id`) with it, so a rotation that raced a
///   logout cannot bring the logged-out data back.
/// - Expiry times are absolute. A store that cannot represent sub-second expiry rounds
///   **up**, never down to "no expiry": a record is never stored without one.
/// - Failures are typed: an unreachable or failing backend is [`Error::Unavailable`],
///   [`Error::Timeout`] or [`Error::Backend`] with the client's error as the source, never
///   a panic.
///
/// Implementations are used as `dyn SessionStore` (see [`DynSessionStore`]) and through
/// `Arc`/`Box`, which forward every call.
///
/// # Example: a minimal store
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use std::time::{Duration, SystemTime};
///
/// use async_trait::async_trait;
/// use bytes::Bytes;
/// use sessionkit_core::{Error, Id, Record, SessionStore, Version};
///
/// #[derive(Debug, Default)]
/// struct TinyStore(Mutex<HashMap<Id, (Bytes, SystemTime, u64)>>);
///
/// impl TinyStore {
///     fn live(&self, id: &Id) -> Option<(Bytes, SystemTime, u64)> {
///         let mut map = self.0.lock().unwrap();
///         match map.get(id) {
///             Some(entry) if entry.1 > SystemTime::now() => Some(entry.clone()),
///             Some(_) => { map.remove(id); None }
///             None => None,
///         }
///     }
/// }
///
/// #[async_trait]
/// impl SessionStore for TinyStore {
///     async fn create(&self, id: &Id, payload: &[u8], expires_at: SystemTime) -> Result<(), Error> {
///         if self.live(id).is_some() { return Err(Error::Collision); }
///         self.0.lock().unwrap().insert(*id, (Bytes::copy_from_slice(payload), expires_at, 0));
///         Ok(())
///     }
///     async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
///         Ok(self.live(id).map(|(data, _, v)| Record::new(data, Version::new(v))))
///     }
///     async fn load_and_touch(&self, id: &Id, expires_at: SystemTime) -> Result<Option<Record>, Error> {
///         let record = self.load(id).await?;
///         if let Some(entry) = self.0.lock().unwrap().get_mut(id) { entry.1 = expires_at; }
///         Ok(record)
///     }
///     async fn save(&self, id: &Id, payload: &[u8], expires_at: SystemTime, expected: Version) -> Result<(), Error> {
///         let (_, _, v) = self.live(id).ok_or(Error::Gone)?;
///         if v != expected.get() { return Err(Error::Conflict); }
///         self.0.lock().unwrap().insert(*id, (Bytes::copy_from_slice(payload), expires_at, v + 1));
///         Ok(())
///     }
///     async fn touch(&self, id: &Id, expires_at: SystemTime) -> Result<(), Error> {
///         self.live(id).ok_or(Error::Gone)?;
///         self.0.lock().unwrap().get_mut(id).ok_or(Error::Gone)?.1 = expires_at;
///         Ok(())
///     }
///     async fn delete(&self, id: &Id) -> Result<(), Error> {
///         self.0.lock().unwrap().remove(id);
///         Ok(())
///     }
///     async fn delete_if(&self, id: &Id, expected: Version) -> Result<(), Error> {
///         let (_, _, v) = self.live(id).ok_or(Error::Gone)?;
///         if v != expected.get() { return Err(Error::Conflict); }
///         self.0.lock().unwrap().remove(id);
///         Ok(())
///     }
/// }
/// ```
/// (It holds one lock per step for brevity, so its check-and-write is not atomic under
/// concurrency; [`MemoryStore`](crate::MemoryStore) does it properly.)
#[async_trait]
pub trait SessionStore: Send + Sync + Debug {
    /// Stores `payload` under `id` until `expires_at`, only if `id` is free.
    ///
    /// # Errors
    /// [`Error::Collision`] when a live record has this id; backend failures.
    async fn create(&self, id: &Id, payload: &[u8], expires_at: SystemTime) -> Result<(), Error>;

    /// The live record under `id`, or `None`.
    ///
    /// # Errors
    /// Backend failures only; a missing or expired record is `Ok(None)`.
    async fn load(&self, id: &Id) -> Result<Option<Record>, Error>;

    /// The live record under `id`, or `None`, with its expiry moved to `expires_at`.
    ///
    /// # Errors
    /// Backend failures only; a missing or expired record is `Ok(None)`.
    async fn load_and_touch(
        &self,
        id: &Id,
        expires_at: SystemTime,
    ) -> Result<Option<Record>, Error>;

    /// Replaces the record under `id`, if it is still the one loaded with `expected`.
    ///
    /// # Errors
    /// [`Error::Gone`] when no live record exists, [`Error::Conflict`] when it changed since
    /// it was loaded (nothing is written in either case); backend failures.
    async fn save(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
    ) -> Result<(), Error>;

    /// Moves the expiry of the live record under `id` to `expires_at`.
    ///
    /// # Errors
    /// [`Error::Gone`] when no live record exists; backend failures.
    async fn touch(&self, id: &Id, expires_at: SystemTime) -> Result<(), Error>;

    /// Removes the record under `id`, if any.
    ///
    /// # Errors
    /// Backend failures only; deleting a missing record succeeds.
    async fn delete(&self, id: &Id) -> Result<(), Error>;

    /// Removes the record under `id`, if it is still the one loaded with `expected`.
    ///
    /// # Errors
    /// [`Error::Gone`] when no live record exists, [`Error::Conflict`] when it changed since
    /// it was loaded (nothing is deleted in either case); backend failures.
    async fn delete_if(&self, id: &Id, expected: Version) -> Result<(), Error>;

    /// The limit the store itself puts on every call, if it has one (`Duration::ZERO` for
    /// a store that never waits). The request lifecycle adds its own timer only when this
    /// is `None` or longer than its configured timeout, so a call is never timed twice.
    /// The default, `None`, is always safe.
    fn call_timeout(&self) -> Option<Duration> {
        None
    }

    /// This store as a [`UserIndex`], if it can find the sessions bound to a user. The
    /// default, `None`, is right for a store that cannot; one that implements `UserIndex`
    /// returns `Some(self)`.
    fn user_index(&self) -> Option<&dyn UserIndex> {
        None
    }

    /// This store as a [`SessionScan`], if it can list its sessions page by page. The
    /// default, `None`, is right for a store that cannot; one that implements
    /// `SessionScan` returns `Some(self)`, and a decorator forwards its inner store's.
    fn session_scan(&self) -> Option<&dyn SessionScan> {
        None
    }

    /// A short, stable name of the backend, for metric labels and traces: `"memory"`,
    /// `"redis"`, `"memcached"`, `"postgres"`, `"mysql"` or `"sqlite"` for sessionkit's
    /// stores. The default, `"custom"`, is right for a store that does not say; a decorator
    /// (a store wrapping another) returns the name of the store it wraps.
    fn backend(&self) -> &'static str {
        "custom"
    }

    /// Whether this store keeps nothing because the lifecycle puts the whole session in
    /// the cookie ([`CookieStore`](crate::CookieStore)). The default, `false`, is right
    /// for every store that keeps records.
    fn data_in_cookie(&self) -> bool {
        false
    }
}

/// A store that must remove expired records itself (SQL tables, the memory store), unlike
/// Redis and Memcached which expire keys natively.
#[async_trait]
pub trait ExpiredDeletion: SessionStore {
    /// Deletes records whose expiry has passed and returns how many were deleted. Stores
    /// delete in bounded batches, so a large backlog never blocks other callers for long.
    ///
    /// # Errors
    /// Backend failures.
    async fn delete_expired(&self) -> Result<u64, Error>;
}

macro_rules! forward_session_store {
    ($($ptr:ident),+) => {$(
        #[async_trait]
        impl<T: SessionStore + ?Sized> SessionStore for $ptr<T> {
            async fn create(&self, id: &Id, payload: &[u8], expires_at: SystemTime) -> Result<(), Error> {
                (**self).create(id, payload, expires_at).await
            }

            async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
                (**self).load(id).await
            }

            async fn load_and_touch(&self, id: &Id, expires_at: SystemTime) -> Result<Option<Record>, Error> {
                (**self).load_and_touch(id, expires_at).await
            }

            async fn save(&self, id: &Id, payload: &[u8], expires_at: SystemTime, expected: Version) -> Result<(), Error> {
                (**self).save(id, payload, expires_at, expected).await
            }

            async fn touch(&self, id: &Id, expires_at: SystemTime) -> Result<(), Error> {
                (**self).touch(id, expires_at).await
            }

            async fn delete(&self, id: &Id) -> Result<(), Error> {
                (**self).delete(id).await
            }

            async fn delete_if(&self, id: &Id, expected: Version) -> Result<(), Error> {
                (**self).delete_if(id, expected).await
            }

            fn call_timeout(&self) -> Option<Duration> {
                (**self).call_timeout()
            }

            fn user_index(&self) -> Option<&dyn UserIndex> {
                (**self).user_index()
            }

            fn session_scan(&self) -> Option<&dyn SessionScan> {
                (**self).session_scan()
            }

            fn backend(&self) -> &'static str {
                (**self).backend()
            }

            fn data_in_cookie(&self) -> bool {
                (**self).data_in_cookie()
            }
        }

        #[async_trait]
        impl<T: UserIndex + ?Sized> UserIndex for $ptr<T> {
            async fn create_for(&self, id: &Id, payload: &[u8], expires_at: SystemTime, user: Option<&str>) -> Result<(), Error> {
                (**self).create_for(id, payload, expires_at, user).await
            }

            async fn save_for(&self, id: &Id, payload: &[u8], expires_at: SystemTime, expected: Version, user: Option<&str>) -> Result<(), Error> {
                (**self).save_for(id, payload, expires_at, expected, user).await
            }

            async fn touch_for(&self, id: &Id, expires_at: SystemTime, user: Option<&str>) -> Result<(), Error> {
                (**self).touch_for(id, expires_at, user).await
            }

            async fn sessions_of(&self, user: &str) -> Result<Vec<crate::IndexedRecord>, Error> {
                (**self).sessions_of(user).await
            }

            async fn unindex(&self, user: &str, id: &Id) -> Result<(), Error> {
                (**self).unindex(user, id).await
            }
        }

        #[async_trait]
        impl<T: SessionScan + ?Sized> SessionScan for $ptr<T> {
            async fn scan(&self, from: Option<&crate::ScanCursor>, limit: std::num::NonZeroUsize) -> Result<crate::ScanPage, Error> {
                (**self).scan(from, limit).await
            }
        }

        #[async_trait]
        impl<T: ExpiredDeletion + ?Sized> ExpiredDeletion for $ptr<T> {
            async fn delete_expired(&self) -> Result<u64, Error> {
                (**self).delete_expired().await
            }
        }
    )+};
}

forward_session_store!(Arc, Box);
