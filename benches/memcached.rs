//! Memcached: sessionkit's store against the raw meta-protocol calls it makes, per
//! operation, on one server.
//!
//! ```sh
//! ./scripts/services            # memcached on 127.0.0.1:11211
//! cargo bench --bench memcached
//! ```

use std::hint::black_box;
use std::time::{Duration, SystemTime};

mod common;

use common::payload;
use criterion::{Criterion, criterion_group, criterion_main};
use memcache::exp::{AsyncMetaClient, Meta};
use sessionkit::{Id, SessionStore};
use sessionkit_memcached::MemcachedStore;
use tokio::runtime::Runtime;

const SERVER: &str = "127.0.0.1:11211";
const TTL: u32 = 600;

fn expires() -> SystemTime {
    SystemTime::now() + Duration::from_secs(u64::from(TTL))
}

fn per_operation(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let store = rt
        .block_on(
            MemcachedStore::builder([SERVER])
                .key_prefix("bench:")
                .build_and_ping(),
        )
        .unwrap_or_else(|e| {
            panic!("memcached on {SERVER} is needed: run ./scripts/services ({e:?})")
        });
    let raw = rt
        .block_on(
            AsyncMetaClient::builder()
                .max_connections(Some(32))
                .connect_async(SERVER),
        )
        .unwrap();
    let payload = payload();
    let id = Id::random();
    let key = store.key(&id);
    rt.block_on(store.create(&id, &payload, expires())).unwrap();

    let mut group = c.benchmark_group("memcached/op");
    // Raw first: the first benchmark of a group pays for connection and slab warm-up.
    group.bench_function("create/raw", |b| {
        b.to_async(&rt).iter(|| async {
            let key = format!("bench:{}", Id::random());
            let r = raw
                .set(&key, &payload)
                .add()
                .ttl_raw(TTL)
                .send()
                .await
                .unwrap();
            assert!(r.applied());
        });
    });
    group.bench_function("create/sessionkit", |b| {
        b.to_async(&rt).iter(|| async {
            store
                .create(&Id::random(), &payload, expires())
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
            black_box(
                raw.get(&key)
                    .meta(Meta::NONE.cas())
                    .send()
                    .await
                    .unwrap()
                    .value
                    .unwrap(),
            )
        });
    });
    group.bench_function("save/sessionkit", |b| {
        b.to_async(&rt).iter(|| async {
            // Load + save, since every save needs the current CAS token.
            let record = store.load(&id).await.unwrap().unwrap();
            store
                .save(&id, &payload, expires(), record.version())
                .await
                .unwrap();
        });
    });
    group.bench_function("save/raw", |b| {
        b.to_async(&rt).iter(|| async {
            let cas = raw
                .get(&key)
                .meta(Meta::NONE.cas())
                .send()
                .await
                .unwrap()
                .item
                .cas
                .unwrap();
            let r = raw
                .set(&key, &payload)
                .compare_cas(cas)
                .ttl_raw(TTL)
                .send()
                .await
                .unwrap();
            assert!(r.applied());
        });
    });
    group.bench_function("touch/sessionkit", |b| {
        b.to_async(&rt)
            .iter(|| async { store.touch(&id, expires()).await.unwrap() });
    });
    group.bench_function("touch/raw", |b| {
        b.to_async(&rt).iter(|| async {
            let r = raw
                .get(&key)
                .without_value()
                .touch_raw(TTL)
                .send()
                .await
                .unwrap();
            assert!(r.hit());
        });
    });
    group.finish();
}

criterion_group!(benches, per_operation);
criterion_main!(benches);
