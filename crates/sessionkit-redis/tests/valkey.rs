//! Valkey 8.1 (127.0.0.1:6390, started by `scripts/services`), whose `SET ... IFEQ` the
//! store uses as its compare-and-set when the near cache holds the loaded bytes: the whole
//! conformance suite and the user index cases with the near cache (native saves) and
//! without (the script), that saves of loaded sessions never run the script, that the
//! native compare-and-set refuses what the script refuses, and that Redis 7.0 keeps the
//! script.

mod support;

use std::time::{Duration, SystemTime};

use sessionkit_core::{Error, Id, SessionStore};
use sessionkit_redis::RedisStore;
use sessionkit_testkit::{Harness, TimeTravel};
use support::{Raw, STANDALONE, Server, VALKEY, command, unique_prefix};

async fn store(url: &str, near_cache: bool) -> RedisStore {
    RedisStore::builder(url)
        .key_prefix(unique_prefix())
        .near_cache(near_cache)
        .build()
        .await
        .unwrap_or_else(|e| {
            panic!("Valkey is not reachable at {url}: {e}. Start it with ./scripts/services")
        })
}

async fn native() -> Harness {
    let store = store(VALKEY, true).await;
    assert!(
        store.native_compare_and_set(),
        "Valkey 8.1 has SET ... IFEQ"
    );
    Harness::new(store, TimeTravel::Real)
}

async fn scripted() -> Harness {
    let store = store(VALKEY, false).await;
    assert!(!store.native_compare_and_set());
    Harness::new(store, TimeTravel::Real)
}

mod native {
    sessionkit_testkit::conformance_tests!(super::native);
    sessionkit_testkit::user_index_tests!(super::native);
    sessionkit_testkit::scan_tests!(super::native);
}

mod scripted {
    sessionkit_testkit::conformance_tests!(super::scripted);
    sessionkit_testkit::user_index_tests!(super::scripted);
}

fn in_a_minute() -> SystemTime {
    SystemTime::now() + Duration::from_secs(60)
}

/// `calls` of `INFO commandstats` for `name` (0 when never called).
async fn calls(raw: &mut Raw, name: &str) -> u64 {
    let stats: String = raw.query(&command("INFO", &["commandstats"])).await;
    stats
        .lines()
        .find_map(|line| line.strip_prefix(&format!("cmdstat_{name}:calls=")))
        .map_or(0, |rest| rest.split(',').next().unwrap().parse().unwrap())
}

#[tokio::test]
async fn saves_of_loaded_sessions_are_set_ifeq_never_a_script() {
    let server = Server::valkey();
    let store = store(&server.url(), true).await;
    assert!(store.native_compare_and_set());
    let mut raw = Raw::single(&server.url()).await;
    let id = Id::random();
    store.create(&id, b"0", in_a_minute()).await.unwrap();
    let sets_before = calls(&mut raw, "set").await;
    for n in 1..=10u32 {
        let loaded = store
            .load(&id)
            .await
            .unwrap()
            .expect("the session is there");
        assert_eq!(loaded.payload(), (n - 1).to_string().as_bytes());
        let saved = n.to_string();
        store
            .save(&id, saved.as_bytes(), in_a_minute(), loaded.version())
            .await
            .unwrap();
    }
    let last = store.load(&id).await.unwrap().unwrap();
    assert_eq!(last.payload(), &b"10"[..]);
    assert_eq!(calls(&mut raw, "set").await - sets_before, 10);
    assert_eq!(calls(&mut raw, "evalsha").await, 0);
    assert_eq!(calls(&mut raw, "eval").await, 0);
    assert!(store.native_compare_and_set());
}

/// A save over a change made by another process is a conflict that leaves the other
/// process's bytes; over a delete it is `Gone` and creates nothing. Whether the save went
/// out as `SET ... IFEQ` (the cache still held the loaded bytes) or as the script (the
/// invalidation had evicted them), the outcome is the same.
#[tokio::test]
async fn a_save_over_a_change_or_a_delete_made_elsewhere_writes_nothing() {
    let here = store(VALKEY, true).await;
    let prefix = here.key_prefix().to_owned();
    let elsewhere = RedisStore::builder(VALKEY)
        .key_prefix(prefix)
        .near_cache(false)
        .build()
        .await
        .unwrap();
    for round in 0..20 {
        let id = Id::random();
        here.create(&id, b"first", in_a_minute()).await.unwrap();
        let loaded = here.load(&id).await.unwrap().unwrap();
        let theirs = elsewhere.load(&id).await.unwrap().unwrap();
        elsewhere
            .save(&id, b"theirs", in_a_minute(), theirs.version())
            .await
            .unwrap();
        let outcome = here
            .save(&id, b"mine", in_a_minute(), loaded.version())
            .await;
        assert!(
            matches!(outcome, Err(Error::Conflict)),
            "round {round}: {outcome:?}"
        );
        let held = elsewhere.load(&id).await.unwrap().unwrap();
        assert_eq!(held.payload(), &b"theirs"[..], "round {round}");

        let loaded = here.load(&id).await.unwrap().unwrap();
        elsewhere.delete(&id).await.unwrap();
        let outcome = here
            .save(&id, b"mine", in_a_minute(), loaded.version())
            .await;
        assert!(
            matches!(outcome, Err(Error::Gone)),
            "round {round}: {outcome:?}"
        );
        assert!(
            elsewhere.load(&id).await.unwrap().is_none(),
            "round {round}"
        );
    }
}

#[tokio::test]
async fn redis_7_keeps_the_compare_and_set_script() {
    let store = store(STANDALONE, true).await;
    assert!(store.near_cache_stats().is_some());
    assert!(!store.native_compare_and_set());
}
