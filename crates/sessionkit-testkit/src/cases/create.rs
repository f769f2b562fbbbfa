//! `create` never overwrites a live record.

use sessionkit_core::{ErrorKind, SessionStore};

use super::support::{LONG, SHORT, create, data_with, encode, later, must_load_data};
use crate::TimeTravel;

/// Creating over a live id writes nothing and reports `Collision`.
pub async fn create_collision_is_reported(store: &dyn SessionStore, time: &TimeTravel) {
    let original = data_with("owner", "first");
    let id = create(store, time, &original, LONG).await;

    let intruder = encode(&data_with("owner", "second"));
    let err = store
        .create(&id, &intruder, later(time, LONG))
        .await
        .expect_err("create over a live record must fail");
    assert_eq!(err.kind(), ErrorKind::Collision, "{err:?}");

    let loaded = must_load_data(store, &id, "after a refused create").await;
    assert_eq!(loaded, original, "a refused create overwrote the record");
}

/// An expired record does not hold its id: creating over it succeeds.
pub async fn create_over_an_expired_record_succeeds(store: &dyn SessionStore, time: &TimeTravel) {
    let id = create(store, time, &data_with("n", &1), SHORT).await;
    time.pass(SHORT).await;

    let fresh = data_with("n", &2);
    store
        .create(&id, &encode(&fresh), later(time, LONG))
        .await
        .expect("create over an expired record");
    let loaded = must_load_data(store, &id, "created over an expired record").await;
    assert_eq!(loaded, fresh);
}
