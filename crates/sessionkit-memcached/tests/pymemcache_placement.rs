//! `MemcachedPlacement::Pymemcache` on two memcached servers (127.0.0.1:11211 and :11212):
//! the conformance suite, and every session is on the server a real pymemcache `HashClient`
//! over the same two servers (the interop tests' Python) reads it from and writes it to.

mod support;

use std::time::{Duration, SystemTime};

use sessionkit_core::{Id, SessionStore};
use sessionkit_memcached::{MemcachedPlacement, MemcachedStore};
use sessionkit_testkit::{Harness, TimeTravel};
use support::{NODE_A, NODE_B, connect_placed, hashclient, server_value};

/// Sessions per test: all on one server by chance once in 2^39 runs.
const SESSIONS: usize = 40;

async fn store() -> MemcachedStore {
    connect_placed(&[NODE_A, NODE_B], MemcachedPlacement::Pymemcache).await
}

async fn two_nodes_pymemcache() -> Harness {
    Harness::new(store().await, TimeTravel::Real)
}

sessionkit_testkit::conformance_tests!(two_nodes_pymemcache);

/// The servers holding `key`, read directly.
fn holders(key: &str) -> Vec<&'static str> {
    [NODE_A, NODE_B]
        .into_iter()
        .filter(|server| server_value(server, key).is_some())
        .collect()
}

#[tokio::test]
async fn a_saved_session_is_on_the_server_hashclient_reads_it_from() {
    let store = store().await;
    assert_eq!(store.placement(), MemcachedPlacement::Pymemcache);
    let expires = SystemTime::now() + Duration::from_secs(600);
    let mut ids = Vec::new();
    let mut items = Vec::new();
    for n in 0..SESSIONS {
        let id = Id::random();
        store.create(&id, b"created", expires).await.unwrap();
        let version = store.load(&id).await.unwrap().unwrap().version();
        let payload = format!("saved {n}").into_bytes();
        store.save(&id, &payload, expires, version).await.unwrap();
        items.push((store.key(&id), payload));
        ids.push(id);
    }

    let calls = hashclient(&[NODE_A, NODE_B], "get", &items);
    assert_eq!(calls.len(), SESSIONS);
    for ((id, (key, payload)), call) in ids.iter().zip(&items).zip(&calls) {
        assert_eq!(
            call.value.as_ref(),
            Some(payload),
            "HashClient does not find {key}"
        );
        assert_eq!(call.server, store.server_for(id), "{key}");
        assert_eq!(holders(key), [call.server.as_str()], "{key}");
    }
    let on_a = calls.iter().filter(|c| c.server == NODE_A).count();
    assert!(
        0 < on_a && on_a < SESSIONS,
        "{on_a} of {SESSIONS} on {NODE_A}"
    );
}

#[tokio::test]
async fn a_session_hashclient_wrote_is_loaded_from_its_server() {
    let store = store().await;
    let ids: Vec<Id> = (0..SESSIONS).map(|_| Id::random()).collect();
    let items: Vec<(String, Vec<u8>)> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| (store.key(id), format!("from python {n}").into_bytes()))
        .collect();

    let calls = hashclient(&[NODE_A, NODE_B], "set", &items);
    assert_eq!(calls.len(), SESSIONS);
    for ((id, (key, payload)), call) in ids.iter().zip(&items).zip(&calls) {
        assert_eq!(holders(key), [call.server.as_str()], "{key}");
        assert_eq!(store.server_for(id), call.server, "{key}");
        let record = store.load(id).await.unwrap();
        assert_eq!(
            record.map(|r| r.payload().to_vec()).as_ref(),
            Some(payload),
            "{key}"
        );
    }
    let on_a = calls.iter().filter(|c| c.server == NODE_A).count();
    assert!(
        0 < on_a && on_a < SESSIONS,
        "{on_a} of {SESSIONS} on {NODE_A}"
    );
}
