//! `delete` removes, and is idempotent; `delete_if` removes only the version it was given.

use sessionkit_core::{ErrorKind, Id, SessionStore};

use super::support::{
    LONG, SHORT, assert_absent, create, data_with, encode, later, must_load, must_load_data,
};
use crate::TimeTravel;

/// After `delete` the record is neither loadable nor touchable.
pub async fn delete_removes_the_record(store: &dyn SessionStore, time: &TimeTravel) {
    let id = create(store, time, &data_with("user", "ada"), LONG).await;
    store.delete(&id).await.expect("delete");
    assert_absent(store, &id, "after delete").await;
    let touched = store.touch(&id, later(time, LONG)).await;
    assert_eq!(touched.map_err(|e| e.kind()), Err(ErrorKind::Gone));
}

/// Deleting twice, or deleting an id never stored, succeeds.
pub async fn delete_is_idempotent(store: &dyn SessionStore, time: &TimeTravel) {
    let id = create(store, time, &data_with("user", "ada"), LONG).await;
    store.delete(&id).await.expect("first delete");
    store
        .delete(&id)
        .await
        .expect("second delete of the same id");
    store
        .delete(&Id::random())
        .await
        .expect("delete of an unknown id");
    assert_absent(store, &id, "after two deletes").await;
}

/// `delete_if` with the loaded version removes the record.
pub async fn delete_if_with_the_loaded_version_removes(
    store: &dyn SessionStore,
    time: &TimeTravel,
) {
    let id = create(store, time, &data_with("user", "ada"), LONG).await;
    let version = must_load(store, &id, "just created").await.version();
    store
        .delete_if(&id, version)
        .await
        .expect("delete_if with the loaded version");
    assert_absent(store, &id, "after delete_if").await;
}

/// `delete_if` from a stale version is a `Conflict` and deletes nothing: a rotation that
/// raced another request's write must not remove what that request wrote.
pub async fn delete_if_with_a_stale_version_conflicts(store: &dyn SessionStore, time: &TimeTravel) {
    let id = create(store, time, &data_with("n", &1), LONG).await;
    let stale = must_load(store, &id, "just created").await.version();
    let newer = data_with("n", &2);
    store
        .save(&id, &encode(&newer), later(time, LONG), stale)
        .await
        .expect("save");
    let err = store
        .delete_if(&id, stale)
        .await
        .expect_err("delete_if from a stale version must fail");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err:?}");
    assert_eq!(
        must_load_data(store, &id, "after a refused delete_if").await,
        newer
    );
}

/// `delete_if` of a deleted, expired or unknown record is `Gone`, and an expired record
/// is not re-created or otherwise touched by it.
pub async fn delete_if_of_a_missing_record_is_gone(store: &dyn SessionStore, time: &TimeTravel) {
    let deleted = create(store, time, &data_with("n", &1), LONG).await;
    let version = must_load(store, &deleted, "just created").await.version();
    store.delete(&deleted).await.expect("delete");
    let err = store
        .delete_if(&deleted, version)
        .await
        .expect_err("delete_if after delete");
    assert_eq!(err.kind(), ErrorKind::Gone, "after delete: {err:?}");

    let expiring = create(store, time, &data_with("n", &1), SHORT).await;
    let version = must_load(store, &expiring, "just created").await.version();
    time.pass(SHORT).await;
    let err = store
        .delete_if(&expiring, version)
        .await
        .expect_err("delete_if after expiry");
    assert_eq!(err.kind(), ErrorKind::Gone, "after expiry: {err:?}");
    assert_absent(store, &expiring, "after delete_if of an expired record").await;

    let err = store
        .delete_if(&Id::random(), version)
        .await
        .expect_err("delete_if of an unknown id");
    assert_eq!(err.kind(), ErrorKind::Gone, "unknown id: {err:?}");
}

/// `delete_if` does not care about `touch`: a record whose expiry slid since it was loaded
/// is still the same record.
pub async fn delete_if_after_touch_still_deletes(store: &dyn SessionStore, time: &TimeTravel) {
    let id = create(store, time, &data_with("n", &1), LONG).await;
    let version = must_load(store, &id, "just created").await.version();
    store
        .touch(&id, later(time, LONG * 2))
        .await
        .expect("touch");
    store
        .delete_if(&id, version)
        .await
        .expect("delete_if after touch");
    assert_absent(store, &id, "after delete_if").await;
}
