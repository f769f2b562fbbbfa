//! Expiry: honoured on load, moved by `touch`, `load_and_touch` and `save`.

use sessionkit_core::{ErrorKind, Id, SessionStore};

use super::support::{
    LONG, SHORT, assert_absent, create, data_with, encode, later, must_load, must_load_data,
};
use crate::TimeTravel;

/// A record is not returned once its expiry has passed.
pub async fn expired_record_is_not_loaded(store: &dyn SessionStore, time: &TimeTravel) {
    let id = create(store, time, &data_with("n", &1), SHORT).await;
    must_load(store, &id, "before its expiry").await;
    time.pass(SHORT).await;
    assert_absent(store, &id, "after its expiry").await;
    let refreshed = store.load_and_touch(&id, later(time, LONG)).await;
    assert!(
        refreshed.expect("load_and_touch").is_none(),
        "load_and_touch revived an expired record"
    );
}

/// `touch` moves the expiry of a live record.
pub async fn touch_extends_expiry(store: &dyn SessionStore, time: &TimeTravel) {
    let data = data_with("n", &1);
    let id = create(store, time, &data, SHORT).await;
    store.touch(&id, later(time, LONG)).await.expect("touch");
    time.pass(SHORT).await;
    let loaded = must_load_data(store, &id, "touched past its first expiry").await;
    assert_eq!(loaded, data);
}

/// `touch` rewrites neither the data nor the version: a save with the version loaded before
/// the touch still succeeds.
pub async fn touch_keeps_data_and_version(store: &dyn SessionStore, time: &TimeTravel) {
    let data = data_with("n", &1);
    let id = create(store, time, &data, LONG).await;
    let before = must_load(store, &id, "just created").await;
    store.touch(&id, later(time, LONG)).await.expect("touch");
    let after = must_load(store, &id, "after touch").await;
    assert_eq!(after.payload(), before.payload(), "touch changed the data");
    assert_eq!(
        after.version(),
        before.version(),
        "touch changed the version"
    );
    store
        .save(
            &id,
            &encode(&data_with("n", &2)),
            later(time, LONG),
            before.version(),
        )
        .await
        .expect("save with the version loaded before a touch");
}

/// `touch` of a record that never existed, or has expired, is `Gone` and creates nothing.
pub async fn touch_of_missing_record_is_gone(store: &dyn SessionStore, time: &TimeTravel) {
    let unknown = Id::random();
    let result = store.touch(&unknown, later(time, LONG)).await;
    assert_eq!(
        result.map_err(|e| e.kind()),
        Err(ErrorKind::Gone),
        "unknown id"
    );
    assert_absent(store, &unknown, "touch of an unknown id").await;

    let id = create(store, time, &data_with("n", &1), SHORT).await;
    time.pass(SHORT).await;
    let result = store.touch(&id, later(time, LONG)).await;
    assert_eq!(
        result.map_err(|e| e.kind()),
        Err(ErrorKind::Gone),
        "expired id"
    );
    assert_absent(store, &id, "touch of an expired id").await;
}

/// `load_and_touch` returns the record and moves its expiry, keeping the version.
pub async fn load_and_touch_extends_expiry(store: &dyn SessionStore, time: &TimeTravel) {
    let data = data_with("n", &1);
    let id = create(store, time, &data, SHORT).await;
    let plain = must_load(store, &id, "just created").await;
    let record = store
        .load_and_touch(&id, later(time, LONG))
        .await
        .expect("load_and_touch")
        .expect("load_and_touch of a live record");
    assert_eq!(record.payload(), plain.payload());
    assert_eq!(
        record.version(),
        plain.version(),
        "load_and_touch changed the version"
    );
    time.pass(SHORT).await;
    let loaded = must_load_data(store, &id, "refreshed past its first expiry").await;
    assert_eq!(loaded, data);
}

/// `load_and_touch` of an unknown id is `None` and creates nothing.
pub async fn load_and_touch_of_unknown_is_none(store: &dyn SessionStore, time: &TimeTravel) {
    let id = Id::random();
    let record = store
        .load_and_touch(&id, later(time, LONG))
        .await
        .expect("load_and_touch");
    assert!(record.is_none());
    assert_absent(store, &id, "load_and_touch of an unknown id").await;
}

/// `save` sets the expiry it is given, shorter or longer than the old one.
pub async fn save_sets_the_new_expiry(store: &dyn SessionStore, time: &TimeTravel) {
    let shortened = create(store, time, &data_with("n", &1), LONG).await;
    let lengthened = create(store, time, &data_with("n", &1), SHORT).await;
    for (id, ttl) in [(&shortened, SHORT), (&lengthened, LONG)] {
        let version = must_load(store, id, "just created").await.version();
        store
            .save(id, &encode(&data_with("n", &2)), later(time, ttl), version)
            .await
            .expect("save");
    }
    time.pass(SHORT).await;
    assert_absent(store, &shortened, "saved with a short expiry").await;
    must_load(store, &lengthened, "saved with a long expiry").await;
}
