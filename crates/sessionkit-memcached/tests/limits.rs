//! Keys and values at memcached's limits: a clear error, never a silent drop.

mod support;

use std::time::{Duration, SystemTime};

use sessionkit_core::{ErrorKind, Id, SessionStore};
use sessionkit_memcached::MemcachedStore;
use support::Server;

#[tokio::test]
async fn value_over_the_item_size_limit_is_an_encode_error() {
    let server = Server::start(&["-I", "1m"]);
    let store = MemcachedStore::builder([server.address()])
        .build_and_ping()
        .await
        .unwrap();
    let expires = SystemTime::now() + Duration::from_secs(60);
    let id = Id::random();
    let err = store
        .create(&id, &vec![7u8; 3 * 1024 * 1024], expires)
        .await
        .expect_err("3 MiB is over a 1 MiB limit");
    assert_eq!(err.kind(), ErrorKind::Encode, "{err:?}");
    assert!(store.load(&id).await.unwrap().is_none());
    // The store keeps working afterwards.
    store.create(&id, b"\x80", expires).await.unwrap();
    assert!(store.load(&id).await.unwrap().is_some());
}

#[tokio::test]
async fn invalid_prefix_is_refused_at_startup() {
    for prefix in ["has space:".to_owned(), "x".repeat(300)] {
        let err = MemcachedStore::builder(["127.0.0.1:11211"])
            .key_prefix(prefix)
            .build()
            .await
            .expect_err("invalid prefix");
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().contains("SESSION_KEY_PREFIX"), "{err}");
    }
}

#[tokio::test]
async fn no_servers_is_a_config_error() {
    let err = MemcachedStore::builder(Vec::<String>::new())
        .build()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("SESSION_MEMCACHED"), "{err}");
}
