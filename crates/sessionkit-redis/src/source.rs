//! Where fresh connections come from, for every topology.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::cluster::{ClusterClient, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::sentinel::SentinelClient;
use redis::{AsyncConnectionConfig, Client, RedisResult};

use crate::replica_ack::ReplicaAck;

/// What a shared connection is made from.
pub(crate) enum Source {
    /// One server.
    Standalone(Client),
    /// The current master of a Sentinel-monitored service, asked for on every connect, so a
    /// failover is followed.
    /// With the deletes' replica check, which may say the master Sentinel names is one a
    /// failover is replacing.
    Sentinel(SentinelClient, Option<Arc<ReplicaAck>>),
    /// A Redis Cluster.
    Cluster(ClusterClient),
}

impl Source {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Standalone(_) => "multiplexed",
            Self::Sentinel(..) => "sentinel",
            Self::Cluster(_) => "cluster",
        }
    }

    /// A new connection, never one that served before. redis-rs bounds connecting by
    /// `timeout` and puts no timer on replies: the store times every call itself.
    /// With a Sentinel, also the server (host, port) it named.
    pub(crate) async fn connect(
        &mut self,
        timeout: Duration,
    ) -> RedisResult<(Link, Option<(String, u16)>)> {
        match self {
            Self::Standalone(client) => Ok((single(client, timeout).await?, None)),
            Self::Sentinel(sentinel, ack) => {
                let client = sentinel.async_get_client().await?;
                let server = host_port(client.get_connection_info().addr());
                if let (Some(ack), Some(server)) = (ack, &server) {
                    ack.check_master(server)?;
                }
                Ok((single(&client, timeout).await?, server))
            }
            Self::Cluster(client) => client
                .get_async_connection_with_config(
                    ClusterConfig::new().set_connection_timeout(timeout),
                )
                .await
                .map(|link| (Link::Cluster(link), None)),
        }
    }
}

/// The (host, port) of a TCP address.
pub(crate) fn host_port(addr: &redis::ConnectionAddr) -> Option<(String, u16)> {
    match addr {
        redis::ConnectionAddr::Tcp(host, port)
        | redis::ConnectionAddr::TcpTls { host, port, .. } => Some((host.clone(), *port)),
        _ => None,
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
