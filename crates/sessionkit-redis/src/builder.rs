//! [`RedisStoreBuilder`]: the store's settings, and connection setup for every topology.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::cluster::ClusterClient;
use redis::sentinel::{SentinelClientBuilder, SentinelServerType};
use redis::{Client, ConnectionAddr, IntoConnectionInfo as _, TlsCertificates};
use sessionkit_core::{ConfigKey, Error};

use crate::connection::Connection;
use crate::deadline::Deadline;
use crate::error::from_redis;
use crate::near_cache::{Limits, NearCache};
use crate::pool::PoolManager;
use crate::replica_ack::ReplicaAck;
use crate::shared::Shared;
use crate::source::Source;
use crate::store::Near;
use crate::tracking::{self, TrackingSource};
use crate::user_index::IndexWrites;
use crate::{RedisStore, RedisUrl};

/// The most entries the near cache holds by default.
pub const DEFAULT_NEAR_CACHE_ENTRIES: usize = 10_000;

/// The most bytes the near cache holds by default (64 MiB).
pub const DEFAULT_NEAR_CACHE_BYTES: usize = 64 << 20;

/// Which connection a standalone server gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ConnectionKind {
    /// One multiplexed connection that pipelines concurrent commands. The default: the
    /// faster of the two in `benches/redis.rs` (figures in the README).
    #[default]
    Multiplexed,
    /// A bb8 pool of `max_size` connections, one command at a time on each, never tested
    /// on checkout.
    Pool {
        /// Connections in the pool.
        max_size: u32,
    },
}

impl RedisStore {
    /// Connects to `url` (any [`RedisUrl`] form) with the defaults:
    /// multiplexed connection, prefix `session:`, 1 s timeout.
    ///
    /// # Errors
    /// [`Error::Config`] for a malformed URL; [`Error::Unavailable`] or [`Error::Timeout`]
    /// when the server cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::builder(url).build().await
    }

    /// A builder for a store at `url` (any [`RedisUrl`] form).
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder::new(Target::Url(url.into()))
    }

    /// A builder for a store on one server, through an application's own client (for
    /// settings a URL cannot carry). The store makes its own connections from it.
    pub fn builder_from_client(client: Client) -> RedisStoreBuilder {
        RedisStoreBuilder::new(Target::Client(Box::new(client)))
    }

    /// A builder for a store on a Redis Cluster, through an application's own cluster
    /// client (for settings a URL cannot carry, such as `node_address_map`). The store
    /// makes its own connections from it.
    pub fn builder_from_cluster(client: ClusterClient) -> RedisStoreBuilder {
        RedisStoreBuilder::new(Target::Cluster(Box::new(client)))
    }
}

/// Builds a [`RedisStore`]: from a URL ([`RedisStore::builder`]) or from an application's
/// own redis-rs client ([`RedisStore::builder_from_client`],
/// [`RedisStore::builder_from_cluster`]). Its `Debug` hides the URL's password.
#[derive(Clone)]
pub struct RedisStoreBuilder {
    target: Target,
    prefix: String,
    timeout: Duration,
    kind: ConnectionKind,
    root_certificate: Option<Vec<u8>>,
    near_cache: Option<Limits>,
}

/// What the store connects to.
#[derive(Clone)]
enum Target {
    Url(String),
    Client(Box<Client>),
    Cluster(Box<ClusterClient>),
}

impl RedisStoreBuilder {
    fn new(target: Target) -> Self {
        Self {
            target,
            prefix: sessionkit_core::DEFAULT_KEY_PREFIX.to_owned(),
            timeout: sessionkit_core::DEFAULT_STORE_TIMEOUT,
            kind: ConnectionKind::default(),
            root_certificate: None,
            near_cache: Some(Limits {
                entries: DEFAULT_NEAR_CACHE_ENTRIES,
                bytes: DEFAULT_NEAR_CACHE_BYTES,
            }),
        }
    }

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

    /// The connection kind for a standalone server (Sentinel and Cluster ignore it).
    pub fn connection(mut self, kind: ConnectionKind) -> Self {
        self.kind = kind;
        self
    }

    /// Trusts the CA certificate `pem` (PEM) for `rediss://` URLs instead of the system's
    /// roots: for servers with certificates from a private CA. (An application's own client
    /// brings its own TLS settings.)
    pub fn tls_root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificate = Some(pem.into());
        self
    }

    /// Keeps recently loaded and written records in process (on by default), so a `load`
    /// of a cached session costs no round trip; `false` turns it off. Coherent through
    /// RESP3 client tracking: see [`RedisStore`]'s docs, *Near cache*. Off by itself, with a
    /// log line, on a cluster and on a server without RESP3 tracking.
    pub fn near_cache(mut self, on: bool) -> Self {
        self.near_cache = on.then_some(self.near_cache.unwrap_or(Limits {
            entries: DEFAULT_NEAR_CACHE_ENTRIES,
            bytes: DEFAULT_NEAR_CACHE_BYTES,
        }));
        self
    }

    /// The most records the near cache holds (default [`DEFAULT_NEAR_CACHE_ENTRIES`]);
    /// the least recently used go first.
    pub fn near_cache_entries(mut self, entries: usize) -> Self {
        if let Some(limits) = &mut self.near_cache {
            limits.entries = entries;
        }
        self
    }

    /// The most bytes (keys and payloads, plus about 100 bytes per record) the near cache
    /// holds (default [`DEFAULT_NEAR_CACHE_BYTES`]); the least recently used go first.
    pub fn near_cache_bytes(mut self, bytes: usize) -> Self {
        if let Some(limits) = &mut self.near_cache {
            limits.bytes = bytes;
        }
        self
    }

    /// Connects.
    ///
    /// # Errors
    /// [`Error::Config`] for a malformed URL; [`Error::Unavailable`] or [`Error::Timeout`]
    /// when the server cannot be reached within the timeout.
    pub async fn build(self) -> Result<RedisStore, Error> {
        // Boxed: connecting runs once, and an application's own futures (its `main`, a
        // layer's constructor) then hold a pointer, not this deep future.
        Box::pin(self.connect_store()).await
    }

    async fn connect_store(self) -> Result<RedisStore, Error> {
        let Self {
            target,
            prefix,
            timeout,
            kind,
            root_certificate,
            near_cache,
        } = self;
        let source = match &target {
            Target::Url(url) => source(RedisUrl::parse(url)?, root_certificate.clone())?,
            Target::Client(client) => Source::Standalone((**client).clone()),
            Target::Cluster(client) => Source::Cluster((**client).clone()),
        };
        // The near cache's own connection goes where the store's go (a second Sentinel
        // client, as redis-rs's cannot be cloned).
        let tracking_source =
            match near_cache.map(|_| source_for_tracking(&target, root_certificate)) {
                Some(result) => result?,
                None => None,
            };
        let index_writes = IndexWrites::for_source(&source);
        let replica_ack = match &target {
            Target::Url(url) => replica_ack(&RedisUrl::parse(url)?)?,
            Target::Client(_) | Target::Cluster(_) => None,
        };
        let source = match source {
            Source::Sentinel(sentinel, _) => Source::Sentinel(sentinel, replica_ack.clone()),
            other => other,
        };
        let connection = match (source, kind) {
            (Source::Standalone(client), ConnectionKind::Pool { max_size }) => {
                let pool = bb8::Pool::builder()
                    .max_size(max_size)
                    .test_on_check_out(false)
                    .connection_timeout(timeout)
                    .build(PoolManager { client, timeout });
                Connection::Pool(
                    Deadline::after(timeout)
                        .bound(async { pool.await.map_err(from_redis) })
                        .await?,
                )
            }
            (source, _) => Connection::Shared(Arc::new(
                Deadline::after(timeout)
                    .bound(Shared::connect(source, timeout))
                    .await?,
            )),
        };
        let prefix: Arc<str> = prefix.into();
        let near = match (near_cache, tracking_source) {
            (Some(limits), Some(tracking_source)) => {
                crate::telemetry::describe();
                let cache = Arc::new(NearCache::new(limits));
                tracking::start(Arc::clone(&cache), tracking_source, timeout)
                    .await
                    .map(|tracking| Arc::new(Near::new(cache, tracking)))
            }
            (Some(_), None) => {
                tracing::warn!(
                    "Redis near cache off: not available on a Redis Cluster (no per-node tracking)"
                );
                None
            }
            (None, _) => None,
        };
        // `SET ... IFEQ` needs the loaded bytes, which only the near cache keeps.
        let set_ifeq = near.is_some() && has_set_ifeq(&connection, timeout).await;
        Ok(RedisStore::new(
            connection,
            prefix,
            timeout,
            index_writes,
            near,
            replica_ack,
            set_ifeq,
        ))
    }
}

/// Whether the server has `SET ... IFEQ` (`INFO server` names Valkey 8.1 or later). A
/// server that does not answer `INFO` (an ACL without it) is taken not to.
async fn has_set_ifeq(connection: &Connection, timeout: Duration) -> bool {
    let mut info = redis::cmd("INFO");
    info.arg("server");
    match connection
        .query::<String>(info, &Deadline::after(timeout))
        .await
    {
        Ok(info) => crate::store::has_set_ifeq(&info),
        Err(error) => {
            tracing::info!(%error, "Redis INFO failed: saves use the compare-and-set script");
            false
        }
    }
}

/// Where the near cache's tracking connection goes; `None` on a cluster.
fn source_for_tracking(
    target: &Target,
    root_certificate: Option<Vec<u8>>,
) -> Result<Option<TrackingSource>, Error> {
    Ok(match target {
        Target::Url(url) => match source(RedisUrl::parse(url)?, root_certificate)? {
            Source::Standalone(client) => Some(TrackingSource::Standalone(client)),
            Source::Sentinel(sentinel, _) => Some(TrackingSource::Sentinel(sentinel)),
            Source::Cluster(_) => None,
        },
        Target::Client(client) => Some(TrackingSource::Standalone((**client).clone())),
        Target::Cluster(_) => None,
    })
}

/// For a Sentinel service, what makes its deletes wait for a replica.
fn replica_ack(url: &RedisUrl) -> Result<Option<Arc<ReplicaAck>>, Error> {
    let RedisUrl::Sentinel {
        sentinels, service, ..
    } = url
    else {
        return Ok(None);
    };
    let sentinels = sentinels
        .iter()
        .map(|s| {
            format!("redis://{s}")
                .into_connection_info()
                .map_err(from_redis)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Arc::new(ReplicaAck::new(sentinels, service.clone()))))
}

/// The client for a parsed URL, trusting `root_certificate` if given.
fn source(url: RedisUrl, root_certificate: Option<Vec<u8>>) -> Result<Source, Error> {
    let certificates = root_certificate.map(|root| TlsCertificates {
        client_tls: None,
        root_cert: Some(root),
    });
    Ok(match url {
        RedisUrl::Standalone { url } => Source::Standalone(
            match certificates {
                Some(certificates) => Client::build_with_tls(url.as_str(), certificates),
                None => Client::open(url.as_str()),
            }
            .map_err(|e| config_error(&url, &e))?,
        ),
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
            if let Some(certificates) = certificates {
                builder = builder.set_client_to_redis_certificates(certificates);
            }
            Source::Sentinel(builder.build().map_err(from_redis)?, None)
        }
        RedisUrl::Cluster { nodes } => {
            let mut builder = ClusterClient::builder(nodes);
            if let Some(certificates) = certificates {
                builder = builder.certs(certificates);
            }
            Source::Cluster(builder.build().map_err(from_redis)?)
        }
    })
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

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = match &self.target {
            Target::Url(url) => sessionkit_core::redact_url(url),
            Target::Client(_) => "an application's redis::Client".to_owned(),
            Target::Cluster(_) => "an application's ClusterClient".to_owned(),
        };
        f.debug_struct("RedisStoreBuilder")
            .field("target", &target)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("kind", &self.kind)
            .field("root_certificate", &self.root_certificate.is_some())
            .field("near_cache", &self.near_cache)
            .finish()
    }
}
