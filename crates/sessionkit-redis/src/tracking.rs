//! The near cache's invalidation connection: a RESP3 connection of its own, named
//! `sessionkit-tracking`, with `CLIENT TRACKING ON BCAST PREFIX <key prefix>`. Redis pushes
//! an `invalidate` message for every key under the prefix that changes (written, touched,
//! deleted, expired, evicted); each key is evicted from the cache.
//!
//! When the connection drops (redis-rs pushes `Disconnection`), or a health-check `PING`
//! fails or times out, the cache is flushed and serves nothing until a new connection has
//! tracking on again; a background task reconnects with a bounded backoff.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::sentinel::SentinelClient;
use redis::{Client, ProtocolVersion, PushInfo, PushKind, RedisResult, Value};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::error::is_connection_error;
use crate::near_cache::NearCache;
use crate::source::connection_config;

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
    async fn client(&mut self) -> RedisResult<Client> {
        let client = match self {
            Self::Standalone(client) => client.clone(),
            Self::Sentinel(sentinel) => sentinel.async_get_client().await?,
        };
        let info = client.get_connection_info().clone();
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        Client::open(info.set_redis_settings(settings))
    }
}

/// The background task that keeps tracking established; aborted when the store (its last
/// clone) is dropped.
pub(crate) struct Tracking {
    task: JoinHandle<()>,
}

impl Drop for Tracking {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the connection's push handler needs.
struct Watch {
    cache: Arc<NearCache>,
    /// The connection whose pushes count: a late `Disconnection` of a replaced connection
    /// must not flush the cache its successor keeps.
    current: AtomicU64,
    lost: Notify,
}

/// Establishes tracking for `cache` and keeps it so in the background. `None` (the cache
/// stays off, with one log line) when the server cannot track: no RESP3 (`HELLO 3`
/// refused, Redis before 6) or no `CLIENT TRACKING`.
pub(crate) async fn start(
    cache: Arc<NearCache>,
    mut source: TrackingSource,
    prefix: Arc<str>,
    timeout: Duration,
) -> Option<Tracking> {
    let watch = Arc::new(Watch {
        cache,
        current: AtomicU64::new(0),
        lost: Notify::new(),
    });
    let first = establish(&watch, &mut source, &prefix, timeout).await;
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
    let task = tokio::spawn(keep(watch, source, prefix, timeout, connection));
    Some(Tracking { task })
}

/// Connects, names the connection and turns tracking on; then activates the cache.
async fn establish(
    watch: &Arc<Watch>,
    source: &mut TrackingSource,
    prefix: &str,
    timeout: Duration,
) -> RedisResult<MultiplexedConnection> {
    let link = watch.current.fetch_add(1, Ordering::SeqCst) + 1;
    let handler = Arc::clone(watch);
    let config = connection_config(timeout).set_push_sender(move |push: PushInfo| {
        handler.on_push(link, &push);
        Ok::<(), std::convert::Infallible>(())
    });
    let setup = async {
        let client = source.client().await?;
        let mut connection = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        let mut tracking = redis::cmd("CLIENT");
        tracking.arg("TRACKING").arg("ON").arg("BCAST");
        if !prefix.is_empty() {
            tracking.arg("PREFIX").arg(prefix);
        }
        redis::pipe()
            .cmd("CLIENT")
            .arg("SETNAME")
            .arg(CLIENT_NAME)
            .ignore()
            .add_command(tracking)
            .ignore()
            .exec_async(&mut connection)
            .await?;
        Ok::<_, redis::RedisError>(connection)
    };
    let connection = tokio::time::timeout(timeout, setup)
        .await
        .map_err(|_| timed_out())??;
    // Tracking is on from here: a call that begins now sees every later change notified.
    watch.cache.activate();
    Ok(connection)
}

/// Watches the connection, and re-establishes tracking each time it is lost.
async fn keep(
    watch: Arc<Watch>,
    mut source: TrackingSource,
    prefix: Arc<str>,
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
                watch.cache.deactivate();
            }
            None => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
        match establish(&watch, &mut source, &prefix, timeout).await {
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
                match tokio::time::timeout(timeout, ping.query_async::<Value>(connection)).await {
                    Ok(Ok(_)) => {}
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
            PushKind::Disconnection if self.current.load(Ordering::SeqCst) == link => {
                self.cache.deactivate();
                self.lost.notify_one();
            }
            _ => {}
        }
    }
}

fn timed_out() -> redis::RedisError {
    redis::RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "timed out establishing the near cache's tracking connection",
    ))
}
