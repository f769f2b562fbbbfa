//! Where fresh connections come from, for every topology.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::cluster::{ClusterClient, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::sentinel::SentinelClient;
use redis::{AsyncConnectionConfig, Client, RedisResult};

/// What a shared connection is made from.
pub(crate) enum Source {
    /// One server.
    Standalone(Client),
    /// The current master of a Sentinel-monitored service, asked for on every connect, so a
    /// failover is followed.
    Sentinel(SentinelClient),
    /// A Redis Cluster.
    Cluster(ClusterClient),
}

impl Source {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Standalone(_) => "multiplexed",
            Self::Sentinel(_) => "sentinel",
            Self::Cluster(_) => "cluster",
        }
    }

    /// A new connection, never one that served before. redis-rs bounds connecting by
    /// `timeout` and puts no timer on replies: the store times every call itself.
    pub(crate) async fn connect(&mut self, timeout: Duration) -> RedisResult<Link> {
        match self {
            Self::Standalone(client) => single(client, timeout).await,
            Self::Sentinel(sentinel) => single(&sentinel.async_get_client().await?, timeout).await,
            Self::Cluster(client) => client
                .get_async_connection_with_config(
                    ClusterConfig::new().set_connection_timeout(timeout),
                )
                .await
                .map(Link::Cluster),
        }
    }
}

/// The connection settings for one server: `timeout` on connecting, none on replies.
pub(crate) fn connection_config(timeout: Duration) -> AsyncConnectionConfig {
    AsyncConnectionConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(None)
}

async fn single(client: &Client, timeout: Duration) -> RedisResult<Link> {
    client
        .get_multiplexed_async_connection_with_config(&connection_config(timeout))
        .await
        .map(Link::Single)
}

/// A connection concurrent calls share: one server's, or a cluster's.
#[derive(Clone)]
pub(crate) enum Link {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}
