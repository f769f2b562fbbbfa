//! [`RedisStore`]: sessions as Redis strings with native expiry.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use redis::{Cmd, FromRedisValue, Value};
use sessionkit_core::{Error, Id, Record, SessionScan, SessionStore, UserIndex, Version};

use crate::connection::Connection;
use crate::deadline::Deadline;
use crate::error::{BACKEND, from_redis};
use crate::near_cache::{Access, Entry, Fill, Lookup, NearCache, NearCacheStats};
use crate::replica_ack::ReplicaAck;
use crate::script::Script;
use crate::tracking::Tracking;
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
/// | `save` | a compare-and-set Lua script (`EVALSHA`, `EVAL` on `NOSCRIPT`); on Valkey 8.1 or later with the near cache holding the loaded bytes, `SET key value IFEQ old GET PX ttl` |
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
/// # Near cache
///
/// Unless turned off ([`RedisStoreBuilder::near_cache`](crate::RedisStoreBuilder::near_cache)),
/// `load` is answered from an in-process cache of recently loaded records when it holds a
/// live one. A key is admitted on its second miss: the first sends `GET` alone and keeps
/// only the bytes (never served; on Valkey 8.1 a save's `SET ... IFEQ` compares them), the
/// second, a key read again without a write between, sends `GET` and `PTTL` in one round
/// trip and caches the record. The cache is kept coherent by a RESP3 connection of its own
/// with `CLIENT TRACKING ON NOLOOP`, on which those second misses go out: Redis reports
/// every change anybody else makes to a key read there, and the key is evicted; a write of
/// this process evicts it too. Until an invalidation arrives,
/// a `load` may return the record as it was before a change made elsewhere; every write
/// still goes to Redis (so a save based on it is a [`Error::Conflict`]). An expired
/// record is never served; a load crossed by an invalidation is not cached; losing the
/// tracking connection flushes the cache, which serves nothing until tracking is back. Off
/// on a cluster and on servers without RESP3 tracking.
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
    near: Option<Arc<Near>>,
    /// On a Sentinel service: deletes wait for a replica (`replica_ack.rs`).
    replica_ack: Option<Arc<ReplicaAck>>,
    /// Whether saves may use `SET ... IFEQ` (found at startup; turned off for good by a
    /// server that refuses it).
    set_ifeq: Arc<AtomicBool>,
}

/// The near cache and the task that keeps its tracking connection (stopped with the last
/// clone of the store).
pub(crate) struct Near {
    cache: Arc<NearCache>,
    tracking: Tracking,
}

impl Near {
    pub(crate) fn new(cache: Arc<NearCache>, tracking: Tracking) -> Self {
        Self { cache, tracking }
    }
}

impl RedisStore {
    pub(crate) fn new(
        connection: Connection,
        prefix: Arc<str>,
        timeout: Duration,
        index_writes: IndexWrites,
        near: Option<Arc<Near>>,
        replica_ack: Option<Arc<ReplicaAck>>,
        set_ifeq: bool,
    ) -> Self {
        Self {
            connection,
            prefix,
            timeout,
            index_writes,
            near,
            replica_ack,
            set_ifeq: Arc::new(AtomicBool::new(set_ifeq)),
        }
    }

    /// Whether saves use the server's own compare-and-set, `SET key value IFEQ old` (Valkey
    /// 8.1 or later, with the near cache on), instead of the compare-and-set script. Found
    /// at startup with `INFO server`; a server that refuses it later (a failover to an
    /// older one) turns it off for good, and the refused save goes out as the script.
    ///
    /// `IFEQ` compares bytes, so it needs the bytes the session was loaded with: the near
    /// cache's entry for the key, when its version is the one the save expects. Without it
    /// (evicted, or the cache off) the save is the script. Redis 8.4's `IFDEQ`, which
    /// compares a digest, is not used yet.
    pub fn native_compare_and_set(&self) -> bool {
        self.set_ifeq.load(Ordering::Relaxed) && self.near.is_some()
    }

    /// What the near cache did so far; `None` when the store has none (turned off, a
    /// cluster, a server without RESP3 tracking).
    pub fn near_cache_stats(&self) -> Option<NearCacheStats> {
        self.near.as_ref().map(|near| near.cache.stats())
    }

    pub(crate) fn near_cache(&self) -> Option<&NearCache> {
        self.near.as_deref().map(|near| &*near.cache)
    }

    /// The near cache's tracking connection, for a call whose result the cache may keep:
    /// Redis tracks the keys it reads there for this process, and reports a change to
    /// them made by anybody else. `None` without a cache, while tracking is down, and on
    /// Sentinel unless the store's own connection is on the same server: that one follows
    /// a failover first (its deletes find out, and it refuses a master being replaced), and
    /// a read from the old master could find a session that was logged out on the new one,
    /// or miss one. A tracking connection left on another server is re-established.
    fn tracked(&self) -> Option<Connection> {
        let writer = self.near.as_ref()?.tracking.writer()?;
        if let Connection::Shared(shared) = &self.connection {
            let server = shared.server();
            if writer.server() != server.as_ref() {
                if server.is_some() {
                    writer.broken();
                }
                return None;
            }
        }
        Some(Connection::Tracking(writer))
    }

    /// Runs the write `op` on `key` through the near cache: registered before it is sent
    /// and evicted once it is done, whatever its outcome, so no load that crossed it is
    /// kept.
    ///
    /// `op` makes the write's future only once it is needed: a future taken by value would
    /// be held twice in this one's.
    pub(crate) async fn write_through<T, F>(
        &self,
        key: &str,
        op: impl FnOnce() -> F,
    ) -> Result<T, Error>
    where
        F: Future<Output = Result<T, Error>>,
    {
        let ticket = self
            .near_cache()
            .map(|cache| cache.begin(key, Access::Write));
        let result = op().await;
        if let Some(ticket) = ticket {
            ticket.finish(Fill::Nothing);
        }
        result
    }

    /// `load` through the near cache: a live cached record without a round trip; otherwise
    /// a read in one round trip, cached unless an invalidation crossed it.
    ///
    /// A key is admitted on its second miss. The first sends `GET` alone on the store's
    /// connection (untracked: Redis keeps no tracking entry and sends no invalidation for
    /// it) and keeps only the bytes, never served, for the save that usually follows (its
    /// `SET ... IFEQ` compares them in Redis, so they need not be current) and as the mark
    /// that the key was read. A second miss, a key read again without a write between, sends
    /// `GET` and `PTTL` on the tracking connection and keeps a record later loads are served
    /// from. A request that loads and saves thus costs no tracking at all.
    async fn load_through(&self, cache: &NearCache, key: String) -> Result<Option<Record>, Error> {
        let admit = match cache.lookup(&key) {
            Lookup::Hit(record) => return Ok(Some(record)),
            Lookup::BytesOnly => true,
            Lookup::Miss => false,
        };
        let ticket = cache.begin(&key, Access::Read);
        let (found, fill) = self.fetch(&key, admit).await?;
        ticket.finish(fill);
        Ok(found)
    }

    /// A miss of the near cache; the record, and what the cache may keep of it (nothing
    /// while tracking is down). With `admit`, `GET` and `PTTL` in one round trip on the
    /// tracking connection (on the store's while tracking is down); without, `GET` alone on
    /// the store's connection, whose bytes are kept without an expiry.
    async fn fetch(&self, key: &str, admit: bool) -> Result<(Option<Record>, Fill), Error> {
        let sent = Instant::now();
        let mut get = redis::cmd("GET");
        get.arg(key);
        let tracked = self.tracked();
        let deadline = self.deadline();
        let (payload, pttl) = if admit {
            let mut pttl = redis::cmd("PTTL");
            pttl.arg(key);
            let connection = tracked.as_ref().unwrap_or(&self.connection);
            let replies = connection.query_all([get, pttl], &deadline).await?;
            let [payload, pttl] = <[Value; 2]>::try_from(replies).map_err(|_| {
                from_redis(redis::RedisError::from(std::io::Error::other(
                    "GET and PTTL did not give two replies",
                )))
            })?;
            let pttl = i64::from_redis_value(pttl).map_err(|e| from_redis(e.into()))?;
            (payload, Some(pttl))
        } else {
            (self.connection.query::<Value>(get, &deadline).await?, None)
        };
        let payload =
            Option::<Vec<u8>>::from_redis_value(payload).map_err(|e| from_redis(e.into()))?;
        let found = record(payload);
        let fill = match (&found, pttl) {
            (Some(_), _) if tracked.is_none() => Fill::Nothing,
            // A record without an expiry (not written by sessionkit or Flask-Session) is
            // served but never cached.
            (Some(found), Some(pttl)) => match u64::try_from(pttl) {
                Ok(ms) if ms > 0 => Fill::Record(entry_of(found, sent, ms)),
                _ => Fill::Nothing,
            },
            (Some(found), None) => Fill::Record(Entry {
                payload: found.payload().clone(),
                version: found.version(),
                expires: None,
            }),
            (None, _) => Fill::Nothing,
        };
        Ok((found, fill))
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

    async fn query<T: FromRedisValue>(&self, cmd: Cmd) -> Result<T, Error> {
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

    /// `save`'s write on `connection`, before `deadline`: `SET ... IFEQ` when the server
    /// has it and the near cache holds the bytes `expected` stands for, otherwise the
    /// compare-and-set script.
    pub(crate) async fn save_within(
        &self,
        connection: &Connection,
        key: &str,
        payload: &[u8],
        ttl: u64,
        expected: Version,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        if let Some(old) = self.loaded_bytes(key, expected) {
            match save_ifeq(connection, key, payload, &old, ttl, deadline).await {
                Err(error) if refused_ifeq(&error) => {
                    self.set_ifeq.store(false, Ordering::Relaxed);
                    tracing::warn!(
                        "Redis refused SET ... IFEQ (a failover to an older server?): saves use the compare-and-set script from now on"
                    );
                }
                outcome => return outcome,
            }
        }
        let reply = SAVE_SCRIPT
            .run(
                connection,
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

    /// The bytes the near cache holds for `key` if they are the ones `expected` stands
    /// for, when saves may use `SET ... IFEQ`.
    fn loaded_bytes(&self, key: &str, expected: Version) -> Option<Bytes> {
        if !self.set_ifeq.load(Ordering::Relaxed) {
            return None;
        }
        self.near_cache()?.payload_of(key, expected)
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

/// `SET key payload IFEQ old GET PX ttl`: written only if the key holds `old`. The reply is
/// what the key held: nothing (gone, nothing written), `old` (saved), or other bytes
/// (changed, nothing written).
async fn save_ifeq(
    connection: &Connection,
    key: &str,
    payload: &[u8],
    old: &[u8],
    ttl: u64,
    deadline: &Deadline,
) -> Result<(), Error> {
    let mut cmd = redis::cmd("SET");
    cmd.arg(key)
        .arg(payload)
        .arg("IFEQ")
        .arg(old)
        .arg("GET")
        .arg("PX")
        .arg(ttl);
    let held: Option<Vec<u8>> = connection.query(cmd, deadline).await?;
    match held {
        None => Err(Error::Gone),
        Some(held) if held == old => Ok(()),
        Some(_) => Err(Error::Conflict),
    }
}

/// Whether `error` is a server's refusal of `SET ... IFEQ` (a syntax error: nothing was
/// written).
fn refused_ifeq(error: &Error) -> bool {
    let Error::Backend { source, .. } = error else {
        return false;
    };
    source.downcast_ref::<redis::RedisError>().is_some_and(|e| {
        e.code() == Some("ERR") && e.detail().is_some_and(|d| d.contains("syntax"))
    })
}

/// Whether the server `INFO server` describes has `SET ... IFEQ`: Valkey 8.1 or later.
pub(crate) fn has_set_ifeq(info: &str) -> bool {
    let Some(version) = info
        .lines()
        .find_map(|line| line.trim().strip_prefix("valkey_version:"))
    else {
        return false;
    };
    let mut parts = version.split('.').map(|part| part.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= (8, 1),
        _ => false,
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

/// A cache entry for `record`, expiring `ttl` ms after `sent` (the moment before the
/// command that set or read the TTL went out, so never after Redis's expiry).
pub(crate) fn entry_of(record: &Record, sent: Instant, ttl: u64) -> Entry {
    Entry {
        payload: record.payload().clone(),
        version: record.version(),
        expires: Some(sent + Duration::from_millis(ttl)),
    }
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
        let (key, ttl) = (self.key(id), ttl_ms(expires_at));
        let deadline = self.deadline();
        // Not kept: Redis does not track the key for this process until it reads it on
        // the tracking connection (the first load does).
        self.write_through(&key, || self.create_within(&key, payload, ttl, &deadline))
            .await
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
        if let Some(cache) = self.near_cache() {
            return self.load_through(cache, self.key(id)).await;
        }
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.key(id));
        Ok(record(self.query(cmd).await?))
    }

    async fn load_and_touch(
        &self,
        id: &Id,
        expires_at: SystemTime,
    ) -> Result<Option<Record>, Error> {
        let (key, ttl) = (self.key(id), ttl_ms(expires_at));
        let mut cmd = redis::cmd("GETEX");
        cmd.arg(&key).arg("PX").arg(ttl);
        // Not kept: this went out on the store's connection (see `create`).
        self.write_through(&key, || async { Ok(record(self.query(cmd).await?)) })
            .await
    }

    async fn save(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
    ) -> Result<(), Error> {
        let (key, ttl) = (self.key(id), ttl_ms(expires_at));
        let deadline = self.deadline();
        // On the tracking connection when there is one: with `NOLOOP`, Redis then sends
        // this process no invalidation for its own write (the key is evicted here anyway).
        // Not kept, although Redis would keep tracking the key: a request that reads a
        // value saved here and writes it back could then work on it before the
        // invalidation of a write made elsewhere in between (say by the Python app) has
        // arrived, and lose that write. After a save the next load reads Redis.
        let tracked = self.tracked();
        let connection = tracked.as_ref().unwrap_or(&self.connection);
        self.write_through(&key, || {
            self.save_within(connection, &key, payload, ttl, expected, &deadline)
        })
        .await
    }

    async fn touch(&self, id: &Id, expires_at: SystemTime) -> Result<(), Error> {
        let key = self.key(id);
        let deadline = self.deadline();
        self.write_through(&key, || {
            self.touch_within(&key, ttl_ms(expires_at), &deadline)
        })
        .await
    }

    async fn delete(&self, id: &Id) -> Result<(), Error> {
        let key = self.key(id);
        let mut cmd = redis::cmd("DEL");
        cmd.arg(&key);
        let delete = || async {
            self.connection
                .query_all_acked([cmd], &self.deadline(), self.replica_ack.as_deref())
                .await
                .map(drop)
        };
        self.write_through(&key, delete).await
    }

    async fn delete_if(&self, id: &Id, expected: Version) -> Result<(), Error> {
        let key = self.key(id);
        let delete = || async {
            let reply = DELETE_SCRIPT
                .run_acked(
                    &self.connection,
                    &[key.as_bytes()],
                    &[expected_digest(expected).as_bytes()],
                    &self.deadline(),
                    self.replica_ack.as_deref(),
                )
                .await?;
            compare_and_set(reply)
        };
        self.write_through(&key, delete).await
    }

    fn call_timeout(&self) -> Option<Duration> {
        Some(self.timeout)
    }

    fn backend(&self) -> &'static str {
        "redis"
    }

    fn user_index(&self) -> Option<&dyn UserIndex> {
        Some(self)
    }

    fn session_scan(&self) -> Option<&dyn SessionScan> {
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
            .field("near_cache", &self.near.is_some())
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

    /// The race every near cache must get right, forced step by step on a real server: a
    /// load's `GET` has its reply, then another process writes the key and its
    /// invalidation arrives, and only then does the load finish. The old value is returned
    /// to that load but never cached: the next load sees the write.
    #[tokio::test]
    async fn a_load_crossed_by_an_invalidation_is_returned_but_not_cached() {
        let prefix = format!("sessionkit-test:{}:", &Id::random().to_string()[..12]);
        let connect = |near: bool| {
            RedisStore::builder("redis://127.0.0.1:6379")
                .key_prefix(prefix.clone())
                .near_cache(near)
                .build()
        };
        let here = connect(true).await.unwrap_or_else(|e| {
            panic!(
                "Redis is not reachable at 127.0.0.1:6379: {e:?}. Start it with ./scripts/services"
            )
        });
        let elsewhere = connect(false).await.unwrap();
        let cache = here.near_cache().expect("Redis 7 tracks keys");
        let id = Id::random();
        let expires = SystemTime::now() + Duration::from_secs(60);
        elsewhere.create(&id, b"old", expires).await.unwrap();

        let key = here.key(&id);
        let ticket = cache.begin(&key, Access::Read);
        let (found, fill) = here.fetch(&key, true).await.unwrap();
        assert_eq!(found.as_ref().map(|r| &r.payload()[..]), Some(&b"old"[..]));

        let seen = cache.stats().invalidations;
        let old = found.unwrap().version();
        elsewhere.save(&id, b"new", expires, old).await.unwrap();
        let bound = Instant::now() + Duration::from_secs(5);
        while cache.stats().invalidations == seen {
            assert!(Instant::now() < bound, "no invalidation within 5 s");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        assert!(!ticket.may_fill());
        ticket.finish(fill);

        assert!(cache.get(&key).is_none(), "the crossed value was cached");
        let loaded = here.load(&id).await.unwrap().unwrap();
        assert_eq!(&loaded.payload()[..], b"new");
        elsewhere.delete(&id).await.unwrap();
    }

    #[test]
    fn set_ifeq_is_found_on_valkey_8_1_and_later_only() {
        let info = |lines: &str| format!("# Server\r\nredis_version:7.2.4\r\n{lines}");
        assert!(has_set_ifeq(&info(
            "server_name:valkey\r\nvalkey_version:8.1.1\r\n"
        )));
        assert!(has_set_ifeq(&info("valkey_version:9.0.0\r\n")));
        assert!(!has_set_ifeq(&info("valkey_version:8.0.2\r\n")));
        assert!(!has_set_ifeq(&info("valkey_version:7.2.5\r\n")));
        assert!(!has_set_ifeq(&info("valkey_version:eight\r\n")));
        assert!(!has_set_ifeq(&info("")), "Redis (no valkey_version)");
    }

    async fn connect(url: &str, near: bool) -> RedisStore {
        RedisStore::builder(url)
            .key_prefix(format!(
                "sessionkit-test:{}:",
                &Id::random().to_string()[..12]
            ))
            .near_cache(near)
            .build()
            .await
            .unwrap_or_else(|e| {
                panic!("no server at {url}: {e:?}. Start it with ./scripts/services")
            })
    }

    /// `SET ... IFEQ` as the store sends it, on Valkey 8.1: written only over the bytes
    /// given; over other bytes `Conflict` and over no key `Gone`, writing nothing.
    #[tokio::test]
    async fn set_ifeq_writes_only_over_the_bytes_it_was_given() {
        let store = connect("redis://127.0.0.1:6390", false).await;
        let key = store.key(&Id::random());
        let deadline = || store.deadline();
        let raw = |cmd: &'static str, args: Vec<&[u8]>| {
            let mut cmd = redis::cmd(cmd);
            for arg in args {
                cmd.arg(arg);
            }
            cmd
        };
        let get = || async {
            store
                .connection
                .query::<Option<Vec<u8>>>(raw("GET", vec![key.as_bytes()]), &deadline())
                .await
                .unwrap()
        };
        let outcome = save_ifeq(&store.connection, &key, b"new", b"old", 60_000, &deadline()).await;
        assert!(matches!(outcome, Err(Error::Gone)), "{outcome:?}");
        assert_eq!(get().await, None);

        let set = raw("SET", vec![key.as_bytes(), b"old"]);
        let _: () = store.connection.query(set, &deadline()).await.unwrap();
        let outcome = save_ifeq(
            &store.connection,
            &key,
            b"new",
            b"other",
            60_000,
            &deadline(),
        )
        .await;
        assert!(matches!(outcome, Err(Error::Conflict)), "{outcome:?}");
        assert_eq!(get().await.as_deref(), Some(&b"old"[..]));

        save_ifeq(&store.connection, &key, b"new", b"old", 60_000, &deadline())
            .await
            .unwrap();
        assert_eq!(get().await.as_deref(), Some(&b"new"[..]));
        let pttl = store
            .connection
            .query::<i64>(raw("PTTL", vec![key.as_bytes()]), &deadline())
            .await
            .unwrap();
        assert!((59_000..=60_000).contains(&pttl), "{pttl}");
    }

    /// A server that refuses `IFEQ` (Redis 7.0 here, as after a failover to an older
    /// server) turns the native compare-and-set off, and the refused save lands as the
    /// script.
    #[tokio::test]
    async fn a_refused_set_ifeq_falls_back_to_the_script_for_good() {
        let store = connect("redis://127.0.0.1:6379", true).await;
        assert!(!store.native_compare_and_set());
        store.set_ifeq.store(true, Ordering::Relaxed);
        assert!(store.native_compare_and_set());
        let id = Id::random();
        let expires = SystemTime::now() + Duration::from_secs(60);
        store.create(&id, b"v1", expires).await.unwrap();
        let loaded = store.load(&id).await.unwrap().unwrap();
        let key = store.key(&id);
        assert!(
            store.loaded_bytes(&key, loaded.version()).is_some(),
            "the cache holds the loaded bytes, so the save tries IFEQ"
        );
        store
            .save(&id, b"v2", expires, loaded.version())
            .await
            .unwrap();
        assert!(!store.native_compare_and_set());
        let loaded = store.load(&id).await.unwrap().unwrap();
        assert_eq!(&loaded.payload()[..], b"v2");
        store.delete(&id).await.unwrap();
    }

    #[test]
    fn digest_matches_what_redis_sha1hex_yields() {
        // sha1("abc") = a9993e364706816aba3e25717850c26c9cd0d89d
        assert_eq!(format!("{:016x}", digest(b"abc").get()), "a9993e364706816a");
    }
}
