//! [`RedisStore`]: sessions as Redis strings with native expiry.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use redis::{Cmd, Value};
use sessionkit_core::{Error, Id, Record, SessionStore, UserIndex, Version};

use crate::connection::Connection;
use crate::deadline::Deadline;
use crate::error::BACKEND;
use crate::script::Script;
use crate::user_index::IndexWrites;

/// The compare-and-set behind `save`: writes only if the key still holds the bytes whose
/// SHA-1 starts with the expected digest. Returns 1 (saved), 0 (gone) or -1 (changed).
static SAVE_SCRIPT: Script = Script::new(
    r"
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if string.sub(redis.sha1hex(current), 1, 16) ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
",
);

/// The compare-and-delete behind `delete_if`, checked as `save` checks. Returns 1
/// (deleted), 0 (gone) or -1 (changed).
static DELETE_SCRIPT: Script = Script::new(
    r"
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if string.sub(redis.sha1hex(current), 1, 16) ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1])
return 1
",
);

/// Sessions in Redis: key = prefix + id, value = the codec's bytes, expiry = Redis TTL,
/// exactly as Flask-Session stores them.
///
/// | Operation | Redis |
/// |---|---|
/// | `create` | `SET key value NX PX ttl` |
/// | `load` | `GET key` |
/// | `load_and_touch` | `GETEX key PX ttl` (one round trip) |
/// | `save` | a compare-and-set Lua script (`EVALSHA`, `EVAL` on `NOSCRIPT`) |
/// | `touch` | `PEXPIRE key ttl` |
/// | `delete` | `DEL key` |
/// | `delete_if` | a compare-and-delete Lua script, checked as `save` |
///
/// It needs Redis 6.2 or later (`GETEX`).
/// Each command goes out with an `ECHO` of a tag of its own, in the same round trip, and
/// its reply is taken only behind that tag: a reply never reaches another call.
///
/// # User index
///
/// The store implements [`UserIndex`] ([`SessionStore::user_index`] is `Some`). Each user
/// has one Redis set, key = prefix + `user:` + the user name (its bytes as given; no
/// session key looks like it, as an id is 43 base64url characters without a `:`), whose
/// members are the ids of the sessions bound to the user, as their keys carry them. The
/// set's expiry is moved on every bound write to at least the record's, never back (the
/// script reads `PTTL` and compares, so Redis 6.2 suffices), so it expires by itself once
/// its last member has; `delete` leaves the member for the next listing to drop.
///
/// | Operation | Standalone, TLS, Sentinel | Cluster |
/// |---|---|---|
/// | `create_for`, `save_for`, `touch_for` | one Lua script: the write, then `SADD` and the set's expiry, atomically | the entry first (`SADD` and the set's expiry, a script on the set's node), then the write; a write that is `Collision`, `Conflict` or `Gone` removes the entry it added (`SREM`); `create_for` writes the entry once more after the record exists |
/// | `sessions_of` | `SMEMBERS`, then `GET` and `PTTL` of every member in one round trip | `SMEMBERS`, then `GET` and `PTTL` per record (one slot each), concurrently |
/// | `unindex` | `SREM` | `SREM` |
///
/// A listed record is exactly what `load` returns (same bytes, same [`Version`]), with the
/// expiry its key has (`PTTL`). Members without a record are dropped by the listing
/// (`SREM`); on a cluster each dropped record is checked once more and its member put back
/// if it exists by then (a `create_for` between its entry and its record).
///
/// The guarantee: on one server the entry and the record are written together or not at
/// all. On a cluster the entry is written before the record, so a live record bound to a
/// user is always in the user's set; a write that fails writes nothing but may leave the
/// entry it added when its outcome is unknown (a timeout) or when removing it fails, a
/// stale entry that listings skip (no record) or that the lifecycle unindexes (bound to
/// someone else). The set's expiry there is the record's plus the store's timeout, as the
/// record is written up to one timeout after the set. Every call, all its commands
/// together, is bounded by the store's timeout.
///
/// The [`Version`] of a loaded record is a digest of its bytes, so a write by anyone else
/// (another process, a Python app) is detected. Every command is bounded by the store's
/// timeout; an unreachable server is [`Error::Unavailable`] or [`Error::Timeout`]. A
/// connection on which a call timed out or failed is dropped, never used again, and the
/// next call connects afresh: the store recovers by itself when the network or the server
/// returns.
///
/// ```no_run
/// use sessionkit_redis::RedisStore;
///
/// # async fn run() -> Result<(), sessionkit_core::Error> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connection: Connection,
    prefix: Arc<str>,
    timeout: Duration,
    index_writes: IndexWrites,
}

impl RedisStore {
    pub(crate) fn new(
        connection: Connection,
        prefix: Arc<str>,
        timeout: Duration,
        index_writes: IndexWrites,
    ) -> Self {
        Self {
            connection,
            prefix,
            timeout,
            index_writes,
        }
    }

    /// The key prefix.
    pub fn key_prefix(&self) -> &str {
        &self.prefix
    }

    /// The Redis key of `id`: prefix + id, as Flask-Session.
    pub fn key(&self, id: &Id) -> String {
        id.key(&self.prefix)
    }

    /// The Redis key of `user`'s set of session ids: prefix + `user:` + the name. No
    /// session key looks like it: an id is 43 base64url characters, never a `:`.
    pub(crate) fn user_key(&self, user: &str) -> String {
        format!("{}user:{user}", self.prefix)
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.connection
    }

    pub(crate) fn index_writes(&self) -> IndexWrites {
        self.index_writes
    }

    /// A deadline for one call: the store's timeout from now.
    pub(crate) fn deadline(&self) -> Deadline {
        Deadline::after(self.timeout)
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: Cmd) -> Result<T, Error> {
        self.connection.query(cmd, &self.deadline()).await
    }

    /// `create`'s write: `SET key payload NX PX ttl`, before `deadline`.
    pub(crate) async fn create_within(
        &self,
        key: &str,
        payload: &[u8],
        ttl: u64,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(payload).arg("NX").arg("PX").arg(ttl);
        let reply: Option<String> = self.connection.query(cmd, deadline).await?;
        match reply {
            Some(_) => Ok(()),
            None => Err(Error::Collision),
        }
    }

    /// `save`'s write: the compare-and-set script, before `deadline`.
    pub(crate) async fn save_within(
        &self,
        key: &str,
        payload: &[u8],
        ttl: u64,
        expected: Version,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        let reply = SAVE_SCRIPT
            .run(
                &self.connection,
                &[key.as_bytes()],
                &[
                    expected_digest(expected).as_bytes(),
                    payload,
                    ttl.to_string().as_bytes(),
                ],
                deadline,
            )
            .await?;
        compare_and_set(reply)
    }

    /// `touch`'s write: `PEXPIRE key ttl`, before `deadline`.
    pub(crate) async fn touch_within(
        &self,
        key: &str,
        ttl: u64,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        let mut cmd = redis::cmd("PEXPIRE");
        cmd.arg(key).arg(ttl);
        match self.connection.query::<i64>(cmd, deadline).await? {
            1 => Ok(()),
            _ => Err(Error::Gone),
        }
    }
}

/// The expected version as the scripts compare it: the first 16 hex digits of the SHA-1 of
/// the loaded bytes.
pub(crate) fn expected_digest(expected: Version) -> String {
    format!("{:016x}", expected.get())
}

/// The reply of a compare-and-set script: 1 done, 0 gone, -1 changed.
pub(crate) fn compare_and_set(reply: i64) -> Result<(), Error> {
    match reply {
        1 => Ok(()),
        0 => Err(Error::Gone),
        -1 => Err(Error::Conflict),
        other => Err(unexpected(other)),
    }
}

/// An integer reply no script of this crate gives.
pub(crate) fn unexpected(reply: i64) -> Error {
    Error::Backend {
        backend: BACKEND,
        source: format!("unexpected reply {reply} from a sessionkit script").into(),
    }
}

/// Milliseconds until `expires_at`, rounded up, at least 1: a record is never stored
/// without an expiry.
pub(crate) fn ttl_ms(expires_at: SystemTime) -> u64 {
    let remaining = expires_at
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    let ms = remaining.as_nanos().div_ceil(1_000_000);
    u64::try_from(ms).unwrap_or(u64::MAX).max(1)
}

/// The version of stored bytes: the first 8 bytes of their SHA-1, which the save script
/// recomputes on the server with `redis.sha1hex`.
fn digest(payload: &[u8]) -> Version {
    let sha = sha1_smol::Sha1::from(payload).digest().bytes();
    Version::new(u64::from_be_bytes(
        sha[..8].try_into().expect("SHA-1 has 20 bytes"),
    ))
}

/// A stored value as `load` returns it.
pub(crate) fn record(payload: Option<Vec<u8>>) -> Option<Record> {
    payload.map(|bytes| {
        let version = digest(&bytes);
        Record::new(Bytes::from(bytes), version)
    })
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn create(&self, id: &Id, payload: &[u8], expires_at: SystemTime) -> Result<(), Error> {
        self.create_within(&self.key(id), payload, ttl_ms(expires_at), &self.deadline())
            .await
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.key(id));
        Ok(record(self.query(cmd).await?))
    }

    async fn load_and_touch(
        &self,
        id: &Id,
        expires_at: SystemTime,
    ) -> Result<Option<Record>, Error> {
        let mut cmd = redis::cmd("GETEX");
        cmd.arg(self.key(id)).arg("PX").arg(ttl_ms(expires_at));
        Ok(record(self.query(cmd).await?))
    }

    async fn save(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
    ) -> Result<(), Error> {
        self.save_within(
            &self.key(id),
            payload,
            ttl_ms(expires_at),
            expected,
            &self.deadline(),
        )
        .await
    }

    async fn touch(&self, id: &Id, expires_at: SystemTime) -> Result<(), Error> {
        self.touch_within(&self.key(id), ttl_ms(expires_at), &self.deadline())
            .await
    }

    async fn delete(&self, id: &Id) -> Result<(), Error> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key(id));
        self.query::<Value>(cmd).await.map(drop)
    }

    async fn delete_if(&self, id: &Id, expected: Version) -> Result<(), Error> {
        let reply = DELETE_SCRIPT
            .run(
                &self.connection,
                &[self.key(id).as_bytes()],
                &[expected_digest(expected).as_bytes()],
                &self.deadline(),
            )
            .await?;
        compare_and_set(reply)
    }

    fn call_timeout(&self) -> Option<Duration> {
        Some(self.timeout)
    }

    fn user_index(&self) -> Option<&dyn UserIndex> {
        Some(self)
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("connection", &self.connection.kind())
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("index_writes", &self.index_writes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_rounds_up_and_never_reaches_zero() {
        assert_eq!(ttl_ms(SystemTime::now() - Duration::from_secs(5)), 1);
        let ttl = ttl_ms(SystemTime::now() + Duration::from_millis(1500));
        assert!((1490..=1500).contains(&ttl), "{ttl}");
    }

    #[test]
    fn digest_matches_what_redis_sha1hex_yields() {
        // sha1("abc") = a9993e364706816aba3e25717850c26c9cd0d89d
        assert_eq!(format!("{:016x}", digest(b"abc").get()), "a9993e364706816a");
    }
}
