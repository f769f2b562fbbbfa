//! The [`UserIndex`] capability: every live record bound with a `_for` call is found, with
//! its current version and expiry, and nothing deleted, expired or bound to someone else is.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use sessionkit_core::{ErrorKind, Id, IndexedRecord, SessionStore, UserIndex};

use super::support::{LONG, SHORT, data_with, encode, later, must_load};
use crate::TimeTravel;

/// How far a listed expiry may be from the one written (stores with whole-second expiry).
const EXPIRY_SLACK: Duration = Duration::from_secs(2);

/// The store's index; the case fails when it has none.
fn index(store: &dyn SessionStore) -> &dyn UserIndex {
    store
        .user_index()
        .expect("user_index_tests! on a store whose user_index() is None")
}

/// A user name no other case uses (cases share one server).
fn user(name: &str) -> String {
    format!("{name}-{}", &Id::random().to_string()[..12])
}

async fn listed(index: &dyn UserIndex, user: &str) -> Vec<IndexedRecord> {
    index
        .sessions_of(user)
        .await
        .unwrap_or_else(|e| panic!("sessions_of({user:?}) failed: {e:?}"))
}

async fn listed_ids(index: &dyn UserIndex, user: &str) -> BTreeSet<Id> {
    listed(index, user)
        .await
        .into_iter()
        .map(|r| r.id)
        .collect()
}

/// Creates a record bound to `user` holding `{"n": n}`.
async fn create_for(
    index: &dyn UserIndex,
    time: &TimeTravel,
    user: Option<&str>,
    n: u32,
    ttl: Duration,
) -> Id {
    let id = Id::random();
    index
        .create_for(&id, &encode(&data_with("n", &n)), later(time, ttl), user)
        .await
        .unwrap_or_else(|e| panic!("create_for failed: {e:?}"));
    id
}

fn assert_close(actual: SystemTime, expected: SystemTime, what: &str) {
    let gap = actual
        .duration_since(expected)
        .or_else(|e| Ok::<_, ()>(e.duration()))
        .expect("a duration");
    assert!(
        gap <= EXPIRY_SLACK,
        "{what}: listed expiry {actual:?}, written {expected:?}"
    );
}

/// `create_for` binds: a user's listing holds exactly the records created for them, each
/// as `load` returns it, with the expiry written.
pub async fn create_for_binds_the_record(store: &dyn SessionStore, time: &TimeTravel) {
    let index = index(store);
    let (ada, bob) = (user("ada"), user("bob"));
    let mut adas = BTreeSet::new();
    for n in 0..3 {
        adas.insert(create_for(index, time, Some(&ada), n, LONG).await);
    }
    let bobs = create_for(index, time, Some(&bob), 9, LONG).await;
    create_for(index, time, None, 7, LONG).await;

    let found = listed(index, &ada).await;
    assert_eq!(
        found.iter().map(|r| r.id).collect::<BTreeSet<_>>(),
        adas,
        "ada's listing"
    );
    for r in &found {
        let loaded = must_load(store, &r.id, "a listed record").await;
        assert_eq!(r.record, loaded, "a listed record is what load returns");
        assert_close(r.expires_at, later(time, LONG), "create_for");
    }
    assert_eq!(listed_ids(index, &bob).await, BTreeSet::from([bobs]));
}

/// `save_for` binds a record created unbound, and re-binds it: the new user finds it, and
/// the old user's listing holds it at most as a stale entry (bound to the new user in its
/// payload) until `unindex` drops it.
pub async fn save_for_binds_and_rebinds(store: &dyn SessionStore, time: &TimeTravel) {
    let index = index(store);
    let (ada, bob) = (user("ada"), user("bob"));
    let id = create_for(index, time, None, 0, LONG).await;
    assert!(listed(index, &ada).await.is_empty());

    let version = must_load(store, &id, "created").await.version();
    let as_ada = encode(&data_with("user", &ada));
    index
        .save_for(&id, &as_ada, later(time, LONG), version, Some(&ada))
        .await
        .expect("save_for ada");
    assert_eq!(listed_ids(index, &ada).await, BTreeSet::from([id]));

    let version = must_load(store, &id, "bound to ada").await.version();
    let as_bob = encode(&data_with("user", &bob));
    index
        .save_for(&id, &as_bob, later(time, LONG), version, Some(&bob))
        .await
        .expect("save_for bob");
    assert_eq!(listed_ids(index, &bob).await, BTreeSet::from([id]));
    for stale in listed(index, &ada).await {
        assert_eq!(stale.id, id, "only the re-bound record may be stale");
        assert_eq!(
            stale.record.payload().as_ref(),
            as_bob.as_slice(),
            "a stale entry shows the record as it is now"
        );
    }
    index.unindex(&ada, &id).await.expect("unindex");
    assert!(
        listed(index, &ada).await.is_empty(),
        "unindex drops the stale entry"
    );
    assert_eq!(
        listed_ids(index, &bob).await,
        BTreeSet::from([id]),
        "unindex of another user leaves bob's entry"
    );
}

/// A `save_for` that is `Conflict` or `Gone` writes nothing, the index included.
pub async fn save_for_failures_bind_nothing(store: &dyn SessionStore, time: &TimeTravel) {
    let index = index(store);
    let (ada, bob) = (user("ada"), user("bob"));
    let id = create_for(index, time, Some(&ada), 0, LONG).await;
    let stale = must_load(store, &id, "created").await.version();
    index
        .save_for(
            &id,
            &encode(&data_with("n", &1)),
            later(time, LONG),
            stale,
            Some(&ada),
        )
        .await
        .expect("save_for");
    let conflict = index
        .save_for(
            &id,
            &encode(&data_with("n", &2)),
            later(time, LONG),
            stale,
            Some(&bob),
        )
        .await;
    assert_eq!(conflict.map_err(|e| e.kind()), Err(ErrorKind::Conflict));
    assert!(
        listed(index, &bob).await.is_empty(),
        "a conflicting save_for bound the record"
    );

    let version = must_load(store, &id, "saved").await.version();
    store.delete(&id).await.expect("delete");
    let gone = index
        .save_for(
            &id,
            &encode(&data_with("n", &3)),
            later(time, LONG),
            version,
            Some(&bob),
        )
        .await;
    assert_eq!(gone.map_err(|e| e.kind()), Err(ErrorKind::Gone));
    assert!(
        listed(index, &bob).await.is_empty(),
        "a save_for of a deleted record bound it"
    );
    assert!(listed(index, &ada).await.is_empty());
}

/// A `create_for` over a live id is a `Collision` and binds nothing.
pub async fn create_for_collision_binds_nothing(store: &dyn SessionStore, time: &TimeTravel) {
    let index = index(store);
    let (ada, bob) = (user("ada"), user("bob"));
    let id = create_for(index, time, Some(&ada), 0, LONG).await;
    let collision = index
        .create_for(
            &id,
            &encode(&data_with("n", &1)),
            later(time, LONG),
            Some(&bob),
        )
        .await;
    assert_eq!(collision.map_err(|e| e.kind()), Err(ErrorKind::Collision));
    assert!(listed(index, &bob).await.is_empty());
    assert_eq!(listed_ids(index, &ada).await, BTreeSet::from([id]));
}

/// Deleted records are never listed, whether by `delete` or `delete_if`.
pub async fn deleted_records_are_not_listed(store: &dyn SessionStore, time: &TimeTravel) {
    let index = index(store);
    let ada = user("ada");
    let a = create_for(index, time, Some(&ada), 0, LONG).await;
    let b = create_for(index, time, Some(&ada), 1, LONG).await;
    let kept = create_for(index, time, Some(&ada), 2, LONG).await;
    store.delete(&a).await.expect("delete");
    let version = must_load(store, &b, "created").await.version();
    store.delete_if(&b, version).await.expect("delete_if");
    assert_eq!(listed_ids(index, &ada).await, BTreeSet::from([kept]));
    store.delete(&kept).await.expect("delete");
    assert!(listed(index, &ada).await.is_empty());
}

/// Expired records are never listed.
pub async fn expired_records_are_not_listed(store: &dyn SessionStore, time: &TimeTravel) {
    let index = index(store);
    let ada = user("ada");
    create_for(index, time, Some(&ada), 0, SHORT).await;
    let kept = create_for(index, time, Some(&ada), 1, LONG).await;
    time.pass(SHORT).await;
    assert_eq!(listed_ids(index, &ada).await, BTreeSet::from([kept]));
}

/// `touch_for` keeps a record findable as long as it lives: a short-lived record touched
/// to a long expiry is still listed after its first expiry, with the new one.
pub async fn touch_for_keeps_the_record_listed(store: &dyn SessionStore, time: &TimeTravel) {
    let index = index(store);
    let ada = user("ada");
    let id = create_for(index, time, Some(&ada), 0, SHORT).await;
    let version = must_load(store, &id, "created").await.version();
    let touched_to = later(time, LONG);
    index
        .touch_for(&id, touched_to, Some(&ada))
        .await
        .expect("touch_for");
    time.pass(SHORT).await;
    let found = listed(index, &ada).await;
    assert_eq!(
        found.iter().map(|r| r.id).collect::<Vec<_>>(),
        [id],
        "touched record"
    );
    assert_eq!(
        found[0].record.version(),
        version,
        "touch keeps the version"
    );
    assert_close(found[0].expires_at, touched_to, "touch_for");
    let missing = index
        .touch_for(&Id::random(), later(time, LONG), Some(&ada))
        .await;
    assert_eq!(missing.map_err(|e| e.kind()), Err(ErrorKind::Gone));
}

/// A listing shows the record's current version and data after a `save_for`.
pub async fn listing_shows_the_current_record(store: &dyn SessionStore, time: &TimeTravel) {
    let index = index(store);
    let ada = user("ada");
    let id = create_for(index, time, Some(&ada), 0, LONG).await;
    let version = must_load(store, &id, "created").await.version();
    let newer = encode(&data_with("n", &1));
    index
        .save_for(&id, &newer, later(time, LONG), version, Some(&ada))
        .await
        .expect("save_for");
    let loaded = must_load(store, &id, "saved").await;
    let found = listed(index, &ada).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].record, loaded);
    assert_eq!(found[0].record.payload().as_ref(), newer.as_slice());
}

/// User names are opaque text: spaces, separators, glob characters, case, Unicode and long
/// names each name one user.
pub async fn user_names_are_opaque(store: &dyn SessionStore, time: &TimeTravel) {
    let index = index(store);
    let base = user("u");
    let names = [
        format!("{base} a b"),
        format!("{base}:a:b"),
        format!("{base}*"),
        format!("{base}?[a]"),
        format!("{base}-A"),
        format!("{base}-a"),
        format!("{base}-ü🙂"),
        format!("{base}{}", "x".repeat(200)),
        format!("{base}\n'\"%_\\"),
    ];
    let mut ids = Vec::new();
    for (n, name) in (0u32..).zip(&names) {
        ids.push(create_for(index, time, Some(name), n, LONG).await);
    }
    for (name, id) in names.iter().zip(&ids) {
        assert_eq!(
            listed_ids(index, name).await,
            BTreeSet::from([*id]),
            "user {name:?}"
        );
    }
    assert!(
        listed(index, &base).await.is_empty(),
        "a prefix is not a user"
    );
}

/// A user with no sessions lists nothing, and so does unindexing an unknown entry.
pub async fn unknown_user_lists_nothing(store: &dyn SessionStore, _time: &TimeTravel) {
    let index = index(store);
    let nobody = user("nobody");
    assert!(listed(index, &nobody).await.is_empty());
    index
        .unindex(&nobody, &Id::random())
        .await
        .expect("unindex of an unknown entry");
}
