//! A network blip between the store and both memcached servers (proxies that swallow or
//! hold bytes without resetting anything): calls fail within the timeout, the same store
//! serves again within seconds of healing, and no reply ever reaches the wrong call.

mod support;

use std::time::Duration;

use sessionkit_memcached::MemcachedStore;
use sessionkit_testkit::recovery::{
    replies_reach_their_calls, serves_through_latency, survives_a_blip,
};
use sessionkit_testkit::{Fault, FaultProxy};
use support::{NODE_A, NODE_B, unique_prefix};

const TIMEOUT: Duration = Duration::from_millis(300);
const MARGIN: Duration = Duration::from_millis(400);

async fn behind_proxies() -> ([FaultProxy; 2], MemcachedStore) {
    let proxies = [
        FaultProxy::start(NODE_A.parse().unwrap()).await.unwrap(),
        FaultProxy::start(NODE_B.parse().unwrap()).await.unwrap(),
    ];
    let store = MemcachedStore::builder(proxies.iter().map(|p| p.addr().to_string()))
        .key_prefix(unique_prefix())
        .timeout(TIMEOUT)
        .build_and_ping()
        .await
        .expect("memcached on 11211 and 11212: start them with ./scripts/services");
    (proxies, store)
}

#[tokio::test]
async fn recovers_from_a_blackhole() {
    let (proxies, store) = behind_proxies().await;
    let blip = survives_a_blip(&store, &proxies, Fault::Blackhole, TIMEOUT, MARGIN).await;
    println!("{blip:?}");
}

#[tokio::test]
async fn recovers_from_a_stall() {
    let (proxies, store) = behind_proxies().await;
    let blip = survives_a_blip(&store, &proxies, Fault::Stall, TIMEOUT, MARGIN).await;
    println!("{blip:?}");
}

#[tokio::test]
async fn serves_through_latency_below_the_timeout() {
    let (proxies, store) = behind_proxies().await;
    serves_through_latency(&store, &proxies, TIMEOUT / 20, TIMEOUT).await;
}

#[tokio::test]
async fn never_pairs_a_reply_with_another_call() {
    let (proxies, store) = behind_proxies().await;
    replies_reach_their_calls(&store, &proxies, TIMEOUT).await;
}
