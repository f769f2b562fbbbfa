//! Lazy loading, new sessions, expiry, sliding refresh, clear, cycle_id, permanence.

use std::time::Duration;

use sessionkit::Id;

use crate::support::{CapturedLogs, Ctx, id_of};

pub(crate) async fn untouched_session_costs_no_store_call(ctx: &Ctx) {
    let app = ctx.app().await;
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

pub(crate) async fn empty_new_session_stores_nothing_and_sends_no_cookie(ctx: &Ctx) {
    let app = ctx.app().await;
    let response = app.get("/get/a", None).await;
    assert_eq!(response.body, "<none>");
    assert_eq!(response.set_cookie(), None);
    assert_eq!(app.store.total_calls(), 0);
}

pub(crate) async fn new_session_with_data_is_created_with_a_cookie(ctx: &Ctx) {
    let app = ctx.app().await;
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

pub(crate) async fn counter_counts_across_requests(ctx: &Ctx) {
    let app = ctx.app().await;
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

pub(crate) async fn unknown_id_from_the_client_is_never_adopted(ctx: &Ctx) {
    let app = ctx.app().await;
    let invented = Id::random();
    let response = app
        .get("/set/a/1", Some(&format!("session={invented}")))
        .await;
    assert_ne!(response.cookie_id(), invented);
    assert!(app.store.data(&invented).await.is_none());
}

pub(crate) async fn expired_session_is_replaced_by_a_fresh_one(ctx: &Ctx) {
    let app = ctx.app().await;
    let old = app.get("/set/a/1", None).await.cookie();
    app.outlive_lifetime().await;
    assert_eq!(app.get("/get/a", Some(&old)).await.body, "<none>");
    let fresh = app.get("/set/b/2", Some(&old)).await;
    assert_ne!(fresh.cookie(), old, "an expired id must not be reused");
}

pub(crate) async fn reading_slides_the_expiry_without_rewriting(ctx: &Ctx) {
    let app = ctx.app().await;
    let cookie = app.get("/set/a/1", None).await.cookie();
    let step = app.lifetime().mul_f64(0.6);
    for _ in 0..3 {
        app.advance(step).await;
        assert_eq!(app.get("/get/a", Some(&cookie)).await.body, "1");
    }
    // 1.8 lifetimes after creation, alive thanks to the reads; each read of this
    // permanent session was a load and, at the end, a touch that slid the expiry and
    // confirmed the id still live before its cookie was re-sent; never a save.
    assert_eq!(app.store.calls("touch"), 3);
    assert_eq!(app.store.calls("save"), 0);
    assert_eq!(app.store.calls("load_and_touch"), 0);
}

pub(crate) async fn without_refresh_reads_do_not_slide_the_expiry(ctx: &Ctx) {
    let app = ctx
        .app_with(&[("SESSION_REFRESH_EACH_REQUEST", "false")])
        .await;
    let cookie = app.get("/set/a/1", None).await.cookie();
    app.advance(app.lifetime().mul_f64(0.4)).await;
    let read = app.get("/get/a", Some(&cookie)).await;
    assert_eq!(read.body, "1");
    assert_eq!(read.set_cookie(), None, "no refresh, no cookie");
    assert_eq!(app.store.calls("load_and_touch"), 0);
    app.outlive_lifetime().await;
    assert_eq!(app.get("/get/a", Some(&cookie)).await.body, "<none>");
}

pub(crate) async fn unchanged_permanent_session_re_sends_its_cookie_with_the_new_expiry(ctx: &Ctx) {
    let app = ctx.app().await;
    let created = app.get("/set/a/1", None).await;
    // Expires has one-second resolution.
    app.advance(Duration::from_millis(1100)).await;
    let read = app.get("/get/a", Some(&created.cookie())).await;
    let refreshed = read
        .set_cookie()
        .expect("a permanent session's cookie is refreshed");
    assert_eq!(read.cookie(), created.cookie(), "same id");
    assert_ne!(refreshed, created.set_cookie().unwrap(), "a later Expires");
}

pub(crate) async fn unchanged_browser_session_sends_no_cookie(ctx: &Ctx) {
    let app = ctx.app_with(&[("SESSION_PERMANENT", "false")]).await;
    let cookie = app.get("/set/a/1", None).await.cookie();
    assert_eq!(app.get("/get/a", Some(&cookie)).await.set_cookie(), None);
}

pub(crate) async fn modified_session_is_saved(ctx: &Ctx) {
    let app = ctx.app().await;
    let cookie = app.get("/set/a/1", None).await.cookie();
    let response = app.get("/set/a/2", Some(&cookie)).await;
    assert_eq!(response.cookie(), cookie);
    assert_eq!(app.store.calls("save"), 1);
    assert_eq!(app.get("/get/a", Some(&cookie)).await.body, "2");
}

pub(crate) async fn clear_deletes_the_record_and_removes_the_cookie(ctx: &Ctx) {
    let app = ctx.app().await;
    let cookie = app.get("/set/a/1", None).await.cookie();
    let response = app.get("/clear", Some(&cookie)).await;
    assert!(response.removes_cookie(), "{:?}", response.set_cookie());
    assert_eq!(app.store.calls("delete_if"), 1);
    assert!(app.store.data(&id_of(&cookie)).await.is_none());
    assert_eq!(app.get("/get/a", Some(&cookie)).await.body, "<none>");
}

pub(crate) async fn removing_the_last_key_deletes_the_session(ctx: &Ctx) {
    let app = ctx.app().await;
    let cookie = app.get("/set/a/1", None).await.cookie();
    let response = app.get("/remove/a", Some(&cookie)).await;
    assert_eq!(response.body, "true");
    assert!(response.removes_cookie());
    assert!(app.store.data(&id_of(&cookie)).await.is_none());
}

pub(crate) async fn cycle_id_keeps_the_data_under_a_new_id(ctx: &Ctx) {
    let app = ctx.app().await;
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

pub(crate) async fn session_id_is_reported_to_the_handler(ctx: &Ctx) {
    let app = ctx.app().await;
    let cookie = app.get("/set/a/1", None).await.cookie();
    assert_eq!(
        app.get("/id", Some(&cookie)).await.body,
        id_of(&cookie).to_string()
    );
}

pub(crate) async fn permanent_sessions_store_the_flask_marker_and_get_an_expiring_cookie(
    ctx: &Ctx,
) {
    let app = ctx.app().await;
    let response = app.get("/set/a/1", None).await;
    let set = response.set_cookie().unwrap();
    let max_age = format!("Max-Age={}", app.lifetime().as_secs());
    assert!(set.contains(&max_age) && set.contains("Expires="), "{set}");
    let data = app.store.data(&response.cookie_id()).await.unwrap();
    assert_eq!(data.get::<bool>("_permanent").unwrap(), Some(true));
    assert_eq!(
        app.get("/keys", Some(&response.cookie())).await.body,
        "a",
        "the marker is internal"
    );
}

pub(crate) async fn browser_sessions_have_no_marker_and_no_expires(ctx: &Ctx) {
    let app = ctx.app_with(&[("SESSION_PERMANENT", "false")]).await;
    let response = app.get("/set/a/1", None).await;
    let set = response.set_cookie().unwrap();
    assert!(
        !set.contains("Expires") && !set.contains("Max-Age"),
        "{set}"
    );
    let data = app.store.data(&response.cookie_id()).await.unwrap();
    assert!(!data.contains_key("_permanent"));
}

pub(crate) async fn set_permanent_switches_a_session_to_a_browser_session(ctx: &Ctx) {
    let app = ctx.app().await;
    let cookie = app.get("/set/a/1", None).await.cookie();
    let response = app.get("/permanent/false", Some(&cookie)).await;
    let set = response.set_cookie().unwrap();
    assert!(!set.contains("Expires"), "{set}");
    let data = app.store.data(&id_of(&cookie)).await.unwrap();
    assert!(!data.contains_key("_permanent"));
}

pub(crate) async fn store_lifetime_applies_to_browser_sessions_too(ctx: &Ctx) {
    let app = ctx.app_with(&[("SESSION_PERMANENT", "false")]).await;
    let cookie = app.get("/set/a/1", None).await.cookie();
    app.advance(app.lifetime().mul_f64(0.3)).await;
    assert!(app.store.data(&id_of(&cookie)).await.is_some());
    app.outlive_lifetime().await;
    assert!(app.store.data(&id_of(&cookie)).await.is_none());
}

pub(crate) async fn vary_cookie_when_the_session_was_accessed(ctx: &Ctx) {
    let app = ctx.app().await;
    assert_eq!(app.get("/get/a", None).await.vary(), ["Cookie"]);
    assert!(app.get("/noop", None).await.vary().is_empty());
    let cookie = app.get("/set/a/1", None).await.cookie();
    assert_eq!(
        app.get("/vary", Some(&cookie)).await.vary(),
        ["cookie"],
        "not added twice"
    );
}

pub(crate) async fn corrupt_stored_value_means_no_session_a_warning_and_no_loss(ctx: &Ctx) {
    let app = ctx.app().await;
    let logs = CapturedLogs::start();
    let pickle = b"\x80\x04\x95\n\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s.";
    for payload in [&b"\xc1garbage"[..], pickle] {
        let id = Id::random();
        app.store.put_raw(&id, payload).await;
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
