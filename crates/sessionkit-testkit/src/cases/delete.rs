//! `delete` removes, and is idempotent.

use sessionkit_core::{ErrorKind, Id, SessionStore};

use super::support::{LONG, assert_absent, create, data_with, later};
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
