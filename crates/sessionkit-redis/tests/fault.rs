//! A server that dies mid-run: calls fail fast with a typed error within the timeout, and
//! work again once it is back, with the same store object.

mod support;

use std::time::{Duration, Instant, SystemTime};

use sessionkit_core::{ErrorKind, Id, SessionStore};
use sessionkit_redis::{ConnectionKind, RedisStore};
use support::{Server, free_port};

const TIMEOUT: Duration = Duration::from_millis(500);

async fn server_outage_is_survived(kind: ConnectionKind) {
    let mut server = Server::start();
    let store = RedisStore::builder(server.url())
        .connection(kind)
        .timeout(TIMEOUT)
        .build()
        .await
        .unwrap();
    let expires = SystemTime::now() + Duration::from_secs(60);
    store.create(&Id::random(), b"\x80", expires).await.unwrap();

    server.kill();
    for _ in 0..3 {
        let started = Instant::now();
        let err = store
            .load(&Id::random())
            .await
            .expect_err("the server is down");
        assert!(
            matches!(err.kind(), ErrorKind::Unavailable | ErrorKind::Timeout),
            "{err:?}"
        );
        assert!(
            started.elapsed() <= TIMEOUT + Duration::from_millis(250),
            "took {:?}",
            started.elapsed()
        );
    }

    let port = server.port;
    let _server = Server::start_on(port);
    // Reconnection happens in the background (multiplexed) or slot by slot (pool): allow a
    // bounded number of attempts, each bounded by the timeout.
    let mut recovered = false;
    for _ in 0..40 {
        if store.create(&Id::random(), b"\x80", expires).await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        recovered,
        "the store did not recover after the server came back"
    );
    let id = Id::random();
    store.create(&id, b"\x81\xa1a\x01", expires).await.unwrap();
    assert!(store.load(&id).await.unwrap().is_some());
}

#[tokio::test]
async fn multiplexed_connection_survives_a_server_restart() {
    server_outage_is_survived(ConnectionKind::Multiplexed).await;
}

#[tokio::test]
async fn pool_survives_a_server_restart() {
    server_outage_is_survived(ConnectionKind::Pool { max_size: 4 }).await;
}

#[tokio::test]
async fn unreachable_server_at_startup_is_a_typed_error() {
    let port = free_port();
    let started = Instant::now();
    let err = RedisStore::builder(format!("redis://127.0.0.1:{port}"))
        .timeout(TIMEOUT)
        .build()
        .await
        .expect_err("nothing listens there");
    assert!(
        matches!(err.kind(), ErrorKind::Unavailable | ErrorKind::Timeout),
        "{err:?}"
    );
    assert!(started.elapsed() <= TIMEOUT + Duration::from_millis(250));
}
