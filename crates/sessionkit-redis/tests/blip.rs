//! A network blip between the store and Redis (proxies that swallow or hold bytes without
//! resetting anything): calls fail within the timeout, the same store serves again within
//! seconds of healing, and no reply ever reaches the wrong call. Standalone (multiplexed and
//! pooled), Cluster (every node behind a proxy) and Sentinel (the master behind a proxy).

mod support;

use std::collections::HashMap;
use std::time::Duration;

use sessionkit_redis::redis::cluster::{ClusterClient, NodeAddress};
use sessionkit_redis::{ConnectionKind, RedisStore};
use sessionkit_testkit::recovery::{
    replies_reach_their_calls, serves_through_latency, survives_a_blip,
};
use sessionkit_testkit::{Fault, FaultProxy};
use support::{Server, unique_prefix};

const TIMEOUT: Duration = Duration::from_millis(300);
const MARGIN: Duration = Duration::from_millis(400);
const POOL: ConnectionKind = ConnectionKind::Pool { max_size: 8 };

async fn proxy_to(port: u16) -> FaultProxy {
    FaultProxy::start(([127, 0, 0, 1], port).into())
        .await
        .unwrap()
}

async fn standalone(kind: ConnectionKind) -> ([FaultProxy; 1], RedisStore) {
    let proxy = proxy_to(6379).await;
    let store = RedisStore::builder(format!("redis://{}", proxy.addr()))
        .key_prefix(unique_prefix())
        .connection(kind)
        .timeout(TIMEOUT)
        .build()
        .await
        .expect("Redis on 127.0.0.1:6379: start it with ./scripts/services");
    ([proxy], store)
}

/// The test cluster (7000-7002) with every node reached through a proxy: the nodes'
/// advertised addresses are mapped to the proxies'.
async fn cluster() -> (Vec<FaultProxy>, RedisStore) {
    let mut proxies = Vec::new();
    let mut map = HashMap::new();
    for port in [7000, 7001, 7002] {
        let proxy = proxy_to(port).await;
        map.insert(
            NodeAddress::new("127.0.0.1", port),
            NodeAddress::new("127.0.0.1", proxy.addr().port()),
        );
        proxies.push(proxy);
    }
    let client = ClusterClient::builder(["redis://127.0.0.1:7000"])
        .node_address_map(map)
        .build()
        .unwrap();
    let store = RedisStore::builder_from_cluster(client)
        .key_prefix(unique_prefix())
        .timeout(TIMEOUT)
        .build()
        .await
        .expect("the Redis Cluster on 7000-7002: start it with ./scripts/services");
    (proxies, store)
}

/// A master of its own behind a proxy, and a Sentinel that knows the master by the proxy's
/// address.
struct SentinelSetup {
    proxies: [FaultProxy; 1],
    store: RedisStore,
    _servers: [Server; 2],
}

async fn sentinel() -> SentinelSetup {
    let master = Server::start();
    let proxy = proxy_to(master.port).await;
    let sentinel = Server::sentinel("blip", proxy.addr().port());
    let store = RedisStore::builder(format!("redis+sentinel://127.0.0.1:{}/blip", sentinel.port))
        .key_prefix(unique_prefix())
        .timeout(TIMEOUT)
        .build()
        .await
        .unwrap();
    SentinelSetup {
        proxies: [proxy],
        store,
        _servers: [master, sentinel],
    }
}

#[tokio::test]
async fn multiplexed_recovers_from_a_blackhole() {
    let (proxies, store) = standalone(ConnectionKind::Multiplexed).await;
    let blip = survives_a_blip(&store, &proxies, Fault::Blackhole, TIMEOUT, MARGIN).await;
    println!("{blip:?}");
}

#[tokio::test]
async fn multiplexed_recovers_from_a_stall() {
    let (proxies, store) = standalone(ConnectionKind::Multiplexed).await;
    let blip = survives_a_blip(&store, &proxies, Fault::Stall, TIMEOUT, MARGIN).await;
    println!("{blip:?}");
}

#[tokio::test]
async fn multiplexed_serves_through_latency_below_the_timeout() {
    let (proxies, store) = standalone(ConnectionKind::Multiplexed).await;
    serves_through_latency(&store, &proxies, TIMEOUT / 20, TIMEOUT).await;
}

#[tokio::test]
async fn pool_serves_through_latency_below_the_timeout() {
    let (proxies, store) = standalone(POOL).await;
    serves_through_latency(&store, &proxies, TIMEOUT / 20, TIMEOUT).await;
}

#[tokio::test]
async fn multiplexed_never_pairs_a_reply_with_another_call() {
    let (proxies, store) = standalone(ConnectionKind::Multiplexed).await;
    replies_reach_their_calls(&store, &proxies, TIMEOUT).await;
}

#[tokio::test]
async fn pool_recovers_from_a_blackhole() {
    let (proxies, store) = standalone(POOL).await;
    let blip = survives_a_blip(&store, &proxies, Fault::Blackhole, TIMEOUT, MARGIN).await;
    println!("{blip:?}");
}

#[tokio::test]
async fn pool_recovers_from_a_stall() {
    let (proxies, store) = standalone(POOL).await;
    let blip = survives_a_blip(&store, &proxies, Fault::Stall, TIMEOUT, MARGIN).await;
    println!("{blip:?}");
}

#[tokio::test]
async fn pool_never_pairs_a_reply_with_another_call() {
    let (proxies, store) = standalone(POOL).await;
    replies_reach_their_calls(&store, &proxies, TIMEOUT).await;
}

#[tokio::test]
async fn cluster_recovers_from_a_blackhole() {
    let (proxies, store) = cluster().await;
    let blip = survives_a_blip(&store, &proxies, Fault::Blackhole, TIMEOUT, MARGIN).await;
    println!("{blip:?}");
}

#[tokio::test]
async fn cluster_recovers_from_a_stall() {
    let (proxies, store) = cluster().await;
    let blip = survives_a_blip(&store, &proxies, Fault::Stall, TIMEOUT, MARGIN).await;
    println!("{blip:?}");
}

#[tokio::test]
async fn cluster_never_pairs_a_reply_with_another_call() {
    let (proxies, store) = cluster().await;
    replies_reach_their_calls(&store, &proxies, TIMEOUT).await;
}

#[tokio::test]
async fn sentinel_master_recovers_from_a_blackhole() {
    let setup = sentinel().await;
    let blip = survives_a_blip(
        &setup.store,
        &setup.proxies,
        Fault::Blackhole,
        TIMEOUT,
        MARGIN,
    )
    .await;
    println!("{blip:?}");
}

#[tokio::test]
async fn sentinel_master_recovers_from_a_stall() {
    let setup = sentinel().await;
    let blip = survives_a_blip(&setup.store, &setup.proxies, Fault::Stall, TIMEOUT, MARGIN).await;
    println!("{blip:?}");
}

#[tokio::test]
async fn sentinel_master_never_pairs_a_reply_with_another_call() {
    let setup = sentinel().await;
    replies_reach_their_calls(&setup.store, &setup.proxies, TIMEOUT).await;
}
