//! [`RedisStore`]: sessions as Redis strings with native expiry.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use redis::{Cmd, ErrorKind as RedisErrorKind, ServerErrorKind, Value};
use sessionkit_core::{Error, Id, Record, SessionStore, Version};

use crate::connection::Connection;
use crate::error::BACKEND;

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

/// A Lua script run with `EVALSHA`, loaded with `EVAL` the first time a server lacks it.
struct Script {
    text: &'static str,
    sha: std::sync::OnceLock<String>,
}

impl Script {
    const fn new(text: &'static str) -> Self {
        Self {
            text,
            sha: std::sync::OnceLock::new(),
        }
    }

    /// The script's SHA-1, as `EVALSHA` wants it.
    fn sha(&self) -> &str {
        self.sha
            .get_or_init(|| sha1_smol::Sha1::from(self.text).digest().to_string())
    }
}

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
/// Each command goes out with an `ECHO` of a tag of its own, in the same round trip, and
/// its reply is taken only behind that tag: a reply never reaches another call.
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
}

impl RedisStore {
    pub(crate) fn new(connection: Connection, prefix: Arc<str>, timeout: Duration) -> Self {
        Self {
            connection,
            prefix,
            timeout,
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

    async fn query<T: redis::FromRedisValue>(&self, cmd: Cmd) -> Result<T, Error> {
        self.connection.query(cmd, self.timeout).await
    }

    /// Runs `script` on `key` with `args` (`EVALSHA`, then `EVAL` on `NOSCRIPT`) and maps
    /// its reply: 1 done, 0 gone, -1 changed.
    async fn run_script(&self, script: &Script, key: &str, args: &[&[u8]]) -> Result<(), Error> {
        let command = |name: &str, body: &str| {
            let mut cmd = redis::cmd(name);
            cmd.arg(body).arg(1).arg(key);
            for arg in args {
                cmd.arg(*arg);
            }
            cmd
        };
        let reply = match self.query(command("EVALSHA", script.sha())).await {
            // First use on this server (or after SCRIPT FLUSH / a restart): EVAL loads it.
            Err(Error::Backend { source, .. }) if is_noscript(&*source) => {
                self.query(command("EVAL", script.text)).await?
            }
            other => other?,
        };
        match reply {
            1 => Ok(()),
            0 => Err(Error::Gone),
            -1 => Err(Error::Conflict),
            other => Err(Error::Backend {
                backend: BACKEND,
                source: format!("unexpected reply {other} from a compare-and-set script").into(),
            }),
        }
    }
}

/// Milliseconds until `expires_at`, rounded up, at least 1: a record is never stored
/// without an expiry.
fn ttl_ms(expires_at: SystemTime) -> u64 {
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

fn record(payload: Option<Vec<u8>>) -> Option<Record> {
    payload.map(|bytes| {
        let version = digest(&bytes);
        Record::new(Bytes::from(bytes), version)
    })
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn create(&self, id: &Id, payload: &[u8], expires_at: SystemTime) -> Result<(), Error> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(id))
            .arg(payload)
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms(expires_at));
        let reply: Option<String> = self.query(cmd).await?;
        match reply {
            Some(_) => Ok(()),
            None => Err(Error::Collision),
        }
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
        let expected = format!("{:016x}", expected.get());
        let ttl = ttl_ms(expires_at).to_string();
        self.run_script(
            &SAVE_SCRIPT,
            &self.key(id),
            &[expected.as_bytes(), payload, ttl.as_bytes()],
        )
        .await
    }

    async fn touch(&self, id: &Id, expires_at: SystemTime) -> Result<(), Error> {
        let mut cmd = redis::cmd("PEXPIRE");
        cmd.arg(self.key(id)).arg(ttl_ms(expires_at));
        match self.query::<i64>(cmd).await? {
            1 => Ok(()),
            _ => Err(Error::Gone),
        }
    }

    async fn delete(&self, id: &Id) -> Result<(), Error> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key(id));
        self.query::<Value>(cmd).await.map(drop)
    }

    async fn delete_if(&self, id: &Id, expected: Version) -> Result<(), Error> {
        let expected = format!("{:016x}", expected.get());
        self.run_script(&DELETE_SCRIPT, &self.key(id), &[expected.as_bytes()])
            .await
    }

    fn call_timeout(&self) -> Option<Duration> {
        Some(self.timeout)
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}

fn is_noscript(error: &(dyn std::error::Error + 'static)) -> bool {
    error
        .downcast_ref::<redis::RedisError>()
        .is_some_and(|e| e.kind() == RedisErrorKind::Server(ServerErrorKind::NoScript))
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("connection", &self.connection.kind())
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
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
