//! What lands in Redis, read back with `redis-cli`: Flask-Session's key, the codec's bytes,
//! the configured lifetime as TTL.

mod support;

use std::process::Command;
use std::time::{Duration, SystemTime};

use sessionkit_core::{Codec, Id, SessionData, SessionStore};
use sessionkit_redis::{ConnectionKind, RedisStore};
use support::STANDALONE;

fn redis_cli(args: &[&str]) -> Vec<u8> {
    let output = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", "6379"])
        .args(args)
        .output()
        .expect("redis-cli is installed by ./scripts/services");
    assert!(output.status.success(), "redis-cli {args:?} failed");
    output.stdout
}

#[tokio::test]
async fn saved_session_is_flask_sessions_key_bytes_and_ttl() {
    let store = RedisStore::builder(STANDALONE)
        .connection(ConnectionKind::Multiplexed)
        .build()
        .await
        .expect("Redis on 127.0.0.1:6379: start it with ./scripts/services");
    assert_eq!(store.key_prefix(), "session:");
    let lifetime = Duration::from_secs(2_678_400);

    let mut data = SessionData::new();
    data.insert("_permanent", &true).unwrap();
    data.insert("refreshed", &1).unwrap();
    let id = Id::random();
    store
        .create(
            &id,
            &Codec::MessagePack.encode(&data).unwrap(),
            SystemTime::now() + lifetime,
        )
        .await
        .unwrap();
    let version = store.load(&id).await.unwrap().unwrap().version();
    data.insert("refreshed", &2).unwrap();
    let payload = Codec::MessagePack.encode(&data).unwrap();
    store
        .save(&id, &payload, SystemTime::now() + lifetime, version)
        .await
        .unwrap();

    let key = format!("session:{id}");
    let mut stored = redis_cli(&["GET", &key]);
    assert_eq!(stored.pop(), Some(b'\n'));
    assert_eq!(
        stored, payload,
        "redis-cli GET shows other bytes than the codec wrote"
    );

    let pttl: u64 = String::from_utf8(redis_cli(&["PTTL", &key]))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let expected = lifetime.as_millis() as u64;
    assert!(
        expected - 5_000 <= pttl && pttl <= expected,
        "PTTL {pttl} ms, expected about {expected}"
    );

    store.delete(&id).await.unwrap();
    assert_eq!(redis_cli(&["EXISTS", &key]), b"0\n");
}
