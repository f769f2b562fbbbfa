//! Lazy loading, new sessions, expiry, sliding refresh, clear, cycle_id, permanence.

use std::time::Duration;

use sessionkit::{Id, SessionConfig};

use crate::support::{CapturedLogs, TestApp, id_of};

fn lifetime(secs: u64) -> SessionConfig {
    let mut config = SessionConfig::default();
    config.lifetime = Duration::from_secs(secs);
    config
}

#[tokio::test]
async fn untouched_session_costs_no_store_call() {
    let app = TestApp::new();
    let cookie = app.get("/set/a/1", None).await.cookie();
    let before = app.store.total_calls();
    let response = app.get("/noop", Some(&cookie)).await;
    assert_eq!(response.body, "ok");
    assert_eq!(
        app.store.total_calls(),
        before,
        "a request that never touches the session hit the store"
    );
    assert_eq!(response.set_cookie(), None);
    assert!(response.vary().is_empty());
}

#[tokio::test]
async fn empty_new_session_stores_nothing_and_sends_no_cookie() {
    let app = TestApp::new();
    let response = app.get("/get/a", None).await;
    assert_eq!(response.body, "<none>");
    assert_eq!(response.set_cookie(), None);
    assert_eq!(app.store.total_calls(), 0);
}

#[tokio::test]
async fn new_session_with_data_is_created_with_a_cookie() {
    let app = TestApp::new();
    let response = app.get("/set/user/ada", None).await;
    assert_eq!(app.store.calls("create"), 1);
    let id = response.cookie_id();
    let data = app
        .store
        .data(&id)
        .await
        .expect("stored under the cookie's id");
    assert_eq!(data.get::<String>("user").unwrap().as_deref(), Some("ada"));
    let again = app.get("/get/user", Some(&response.cookie())).await;
    assert_eq!(again.body, "ada");
}

#[tokio::test]
async fn counter_counts_across_requests() {
    let app = TestApp::new();
    let first = app.get("/incr", None).await;
    let cookie = first.cookie();
    assert_eq!(first.body, "1");
    for expected in 2..=5 {
        assert_eq!(
            app.get("/incr", Some(&cookie)).await.body,
            expected.to_string()
        );
    }
}

#[tokio::test]
async fn unknown_id_from_the_client_is_never_adopted() {
    let app = TestApp::new();
    let invented = Id::random();
    let response = app
        .get("/set/a/1", Some(&format!("session={invented}")))
        .await;
    assert_ne!(response.cookie_id(), invented);
    assert!(app.store.data(&invented).await.is_none());
}

#[tokio::test]
async fn expired_session_is_replaced_by_a_fresh_one() {
    let app = TestApp::with_config(lifetime(100));
    let old = app.get("/set/a/1", None).await.cookie();
    app.clock.advance(Duration::from_secs(101));
    assert_eq!(app.get("/get/a", Some(&old)).await.body, "<none>");
    let fresh = app.get("/set/b/2", Some(&old)).await;
    assert_ne!(fresh.cookie(), old, "an expired id must not be reused");
}

#[tokio::test]
async fn reading_slides_the_expiry_without_rewriting() {
    let app = TestApp::with_config(lifetime(100));
    let cookie = app.get("/set/a/1", None).await.cookie();
    for _ in 0..3 {
        app.clock.advance(Duration::from_secs(60));
        assert_eq!(app.get("/get/a", Some(&cookie)).await.body, "1");
    }
    // 180 s after creation, alive thanks to the reads; the reads were one folded
    // load-and-touch each and never a save or a separate touch.
    assert_eq!(app.store.calls("load_and_touch"), 3);
    assert_eq!(app.store.calls("save"), 0);
    assert_eq!(app.store.calls("touch"), 0);
}

#[tokio::test]
async fn without_refresh_reads_do_not_slide_the_expiry() {
    let mut config = lifetime(100);
    config.refresh_each_request = false;
    let app = TestApp::with_config(config);
    let cookie = app.get("/set/a/1", None).await.cookie();
    app.clock.advance(Duration::from_secs(60));
    let read = app.get("/get/a", Some(&cookie)).await;
    assert_eq!(read.body, "1");
    assert_eq!(read.set_cookie(), None, "no refresh, no cookie");
    assert_eq!(app.store.calls("load_and_touch"), 0);
    app.clock.advance(Duration::from_secs(60));
    assert_eq!(app.get("/get/a", Some(&cookie)).await.body, "<none>");
}

#[tokio::test]
async fn unchanged_permanent_session_re_sends_its_cookie_with_the_new_expiry() {
    let app = TestApp::with_config(lifetime(100));
    let created = app.get("/set/a/1", None).await;
    app.clock.advance(Duration::from_secs(50));
    let read = app.get("/get/a", Some(&created.cookie())).await;
    let refreshed = read
        .set_cookie()
        .expect("a permanent session's cookie is refreshed");
    assert_eq!(read.cookie(), created.cookie(), "same id");
    assert_ne!(refreshed, created.set_cookie().unwrap(), "a later Expires");
}

#[tokio::test]
async fn unchanged_browser_session_sends_no_cookie() {
    let mut config = SessionConfig::default();
    config.permanent = false;
    let app = TestApp::with_config(config);
    let cookie = app.get("/set/a/1", None).await.cookie();
    assert_eq!(app.get("/get/a", Some(&cookie)).await.set_cookie(), None);
}

#[tokio::test]
async fn modified_session_is_saved() {
    let app = TestApp::new();
    let cookie = app.get("/set/a/1", None).await.cookie();
    let response = app.get("/set/a/2", Some(&cookie)).await;
    assert_eq!(response.cookie(), cookie);
    assert_eq!(app.store.calls("save"), 1);
    assert_eq!(app.get("/get/a", Some(&cookie)).await.body, "2");
}

#[tokio::test]
async fn clear_deletes_the_record_and_removes_the_cookie() {
    let app = TestApp::new();
    let cookie = app.get("/set/a/1", None).await.cookie();
    let response = app.get("/clear", Some(&cookie)).await;
    assert!(response.removes_cookie(), "{:?}", response.set_cookie());
    assert_eq!(app.store.calls("delete"), 1);
    assert!(app.store.data(&id_of(&cookie)).await.is_none());
    assert_eq!(app.get("/get/a", Some(&cookie)).await.body, "<none>");
}

#[tokio::test]
async fn removing_the_last_key_deletes_the_session() {
    let app = TestApp::new();
    let cookie = app.get("/set/a/1", None).await.cookie();
    let response = app.get("/remove/a", Some(&cookie)).await;
    assert_eq!(response.body, "true");
    assert!(response.removes_cookie());
    assert!(app.store.data(&id_of(&cookie)).await.is_none());
}

#[tokio::test]
async fn cycle_id_keeps_the_data_under_a_new_id() {
    let app = TestApp::new();
    let old = app.get("/set/user/ada", None).await.cookie();
    let response = app.get("/cycle", Some(&old)).await;
    let new = response.cookie();
    assert_ne!(new, old);
    assert!(
        app.store.data(&id_of(&old)).await.is_none(),
        "the old record is deleted"
    );
    assert_eq!(app.get("/get/user", Some(&new)).await.body, "ada");
    assert_eq!(app.get("/get/user", Some(&old)).await.body, "<none>");
}

#[tokio::test]
async fn session_id_is_reported_to_the_handler() {
    let app = TestApp::new();
    let cookie = app.get("/set/a/1", None).await.cookie();
    assert_eq!(
        app.get("/id", Some(&cookie)).await.body,
        id_of(&cookie).to_string()
    );
}

#[tokio::test]
async fn permanent_sessions_store_the_flask_marker_and_get_an_expiring_cookie() {
    let app = TestApp::new();
    let response = app.get("/set/a/1", None).await;
    let set = response.set_cookie().unwrap();
    assert!(
        set.contains("Max-Age=2678400") && set.contains("Expires="),
        "{set}"
    );
    let data = app.store.data(&response.cookie_id()).await.unwrap();
    assert_eq!(data.get::<bool>("_permanent").unwrap(), Some(true));
    assert_eq!(
        app.get("/keys", Some(&response.cookie())).await.body,
        "a",
        "the marker is internal"
    );
}

#[tokio::test]
async fn browser_sessions_have_no_marker_and_no_expires() {
    let mut config = SessionConfig::default();
    config.permanent = false;
    let app = TestApp::with_config(config);
    let response = app.get("/set/a/1", None).await;
    let set = response.set_cookie().unwrap();
    assert!(
        !set.contains("Expires") && !set.contains("Max-Age"),
        "{set}"
    );
    let data = app.store.data(&response.cookie_id()).await.unwrap();
    assert!(!data.contains_key("_permanent"));
}

#[tokio::test]
async fn set_permanent_switches_a_session_to_a_browser_session() {
    let app = TestApp::new();
    let cookie = app.get("/set/a/1", None).await.cookie();
    let response = app.get("/permanent/false", Some(&cookie)).await;
    let set = response.set_cookie().unwrap();
    assert!(!set.contains("Expires"), "{set}");
    let data = app.store.data(&id_of(&cookie)).await.unwrap();
    assert!(!data.contains_key("_permanent"));
}

#[tokio::test]
async fn store_lifetime_applies_to_browser_sessions_too() {
    let mut config = lifetime(100);
    config.permanent = false;
    let app = TestApp::with_config(config);
    let cookie = app.get("/set/a/1", None).await.cookie();
    app.clock.advance(Duration::from_secs(99));
    assert!(app.store.data(&id_of(&cookie)).await.is_some());
    app.clock.advance(Duration::from_secs(2));
    assert!(app.store.data(&id_of(&cookie)).await.is_none());
}

#[tokio::test]
async fn vary_cookie_when_the_session_was_accessed() {
    let app = TestApp::new();
    assert_eq!(app.get("/get/a", None).await.vary(), ["Cookie"]);
    assert!(app.get("/noop", None).await.vary().is_empty());
    let cookie = app.get("/set/a/1", None).await.cookie();
    assert_eq!(
        app.get("/vary", Some(&cookie)).await.vary(),
        ["cookie"],
        "not added twice"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn corrupt_stored_value_means_no_session_a_warning_and_no_loss() {
    let app = TestApp::new();
    let logs = CapturedLogs::start();
    let pickle = b"\x80\x04\x95\n\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s.";
    for payload in [&b"\xc1garbage"[..], pickle] {
        let id = Id::random();
        app.store
            .put_raw(&id, payload, sessionkit::Clock::now(&app.clock))
            .await;
        let cookie = format!("session={id}");
        let response = app.get("/get/a", Some(&cookie)).await;
        assert_eq!(response.status, 200);
        assert_eq!(response.body, "<none>");
        // Writing starts a new session under a new id; the unreadable record is left as it
        // was (another program may own it).
        let written = app.get("/set/a/1", Some(&cookie)).await;
        assert_ne!(written.cookie_id(), id);
        assert_eq!(app.store.raw(&id).await.as_deref(), Some(payload));
    }
    let text = logs.text();
    assert_eq!(
        text.matches("stored session does not decode").count(),
        4,
        "{text}"
    );
    assert!(text.contains("WARN") && text.contains("pickle"), "{text}");
}
