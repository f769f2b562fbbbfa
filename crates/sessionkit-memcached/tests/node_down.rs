//! One of two servers goes down: its sessions (and the user index records it holds) fail
//! with a typed error within the timeout, the other server's keep working.

mod support;

use std::time::{Duration, Instant, SystemTime};

use sessionkit_core::{ErrorKind, Id, SessionStore, UserIndex};
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

/// The user index on two servers, one of which goes down: a user whose index record is
/// there cannot write or list (a typed error, the session left unwritten), a listing that
/// would need a session there fails rather than come back partial, and users wholly on the
/// healthy server are unaffected.
#[tokio::test]
async fn a_dead_node_fails_the_index_it_holds_never_a_partial_listing() {
    let healthy = Server::start(&[]);
    let mut doomed = Server::start(&[]);
    let store = MemcachedStore::builder([healthy.address(), doomed.address()])
        .timeout(TIMEOUT)
        .build_and_ping()
        .await
        .unwrap();
    let expires = SystemTime::now() + Duration::from_secs(600);
    let on = |server: &Server| {
        let address = server.address();
        let store = &store;
        move || loop {
            let id = Id::random();
            if store.server_for(&id) == address {
                return id;
            }
        }
    };
    let (on_healthy, on_doomed) = (on(&healthy), on(&doomed));

    // Users by where their index record lands: bind one session on the healthy server to
    // each candidate, then look for the record on the doomed one.
    let mut indexed_on_doomed = None;
    let mut indexed_on_healthy = Vec::new();
    for n in 0.. {
        if indexed_on_doomed.is_some() && indexed_on_healthy.len() == 2 {
            break;
        }
        let user = format!("user-{n}");
        let id = on_healthy();
        store
            .create_for(&id, b"\x80", expires, Some(&user))
            .await
            .unwrap();
        if support::server_value(&doomed.address(), &store.user_key(&user)).is_some() {
            indexed_on_doomed.get_or_insert((user, id));
        } else if indexed_on_healthy.len() < 2 {
            indexed_on_healthy.push((user, id));
        }
    }
    let (doomed_user, _) = indexed_on_doomed.unwrap();
    let [(whole_user, whole_id), (mixed_user, _)] = <[_; 2]>::try_from(indexed_on_healthy).unwrap();
    store
        .create_for(&on_doomed(), b"\x80", expires, Some(&mixed_user))
        .await
        .unwrap();

    doomed.kill();
    let typed = |err: sessionkit_core::Error| {
        assert!(
            matches!(err.kind(), ErrorKind::Unavailable | ErrorKind::Timeout),
            "{err:?}"
        );
    };
    let id = on_healthy();
    let started = Instant::now();
    typed(
        store
            .create_for(&id, b"\x80", expires, Some(&doomed_user))
            .await
            .expect_err("its index record's server is down"),
    );
    assert!(started.elapsed() <= TIMEOUT + Duration::from_millis(250));
    assert!(
        store.load(&id).await.unwrap().is_none(),
        "the session was written without its entry"
    );
    typed(
        store
            .sessions_of(&doomed_user)
            .await
            .expect_err("record unreadable"),
    );
    typed(
        store
            .sessions_of(&mixed_user)
            .await
            .expect_err("a session unreadable"),
    );

    let listed: Vec<Id> = store
        .sessions_of(&whole_user)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(listed, [whole_id]);
    let more = on_healthy();
    store
        .create_for(&more, b"\x80", expires, Some(&whole_user))
        .await
        .unwrap();
    assert_eq!(store.sessions_of(&whole_user).await.unwrap().len(), 2);
}
