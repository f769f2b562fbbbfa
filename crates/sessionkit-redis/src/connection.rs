//! The ways the store reaches Redis, behind one `query` call.

use std::fmt;
use std::sync::Arc;

use bb8_redis::RedisConnectionManager;
use redis::aio::ConnectionManager;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, FromRedisValue};
use sessionkit_core::Error;

use crate::error::{from_pool, from_redis, is_connection_error};
use crate::sentinel::SentinelMaster;

/// How the store talks to Redis.
#[derive(Clone)]
pub(crate) enum Connection {
    /// One multiplexed connection that pipelines concurrent commands and reconnects by itself.
    Multiplexed(ConnectionManager),
    /// A bb8 pool of multiplexed connections.
    Pool(bb8::Pool<RedisConnectionManager>),
    /// A Redis Cluster.
    Cluster(ClusterConnection),
    /// The current master of a Sentinel-monitored service.
    Sentinel(Arc<SentinelMaster>),
}

impl Connection {
    /// Runs one command.
    pub(crate) async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, Error> {
        match self {
            Self::Multiplexed(manager) => cmd
                .query_async(&mut manager.clone())
                .await
                .map_err(from_redis),
            Self::Cluster(cluster) => cmd
                .query_async(&mut cluster.clone())
                .await
                .map_err(from_redis),
            Self::Sentinel(master) => master.query(cmd).await,
            Self::Pool(pool) => {
                let mut conn = pool.get().await.map_err(from_pool)?;
                let result = cmd.query_async(&mut *conn).await;
                if let Err(error) = &result
                    && is_connection_error(error)
                {
                    // bb8-redis never reports a connection as broken, and a multiplexed
                    // connection does not reconnect: put a fresh connection in this slot so
                    // the pool heals after a server restart. This request still fails; it is
                    // not retried, as the command may have been applied.
                    match pool.dedicated_connection().await {
                        Ok(fresh) => *conn = fresh,
                        Err(e) => {
                            tracing::debug!(error = %e, "could not replace a broken pooled Redis connection");
                        }
                    }
                }
                result.map_err(from_redis)
            }
        }
    }

    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Multiplexed(_) => "multiplexed",
            Self::Pool(_) => "bb8 pool",
            Self::Cluster(_) => "cluster",
            Self::Sentinel(_) => "sentinel",
        }
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind())
    }
}
