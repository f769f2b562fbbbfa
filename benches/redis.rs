//! Redis: sessionkit's store against the raw redis-rs commands it sends, per operation on
//! the same connection; and the multiplexed connection against a bb8 pool under 64
//! concurrent tasks doing load + save.
//!
//! ```sh
//! ./scripts/services            # Redis on 127.0.0.1:6379
//! cargo bench --bench redis
//! ```

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

mod common;

use common::payload;
use criterion::{Criterion, criterion_group, criterion_main};
use redis::aio::ConnectionManager;
use sessionkit::{Id, SessionStore};
use sessionkit_redis::{ConnectionKind, RedisStore};
use tokio::runtime::Runtime;

const URL: &str = "redis://127.0.0.1:6379";
const PREFIX: &str = "bench:";
const TTL_MS: u64 = 600_000;

/// The save script, as the store sends it (copied here so the raw baseline runs the same
/// server-side work).
const SAVE_SCRIPT: &str = r"
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if string.sub(redis.sha1hex(current), 1, 16) ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
";

fn expires() -> SystemTime {
    SystemTime::now() + Duration::from_millis(TTL_MS)
}

async fn store(kind: ConnectionKind) -> RedisStore {
    RedisStore::builder(URL)
        .key_prefix(PREFIX)
        .connection(kind)
        .build()
        .await
        .unwrap_or_else(|e| panic!("Redis on {URL} is needed: run ./scripts/services ({e:?})"))
}

/// The first 16 hex digits of SHA-1: what the save script compares.
fn digest_hex(payload: &[u8]) -> String {
    sha1_smol::Sha1::from(payload).digest().to_string()[..16].to_owned()
}

fn per_operation(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let store = rt.block_on(store(ConnectionKind::Multiplexed));
    let manager: ConnectionManager = rt.block_on(async {
        ConnectionManager::new(redis::Client::open(URL).unwrap())
            .await
            .unwrap()
    });
    let payload = payload();
    let digest = digest_hex(&payload);
    let script_sha = sha1_smol::Sha1::from(SAVE_SCRIPT).digest().to_string();
    let id = Id::random();
    let key = store.key(&id);
    rt.block_on(store.create(&id, &payload, expires())).unwrap();

    let mut group = c.benchmark_group("redis/op");
    group.bench_function("create/sessionkit", |b| {
        b.to_async(&rt).iter(|| async {
            store
                .create(&Id::random(), &payload, expires())
                .await
                .unwrap();
        });
    });
    group.bench_function("create/raw", |b| {
        b.to_async(&rt).iter(|| async {
            let key = format!("{PREFIX}{}", Id::random());
            let _: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(&payload[..])
                .arg("NX")
                .arg("PX")
                .arg(TTL_MS)
                .query_async(&mut manager.clone())
                .await
                .unwrap();
        });
    });
    group.bench_function("load/sessionkit", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(store.load(&id).await.unwrap().unwrap()) });
    });
    group.bench_function("load/raw", |b| {
        b.to_async(&rt).iter(|| async {
            let v: Option<Vec<u8>> = redis::cmd("GET")
                .arg(&key)
                .query_async(&mut manager.clone())
                .await
                .unwrap();
            black_box(v.unwrap())
        });
    });
    group.bench_function("load_and_touch/sessionkit", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(store.load_and_touch(&id, expires()).await.unwrap().unwrap())
        });
    });
    group.bench_function("load_and_touch/raw", |b| {
        b.to_async(&rt).iter(|| async {
            let v: Option<Vec<u8>> = redis::cmd("GETEX")
                .arg(&key)
                .arg("PX")
                .arg(TTL_MS)
                .query_async(&mut manager.clone())
                .await
                .unwrap();
            black_box(v.unwrap())
        });
    });
    let version = rt.block_on(store.load(&id)).unwrap().unwrap().version();
    group.bench_function("save/sessionkit", |b| {
        // Saving the same bytes keeps the digest, so every iteration's save succeeds.
        b.to_async(&rt).iter(|| async {
            store.save(&id, &payload, expires(), version).await.unwrap();
        });
    });
    group.bench_function("save/raw", |b| {
        b.to_async(&rt).iter(|| async {
            let reply: i64 = redis::cmd("EVALSHA")
                .arg(&script_sha)
                .arg(1)
                .arg(&key)
                .arg(&digest)
                .arg(&payload[..])
                .arg(TTL_MS)
                .query_async(&mut manager.clone())
                .await
                .unwrap();
            assert_eq!(reply, 1);
        });
    });
    group.finish();
}

/// 64 tasks, each doing `rounds` load + save cycles on its own session.
async fn load_save_64(store: Arc<RedisStore>, ids: Arc<Vec<Id>>, rounds: u64) -> Duration {
    let started = Instant::now();
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let store = store.clone();
            let ids = ids.clone();
            tokio::spawn(async move {
                let id = ids[i];
                for _ in 0..rounds {
                    let record = store.load(&id).await.unwrap().unwrap();
                    store
                        .save(&id, record.payload(), expires(), record.version())
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    started.elapsed()
}

fn concurrency(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let payload = payload();
    let mut group = c.benchmark_group("redis/64-tasks-load-save");
    group.throughput(criterion::Throughput::Elements(64));
    for (name, kind) in [
        ("multiplexed", ConnectionKind::Multiplexed),
        ("bb8-pool-16", ConnectionKind::Pool { max_size: 16 }),
    ] {
        let store = Arc::new(rt.block_on(store(kind)));
        let ids: Arc<Vec<Id>> = Arc::new((0..64).map(|_| Id::random()).collect());
        rt.block_on(async {
            for id in ids.iter() {
                store.create(id, &payload, expires()).await.unwrap();
            }
        });
        group.bench_function(name, |b| {
            b.to_async(&rt)
                .iter_custom(|rounds| load_save_64(store.clone(), ids.clone(), rounds));
        });
    }
    group.finish();
}

criterion_group!(benches, per_operation, concurrency);
criterion_main!(benches);
