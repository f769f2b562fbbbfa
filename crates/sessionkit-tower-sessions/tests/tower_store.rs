//! sessionkit stores as tower-sessions stores (`TowerStore`): tower-sessions' own
//! expectations (create, save, load, delete, expired-not-loaded) and sessionkit's (create
//! never overwrites, save never resurrects, load slides the expiry when asked, values a
//! Python app wrote survive a Rust save) on memory, Redis, Memcached and SQLite. The cases
//! are plain functions over a store; each backend only says how its store is built.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sessionkit_core::{Codec, DynSessionStore, Id, MemoryStore, SessionData, Timestamp};
use sessionkit_memcached::MemcachedStore;
use sessionkit_redis::RedisStore;
use sessionkit_sql::SqliteStore;
use sessionkit_tower_sessions::TowerStore;
use time::OffsetDateTime;
use tower_sessions_core::SessionStore;
use tower_sessions_core::session::{Id as TowerId, Record};

fn record(data: serde_json::Value, lifetime: Duration) -> Record {
    let data: HashMap<String, serde_json::Value> = serde_json::from_value(data).unwrap();
    Record {
        id: TowerId::default(),
        data,
        expiry_date: OffsetDateTime::now_utc() + lifetime,
    }
}

const LONG: Duration = Duration::from_secs(60);

async fn create_then_load_returns_the_data(store: DynSessionStore) {
    let store = TowerStore::new(store);
    let mut rec = record(json!({"user": {"id": 7}, "n": 1}), LONG);
    store.create(&mut rec).await.unwrap();
    let loaded = store.load(&rec.id).await.unwrap().expect("created");
    assert_eq!(loaded.data, rec.data);
    assert_eq!(loaded.id, rec.id);
}

async fn create_never_overwrites_an_existing_record(store: DynSessionStore) {
    let store = TowerStore::new(store);
    let mut first = record(json!({"owner": "first"}), LONG);
    store.create(&mut first).await.unwrap();
    let mut second = record(json!({"owner": "second"}), LONG);
    second.id = first.id;
    store.create(&mut second).await.unwrap();
    assert_ne!(second.id, first.id, "a colliding create draws a new id");
    let kept = store.load(&first.id).await.unwrap().unwrap();
    assert_eq!(kept.data["owner"], json!("first"));
    let other = store.load(&second.id).await.unwrap().unwrap();
    assert_eq!(other.data["owner"], json!("second"));
}

async fn save_updates_an_existing_record(store: DynSessionStore) {
    let store = TowerStore::new(store);
    let mut rec = record(json!({"n": 1}), LONG);
    store.create(&mut rec).await.unwrap();
    rec.data.insert("n".into(), json!(2));
    rec.data.insert("added".into(), json!([1, 2]));
    store.save(&rec).await.unwrap();
    assert_eq!(store.load(&rec.id).await.unwrap().unwrap().data, rec.data);
}

async fn save_after_delete_does_not_resurrect(store: DynSessionStore) {
    let store = TowerStore::new(store);
    let mut rec = record(json!({"user": 1}), LONG);
    store.create(&mut rec).await.unwrap();
    store.delete(&rec.id).await.unwrap();
    assert!(store.load(&rec.id).await.unwrap().is_none());
    store.save(&rec).await.unwrap();
    assert!(
        store.load(&rec.id).await.unwrap().is_none(),
        "save is update-if-exists"
    );
}

async fn save_of_an_unknown_id_stores_nothing(store: DynSessionStore) {
    let store = TowerStore::new(store);
    let rec = record(json!({"user": 1}), LONG);
    store.save(&rec).await.unwrap();
    assert!(store.load(&rec.id).await.unwrap().is_none());
}

async fn delete_of_an_unknown_id_succeeds(store: DynSessionStore) {
    let store = TowerStore::new(store);
    store.delete(&TowerId::default()).await.unwrap();
}

async fn an_expired_record_is_not_loaded(store: DynSessionStore) {
    let store = TowerStore::new(store);
    let mut rec = record(json!({"n": 1}), Duration::from_secs(1));
    store.create(&mut rec).await.unwrap();
    assert!(store.load(&rec.id).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(store.load(&rec.id).await.unwrap().is_none());
}

async fn load_slides_the_expiry_when_asked(store: DynSessionStore) {
    let store = TowerStore::new(store).touch_on_load(Duration::from_secs(10));
    let mut rec = record(json!({"n": 1}), Duration::from_secs(2));
    store.create(&mut rec).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(store.load(&rec.id).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(
        store.load(&rec.id).await.unwrap().is_some(),
        "the first load moved the expiry to 10 s"
    );
}

/// A record as Flask-Session writes it (binary, a datetime, an extension type), changed
/// by a tower-sessions handler on one key only.
async fn values_json_cannot_hold_survive_a_save(raw: DynSessionStore) {
    let store = TowerStore::new(Arc::clone(&raw));
    let mut rec = record(json!({"n": 1}), LONG);
    store.create(&mut rec).await.unwrap();
    // Python writes to the same record through the sessionkit store.
    let id = store_id(&rec.id);
    let stored = raw.load(&id).await.unwrap().unwrap();
    let mut data = Codec::MessagePack.decode(stored.payload()).unwrap();
    let stamp = Timestamp::new(1_700_000_000, 5);
    data.insert("bytes", serde_bytes::Bytes::new(&[0, 255]))
        .unwrap();
    data.insert("when", &stamp).unwrap();
    data.insert("ext", &rmpv::Value::Ext(7, vec![1, 2, 3]))
        .unwrap();
    let payload = Codec::MessagePack.encode(&data).unwrap();
    raw.save(
        &id,
        &payload,
        std::time::SystemTime::now() + LONG,
        stored.version(),
    )
    .await
    .unwrap();

    // tower-sessions sees the JSON forms, and not the extension type.
    let mut seen = store.load(&rec.id).await.unwrap().unwrap();
    assert_eq!(seen.data["bytes"], json!([0, 255]));
    assert_eq!(seen.data["when"], json!("2023-11-14T22:13:20.000000005Z"));
    assert!(!seen.data.contains_key("ext"));
    seen.data.insert("n".into(), json!(2));
    store.save(&seen).await.unwrap();

    // Only `n` changed: the others keep their MessagePack types.
    let after: SessionData = Codec::MessagePack
        .decode(raw.load(&id).await.unwrap().unwrap().payload())
        .unwrap();
    assert_eq!(after.get::<u32>("n").unwrap(), Some(2));
    assert_eq!(
        after
            .get::<serde_bytes::ByteBuf>("bytes")
            .unwrap()
            .unwrap()
            .as_ref(),
        &[0, 255]
    );
    assert_eq!(after.get::<Timestamp>("when").unwrap(), Some(stamp));
    assert_eq!(
        after.get::<rmpv::Value>("ext").unwrap(),
        Some(rmpv::Value::Ext(7, vec![1, 2, 3]))
    );
}

/// The id `TowerStore` stores a tower-sessions id under (documented on `TowerStore`).
fn store_id(id: &TowerId) -> Id {
    use base64::Engine as _;
    let mut raw = [0u8; 32];
    raw[..16].copy_from_slice(&id.0.to_le_bytes());
    Id::parse(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)).unwrap()
}

async fn memory() -> DynSessionStore {
    Arc::new(MemoryStore::new())
}

async fn redis() -> DynSessionStore {
    Arc::new(
        RedisStore::builder("redis://127.0.0.1:6379")
            .key_prefix(format!("ts-store-{}:", Id::random()))
            .build()
            .await
            .expect("Redis on 127.0.0.1:6379: start it with ./scripts/services"),
    )
}

async fn memcached() -> DynSessionStore {
    Arc::new(
        MemcachedStore::builder(["127.0.0.1:11211"])
            .key_prefix(format!("ts-store-{}:", Id::random()))
            .build_and_ping()
            .await
            .expect("memcached on 127.0.0.1:11211: start it with ./scripts/services"),
    )
}

async fn sqlite() -> DynSessionStore {
    // One connection to a private in-memory database: no file to clean up.
    let pool = sessionkit_sql::sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    let store = SqliteStore::new(pool);
    store.migrate().await.unwrap();
    Arc::new(store)
}

macro_rules! cases {
    ($backend:ident: $($case:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(super::$backend().await).await
                }
            )*
        }
    };
}

macro_rules! every_backend {
    ($($backend:ident),*) => {
        $(
            cases!($backend:
                create_then_load_returns_the_data,
                create_never_overwrites_an_existing_record,
                save_updates_an_existing_record,
                save_after_delete_does_not_resurrect,
                save_of_an_unknown_id_stores_nothing,
                delete_of_an_unknown_id_succeeds,
                an_expired_record_is_not_loaded,
                load_slides_the_expiry_when_asked,
                values_json_cannot_hold_survive_a_save,
            );
        )*
    };
}

every_backend!(memory, redis, memcached, sqlite);
