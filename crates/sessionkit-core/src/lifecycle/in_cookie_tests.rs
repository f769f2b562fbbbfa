//! Sessions kept in the cookie, below the HTTP suite: what is reported, and what a store
//! that keeps nothing answers when called directly.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sessionkit_testkit::MetricsRecorder;

use crate::Clock as _;
use crate::in_cookie::InCookie;
use crate::{
    Action, CookieFormat, CookieStore, ErrorKind, Id, ManualClock, SecretKey, SessionConfig,
    SessionEventKind, SessionStore, Sessions,
};

const KEY: &str = "0123456789abcdef0123456789abcdef";

fn config(format: CookieFormat) -> SessionConfig {
    SessionConfig {
        secret_key: Some(SecretKey::new(KEY)),
        cookie_format: format,
        ..SessionConfig::default()
    }
}

fn sessions(format: CookieFormat, clock: &ManualClock) -> Sessions {
    Sessions::with_clock(
        Arc::new(CookieStore),
        config(format),
        Arc::new(clock.clone()),
    )
    .unwrap()
}

/// The `name=value` pair of a `Set-Cookie`.
fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_cookie_that_opens_but_does_not_decode_is_no_session_and_counted() {
    let clock = ManualClock::new();
    for format in [CookieFormat::Sealed, CookieFormat::Flask] {
        let recorder = MetricsRecorder::install();
        let sessions = sessions(format, &clock);
        // Sealed with the right key, but not a session: a list, not a map.
        let in_cookie = InCookie::new(&config(format));
        let junk = in_cookie.seal_raw(b"[1,2,3]", clock.now());
        let session = sessions.start([format!("session={junk}").as_bytes()]);
        assert!(session.has_cookie_id(), "{format}: it opened");
        assert!(session.is_empty().await.unwrap(), "{format}");
        assert_eq!(
            recorder.counter("sessionkit.session.unreadable", &[("reason", "decode")]),
            1,
            "{format}"
        );
        assert_eq!(
            sessions.finish(&session).await.unwrap().action,
            Action::None
        );
    }
}

#[tokio::test]
async fn created_destroyed_and_expired_are_reported_as_for_stored_sessions() {
    let clock = ManualClock::new();
    let mut config = config(CookieFormat::Sealed);
    config.absolute_lifetime = Some(Duration::from_secs(3600));
    let sessions =
        Sessions::with_clock(Arc::new(CookieStore), config, Arc::new(clock.clone())).unwrap();
    let mut events = sessions.subscribe(16);

    let session = sessions.start([]);
    session.insert("_user_id", "ada").await.unwrap();
    let created = sessions.finish(&session).await.unwrap();
    assert_eq!(created.action, Action::Created);
    let cookie = pair(created.set_cookie.as_deref().unwrap());

    let session = sessions.start([cookie.as_bytes()]);
    session.clear().await.unwrap();
    assert_eq!(
        sessions.finish(&session).await.unwrap().action,
        Action::Deleted
    );

    clock.advance(Duration::from_secs(3601));
    let session = sessions.start([cookie.as_bytes()]);
    assert_eq!(session.get::<String>("_user_id").await.unwrap(), None);
    let expired = sessions.finish(&session).await.unwrap();
    assert_eq!(
        expired.action,
        Action::Deleted,
        "the dead cookie is removed"
    );

    let kinds: Vec<(SessionEventKind, Option<String>)> = std::iter::from_fn(|| events.try_recv())
        .map(|e| (e.kind, e.user))
        .collect();
    let ada = Some("ada".to_owned());
    assert_eq!(
        kinds,
        [
            (SessionEventKind::Created, ada.clone()),
            (SessionEventKind::Destroyed, ada.clone()),
            (SessionEventKind::Expired, ada),
        ]
    );
}

#[tokio::test]
async fn the_store_that_keeps_nothing_says_so_when_called() {
    let store = CookieStore;
    let id = Id::random();
    let err = store.load(&id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().contains("SESSION_TYPE"), "{err}");
    assert_eq!(
        store
            .create(&id, b"x", SystemTime::now())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Unsupported
    );
    assert!(store.data_in_cookie());
    assert_eq!(store.backend(), "cookie");
}

#[tokio::test]
async fn a_session_is_sealed_only_when_it_changed_or_its_refresh_is_due() {
    let clock = ManualClock::new();
    let sessions = sessions(CookieFormat::Sealed, &clock);
    let session = sessions.start([]);
    session.insert("a", &1).await.unwrap();
    let cookie = pair(&sessions.finish(&session).await.unwrap().set_cookie.unwrap());

    let session = sessions.start([cookie.as_bytes()]);
    assert_eq!(session.get::<u8>("a").await.unwrap(), Some(1));
    let unchanged = sessions.finish(&session).await.unwrap();
    assert_eq!(
        (unchanged.action, unchanged.set_cookie),
        (Action::None, None)
    );

    let session = sessions.start([cookie.as_bytes()]);
    session.insert("a", &2).await.unwrap();
    assert_eq!(
        sessions.finish(&session).await.unwrap().action,
        Action::Saved
    );

    // The default step: 1% of 31 days.
    clock.advance(Duration::from_secs(26_785));
    let session = sessions.start([cookie.as_bytes()]);
    session.get::<u8>("a").await.unwrap();
    assert_eq!(
        sessions.finish(&session).await.unwrap().action,
        Action::Refreshed
    );
}
