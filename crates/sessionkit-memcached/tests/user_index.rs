//! The memcached user index beyond the shared cases: the record's own expiry, compare-and-set
//! under contention, lazy repair, a corrupt record, and what a failed write leaves behind.

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use sessionkit_core::{ErrorKind, Id, SessionStore, UserIndex};
use sessionkit_memcached::MemcachedStore;
use support::{
    NODE_A, NODE_B, Warnings, connect, server_set, server_ttl, server_value, unique_prefix,
};

/// A user name no other test uses.
fn user(name: &str) -> String {
    format!("{name}-{}", &Id::random().to_string()[..12])
}

fn in_secs(secs: u64) -> SystemTime {
    SystemTime::now() + Duration::from_secs(secs)
}

async fn listed_ids(store: &MemcachedStore, user: &str) -> BTreeSet<Id> {
    store
        .sessions_of(user)
        .await
        .expect("sessions_of")
        .into_iter()
        .map(|r| r.id)
        .collect()
}

/// The ids in the user's record as stored, read past the store.
fn stored_ids(store: &MemcachedStore, user: &str) -> Vec<String> {
    let value = server_value(NODE_A, &store.user_key(user)).unwrap_or_default();
    String::from_utf8(value)
        .expect("an index record is text")
        .lines()
        .skip(1)
        .map(|line| line.split(' ').next().unwrap().to_owned())
        .collect()
}

/// Asserts that the record's TTL on the server is `secs` plus the store's margin (2 s),
/// within memcached's clock: it ticks once a second, and an absolute expiry (beyond 30
/// days) is read back against that coarse clock, which can add up to two more seconds.
fn assert_record_ttl(store: &MemcachedStore, user: &str, secs: i64, what: &str) {
    let ttl = server_ttl(NODE_A, &store.user_key(user))
        .unwrap_or_else(|| panic!("{what}: no index record"));
    assert!(
        (secs - 1..=secs + 6).contains(&ttl),
        "{what}: index record TTL {ttl}, latest member {secs}"
    );
}

#[tokio::test]
async fn the_record_expires_with_its_latest_member_and_is_never_shortened() {
    let store = connect(&[NODE_A]).await;
    let ada = user("ada");
    let (short, long) = (Id::random(), Id::random());
    store
        .create_for(&short, b"\x80", in_secs(100), Some(&ada))
        .await
        .unwrap();
    assert_record_ttl(&store, &ada, 100, "one member");
    store
        .create_for(&long, b"\x80", in_secs(300), Some(&ada))
        .await
        .unwrap();
    assert_record_ttl(&store, &ada, 300, "a later member");

    store
        .touch_for(&short, in_secs(600), Some(&ada))
        .await
        .unwrap();
    assert_record_ttl(&store, &ada, 600, "touch_for extends");
    store
        .touch_for(&short, in_secs(50), Some(&ada))
        .await
        .unwrap();
    let version = store.load(&long).await.unwrap().unwrap().version();
    store
        .save_for(&long, b"\x81", in_secs(50), version, Some(&ada))
        .await
        .unwrap();
    assert_record_ttl(&store, &ada, 600, "shorter writes never shorten it");

    // Beyond 30 days the record's expiry is an absolute time, as a session's.
    let month = 31 * 24 * 60 * 60;
    store
        .touch_for(&long, in_secs(month), Some(&ada))
        .await
        .unwrap();
    assert_record_ttl(&store, &ada, month as i64, "31 days");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_for_one_user_are_all_listed() {
    let store = Arc::new(connect(&[NODE_A, NODE_B]).await);
    let ada = Arc::new(user("ada"));
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..32u8 {
        let (store, ada) = (store.clone(), ada.clone());
        tasks.spawn(async move {
            let id = Id::random();
            store
                .create_for(&id, &[0x81, 0xa1, b'n', n], in_secs(600), Some(&ada))
                .await
                .map(|()| id)
        });
    }
    let mut created = BTreeSet::new();
    while let Some(joined) = tasks.join_next().await {
        created.insert(joined.unwrap().expect("create_for"));
    }
    assert_eq!(created.len(), 32);
    let listed = listed_ids(&store, &ada).await;
    assert_eq!(
        listed.len(),
        32,
        "{} of 32 concurrent creates listed",
        listed.len()
    );
    assert_eq!(listed, created);
}

#[tokio::test]
async fn entries_of_deleted_sessions_are_dropped_once_past_the_grace() {
    let store = MemcachedStore::builder([NODE_A])
        .key_prefix(unique_prefix())
        .timeout(Duration::from_millis(300))
        .build_and_ping()
        .await
        .expect("memcached on 11211: start it with ./scripts/services");
    let ada = user("ada");
    let (deleted, kept) = (Id::random(), Id::random());
    for id in [deleted, kept] {
        store
            .create_for(&id, b"\x80", in_secs(600), Some(&ada))
            .await
            .unwrap();
    }
    let bound_at = Instant::now();
    store.delete(&deleted).await.unwrap();

    // Never listed, though its entry stays for the grace: its write may be in flight.
    assert_eq!(listed_ids(&store, &ada).await, BTreeSet::from([kept]));
    assert!(stored_ids(&store, &ada).contains(&deleted.to_string()));

    // Past the grace (timeout + 5 s), a listing drops it from the record.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert_eq!(listed_ids(&store, &ada).await, BTreeSet::from([kept]));
        let ids = stored_ids(&store, &ada);
        if !ids.contains(&deleted.to_string()) {
            assert_eq!(ids, [kept.to_string()], "the live member stays");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the deleted member is still in the record"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        bound_at.elapsed() >= Duration::from_secs(5),
        "dropped within the grace, after {:?}",
        bound_at.elapsed()
    );

    // The last one deleted, the record goes too.
    store.delete(&kept).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while server_value(NODE_A, &store.user_key(&ada)).is_some() {
        assert!(listed_ids(&store, &ada).await.is_empty());
        assert!(Instant::now() < deadline, "the empty record is still there");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn a_corrupt_record_reads_as_empty_with_a_warning_and_is_replaced() {
    let store = connect(&[NODE_A]).await;
    let ada = user("ada");
    let before = Id::random();
    store
        .create_for(&before, b"\x80", in_secs(600), Some(&ada))
        .await
        .unwrap();
    for garbage in [
        &b"not an index"[..],
        b"skidx1\nshort 1 2 3\n",
        b"\xff\xfe\x00",
    ] {
        server_set(NODE_A, &store.user_key(&ada), garbage, 600);
        let warnings = Warnings::capture();
        assert!(
            store.sessions_of(&ada).await.unwrap().is_empty(),
            "{garbage:?}"
        );
        let text = warnings.text();
        assert!(
            text.contains("WARN") && text.contains("corrupt"),
            "no warning for {garbage:?}: {text}"
        );
    }

    // The next write replaces it with a proper record.
    let after = Id::random();
    store
        .create_for(&after, b"\x80", in_secs(600), Some(&ada))
        .await
        .unwrap();
    assert_eq!(listed_ids(&store, &ada).await, BTreeSet::from([after]));
    assert!(
        server_value(NODE_A, &store.user_key(&ada))
            .unwrap()
            .starts_with(b"skidx1\n")
    );
}

#[tokio::test]
async fn a_failed_save_keeps_an_entry_it_did_not_add() {
    // Two requests save the same session for the same user; the loser's Conflict must not
    // take the winner's entry away.
    let store = connect(&[NODE_A]).await;
    let ada = user("ada");
    let id = Id::random();
    store
        .create_for(&id, b"\x80", in_secs(600), Some(&ada))
        .await
        .unwrap();
    let version = store.load(&id).await.unwrap().unwrap().version();
    store
        .save_for(&id, b"\x81", in_secs(600), version, Some(&ada))
        .await
        .unwrap();
    let loser = store
        .save_for(&id, b"\x82", in_secs(600), version, Some(&ada))
        .await;
    assert_eq!(loser.map_err(|e| e.kind()), Err(ErrorKind::Conflict));
    assert_eq!(listed_ids(&store, &ada).await, BTreeSet::from([id]));

    // A touch of a missing session adds no entry either.
    let missing = Id::random();
    let gone = store.touch_for(&missing, in_secs(600), Some(&ada)).await;
    assert_eq!(gone.map_err(|e| e.kind()), Err(ErrorKind::Gone));
    assert_eq!(stored_ids(&store, &ada), [id.to_string()]);
}

#[tokio::test]
async fn listed_expiry_and_version_match_the_server() {
    let store = connect(&[NODE_A]).await;
    let ada = user("ada");
    let id = Id::random();
    let expires = in_secs(3_600);
    store
        .create_for(&id, b"\x80", expires, Some(&ada))
        .await
        .unwrap();
    // A plain touch moves the session's expiry; the listing reports the server's.
    let later = in_secs(7_200);
    store.touch(&id, later).await.unwrap();
    let listed = store.sessions_of(&ada).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].record, store.load(&id).await.unwrap().unwrap());
    let gap = listed[0]
        .expires_at
        .duration_since(later)
        .unwrap_or_else(|e| e.duration());
    assert!(
        gap <= Duration::from_secs(2),
        "listed expiry off by {gap:?}"
    );
}
