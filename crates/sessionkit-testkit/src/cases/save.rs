//! `save`: compare-and-set, never resurrecting a deleted or expired record.

use sessionkit_core::{ErrorKind, Id, SessionStore, Version};

use super::support::{
    LONG, SHORT, assert_absent, create, data_with, encode, later, must_load, must_load_data,
};
use crate::TimeTravel;

/// `save` with the loaded version replaces the data and yields a new version.
pub async fn save_replaces_the_data(store: &dyn SessionStore, time: &TimeTravel) {
    let id = create(store, time, &data_with("n", &1), LONG).await;
    let loaded = must_load(store, &id, "just created").await;
    let next = data_with("n", &2);
    store
        .save(&id, &encode(&next), later(time, LONG), loaded.version())
        .await
        .expect("save with the loaded version");
    let reloaded = must_load(store, &id, "after save").await;
    assert_ne!(
        reloaded.version(),
        loaded.version(),
        "save kept the old version"
    );
    assert_eq!(must_load_data(store, &id, "after save").await, next);
}

/// A second save from the same loaded version is a `Conflict` and writes nothing.
pub async fn save_with_stale_version_conflicts(store: &dyn SessionStore, time: &TimeTravel) {
    let id = create(store, time, &data_with("n", &1), LONG).await;
    let version = must_load(store, &id, "just created").await.version();
    let first = data_with("n", &2);
    store
        .save(&id, &encode(&first), later(time, LONG), version)
        .await
        .expect("first save");
    let err = store
        .save(
            &id,
            &encode(&data_with("n", &3)),
            later(time, LONG),
            version,
        )
        .await
        .expect_err("a save from a stale version must fail");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err:?}");
    assert_eq!(must_load_data(store, &id, "after a conflict").await, first);
}

/// `save` of an id that was never stored is `Gone` and creates nothing.
pub async fn save_of_missing_record_is_gone(store: &dyn SessionStore, time: &TimeTravel) {
    let id = Id::random();
    let result = store
        .save(
            &id,
            &encode(&data_with("n", &1)),
            later(time, LONG),
            Version::new(1),
        )
        .await;
    assert_eq!(result.map_err(|e| e.kind()), Err(ErrorKind::Gone));
    assert_absent(store, &id, "save of an unknown id").await;
}

/// A save after a delete (a logout racing a slower request) is `Gone` and does not bring
/// the session back.
pub async fn save_after_delete_does_not_resurrect(store: &dyn SessionStore, time: &TimeTravel) {
    let id = create(store, time, &data_with("user", "ada"), LONG).await;
    let version = must_load(store, &id, "just created").await.version();
    store.delete(&id).await.expect("delete");
    let result = store
        .save(
            &id,
            &encode(&data_with("user", "mallory")),
            later(time, LONG),
            version,
        )
        .await;
    assert_eq!(result.map_err(|e| e.kind()), Err(ErrorKind::Gone));
    assert_absent(store, &id, "save after delete").await;
}

/// A save after the record expired is `Gone` and does not bring it back.
pub async fn save_after_expiry_is_gone(store: &dyn SessionStore, time: &TimeTravel) {
    let id = create(store, time, &data_with("n", &1), SHORT).await;
    let version = must_load(store, &id, "just created").await.version();
    time.pass(SHORT).await;
    let result = store
        .save(
            &id,
            &encode(&data_with("n", &2)),
            later(time, LONG),
            version,
        )
        .await;
    assert_eq!(result.map_err(|e| e.kind()), Err(ErrorKind::Gone));
    assert_absent(store, &id, "save after expiry").await;
}
