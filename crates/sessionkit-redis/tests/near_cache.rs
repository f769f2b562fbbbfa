//! The near cache against real servers: what another store writes, deletes or revokes is
//! seen here once its invalidation has arrived; a lost tracking connection flushes the
//! cache; a cached read costs Redis nothing; the cache turns itself off where Redis cannot
//! track keys. Every wait is a bounded poll.

mod support;

use std::time::{Duration, Instant, SystemTime};

use sessionkit_core::{Id, SessionStore, UserIndex};
use sessionkit_redis::{NearCacheStats, RedisStore};
use support::{CLUSTER, Raw, SENTINEL, STANDALONE, Server, command, free_port, unique_prefix};

/// The longest any poll waits.
const BOUND: Duration = Duration::from_secs(10);

async fn store(url: &str, prefix: &str, near: bool) -> RedisStore {
    RedisStore::builder(url)
        .key_prefix(prefix)
        .near_cache(near)
        .build()
        .await
        .unwrap_or_else(|e| {
            panic!("Redis is not reachable at {url}: {e:?}. Start it with ./scripts/services")
        })
}

fn stats(store: &RedisStore) -> NearCacheStats {
    store.near_cache_stats().expect("the near cache is on")
}

fn expiry() -> SystemTime {
    SystemTime::now() + Duration::from_secs(60)
}

/// Polls `condition` every 2 ms until it holds, failing the test after [`BOUND`].
async fn until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + BOUND;
    while !condition() {
        assert!(Instant::now() < deadline, "not within {BOUND:?}: {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Waits until `store` has received `count` invalidations in all.
async fn invalidations(store: &RedisStore, count: u64) {
    until(&format!("{count} invalidations"), || {
        stats(store).invalidations >= count
    })
    .await;
}

/// Loads `id` until a load is answered by the cache; returns that payload.
async fn cached(store: &RedisStore, id: &Id) -> Vec<u8> {
    let deadline = Instant::now() + BOUND;
    loop {
        let hits = stats(store).hits;
        let record = store.load(id).await.unwrap().expect("the record exists");
        if stats(store).hits > hits {
            return record.payload().to_vec();
        }
        assert!(Instant::now() < deadline, "never served from the cache");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn payload(store: &RedisStore, id: &Id) -> Option<Vec<u8>> {
    store
        .load(id)
        .await
        .unwrap()
        .map(|record| record.payload().to_vec())
}

#[tokio::test]
async fn a_write_by_another_store_is_seen_once_its_invalidation_arrived() {
    let prefix = unique_prefix();
    let (here, elsewhere) = (
        store(STANDALONE, &prefix, true).await,
        store(STANDALONE, &prefix, false).await,
    );
    let id = Id::random();
    here.create(&id, b"one", expiry()).await.unwrap();
    assert_eq!(cached(&here, &id).await, b"one");

    let version = here.load(&id).await.unwrap().unwrap().version();
    elsewhere
        .save(&id, b"two", expiry(), version)
        .await
        .unwrap();
    invalidations(&here, 1).await;
    assert_eq!(payload(&here, &id).await.as_deref(), Some(&b"two"[..]));
    assert_eq!(cached(&here, &id).await, b"two");
    here.delete(&id).await.unwrap();
}

/// Keys Redis tracks for clients (`tracking_total_keys` of `INFO stats`).
async fn tracked_keys(raw: &mut Raw) -> u64 {
    let info: String = raw.query(&command("INFO", &["stats"])).await;
    info.lines()
        .find_map(|line| line.strip_prefix("tracking_total_keys:"))
        .and_then(|count| count.trim().parse().ok())
        .unwrap_or_else(|| panic!("no tracking_total_keys in INFO stats: {info}"))
}

/// A key is admitted on its second miss. The first load is a `GET` Redis tracks for nobody
/// (a request that loads and saves costs no tracking), and its bytes are never served: a
/// write elsewhere right after it is read by the next load, with nothing to wait for. The
/// second load is tracked and cached; the third is a hit.
#[tokio::test]
async fn a_key_is_cached_from_its_second_miss_on() {
    // A server of its own, so its tracking table is this test's alone.
    let server = Server::start_on(free_port());
    let prefix = unique_prefix();
    let (here, elsewhere) = (
        store(&server.url(), &prefix, true).await,
        store(&server.url(), &prefix, false).await,
    );
    let mut raw = Raw::single(&server.url()).await;
    let id = Id::random();
    elsewhere.create(&id, b"one", expiry()).await.unwrap();
    let before = stats(&here);

    let first = here.load(&id).await.unwrap().expect("the record exists");
    assert_eq!(&first.payload()[..], b"one");
    assert_eq!(
        tracked_keys(&mut raw).await,
        0,
        "the first load was tracked"
    );
    elsewhere
        .save(&id, b"two", expiry(), first.version())
        .await
        .unwrap();
    assert_eq!(payload(&here, &id).await.as_deref(), Some(&b"two"[..]));
    assert_eq!(
        tracked_keys(&mut raw).await,
        1,
        "the second load was not tracked"
    );
    assert_eq!(payload(&here, &id).await.as_deref(), Some(&b"two"[..]));
    let after = stats(&here);
    assert_eq!(after.misses - before.misses, 2, "two misses");
    assert_eq!(after.hits - before.hits, 1, "then a hit");
}

#[tokio::test]
async fn a_save_here_is_not_kept_so_a_write_elsewhere_right_after_it_is_read() {
    let prefix = unique_prefix();
    let (here, elsewhere) = (
        store(STANDALONE, &prefix, true).await,
        store(STANDALONE, &prefix, false).await,
    );
    let id = Id::random();
    here.create(&id, b"one", expiry()).await.unwrap();
    assert_eq!(cached(&here, &id).await, b"one");

    // A save here, then at once a save elsewhere from it (as a Python app answering the
    // browser's next request would): the next load here reads Redis, whether or not the
    // invalidation has arrived, so no request here works on what it saved itself.
    for n in 0..20u32 {
        let loaded = here.load(&id).await.unwrap().unwrap();
        here.save(
            &id,
            format!("here {n}").as_bytes(),
            expiry(),
            loaded.version(),
        )
        .await
        .unwrap();
        let saved = elsewhere.load(&id).await.unwrap().unwrap();
        elsewhere
            .save(
                &id,
                format!("elsewhere {n}").as_bytes(),
                expiry(),
                saved.version(),
            )
            .await
            .unwrap();
        assert_eq!(
            payload(&here, &id).await,
            Some(format!("elsewhere {n}").into_bytes())
        );
    }
    here.delete(&id).await.unwrap();
}

#[tokio::test]
async fn a_delete_by_another_store_is_seen_once_its_invalidation_arrived() {
    let prefix = unique_prefix();
    let (here, elsewhere) = (
        store(STANDALONE, &prefix, true).await,
        store(STANDALONE, &prefix, true).await,
    );
    let id = Id::random();
    here.create(&id, b"one", expiry()).await.unwrap();
    assert_eq!(cached(&here, &id).await, b"one");

    elsewhere.delete(&id).await.unwrap();
    invalidations(&here, 1).await;
    assert_eq!(payload(&here, &id).await, None);
}

#[tokio::test]
async fn a_revocation_by_another_store_is_seen_once_its_invalidation_arrived() {
    let prefix = unique_prefix();
    let (here, elsewhere) = (
        store(STANDALONE, &prefix, true).await,
        store(STANDALONE, &prefix, false).await,
    );
    let id = Id::random();
    here.create_for(&id, b"one", expiry(), Some("alice"))
        .await
        .unwrap();
    assert_eq!(cached(&here, &id).await, b"one");

    // What the lifecycle's revocation does: list the user's sessions, delete each.
    let listed = elsewhere.sessions_of("alice").await.unwrap();
    assert_eq!(listed.len(), 1);
    for session in &listed {
        elsewhere.delete(&session.id).await.unwrap();
    }
    invalidations(&here, 1).await;
    assert_eq!(payload(&here, &id).await, None);
}

/// The id of the client named `sessionkit-tracking`, from `CLIENT LIST`.
async fn tracking_client(raw: &mut Raw) -> String {
    let list: String = raw.query(&command("CLIENT", &["LIST"])).await;
    list.lines()
        .find(|line| line.contains(" name=sessionkit-tracking "))
        .and_then(|line| line.split(' ').find_map(|f| f.strip_prefix("id=")))
        .expect("a client named sessionkit-tracking")
        .to_owned()
}

#[tokio::test]
async fn a_killed_tracking_connection_flushes_the_cache_until_tracking_is_back() {
    // A server of its own: the test kills connections and sets a password.
    let server = Server::start_on(free_port());
    let prefix = unique_prefix();
    let here = store(&server.url(), &prefix, true).await;
    let id = Id::random();
    here.create(&id, b"one", expiry()).await.unwrap();
    assert_eq!(cached(&here, &id).await, b"one");
    let version = here.load(&id).await.unwrap().unwrap().version();

    // Kill the tracking connection, and keep it from coming back (a password it does not
    // have) while another client writes.
    let mut raw = Raw::single(&server.url()).await;
    let tracking = tracking_client(&mut raw).await;
    let _: () = raw
        .query(&command("CONFIG", &["SET", "requirepass", "sesame"]))
        .await;
    let killed: i64 = raw
        .query(&command("CLIENT", &["KILL", "ID", &tracking]))
        .await;
    assert_eq!(killed, 1);
    until("the cache is off", || !stats(&here).active).await;
    assert_eq!(stats(&here).entries, 0);

    let writer = RedisStore::builder(format!("redis://:sesame@127.0.0.1:{}", server.port))
        .key_prefix(prefix.as_str())
        .near_cache(false)
        .build()
        .await
        .unwrap();
    writer.save(&id, b"two", expiry(), version).await.unwrap();
    let hits = stats(&here).hits;
    assert_eq!(payload(&here, &id).await.as_deref(), Some(&b"two"[..]));
    assert_eq!(
        stats(&here).hits,
        hits,
        "served from a cache without tracking"
    );

    // Tracking comes back by itself, and the cache with it.
    let _: () = raw
        .query(&command("CONFIG", &["SET", "requirepass", ""]))
        .await;
    until("tracking is back", || stats(&here).active).await;
    assert_eq!(cached(&here, &id).await, b"two");
}

/// `INFO commandstats` as (command, calls).
async fn command_calls(raw: &mut Raw) -> Vec<(String, u64)> {
    let info: String = raw.query(&command("INFO", &["commandstats"])).await;
    info.lines()
        .filter_map(|line| {
            let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .collect()
}

#[tokio::test]
async fn reads_served_from_the_cache_cost_redis_no_command() {
    // A server of its own, so its command counts are this test's alone.
    let server = Server::start_on(free_port());
    let here = store(&server.url(), &unique_prefix(), true).await;
    let id = Id::random();
    here.create(&id, b"one", expiry()).await.unwrap();
    assert_eq!(cached(&here, &id).await, b"one");

    let mut raw = Raw::single(&server.url()).await;
    let _: () = raw.query(&command("CONFIG", &["RESETSTAT"])).await;
    let hits = stats(&here).hits;
    for _ in 0..100 {
        assert_eq!(payload(&here, &id).await.as_deref(), Some(&b"one"[..]));
    }
    assert_eq!(stats(&here).hits, hits + 100);
    let calls = command_calls(&mut raw).await;
    // What remains is this test's own RESETSTAT and INFO, and the tracking connection's
    // health check.
    assert!(
        calls
            .iter()
            .all(|(name, _)| ["config|resetstat", "info", "ping"].contains(&name.as_str())),
        "{calls:?}"
    );
}

#[tokio::test]
async fn the_cache_is_off_on_a_server_without_resp3() {
    // HELLO renamed away: what a Redis before 6 answers to `HELLO 3`.
    let port = free_port();
    let server = Server::start_with(port, &["--rename-command", "HELLO", ""]);
    let store = store(&server.url(), &unique_prefix(), true).await;
    assert_eq!(store.near_cache_stats(), None);
    let id = Id::random();
    store.create(&id, b"one", expiry()).await.unwrap();
    assert_eq!(payload(&store, &id).await.as_deref(), Some(&b"one"[..]));
}

#[tokio::test]
async fn the_cache_is_off_on_a_cluster() {
    let store = store(CLUSTER, &unique_prefix(), true).await;
    assert_eq!(store.near_cache_stats(), None);
}

#[tokio::test]
async fn the_cache_follows_the_sentinel_master() {
    let prefix = unique_prefix();
    let here = store(SENTINEL, &prefix, true).await;
    assert!(stats(&here).active);
    let mut raw = Raw::sentinel_master().await;
    let id = Id::random();
    here.create(&id, b"one", expiry()).await.unwrap();
    assert_eq!(cached(&here, &id).await, b"one");
    let key = here.key(&id);
    let _: () = raw
        .query(&command("SET", &[&key, "two", "PX", "60000"]))
        .await;
    invalidations(&here, 1).await;
    assert_eq!(payload(&here, &id).await.as_deref(), Some(&b"two"[..]));

    // A save here is read back from Redis.
    let version = here.load(&id).await.unwrap().unwrap().version();
    here.save(&id, b"three", expiry(), version).await.unwrap();
    assert_eq!(payload(&here, &id).await.as_deref(), Some(&b"three"[..]));
    here.delete(&id).await.unwrap();
}
