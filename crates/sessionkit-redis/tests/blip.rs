//! A network blip between the store and Redis (a proxy that swallows or holds bytes
//! without resetting anything): calls fail within the timeout, the same store serves again
//! within seconds of healing, and no reply ever reaches the wrong call.

mod support;

use std::time::Duration;

use sessionkit_redis::{ConnectionKind, RedisStore};
use sessionkit_testkit::recovery::{replies_reach_their_calls, survives_a_blip};
use sessionkit_testkit::{Fault, FaultProxy};

const TIMEOUT: Duration = Duration::from_millis(300);
const MARGIN: Duration = Duration::from_millis(400);

async fn standalone(kind: ConnectionKind) -> (FaultProxy, RedisStore) {
    let proxy = FaultProxy::start("127.0.0.1:6379".parse().unwrap())
        .await
        .unwrap();
    let store = RedisStore::builder(format!("redis://{}", proxy.addr()))
        .key_prefix(support::unique_prefix())
        .connection(kind)
        .timeout(TIMEOUT)
        .build()
        .await
        .expect("Redis on 127.0.0.1:6379: start it with ./scripts/services");
    (proxy, store)
}

const POOL: ConnectionKind = ConnectionKind::Pool { max_size: 8 };

#[tokio::test]
async fn multiplexed_recovers_from_a_blackhole() {
    let (proxy, store) = standalone(ConnectionKind::Multiplexed).await;
    let blip = survives_a_blip(&store, &proxy, Fault::Blackhole, TIMEOUT, MARGIN).await;
    println!("{blip:?}");
}

#[tokio::test]
async fn multiplexed_recovers_from_a_stall() {
    let (proxy, store) = standalone(ConnectionKind::Multiplexed).await;
    let blip = survives_a_blip(&store, &proxy, Fault::Stall, TIMEOUT, MARGIN).await;
    println!("{blip:?}");
}

#[tokio::test]
async fn multiplexed_never_pairs_a_reply_with_another_call() {
    let (proxy, store) = standalone(ConnectionKind::Multiplexed).await;
    replies_reach_their_calls(&store, &proxy, TIMEOUT).await;
}

#[tokio::test]
async fn pool_recovers_from_a_blackhole() {
    let (proxy, store) = standalone(POOL).await;
    let blip = survives_a_blip(&store, &proxy, Fault::Blackhole, TIMEOUT, MARGIN).await;
    println!("{blip:?}");
}

#[tokio::test]
async fn pool_recovers_from_a_stall() {
    let (proxy, store) = standalone(POOL).await;
    let blip = survives_a_blip(&store, &proxy, Fault::Stall, TIMEOUT, MARGIN).await;
    println!("{blip:?}");
}

#[tokio::test]
async fn pool_never_pairs_a_reply_with_another_call() {
    let (proxy, store) = standalone(POOL).await;
    replies_reach_their_calls(&store, &proxy, TIMEOUT).await;
}
