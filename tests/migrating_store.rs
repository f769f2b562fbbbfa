//! `MigratingStore` on real servers: the conformance suite and the user index cases (new =
//! Redis over old = Memcached, built by `connect` from `SESSION_MIGRATE_FROM`; new = memory
//! over old = SQLite, on a manual clock), then the migration rules with sessions left in
//! Memcached by the app before the switch, and the lifecycle's timeout around every call.

mod redis_keys;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use sessionkit::{
    Config, DynSessionStore, ErrorKind, Id, ManualClock, MemoryStore, MigratingStore, SessionStore,
    Sessions,
};
use sessionkit_memcached::MemcachedStore;
use sessionkit_redis::RedisStore;
use sessionkit_sql::{SqlStoreBuilder, Sqlite};
use sessionkit_testkit::{Fault, FaultProxy, Harness, TimeTravel};

const REDIS: &str = "redis://127.0.0.1:6379";
const MEMCACHED: &str = "127.0.0.1:11211";
const LIFETIME: Duration = Duration::from_secs(3600);

/// A key prefix of its own, so parallel tests never see each other's keys.
fn unique_prefix() -> String {
    format!("sk-migrate-test:{}:", &Id::random().to_string()[..12])
}

fn unreachable(error: impl std::fmt::Debug) -> ! {
    panic!(
        "Redis on 6379 and memcached on 11211 are needed: start them with ./scripts/services \
         ({error:?})"
    )
}

/// Redis, moving sessions from Memcached, as an application configures it.
async fn redis_over_memcached() -> Harness {
    let prefix = unique_prefix();
    let config = Config::from_pairs([
        ("SESSION_TYPE", "redis"),
        ("SESSION_REDIS", REDIS),
        ("SESSION_KEY_PREFIX", prefix.as_str()),
        // Generous (the old store inherits it): the concurrency cases send a thousand calls
        // at once, each reaching both stores, on a machine that runs the rest of the suite.
        ("SESSION_STORE_TIMEOUT", "10"),
        (
            "SESSION_MIGRATE_FROM",
            r#"{"SESSION_TYPE": "memcached", "SESSION_MEMCACHED": "127.0.0.1:11211"}"#,
        ),
    ])
    .unwrap();
    let store = sessionkit::connect(&config)
        .await
        .unwrap_or_else(|e| unreachable(e));
    assert_eq!(store.backend(), "redis");
    Harness::new(store, TimeTravel::Real)
        .with_teardown(move || async move { redis_keys::delete(REDIS, &prefix).await })
}

/// The memory store, moving sessions from SQLite; both on one manual clock.
async fn memory_over_sqlite() -> Harness {
    let clock = ManualClock::new();
    let path = std::env::temp_dir().join(format!(
        "sk-migrate-{}.sqlite3",
        &Id::random().to_string()[..12]
    ));
    let old = SqlStoreBuilder::<Sqlite>::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap()
        .clock(Arc::new(clock.clone()))
        // Generous, as above.
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    old.migrate().await.unwrap();
    let pool = old.pool().clone();
    let new = MemoryStore::with_clock(Arc::new(clock.clone()));
    let store = MigratingStore::new(Arc::new(new), Arc::new(old), LIFETIME)
        .with_clock(Arc::new(clock.clone()));
    Harness::new(store, TimeTravel::Manual(clock)).with_teardown(move || async move {
        pool.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    })
}

mod redis_over_memcached {
    sessionkit_testkit::conformance_tests!(super::redis_over_memcached);
    sessionkit_testkit::user_index_tests!(super::redis_over_memcached);
    sessionkit_testkit::scan_tests!(super::redis_over_memcached);
}

mod memory_over_sqlite {
    sessionkit_testkit::conformance_tests!(super::memory_over_sqlite);
    sessionkit_testkit::user_index_tests!(super::memory_over_sqlite);
    sessionkit_testkit::scan_tests!(super::memory_over_sqlite);
}

/// The two stores of a migration from Memcached to Redis under one key prefix, and the
/// migrating store over them.
struct Migration {
    new: Arc<RedisStore>,
    old: Arc<MemcachedStore>,
    store: Arc<MigratingStore>,
    prefix: String,
}

impl Migration {
    async fn start() -> Self {
        let prefix = unique_prefix();
        let new = RedisStore::builder(REDIS)
            .key_prefix(&prefix)
            .build()
            .await
            .unwrap_or_else(|e| unreachable(e));
        let old = MemcachedStore::builder([MEMCACHED])
            .key_prefix(&prefix)
            .build_and_ping()
            .await
            .unwrap_or_else(|e| unreachable(e));
        let (new, old) = (Arc::new(new), Arc::new(old));
        let store = MigratingStore::new(
            Arc::clone(&new) as DynSessionStore,
            Arc::clone(&old) as DynSessionStore,
            LIFETIME,
        );
        Self {
            new,
            old,
            store: Arc::new(store),
            prefix,
        }
    }

    /// A session the app wrote to Memcached before the switch.
    async fn left_in_old(&self, payload: &[u8]) -> Id {
        let id = Id::random();
        self.old.create(&id, payload, in_minutes(10)).await.unwrap();
        id
    }

    /// A session in both stores (a move cut short).
    async fn in_both(&self) -> Id {
        let id = self.left_in_old(b"old copy").await;
        self.new
            .create(&id, b"new copy", in_minutes(10))
            .await
            .unwrap();
        id
    }

    async fn in_old(&self, id: &Id) -> bool {
        self.old.load(id).await.unwrap().is_some()
    }

    async fn cleanup(self, ids: &[Id]) {
        for id in ids {
            self.store.delete(id).await.unwrap();
        }
        redis_keys::delete(REDIS, &self.prefix).await;
    }
}

fn in_minutes(minutes: u64) -> SystemTime {
    SystemTime::now() + Duration::from_secs(60 * minutes)
}

#[tokio::test]
async fn a_session_left_in_memcached_moves_to_redis_on_first_read() {
    let m = Migration::start().await;
    let id = m.left_in_old(b"counter=41").await;

    let record = m
        .store
        .load(&id)
        .await
        .unwrap()
        .expect("found in Memcached");
    assert_eq!(record.payload().as_ref(), b"counter=41");
    assert!(!m.in_old(&id).await, "no longer in Memcached");
    let in_redis = m.new.load(&id).await.unwrap().expect("now in Redis");
    assert_eq!(in_redis.version(), record.version(), "Redis's version");

    m.store
        .save(&id, b"counter=42", in_minutes(10), record.version())
        .await
        .expect("the moved record's version is good for a compare-and-set save");
    let saved = m.new.load(&id).await.unwrap().unwrap();
    assert_eq!(saved.payload().as_ref(), b"counter=42");
    m.cleanup(&[id]).await;
}

#[tokio::test]
async fn a_session_moved_by_load_and_touch_gets_the_asked_expiry() {
    let m = Migration::start().await;
    let id = m.left_in_old(b"data").await;
    let record = m.store.load_and_touch(&id, in_minutes(30)).await.unwrap();
    assert_eq!(record.unwrap().payload().as_ref(), b"data");
    assert!(!m.in_old(&id).await);
    let mut raw = redis::Client::open(REDIS)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg(m.new.key(&id))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!((29 * 60_000..=30 * 60_000).contains(&ttl), "TTL {ttl} ms");
    m.cleanup(&[id]).await;
}

#[tokio::test]
async fn a_logout_removes_both_copies() {
    let m = Migration::start().await;
    let id = m.in_both().await;
    m.store.delete(&id).await.unwrap();
    assert!(!m.in_old(&id).await);
    assert!(m.new.load(&id).await.unwrap().is_none());
    assert!(
        m.store.load(&id).await.unwrap().is_none(),
        "the old copy cannot come back"
    );
    m.cleanup(&[]).await;
}

#[tokio::test]
async fn a_save_removes_the_old_copy() {
    let m = Migration::start().await;
    let id = m.in_both().await;
    let version = m.store.load(&id).await.unwrap().unwrap().version();
    m.store
        .save(&id, b"saved", in_minutes(10), version)
        .await
        .unwrap();
    assert!(!m.in_old(&id).await);
    let loaded = m.store.load(&id).await.unwrap().unwrap();
    assert_eq!(loaded.payload().as_ref(), b"saved");
    m.cleanup(&[id]).await;
}

#[tokio::test]
async fn save_of_a_session_never_moved_conflicts_until_it_is_loaded() {
    let m = Migration::start().await;
    let id = m.left_in_old(b"unmoved").await;
    let memcached_version = m.old.load(&id).await.unwrap().unwrap().version();
    let err = m
        .store
        .save(&id, b"x", in_minutes(10), memcached_version)
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
    assert!(m.in_old(&id).await && m.new.load(&id).await.unwrap().is_none());
    let version = m.store.load(&id).await.unwrap().unwrap().version();
    m.store
        .save(&id, b"x", in_minutes(10), version)
        .await
        .unwrap();
    m.cleanup(&[id]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_reads_of_one_session_all_succeed_and_leave_one_record() {
    const SESSIONS: usize = 20;
    const READS: usize = 8;
    let m = Migration::start().await;
    let mut ids = Vec::new();
    for _ in 0..SESSIONS {
        let id = m.left_in_old(b"shared").await;
        let start = Arc::new(tokio::sync::Barrier::new(READS));
        let reads: Vec<_> = (0..READS)
            .map(|i| {
                let (store, start) = (Arc::clone(&m.store), Arc::clone(&start));
                tokio::spawn(async move {
                    start.wait().await;
                    // Plain reads and reads that slide the expiry, as the lifecycle does.
                    if i % 2 == 0 {
                        store.load(&id).await
                    } else {
                        store.load_and_touch(&id, in_minutes(10)).await
                    }
                })
            })
            .collect();
        let mut versions = Vec::new();
        for read in reads {
            let record = read.await.unwrap().unwrap().expect("every read finds it");
            assert_eq!(record.payload().as_ref(), b"shared");
            versions.push(record.version());
        }
        let stored = m.new.load(&id).await.unwrap().expect("one record in Redis");
        assert!(
            versions.iter().all(|v| *v == stored.version()),
            "every read got the one record's version"
        );
        assert!(!m.in_old(&id).await, "none left in Memcached");
        ids.push(id);
    }
    m.cleanup(&ids).await;
}

/// The lifecycle bounds each call to the migrating store, the old store's share included,
/// by `SESSION_STORE_TIMEOUT`: a stalled Memcached (whose own client would wait 10 s) turns
/// a read and a listing of a user's sessions into `Timeout` errors within the limit.
#[tokio::test]
async fn the_lifecycle_bounds_every_call_by_its_timeout() {
    const TIMEOUT: Duration = Duration::from_millis(300);
    let proxy = FaultProxy::start(MEMCACHED.parse().unwrap()).await.unwrap();
    let prefix = unique_prefix();
    let new = RedisStore::builder(REDIS)
        .key_prefix(&prefix)
        .build()
        .await
        .unwrap_or_else(|e| unreachable(e));
    let old = MemcachedStore::builder([proxy.addr().to_string()])
        .key_prefix(&prefix)
        .timeout(Duration::from_secs(10))
        .build_and_ping()
        .await
        .unwrap_or_else(|e| unreachable(e));
    let store = MigratingStore::new(Arc::new(new), Arc::new(old), LIFETIME);
    let config = Config::builder()
        .session(|s| {
            s.store_timeout = TIMEOUT;
            s.user_index = true;
        })
        .build()
        .unwrap();
    let sessions = Sessions::new(Arc::new(store), config.session().clone()).unwrap();
    proxy.set(Fault::Stall);

    let cookie = format!("session={}", Id::random());
    let session = sessions.start([cookie.as_bytes()]);
    let started = Instant::now();
    let err = session.get::<u64>("counter").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
    let listing = sessions.user_sessions("ada").await.unwrap_err();
    assert_eq!(listing.kind(), ErrorKind::Timeout, "{listing:?}");
    let took = started.elapsed();
    assert!(
        took >= 2 * TIMEOUT && took < 2 * TIMEOUT + Duration::from_millis(500),
        "{took:?}"
    );
    redis_keys::delete(REDIS, &prefix).await;
}
