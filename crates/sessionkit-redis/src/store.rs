//! [`RedisStore`]: sessions as Redis strings with native expiry.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bb8_redis::RedisConnectionManager;
use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClientBuilder, SentinelServerType};
use redis::{
    Client, Cmd, ConnectionAddr, ErrorKind as RedisErrorKind, ServerErrorKind, TlsCertificates,
    Value,
};
use sessionkit_core::ConfigKey;
use sessionkit_core::{Error, Id, Record, SessionStore, Version};

use crate::RedisUrl;
use crate::connection::Connection;
use crate::error::{BACKEND, from_redis};
use crate::sentinel::SentinelMaster;

/// The key prefix Flask-Session uses.
pub const DEFAULT_KEY_PREFIX: &str = "session:";

/// The default bound on each command, and on connecting.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

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

/// Which connection a standalone URL gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ConnectionKind {
    /// One multiplexed connection (redis-rs `ConnectionManager`): pipelines concurrent
    /// commands and reconnects by itself. The default: the faster of the two in
    /// `benches/redis.rs` (see the crate docs).
    #[default]
    Multiplexed,
    /// A bb8 pool of `max_size` multiplexed connections, never tested on checkout.
    Pool {
        /// Connections in the pool.
        max_size: u32,
    },
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
/// The [`Version`] of a loaded record is a digest of its bytes, so a write by anyone else
/// (another process, a Python app) is detected. Every command is bounded by the store's
/// timeout; an unreachable server is [`Error::Unavailable`] or [`Error::Timeout`], and the
/// store recovers by itself when the server returns.
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
    /// Whether the client enforces `timeout` on every command itself (a multiplexed or
    /// cluster connection this store configured), so no second timer is needed.
    client_bounded: bool,
}

impl RedisStore {
    /// Connects to `url` (any [`RedisUrl`] form) with the defaults: multiplexed connection,
    /// prefix `session:`, 1 s timeout.
    ///
    /// # Errors
    /// [`Error::Config`] for a malformed URL; [`Error::Unavailable`] or [`Error::Timeout`]
    /// when the server cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::builder(url).build().await
    }

    /// A builder for a store at `url`.
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.into(),
            prefix: DEFAULT_KEY_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            kind: ConnectionKind::default(),
            root_certificate: None,
        }
    }

    /// A store over an application's own bb8 pool. Configure the pool with
    /// `test_on_check_out(false)` to avoid a `PING` per checkout; broken connections are
    /// replaced by the store.
    pub fn from_pool(pool: bb8::Pool<RedisConnectionManager>) -> Self {
        Self::new(Connection::Pool(pool))
    }

    /// A store over an application's own multiplexed connection.
    pub fn from_connection_manager(manager: ConnectionManager) -> Self {
        Self::new(Connection::Multiplexed(manager))
    }

    /// A store over an application's own cluster connection.
    pub fn from_cluster(cluster: ClusterConnection) -> Self {
        Self::new(Connection::Cluster(cluster))
    }

    fn new(connection: Connection) -> Self {
        Self {
            connection,
            prefix: DEFAULT_KEY_PREFIX.into(),
            timeout: DEFAULT_TIMEOUT,
            client_bounded: false,
        }
    }

    /// Uses `prefix` before every id (default `session:`).
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into().into();
        self
    }

    /// Bounds every command by `timeout` (default 1 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self.client_bounded = false;
        self
    }

    /// The key prefix.
    pub fn key_prefix(&self) -> &str {
        &self.prefix
    }

    /// The Redis key of `id`: prefix + id, as Flask-Session.
    pub fn key(&self, id: &Id) -> String {
        id.key(&self.prefix)
    }

    async fn bounded<T>(&self, call: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        sessionkit_core::bounded(BACKEND, self.timeout, call).await
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &Cmd) -> Result<T, Error> {
        if self.client_bounded {
            self.connection.query(cmd).await
        } else {
            self.bounded(self.connection.query(cmd)).await
        }
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
        let reply = match self.query(&command("EVALSHA", script.sha())).await {
            // First use on this server (or after SCRIPT FLUSH / a restart): EVAL loads it.
            Err(Error::Backend { source, .. }) if is_noscript(&*source) => {
                self.query(&command("EVAL", script.text)).await?
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

/// Builds a [`RedisStore`] from a URL. Its `Debug` hides the URL's password.
#[derive(Clone)]
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    timeout: Duration,
    kind: ConnectionKind,
    root_certificate: Option<Vec<u8>>,
}

impl RedisStoreBuilder {
    /// Uses `prefix` before every id (default `session:`).
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Bounds connecting and every command by `timeout` (default 1 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The connection kind for standalone URLs (Sentinel and Cluster ignore it).
    pub fn connection(mut self, kind: ConnectionKind) -> Self {
        self.kind = kind;
        self
    }

    /// Trusts the CA certificate `pem` (PEM) for `rediss://` connections instead of the
    /// system's roots: for servers with certificates from a private CA.
    pub fn tls_root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificate = Some(pem.into());
        self
    }

    fn certificates(&self) -> Option<TlsCertificates> {
        self.root_certificate.clone().map(|root| TlsCertificates {
            client_tls: None,
            root_cert: Some(root),
        })
    }

    fn client(&self, url: &str) -> Result<Client, Error> {
        match self.certificates() {
            Some(certs) => Client::build_with_tls(url, certs),
            None => Client::open(url),
        }
        .map_err(|e| config_error(url, &e))
    }

    /// Connects.
    ///
    /// # Errors
    /// [`Error::Config`] for a malformed URL; [`Error::Unavailable`] or [`Error::Timeout`]
    /// when the server cannot be reached within the timeout.
    pub async fn build(self) -> Result<RedisStore, Error> {
        let url = RedisUrl::parse(&self.url)?;
        let timeout = self.timeout;
        let connect = async {
            Ok::<_, Error>(match url {
                RedisUrl::Standalone { url } => match self.kind {
                    ConnectionKind::Multiplexed => {
                        let client = self.client(&url)?;
                        let manager =
                            ConnectionManager::new_with_config(client, manager_config(timeout))
                                .await
                                .map_err(from_redis)?;
                        Connection::Multiplexed(manager)
                    }
                    ConnectionKind::Pool { max_size } => {
                        let info = self.client(&url)?.get_connection_info().clone();
                        let manager = RedisConnectionManager::new(info)
                            .map_err(|e| config_error(&url, &e))?;
                        let pool = bb8::Pool::builder()
                            .max_size(max_size)
                            .test_on_check_out(false)
                            .connection_timeout(timeout)
                            .build(manager)
                            .await
                            .map_err(from_redis)?;
                        Connection::Pool(pool)
                    }
                },
                RedisUrl::Sentinel {
                    sentinels,
                    service,
                    db,
                    username,
                    password,
                    tls,
                } => {
                    let addrs = sentinels.iter().map(|s| tcp_addr(s)).collect::<Vec<_>>();
                    let mut builder =
                        SentinelClientBuilder::new(addrs, &service, SentinelServerType::Master)
                            .map_err(from_redis)?
                            .set_client_to_redis_db(db);
                    if let Some(username) = &username {
                        builder = builder.set_client_to_redis_username(username);
                    }
                    if let Some(password) = &password {
                        builder = builder.set_client_to_redis_password(password);
                    }
                    if tls {
                        builder = builder.set_client_to_redis_tls_mode(redis::TlsMode::Secure);
                    }
                    if let Some(certs) = self.certificates() {
                        builder = builder.set_client_to_redis_certificates(certs);
                    }
                    let sentinel = builder.build().map_err(from_redis)?;
                    Connection::Sentinel(Arc::new(
                        SentinelMaster::connect(sentinel, manager_config(timeout)).await?,
                    ))
                }
                RedisUrl::Cluster { nodes } => {
                    let mut builder = ClusterClient::builder(nodes)
                        .connection_timeout(timeout)
                        .response_timeout(timeout);
                    if let Some(certs) = self.certificates() {
                        builder = builder.certs(certs);
                    }
                    let client = builder.build().map_err(from_redis)?;
                    Connection::Cluster(client.get_async_connection().await.map_err(from_redis)?)
                }
            })
        };
        let connection =
            tokio::time::timeout(timeout, connect)
                .await
                .map_err(|_| Error::Timeout {
                    backend: BACKEND,
                    after: timeout,
                })??;
        // The multiplexed and cluster clients were given `timeout` as their response and
        // connection timeouts above; pools and Sentinel are bounded by the store.
        let client_bounded = matches!(
            connection,
            Connection::Multiplexed(_) | Connection::Cluster(_)
        );
        let mut store = RedisStore::new(connection)
            .with_key_prefix(self.prefix)
            .with_timeout(timeout);
        store.client_bounded = client_bounded;
        Ok(store)
    }
}

fn manager_config(timeout: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_secs(1))
}

fn config_error(url: &str, error: &redis::RedisError) -> Error {
    Error::config(
        ConfigKey::Redis,
        sessionkit_core::redact_url(url),
        format!("not a valid Redis URL: {error}"),
    )
}

/// `host:port` (IPv6 in brackets) as a TCP address; [`RedisUrl::parse`] checked the form.
fn tcp_addr(host_port: &str) -> ConnectionAddr {
    let (host, port) = host_port
        .rsplit_once(':')
        .expect("checked by RedisUrl::parse");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ConnectionAddr::Tcp(
        host.to_owned(),
        port.parse().expect("checked by RedisUrl::parse"),
    )
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
        let reply: Option<String> = self.query(&cmd).await?;
        match reply {
            Some(_) => Ok(()),
            None => Err(Error::Collision),
        }
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.key(id));
        Ok(record(self.query(&cmd).await?))
    }

    async fn load_and_touch(
        &self,
        id: &Id,
        expires_at: SystemTime,
    ) -> Result<Option<Record>, Error> {
        let mut cmd = redis::cmd("GETEX");
        cmd.arg(self.key(id)).arg("PX").arg(ttl_ms(expires_at));
        Ok(record(self.query(&cmd).await?))
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
        match self.query::<i64>(&cmd).await? {
            1 => Ok(()),
            _ => Err(Error::Gone),
        }
    }

    async fn delete(&self, id: &Id) -> Result<(), Error> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key(id));
        self.query::<Value>(&cmd).await.map(drop)
    }

    async fn delete_if(&self, id: &Id, expected: Version) -> Result<(), Error> {
        let expected = format!("{:016x}", expected.get());
        self.run_script(&DELETE_SCRIPT, &self.key(id), &[expected.as_bytes()])
            .await
    }

    fn call_timeout(&self) -> Option<Duration> {
        Some(self.timeout)
    }
}

fn is_noscript(error: &(dyn std::error::Error + 'static)) -> bool {
    error
        .downcast_ref::<redis::RedisError>()
        .is_some_and(|e| e.kind() == RedisErrorKind::Server(ServerErrorKind::NoScript))
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("url", &sessionkit_core::redact_url(&self.url))
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("kind", &self.kind)
            .field("root_certificate", &self.root_certificate.is_some())
            .finish()
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("connection", &self.connection)
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
