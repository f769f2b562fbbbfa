//! What the user index writes in Redis, read back with a plain redis-rs connection: one set
//! per user under prefix + `user:` + name holding the session ids, which expires with its
//! last member, is extended (never shortened) by `touch_for`, and is repaired by a listing
//! when a member's record was deleted. Standalone, Sentinel and Cluster; on the cluster, with
//! the set and the record on different nodes.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};

use sessionkit_core::{ErrorKind, Id, SessionStore, UserIndex};
use sessionkit_redis::{ConnectionKind, RedisStore};
use support::{CLUSTER, Raw, SENTINEL, STANDALONE, command, connect};

/// A user name no other test uses, with characters a key may hold.
fn user(name: &str) -> String {
    format!("{name}: {{tag}} ü-{}", &Id::random().to_string()[..12])
}

fn set_key(store: &RedisStore, user: &str) -> String {
    format!("{}user:{user}", store.key_prefix())
}

fn in_ms(ms: u64) -> SystemTime {
    SystemTime::now() + Duration::from_millis(ms)
}

async fn pttl(raw: &mut Raw, key: &str) -> i64 {
    raw.query(&command("PTTL", &[key])).await
}

async fn exists(raw: &mut Raw, key: &str) -> bool {
    raw.query::<i64>(&command("EXISTS", &[key])).await == 1
}

async fn members(raw: &mut Raw, key: &str) -> BTreeSet<String> {
    raw.query(&command("SMEMBERS", &[key])).await
}

async fn create_for(store: &RedisStore, user: Option<&str>, ttl_ms: u64) -> Id {
    let id = Id::random();
    store
        .create_for(&id, b"payload", in_ms(ttl_ms), user)
        .await
        .expect("create_for");
    id
}

/// The member a record has in its user's set: its id as its key carries it.
fn member(store: &RedisStore, id: &Id) -> String {
    store.key(id)[store.key_prefix().len()..].to_owned()
}

async fn set_is_prefix_user_name_and_holds_the_ids(store: RedisStore, mut raw: Raw) {
    let ada = user("ada");
    let a = create_for(&store, Some(&ada), 60_000).await;
    let b = create_for(&store, Some(&ada), 120_000).await;
    let unbound = create_for(&store, None, 60_000).await;

    let key = set_key(&store, &ada);
    assert_eq!(raw.query::<String>(&command("TYPE", &[&key])).await, "set");
    assert_eq!(
        members(&mut raw, &key).await,
        BTreeSet::from([member(&store, &a), member(&store, &b)]),
        "the set holds the bound ids, not the unbound one ({unbound})"
    );
    assert_eq!(
        member(&store, &a),
        a.to_string(),
        "a member is the id's text"
    );
    let set_ttl = pttl(&mut raw, &key).await;
    let longest = pttl(&mut raw, &store.key(&b)).await;
    assert!(
        set_ttl >= longest && longest > 0,
        "the set expires in {set_ttl} ms, before its member's {longest} ms"
    );
}

async fn set_expires_with_its_last_member(store: RedisStore, mut raw: Raw) {
    let ada = user("ada");
    let short = create_for(&store, Some(&ada), 300).await;
    let long = create_for(&store, Some(&ada), 1_500).await;
    let (key, long_key) = (set_key(&store, &ada), store.key(&long));
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the set {key:?} never expired"
        );
        let long_left = pttl(&mut raw, &long_key).await;
        let set_there = exists(&mut raw, &key).await;
        if long_left > 200 {
            assert!(
                set_there,
                "the set expired while a member had {long_left} ms left"
            );
        }
        if !set_there {
            // The set is gone, so (never expiring before a member) are both records.
            assert!(store.load(&short).await.unwrap().is_none());
            assert!(store.load(&long).await.unwrap().is_none());
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(store.sessions_of(&ada).await.unwrap().is_empty());
}

async fn touch_for_extends_the_set_and_never_shortens_it(store: RedisStore, mut raw: Raw) {
    let ada = user("ada");
    let id = create_for(&store, Some(&ada), 5_000).await;
    let key = set_key(&store, &ada);
    let first = pttl(&mut raw, &key).await;
    assert!(
        first <= 5_000 + 1_000,
        "set TTL {first} ms after create_for"
    );

    store
        .touch_for(&id, in_ms(600_000), Some(&ada))
        .await
        .expect("touch_for");
    let extended = pttl(&mut raw, &key).await;
    assert!(extended > 590_000, "set TTL {extended} ms after touch_for");

    store
        .touch_for(&id, in_ms(2_000), Some(&ada))
        .await
        .expect("touch_for");
    let record = pttl(&mut raw, &store.key(&id)).await;
    let kept = pttl(&mut raw, &key).await;
    assert!(
        record <= 2_000,
        "record TTL {record} ms after a shorter touch_for"
    );
    assert!(
        kept > 590_000,
        "a shorter touch_for shortened the set to {kept} ms"
    );
}

/// A record created short-lived and touched to a long expiry is still listed once its
/// first expiry has passed, with the expiry `touch_for` wrote (to the millisecond).
async fn touch_for_lists_the_record_with_the_expiry_written(store: RedisStore) {
    let ada = user("ada");
    let id = create_for(&store, Some(&ada), 500).await;
    let written = in_ms(600_000);
    store
        .touch_for(&id, written, Some(&ada))
        .await
        .expect("touch_for");
    // Time travel: past the expiry the record was created with.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let listed = store.sessions_of(&ada).await.expect("sessions_of");
    assert_eq!(listed.iter().map(|r| r.id).collect::<Vec<_>>(), [id]);
    let gap = match listed[0].expires_at.duration_since(written) {
        Ok(later) => later,
        Err(earlier) => earlier.duration(),
    };
    assert!(
        gap < Duration::from_millis(100),
        "listed expiry {:?}, written {written:?}",
        listed[0].expires_at
    );
}

async fn listing_drops_members_whose_record_was_deleted(store: RedisStore, mut raw: Raw) {
    let ada = user("ada");
    let deleted = create_for(&store, Some(&ada), 60_000).await;
    let kept = create_for(&store, Some(&ada), 60_000).await;
    let key = set_key(&store, &ada);
    store.delete(&deleted).await.expect("delete");
    // A member that is no id, not even UTF-8.
    let mut junk = redis::cmd("SADD");
    junk.arg(&key).arg(&b"not-an-id \xff\xfe"[..]);
    raw.query::<i64>(&junk).await;
    assert_eq!(
        raw.query::<i64>(&command("SCARD", &[&key])).await,
        3,
        "delete leaves the entry for the listing to drop"
    );

    let listed = store.sessions_of(&ada).await.expect("sessions_of");
    assert_eq!(listed.iter().map(|r| r.id).collect::<Vec<_>>(), [kept]);
    assert_eq!(
        members(&mut raw, &key).await,
        BTreeSet::from([member(&store, &kept)]),
        "the listing dropped the deleted record's entry and the junk member"
    );

    store.delete(&kept).await.expect("delete");
    assert!(store.sessions_of(&ada).await.unwrap().is_empty());
    assert!(
        !exists(&mut raw, &key).await,
        "the set is left behind after its last entry was dropped"
    );
}

mod standalone {
    use super::*;

    async fn setup() -> (RedisStore, Raw) {
        (
            connect(STANDALONE, ConnectionKind::Multiplexed).await,
            Raw::single(STANDALONE).await,
        )
    }

    #[tokio::test]
    async fn set_is_prefix_user_name_and_holds_the_ids() {
        let (store, raw) = setup().await;
        super::set_is_prefix_user_name_and_holds_the_ids(store, raw).await;
    }

    #[tokio::test]
    async fn set_expires_with_its_last_member() {
        let (store, raw) = setup().await;
        super::set_expires_with_its_last_member(store, raw).await;
    }

    #[tokio::test]
    async fn touch_for_extends_the_set_and_never_shortens_it() {
        let (store, raw) = setup().await;
        super::touch_for_extends_the_set_and_never_shortens_it(store, raw).await;
    }

    #[tokio::test]
    async fn touch_for_lists_the_record_with_the_expiry_written() {
        let (store, _) = setup().await;
        super::touch_for_lists_the_record_with_the_expiry_written(store).await;
    }

    #[tokio::test]
    async fn listing_drops_members_whose_record_was_deleted() {
        let (store, raw) = setup().await;
        super::listing_drops_members_whose_record_was_deleted(store, raw).await;
    }

    #[tokio::test]
    async fn pooled_connections_keep_the_same_index() {
        let store = connect(STANDALONE, ConnectionKind::Pool { max_size: 2 }).await;
        super::set_is_prefix_user_name_and_holds_the_ids(store, Raw::single(STANDALONE).await)
            .await;
    }
}

mod sentinel {
    use super::*;

    async fn setup() -> (RedisStore, Raw) {
        (
            connect(SENTINEL, ConnectionKind::default()).await,
            Raw::sentinel_master().await,
        )
    }

    #[tokio::test]
    async fn set_is_prefix_user_name_and_holds_the_ids() {
        let (store, raw) = setup().await;
        super::set_is_prefix_user_name_and_holds_the_ids(store, raw).await;
    }

    #[tokio::test]
    async fn set_expires_with_its_last_member() {
        let (store, raw) = setup().await;
        super::set_expires_with_its_last_member(store, raw).await;
    }

    #[tokio::test]
    async fn touch_for_lists_the_record_with_the_expiry_written() {
        let (store, _) = setup().await;
        super::touch_for_lists_the_record_with_the_expiry_written(store).await;
    }

    #[tokio::test]
    async fn listing_drops_members_whose_record_was_deleted() {
        let (store, raw) = setup().await;
        super::listing_drops_members_whose_record_was_deleted(store, raw).await;
    }
}

mod cluster {
    use super::*;

    async fn setup() -> (RedisStore, Raw) {
        (
            connect(CLUSTER, ConnectionKind::default()).await,
            Raw::cluster().await,
        )
    }

    #[tokio::test]
    async fn set_is_prefix_user_name_and_holds_the_ids() {
        let (store, raw) = setup().await;
        super::set_is_prefix_user_name_and_holds_the_ids(store, raw).await;
    }

    #[tokio::test]
    async fn set_expires_with_its_last_member() {
        let (store, raw) = setup().await;
        super::set_expires_with_its_last_member(store, raw).await;
    }

    #[tokio::test]
    async fn touch_for_extends_the_set_and_never_shortens_it() {
        let (store, raw) = setup().await;
        super::touch_for_extends_the_set_and_never_shortens_it(store, raw).await;
    }

    #[tokio::test]
    async fn touch_for_lists_the_record_with_the_expiry_written() {
        let (store, _) = setup().await;
        super::touch_for_lists_the_record_with_the_expiry_written(store).await;
    }

    #[tokio::test]
    async fn listing_drops_members_whose_record_was_deleted() {
        let (store, raw) = setup().await;
        super::listing_drops_members_whose_record_was_deleted(store, raw).await;
    }

    async fn slot(raw: &mut Raw, key: &str) -> u16 {
        raw.query(&command("CLUSTER", &["KEYSLOT", key])).await
    }

    /// The port of the master serving `slot`, from `CLUSTER SLOTS`.
    async fn node_of(raw: &mut Raw, slot: u16) -> u16 {
        let ranges: Vec<redis::Value> = raw.query(&command("CLUSTER", &["SLOTS"])).await;
        for range in ranges {
            let redis::Value::Array(range) = range else {
                panic!("CLUSTER SLOTS: {range:?}")
            };
            let first: u16 = redis::from_redis_value_ref(&range[0]).unwrap();
            let last: u16 = redis::from_redis_value_ref(&range[1]).unwrap();
            let redis::Value::Array(master) = &range[2] else {
                panic!("CLUSTER SLOTS: {range:?}")
            };
            if (first..=last).contains(&slot) {
                return redis::from_redis_value_ref(&master[1]).unwrap();
            }
        }
        panic!("no node serves slot {slot}")
    }

    /// The set and the record are in different slots on different nodes, so no command
    /// may touch both; every operation still binds, lists, repairs and takes back.
    #[tokio::test]
    async fn user_set_and_record_on_different_nodes_still_work() {
        let (store, mut raw) = setup().await;
        let ada = user("ada");
        let key = set_key(&store, &ada);
        let set_slot = slot(&mut raw, &key).await;
        let set_node = node_of(&mut raw, set_slot).await;
        let id = loop {
            let id = Id::random();
            let record_slot = slot(&mut raw, &store.key(&id)).await;
            if node_of(&mut raw, record_slot).await != set_node {
                assert_ne!(record_slot, set_slot);
                break id;
            }
        };

        store
            .create_for(&id, b"one", in_ms(60_000), Some(&ada))
            .await
            .expect("create_for across slots");
        let listed = store.sessions_of(&ada).await.expect("sessions_of");
        assert_eq!(listed.len(), 1);
        let loaded = store.load(&id).await.unwrap().expect("created");
        assert_eq!(listed[0].record, loaded, "the listing is what load returns");

        store
            .save_for(&id, b"two", in_ms(60_000), loaded.version(), Some(&ada))
            .await
            .expect("save_for across slots");
        let bob = user("bob");
        let conflict = store
            .save_for(&id, b"three", in_ms(60_000), loaded.version(), Some(&bob))
            .await;
        assert_eq!(conflict.map_err(|e| e.kind()), Err(ErrorKind::Conflict));
        assert!(
            !exists(&mut raw, &set_key(&store, &bob)).await,
            "a conflicting save_for left its entry"
        );

        store
            .touch_for(&id, in_ms(600_000), Some(&ada))
            .await
            .expect("touch_for across slots");
        let record_ttl = pttl(&mut raw, &store.key(&id)).await;
        assert!(pttl(&mut raw, &key).await >= record_ttl);
        let listed = store.sessions_of(&ada).await.expect("sessions_of");
        assert_eq!(listed[0].record.payload().as_ref(), b"two");

        store.delete(&id).await.expect("delete");
        assert!(store.sessions_of(&ada).await.unwrap().is_empty());
        assert!(
            !exists(&mut raw, &key).await,
            "the repair left the set behind"
        );
    }
}
