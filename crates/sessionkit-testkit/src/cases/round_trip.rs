//! What goes in comes out, unchanged.

use serde::{Deserialize, Serialize};
use sessionkit_core::{Id, SessionData, SessionStore};

use super::support::{LONG, create, encode, later, must_load, must_load_data};
use crate::TimeTravel;

/// A binary value, written as MessagePack `bin`.
type Blob = serde_bytes::ByteBuf;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Profile {
    name: String,
    age: u8,
    balance: f64,
    big: u64,
    small: i64,
    admin: bool,
    nickname: Option<String>,
    tags: Vec<String>,
    nested: Vec<Vec<Option<i32>>>,
}

fn profile() -> Profile {
    Profile {
        name: "Ada Lovelace".into(),
        age: 36,
        balance: -1234.5,
        big: u64::MAX,
        small: i64::MIN,
        admin: true,
        nickname: None,
        tags: vec!["math".into(), "engines".into()],
        nested: vec![vec![Some(1), None], vec![], vec![Some(-3)]],
    }
}

/// Structs, nested arrays and maps, the full integer range, floats, booleans and null come
/// back equal, at the typed level and byte for byte.
pub async fn round_trip_nested_values(store: &dyn SessionStore, time: &TimeTravel) {
    let mut data = SessionData::new();
    data.insert("profile", &profile()).unwrap();
    let tree = serde_json::json!({"a": {"b": {"c": [1, [2, [3, {"d": null}]]]}}, "e": 2.5});
    data.insert("tree", &tree).unwrap();
    data.mark_unmodified();

    let id = create(store, time, &data, LONG).await;
    let loaded = must_load_data(store, &id, "just created").await;
    assert_eq!(loaded, data, "nested values changed in the store");
    assert_eq!(loaded.get::<Profile>("profile").unwrap(), Some(profile()));
    assert_eq!(loaded.get::<serde_json::Value>("tree").unwrap(), Some(tree));
}

/// Keys and values outside ASCII (accents, CJK, emoji, right-to-left) are kept.
pub async fn round_trip_unicode_keys_and_values(store: &dyn SessionStore, time: &TimeTravel) {
    let pairs = [
        ("naïve", "café"),
        ("ключ", "значение"),
        ("鍵", "値 🎌"),
        ("🔑", "🦀 crab"),
        ("مفتاح", "قيمة"),
        ("", "empty key"),
    ];
    let mut data = SessionData::new();
    for (key, value) in pairs {
        data.insert(key, value).unwrap();
    }
    data.mark_unmodified();

    let id = create(store, time, &data, LONG).await;
    let loaded = must_load_data(store, &id, "just created").await;
    for (key, value) in pairs {
        assert_eq!(
            loaded.get::<String>(key).unwrap().as_deref(),
            Some(value),
            "key {key:?}"
        );
    }
    assert_eq!(loaded, data);
}

/// Binary values, including every byte value and NUL, are kept as binary.
pub async fn round_trip_binary_values(store: &dyn SessionStore, time: &TimeTravel) {
    let all_bytes: Vec<u8> = (0..=255).collect();
    let mut data = SessionData::new();
    data.insert("all", &Blob::from(all_bytes.clone())).unwrap();
    data.insert("nul", &Blob::from(vec![0u8; 64])).unwrap();
    data.insert("empty", &Blob::new()).unwrap();
    data.mark_unmodified();

    let id = create(store, time, &data, LONG).await;
    let loaded = must_load_data(store, &id, "just created").await;
    assert_eq!(
        loaded.get::<Blob>("all").unwrap().unwrap().into_vec(),
        all_bytes
    );
    assert_eq!(
        loaded.get::<Blob>("nul").unwrap().unwrap().into_vec(),
        vec![0u8; 64]
    );
    assert!(loaded.get::<Blob>("empty").unwrap().unwrap().is_empty());
}

/// The store is binary-safe: it returns the payload exactly as written, even bytes that are
/// not valid UTF-8 or not even a valid session (the store must not interpret them).
pub async fn payload_bytes_are_kept_exactly(store: &dyn SessionStore, time: &TimeTravel) {
    let payload: Vec<u8> = (0..=255u8).rev().chain(0..=255).collect();
    let id = Id::random();
    store
        .create(&id, &payload, later(time, LONG))
        .await
        .expect("create");
    let record = must_load(store, &id, "just created").await;
    assert_eq!(record.payload().as_ref(), &payload[..], "payload altered");
}

/// A value of 1 MiB round-trips.
pub async fn large_value_round_trips(store: &dyn SessionStore, time: &TimeTravel) {
    let big: Vec<u8> = (0..1024 * 1024).map(|i: u32| (i % 251) as u8).collect();
    let mut data = SessionData::new();
    data.insert("big", &Blob::from(big.clone())).unwrap();
    data.mark_unmodified();
    assert!(encode(&data).len() > 1024 * 1024);

    let id = create(store, time, &data, LONG).await;
    let loaded = must_load_data(store, &id, "1 MiB value").await;
    assert_eq!(loaded.get::<Blob>("big").unwrap().unwrap().into_vec(), big);
}

/// Loading an id that was never stored is `Ok(None)`, not an error.
pub async fn load_of_unknown_id_is_none(store: &dyn SessionStore, _time: &TimeTravel) {
    let loaded = store.load(&Id::random()).await.expect("load of unknown id");
    assert!(loaded.is_none(), "an unknown id loaded something");
}
