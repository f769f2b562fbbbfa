//! The near cache's tracking connection: a RESP3 connection of its own, named
//! `sessionkit-tracking`, with `CLIENT TRACKING ON NOLOOP`. Redis remembers every key this
//! connection reads and pushes an `invalidate` message when anybody else changes it
//! (writes, touches, deletes; expiry and eviction too); the key is evicted from the cache.
//!
//! So everything the cache keeps is read on this connection ([`Tracking::writer`]): a load
//! that misses (`GET` and `PTTL`). The store's writes go out on its other connections, are
//! reported like anybody's, and evict. (Keeping what this process saved, with the save on
//! this connection and `NOLOOP`, was tried and withdrawn: a request reading that value
//! could run before the invalidation of a write made elsewhere just after had arrived,
//! and write back over it.)
//!
//! When the connection drops (redis-rs pushes `Disconnection`), a health-check `PING` fails
//! or times out, or a call lent the connection finds it broken, the cache is flushed and
//! serves nothing until a new connection has tracking on again; a background task
//! reconnects with a bounded backoff.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::sentinel::SentinelClient;
use redis::{Client, ProtocolVersion, PushInfo, PushKind, RedisResult, Value};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::error::is_connection_error;
use crate::near_cache::NearCache;
use crate::source::{connection_config, host_port};

/// The client name of the tracking connection (`CLIENT LIST`, `CLIENT KILL NAME`).
pub(crate) const CLIENT_NAME: &str = "sessionkit-tracking";

/// How often the connection is checked with a `PING`: a connection that died silently is
/// noticed within this plus the store's timeout.
const HEALTH_CHECK: Duration = Duration::from_secs(1);

/// The longest wait between two attempts to re-establish tracking.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Where the tracking connection goes: the one server, or the current master of a
/// Sentinel service (asked for on every connect, as the store's own connections are).
pub(crate) enum TrackingSource {
    Standalone(Client),
    Sentinel(SentinelClient),
}

impl TrackingSource {
    /// A RESP3 client of the server, and its (host, port) when Sentinel named it.
    async fn client(&mut self) -> RedisResult<(Client, Option<(String, u16)>)> {
        let client = match self {
            Self::Standalone(client) => client.clone(),
            Self::Sentinel(sentinel) => sentinel.async_get_client().await?,
        };
        let info = client.get_connection_info().clone();
        let server = match self {
            Self::Standalone(_) => None,
            Self::Sentinel(_) => host_port(info.addr()),
        };
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        Ok((Client::open(info.set_redis_settings(settings))?, server))
    }
}

/// The background task that keeps tracking established; aborted when the store (its last
/// clone) is dropped.
pub(crate) struct Tracking {
    task: JoinHandle<()>,
    watch: Arc<Watch>,
}

impl Tracking {
    /// The tracking connection, for a read whose result the cache keeps; `None` while
    /// tracking is not established (the read then goes out on the store's connection, and
    /// is not kept).
    pub(crate) fn writer(&self) -> Option<Writer> {
        // Not while the health check's `PING` is out: if the route lost it, replies to calls
        // made meanwhile would be out of step (each call's tag check would fail it) until
        // the `PING` times out and the connection is replaced.
        if self.watch.pinging.load(Ordering::SeqCst) {
            return None;
        }
        let live = self
            .watch
            .live
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        live.as_ref().map(|live| Writer {
            connection: live.connection.clone(),
            link: live.link,
            server: live.server.clone(),
            watch: Arc::clone(&self.watch),
        })
    }
}

/// The tracking connection lent to one write.
#[derive(Clone)]
pub(crate) struct Writer {
    pub(crate) connection: MultiplexedConnection,
    link: u64,
    server: Option<(String, u16)>,
    watch: Arc<Watch>,
}

impl Writer {
    /// The server (host, port) of the connection, when Sentinel named it.
    pub(crate) fn server(&self) -> Option<&(String, u16)> {
        self.server.as_ref()
    }

    /// The write failed in a way that leaves the connection unusable: tracking is lost,
    /// as if the connection had dropped (flush, stop serving, reconnect).
    pub(crate) fn broken(&self) {
        self.watch.lose(self.link);
    }
}

impl Drop for Tracking {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the connection's push handler needs.
struct Watch {
    cache: Arc<NearCache>,
    /// The number of the newest connection (made or being made). Each connection's
    /// reports carry its number, so a late `Disconnection` of a replaced connection does
    /// not flush the cache its successor keeps ([`Live::link`]).
    current: AtomicU64,
    lost: Notify,
    /// The established connection, lent to calls ([`Tracking::writer`]).
    live: RwLock<Option<Live>>,
    /// Whether the health check's `PING` is waiting for its reply.
    pinging: AtomicBool,
}

/// An established tracking connection.
struct Live {
    link: u64,
    connection: MultiplexedConnection,
    server: Option<(String, u16)>,
}

/// Establishes tracking for `cache` and keeps it so in the background. `None` (the cache
/// stays off, with one log line) when the server cannot track: no RESP3 (`HELLO 3`
/// refused, Redis before 6) or no `CLIENT TRACKING`.
pub(crate) async fn start(
    cache: Arc<NearCache>,
    mut source: TrackingSource,
    timeout: Duration,
) -> Option<Tracking> {
    let watch = Arc::new(Watch {
        cache,
        current: AtomicU64::new(0),
        lost: Notify::new(),
        live: RwLock::new(None),
        pinging: AtomicBool::new(false),
    });
    let first = establish(&watch, &mut source, timeout).await;
    let connection = match first {
        Ok(connection) => Some(connection),
        Err(error) if !is_connection_error(&error) => {
            tracing::warn!(
                %error,
                "Redis near cache off: the server does not support RESP3 client tracking"
            );
            return None;
        }
        Err(error) => {
            tracing::info!(%error, "Redis near cache: tracking not established yet, retrying");
            None
        }
    };
    let task = tokio::spawn(keep(Arc::clone(&watch), source, timeout, connection));
    Some(Tracking { task, watch })
}

/// Connects, names the connection and turns tracking on; then activates the cache.
async fn establish(
    watch: &Arc<Watch>,
    source: &mut TrackingSource,
    timeout: Duration,
) -> RedisResult<MultiplexedConnection> {
    let link = watch.current.fetch_add(1, Ordering::SeqCst) + 1;
    let handler = Arc::clone(watch);
    let config = connection_config(timeout).set_push_sender(move |push: PushInfo| {
        handler.on_push(link, &push);
        Ok::<(), std::convert::Infallible>(())
    });
    let setup = async {
        let (client, server) = source.client().await?;
        let mut connection = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        let mut tracking = redis::cmd("CLIENT");
        // This connection's own writes are not reported back (see the module docs).
        tracking.arg("TRACKING").arg("ON").arg("NOLOOP");
        redis::pipe()
            .cmd("CLIENT")
            .arg("SETNAME")
            .arg(CLIENT_NAME)
            .ignore()
            .add_command(tracking)
            .ignore()
            .exec_async(&mut connection)
            .await?;
        Ok::<_, redis::RedisError>((connection, server))
    };
    let (connection, server) = tokio::time::timeout(timeout, setup)
        .await
        .map_err(|_| timed_out())??;
    // Lent to calls first, then serving: a call that begins once the cache is active finds
    // the connection whose reads Redis tracks.
    *watch.live.write().unwrap_or_else(PoisonError::into_inner) = Some(Live {
        link,
        connection: connection.clone(),
        server,
    });
    watch.cache.activate();
    Ok(connection)
}

/// Watches the connection, and re-establishes tracking each time it is lost.
async fn keep(
    watch: Arc<Watch>,
    mut source: TrackingSource,
    timeout: Duration,
    mut connection: Option<MultiplexedConnection>,
) {
    let mut backoff = Duration::from_millis(50);
    loop {
        match connection.take() {
            Some(mut live) => {
                backoff = Duration::from_millis(50);
                watched(&watch, &mut live, timeout).await;
                // Lost: stop serving before anything else happens.
                watch.forget(watch.current.load(Ordering::SeqCst));
                watch.pinging.store(false, Ordering::SeqCst);
            }
            None => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
        match establish(&watch, &mut source, timeout).await {
            Ok(live) => {
                tracing::info!("Redis near cache: tracking re-established");
                connection = Some(live);
            }
            Err(error) => {
                tracing::debug!(%error, "Redis near cache: tracking not re-established yet");
            }
        }
    }
}

/// Returns once the connection is lost: a `Disconnection` push, or a failed `PING`.
async fn watched(watch: &Watch, connection: &mut MultiplexedConnection, timeout: Duration) {
    loop {
        tokio::select! {
            () = watch.lost.notified() => return,
            () = tokio::time::sleep(HEALTH_CHECK) => {
                let ping = redis::cmd("PING");
                watch.pinging.store(true, Ordering::SeqCst);
                match tokio::time::timeout(timeout, ping.query_async::<Value>(connection)).await {
                    Ok(Ok(_)) => watch.pinging.store(false, Ordering::SeqCst),
                    // Lost: `pinging` is cleared once the connection is no longer lent.
                    _ => return,
                }
            }
        }
    }
}

impl Watch {
    /// Runs on the connection's driver for every push: evicts invalidated keys; a
    /// disconnection flushes the cache at once.
    fn on_push(&self, link: u64, push: &PushInfo) {
        match push.kind {
            PushKind::Invalidate => match push.data.first() {
                Some(Value::Array(keys)) => {
                    self.cache
                        .invalidate(keys.iter().filter_map(|key| match key {
                            Value::BulkString(bytes) => Some(bytes.as_slice()),
                            _ => None,
                        }))
                }
                // `FLUSHDB` / `FLUSHALL`: a null instead of the keys.
                _ => self.cache.invalidate_all(),
            },
            PushKind::Disconnection => self.lose(link),
            _ => {}
        }
    }

    /// Connection `link` is lost (a late report of a replaced connection changes nothing):
    /// the cache is flushed and serves nothing, writes stop using the connection, and the
    /// background task establishes tracking again.
    fn lose(&self, link: u64) {
        if self.forget(link) {
            self.lost.notify_one();
        }
    }

    /// [`lose`](Self::lose) without waking the background task (it is the caller): whether
    /// `link` was the established connection. Once only per connection: a `Disconnection`
    /// push and the background task both report the same loss, which flushes once.
    fn forget(&self, link: u64) -> bool {
        let mut live = self.live.write().unwrap_or_else(PoisonError::into_inner);
        if live.as_ref().is_none_or(|live| live.link != link) {
            return false;
        }
        self.cache.deactivate();
        *live = None;
        true
    }
}

fn timed_out() -> redis::RedisError {
    redis::RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "timed out establishing the near cache's tracking connection",
    ))
}
