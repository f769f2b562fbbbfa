//! One of two servers goes down: its sessions fail with a typed error within the timeout,
//! the other server's sessions keep working.

mod support;

use std::time::{Duration, Instant, SystemTime};

use sessionkit_core::{ErrorKind, Id, SessionStore};
use sessionkit_memcached::MemcachedStore;
use support::Server;

const TIMEOUT: Duration = Duration::from_millis(500);

#[tokio::test]
async fn a_dead_node_fails_only_its_own_sessions() {
    let healthy = Server::start(&[]);
    let mut doomed = Server::start(&[]);
    let store = MemcachedStore::builder([healthy.address(), doomed.address()])
        .timeout(TIMEOUT)
        .build_and_ping()
        .await
        .unwrap();

    let expires = SystemTime::now() + Duration::from_secs(600);
    let mut on_healthy = Vec::new();
    let mut on_doomed = Vec::new();
    while on_healthy.len() < 5 || on_doomed.len() < 5 {
        let id = Id::random();
        store.create(&id, b"\x80", expires).await.unwrap();
        if store.server_for(&id) == healthy.address() {
            on_healthy.push(id);
        } else {
            on_doomed.push(id);
        }
    }

    doomed.kill();
    for id in &on_doomed {
        let started = Instant::now();
        let err = store.load(id).await.expect_err("its server is down");
        assert!(
            matches!(err.kind(), ErrorKind::Unavailable | ErrorKind::Timeout),
            "{err:?}"
        );
        assert!(
            started.elapsed() <= TIMEOUT + Duration::from_millis(250),
            "{:?}",
            started.elapsed()
        );
    }
    for id in &on_healthy {
        assert!(
            store.load(id).await.unwrap().is_some(),
            "a session on the healthy server was lost"
        );
    }
    // New sessions that hash to the healthy server are still created.
    let mut created = 0;
    while created < 3 {
        let id = Id::random();
        if store.server_for(&id) == healthy.address() {
            store.create(&id, b"\x80", expires).await.unwrap();
            created += 1;
        }
    }
}
