//! Helpers shared by the cases.

use std::time::{Duration, SystemTime};

use sessionkit_core::{Codec, Id, Record, SessionData, SessionStore};

use crate::TimeTravel;

/// The lifetime of records that must not expire during a case.
pub(super) const LONG: Duration = Duration::from_secs(600);

/// The lifetime of records that a case lets expire.
pub(super) const SHORT: Duration = Duration::from_secs(1);

pub(super) fn later(time: &TimeTravel, by: Duration) -> SystemTime {
    time.now() + by
}

/// Session data with one entry, marked unmodified (as loaded data would be).
pub(super) fn data_with<T: serde::Serialize + ?Sized>(key: &str, value: &T) -> SessionData {
    let mut data = SessionData::new();
    data.insert(key, value).expect("test value encodes");
    data.mark_unmodified();
    data
}

pub(super) fn encode(data: &SessionData) -> Vec<u8> {
    Codec::MessagePack.encode(data).expect("test data encodes")
}

/// Creates a record under a fresh id holding `data`, living for `ttl`.
pub(super) async fn create(
    store: &dyn SessionStore,
    time: &TimeTravel,
    data: &SessionData,
    ttl: Duration,
) -> Id {
    let id = Id::random();
    store
        .create(&id, &encode(data), later(time, ttl))
        .await
        .unwrap_or_else(|e| panic!("create of a fresh id failed: {e:?}"));
    id
}

/// Loads `id`, failing the case if the record is missing.
pub(super) async fn must_load(store: &dyn SessionStore, id: &Id, why: &str) -> Record {
    store
        .load(id)
        .await
        .unwrap_or_else(|e| panic!("load failed ({why}): {e:?}"))
        .unwrap_or_else(|| panic!("record missing: {why}"))
}

/// Loads `id` and decodes it.
pub(super) async fn must_load_data(store: &dyn SessionStore, id: &Id, why: &str) -> SessionData {
    let record = must_load(store, id, why).await;
    Codec::MessagePack
        .decode(record.payload())
        .unwrap_or_else(|e| panic!("stored payload no longer decodes ({why}): {e:?}"))
}

/// Asserts that `id` has no live record.
pub(super) async fn assert_absent(store: &dyn SessionStore, id: &Id, why: &str) {
    let loaded = store
        .load(id)
        .await
        .unwrap_or_else(|e| panic!("load failed ({why}): {e:?}"));
    assert!(loaded.is_none(), "record still loadable: {why}");
}
