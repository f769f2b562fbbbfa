//! [`MigratingStore`]: moving sessions from one store to another while they are in use.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use std::num::NonZeroUsize;

use crate::{
    ConfigKey, DynClock, DynSessionStore, Error, Id, IndexedRecord, Record, ScanCursor, ScanPage,
    SessionScan, SessionStore, SystemClock, UserIndex, Version,
};

/// How often a move copies a record again because the old store's copy changed meanwhile
/// (only when something other than this store still writes the old store).
const MOVE_ATTEMPTS: usize = 3;

/// A store that moves sessions from an `old` store to a `new` one as they are used, so that
/// switching backends (`SESSION_MIGRATE_FROM`) logs nobody out.
///
/// The new store is the one that counts; the old one only ever loses records:
///
/// - **Reads** (`load`, `load_and_touch`) look in the new store first, then in the old
///   one. A record found only in the old store is **moved**: created in the new store and
///   read back from it, so the [`Version`] handed out is always the new store's and later
///   compare-and-set writes work, then removed from the old store only if it is still the
///   copy that was read (`delete_if`). Two requests moving
///   the same session at once both succeed: the one whose `create` meets a
///   [`Error::Collision`], or that finds the old record already gone, asks the new store
///   again and reads the other's copy. A logout that removes the old record while it is
///   being moved wins: the copy is deleted (unless a request has already read and saved
///   it) and the read finds no session. A move cut short between its steps (a timeout)
///   leaves both copies, and the new one counts.
/// - **Expiry of a moved record**: `Record` carries none, so a record moved by
///   `load_and_touch` or `touch` gets the expiry the caller asked for, and one moved by
///   `load` gets the idle lifetime from now (the `lifetime` given to [`MigratingStore::new`],
///   as the lifecycle's next refresh would set it).
/// - **Writes** (`save`, `touch`) go to the new store, after moving the record when only
///   the old store has it (`touch`); a `save` also removes the old copy, if any. `create`
///   answers [`Error::Collision`] when either store has a live record under the id.
/// - **Deletes** (`delete`, `delete_if`, revocations) remove the record from both stores;
///   `delete` removes the old copy first, so a logout cannot be undone by a move running
///   at the same time.
/// - **Contract answers** come from the new store: `save` and `delete_if` answer
///   [`Error::Gone`] when no store has the record and [`Error::Conflict`] when the new
///   store's record changed. When only the old store has it (the caller's version was not
///   handed out by this store: every read through this store moves the record), they write
///   nothing and answer [`Error::Conflict`]; a caller that then loads again (the lifecycle
///   does, to merge) gets the moved record and its new version.
/// - **Scan** ([`SessionScan`]): present when the new store can scan. It lists the new
///   store's records, then, when the old store can scan too, the old store's (those not
///   moved yet; a record moved during the scan may be listed from both). The cursor says
///   which store it is in.
/// - **User index**: present when the new store has one. `create_for`, `save_for` and
///   `touch_for` go to the new store's index (a record moved by `touch_for` is bound to its
///   user); `sessions_of` lists the new store's records and, when the old store has an
///   index, its records not moved yet (with the old store's versions); `unindex` drops the
///   entry from both. A record moved by a plain `load` is bound to its user in the new index
///   by the next `save_for` or `touch_for` (the lifecycle's end of the same request, unless
///   `SESSION_REFRESH_EACH_REQUEST` is off and nothing changed).
///
/// Each call makes up to a handful of calls to the two stores, so it does not report a
/// [`call_timeout`](SessionStore::call_timeout) of its own: the request lifecycle bounds
/// every call to it, moves and index calls included, by `SESSION_STORE_TIMEOUT`.
/// [`backend`](SessionStore::backend) is the new store's name.
///
/// Nothing else may write the old store during the migration (no process still configured
/// with it alone): a record written there after this store looked would not be seen, and
/// a read that finds the old record rewritten each time it copies it gives up with
/// [`Error::Conflict`] after three copies. When
/// every session of the old store has either moved or expired (one
/// `PERMANENT_SESSION_LIFETIME` after the switch), the old store can be dropped.
///
/// ```
/// use std::sync::Arc;
/// use std::time::{Duration, SystemTime};
/// use sessionkit_core::{Id, MemoryStore, MigratingStore, SessionStore};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let (old, new) = (Arc::new(MemoryStore::new()), Arc::new(MemoryStore::new()));
/// let id = Id::random();
/// old.create(&id, b"\x80", SystemTime::now() + Duration::from_secs(60)).await?;
///
/// let store = MigratingStore::new(new.clone(), old.clone(), Duration::from_secs(3600));
/// let record = store.load(&id).await?.expect("found in the old store");
/// assert!(old.load(&id).await?.is_none(), "moved out of the old store");
/// assert_eq!(new.load(&id).await?.unwrap().version(), record.version());
/// # Ok::<(), sessionkit_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct MigratingStore {
    new: DynSessionStore,
    old: DynSessionStore,
    lifetime: Duration,
    clock: DynClock,
}

/// What became of a move.
enum Move {
    /// This call moved the record (`None`: a logout removed it meanwhile, which wins).
    Done(Option<Record>),
    /// The old store has no record (any more), or another call's move got there first:
    /// the new store has the answer, so the caller asks it again.
    AskNew,
}

/// How a moved record is written to the new store.
#[derive(Clone, Copy)]
enum Bind<'a> {
    /// With `create`: the user is not known (a read).
    Unknown,
    /// With the new index's `create_for`, bound to this user (`touch_for`).
    To(Option<&'a str>),
}

impl MigratingStore {
    /// Moves sessions from `old` to `new` as they are used. `lifetime` is the idle lifetime
    /// (`PERMANENT_SESSION_LIFETIME`): the expiry from now of a record moved by a `load`.
    pub fn new(new: DynSessionStore, old: DynSessionStore, lifetime: Duration) -> Self {
        Self {
            new,
            old,
            lifetime,
            clock: Arc::new(SystemClock),
        }
    }

    /// Reads "now" from `clock` (share it with the lifecycle in tests).
    #[must_use]
    pub fn with_clock(mut self, clock: DynClock) -> Self {
        self.clock = clock;
        self
    }

    /// The new store's index, or an error saying it has none.
    fn new_index(&self) -> Result<&dyn UserIndex, Error> {
        self.new.user_index().ok_or(Error::Unsupported {
            feature: "find a user's sessions",
            key: ConfigKey::UserIndex,
        })
    }

    /// Moves the record under `id` from the old store to the new one with `expires_at`
    /// (see the type's docs), after the new store said it has none.
    ///
    /// A record the old store no longer has may have been moved by another call since the
    /// new store was asked (a move creates before it deletes), and one whose `create`
    /// collides was: either way the caller asks the new store again ([`Move::AskNew`]).
    async fn move_from_old(
        &self,
        id: &Id,
        expires_at: SystemTime,
        bind: Bind<'_>,
    ) -> Result<Move, Error> {
        for _ in 0..MOVE_ATTEMPTS {
            let Some(copied) = self.old.load(id).await? else {
                return Ok(Move::AskNew);
            };
            let created = match bind {
                Bind::Unknown => self.new.create(id, copied.payload(), expires_at).await,
                Bind::To(user) => {
                    self.new_index()?
                        .create_for(id, copied.payload(), expires_at, user)
                        .await
                }
            };
            match created {
                Ok(()) => {}
                // Another call moved it first: its copy is the one.
                Err(e) if e.is_collision() => return Ok(Move::AskNew),
                Err(e) => return Err(e),
            }
            let Some(ours) = self.new.load(id).await? else {
                // Deleted as soon as it was written: a logout.
                return Ok(Move::Done(None));
            };
            // Whether the new store still holds our copy, as far as its bytes tell: the
            // lifecycle never saves the very bytes it loaded.
            let untouched = ours.payload() == copied.payload();
            match self.old.delete_if(id, copied.version()).await {
                Ok(()) => return Ok(Move::Done(Some(ours))),
                // The old record went meanwhile. A logout or a revocation removes the old
                // copy first, then the new one, so one that finished before our copy was
                // written left it: the logout wins and our copy goes. But a request that
                // read our copy and saved it removes the old copy too (as every save does):
                // then the new store holds that request's write, and the session lives on.
                Err(e) if e.is_gone() => {
                    if !untouched {
                        return Ok(Move::AskNew);
                    }
                    return match self.new.delete_if(id, ours.version()).await {
                        Ok(()) => Ok(Move::Done(None)),
                        Err(e) if e.is_gone() || e.is_conflict() => Ok(Move::AskNew),
                        Err(e) => Err(e),
                    };
                }
                // Written in the old store meanwhile (by something else): copy the newer
                // data, unless our copy was written since, which then counts.
                Err(e) if e.is_conflict() => {
                    if !untouched {
                        return Ok(Move::AskNew);
                    }
                    match self.new.delete_if(id, ours.version()).await {
                        Ok(()) => {}
                        Err(e) if e.is_gone() || e.is_conflict() => return Ok(Move::AskNew),
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::Conflict)
    }

    /// What `save` and `delete_if` answer when the new store had no record: `Conflict`
    /// when a store has one now (never moved through this store, or moved meanwhile),
    /// else `Gone`.
    async fn gone_or_unmoved(&self, id: &Id) -> Error {
        let live = match self.old.load(id).await {
            Ok(Some(_)) => Ok(true),
            Ok(None) => self.new.load(id).await.map(|r| r.is_some()),
            Err(e) => Err(e),
        };
        match live {
            Ok(true) => Error::Conflict,
            Ok(false) => Error::Gone,
            Err(e) => e,
        }
    }

    /// `create`'s check: a live record in the old store holds the id too. (Nothing adds
    /// records to the old store, so the answer cannot change before the new record is
    /// written.)
    async fn unused_in_old(&self, id: &Id) -> Result<(), Error> {
        match self.old.load(id).await? {
            Some(_) => Err(Error::Collision),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl SessionStore for MigratingStore {
    async fn create(&self, id: &Id, payload: &[u8], expires_at: SystemTime) -> Result<(), Error> {
        self.unused_in_old(id).await?;
        self.new.create(id, payload, expires_at).await
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
        if let Some(record) = self.new.load(id).await? {
            return Ok(Some(record));
        }
        let expires_at = self.clock.now() + self.lifetime;
        match self.move_from_old(id, expires_at, Bind::Unknown).await? {
            Move::Done(record) => Ok(record),
            Move::AskNew => self.new.load(id).await,
        }
    }

    async fn load_and_touch(
        &self,
        id: &Id,
        expires_at: SystemTime,
    ) -> Result<Option<Record>, Error> {
        if let Some(record) = self.new.load_and_touch(id, expires_at).await? {
            return Ok(Some(record));
        }
        match self.move_from_old(id, expires_at, Bind::Unknown).await? {
            Move::Done(record) => Ok(record),
            Move::AskNew => self.new.load_and_touch(id, expires_at).await,
        }
    }

    async fn save(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
    ) -> Result<(), Error> {
        match self.new.save(id, payload, expires_at, expected).await {
            Ok(()) => self.old.delete(id).await,
            Err(e) if e.is_gone() => Err(self.gone_or_unmoved(id).await),
            Err(e) => Err(e),
        }
    }

    async fn touch(&self, id: &Id, expires_at: SystemTime) -> Result<(), Error> {
        match self.new.touch(id, expires_at).await {
            Err(e) if e.is_gone() => {
                match self.move_from_old(id, expires_at, Bind::Unknown).await? {
                    Move::Done(Some(_)) => Ok(()),
                    Move::Done(None) => Err(Error::Gone),
                    Move::AskNew => self.new.touch(id, expires_at).await,
                }
            }
            other => other,
        }
    }

    async fn delete(&self, id: &Id) -> Result<(), Error> {
        self.old.delete(id).await?;
        self.new.delete(id).await
    }

    async fn delete_if(&self, id: &Id, expected: Version) -> Result<(), Error> {
        match self.new.delete_if(id, expected).await {
            Ok(()) => self.old.delete(id).await,
            Err(e) if e.is_gone() => Err(self.gone_or_unmoved(id).await),
            Err(e) => Err(e),
        }
    }

    fn user_index(&self) -> Option<&dyn UserIndex> {
        self.new.user_index().map(|_| self as &dyn UserIndex)
    }

    fn session_scan(&self) -> Option<&dyn SessionScan> {
        self.new.session_scan().map(|_| self as &dyn SessionScan)
    }

    fn backend(&self) -> &'static str {
        self.new.backend()
    }
}

/// The new store's records, then the old store's (see the type's docs). The cursor is the
/// inner store's, after `new:` or `old:`. Only reached through
/// [`SessionStore::session_scan`], which returns `Some` only when the new store scans.
#[async_trait]
impl SessionScan for MigratingStore {
    async fn scan(
        &self,
        from: Option<&ScanCursor>,
        limit: NonZeroUsize,
    ) -> Result<ScanPage, Error> {
        let (in_old, inner) = match from.map(ScanCursor::as_str) {
            None => (false, None),
            Some(text) => match (text.strip_prefix("new:"), text.strip_prefix("old:")) {
                (Some(rest), _) => (false, Some(ScanCursor::new(rest))),
                (_, Some("")) => (true, None),
                (_, Some(rest)) => (true, Some(ScanCursor::new(rest))),
                _ => return Err(Error::decode("not a cursor of a migrating store")),
            },
        };
        let store = if in_old { &self.old } else { &self.new };
        let scan = store.session_scan().ok_or(Error::Unsupported {
            feature: "list its sessions",
            key: ConfigKey::MigrateFrom,
        })?;
        let page = scan.scan(inner.as_ref(), limit).await?;
        let tag = if in_old { "old:" } else { "new:" };
        let next = match page.next {
            Some(next) => Some(ScanCursor::new(format!("{tag}{next}"))),
            // The new store is done: on to the old one, if it can be listed.
            None if !in_old && self.old.session_scan().is_some() => Some(ScanCursor::new("old:")),
            None => None,
        };
        Ok(ScanPage::new(page.records, next))
    }
}

/// The new store's index, with records still in the old store taken into account as
/// [`SessionStore`] does above. Only reached through [`SessionStore::user_index`], which
/// returns `Some` only when the new store has an index.
#[async_trait]
impl UserIndex for MigratingStore {
    async fn create_for(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        user: Option<&str>,
    ) -> Result<(), Error> {
        self.unused_in_old(id).await?;
        self.new_index()?
            .create_for(id, payload, expires_at, user)
            .await
    }

    async fn save_for(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
        user: Option<&str>,
    ) -> Result<(), Error> {
        let saved = self
            .new_index()?
            .save_for(id, payload, expires_at, expected, user)
            .await;
        match saved {
            Ok(()) => self.old.delete(id).await,
            Err(e) if e.is_gone() => Err(self.gone_or_unmoved(id).await),
            Err(e) => Err(e),
        }
    }

    async fn touch_for(
        &self,
        id: &Id,
        expires_at: SystemTime,
        user: Option<&str>,
    ) -> Result<(), Error> {
        let index = self.new_index()?;
        match index.touch_for(id, expires_at, user).await {
            Err(e) if e.is_gone() => {
                match self.move_from_old(id, expires_at, Bind::To(user)).await? {
                    Move::Done(Some(_)) => Ok(()),
                    Move::Done(None) => Err(Error::Gone),
                    Move::AskNew => index.touch_for(id, expires_at, user).await,
                }
            }
            other => other,
        }
    }

    async fn sessions_of(&self, user: &str) -> Result<Vec<IndexedRecord>, Error> {
        let mut records = self.new_index()?.sessions_of(user).await?;
        if let Some(old) = self.old.user_index() {
            for record in old.sessions_of(user).await? {
                // A copy left in the old store beside a moved record is not another session.
                if !records.iter().any(|r| r.id == record.id) {
                    records.push(record);
                }
            }
        }
        Ok(records)
    }

    async fn unindex(&self, user: &str, id: &Id) -> Result<(), Error> {
        self.new_index()?.unindex(user, id).await?;
        match self.old.user_index() {
            Some(old) => old.unindex(user, id).await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
#[path = "migrating_tests.rs"]
mod tests;
