//! Sessions kept in the cookie (`SESSION_TYPE=cookie`), in both formats, through the real
//! adapters: what a browser that keeps the latest cookie sees. No case ever reaches a
//! store: every one ends by checking that no store call was made.

use std::time::Duration;

use crate::support::{Backend, Ctx, TestApp, TestResponse};

/// A browser's cookie jar for the session cookie: sends the latest cookie, drops it when
/// told to.
struct Browser<'a> {
    app: &'a TestApp,
    cookie: Option<String>,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self { app, cookie: None }
    }

    async fn get(&mut self, path: &str) -> TestResponse {
        let response = self.app.get(path, self.cookie.as_deref()).await;
        if response.removes_cookie() {
            self.cookie = None;
        } else if response.set_cookie().is_some() {
            self.cookie = Some(response.cookie());
        }
        response
    }
}

/// The value of a `name=value` pair.
fn value(cookie: &str) -> &str {
    cookie.split_once('=').unwrap().1
}

pub(crate) async fn the_counter_counts_with_the_data_in_the_cookie_and_no_store(ctx: &Ctx) {
    let app = ctx.app().await;
    let mut browser = Browser::new(&app);
    for expected in 1..=5 {
        assert_eq!(browser.get("/incr").await.body, expected.to_string());
    }
    browser.get("/set/user/ada-lovelace").await;
    assert_eq!(browser.get("/get/user").await.body, "ada-lovelace");
    let cookie = browser.cookie.clone().unwrap();
    match ctx.backend {
        // Sealed: nothing the browser holds reveals the data.
        Backend::Cookie => assert!(!cookie.contains("ada") && !cookie.contains("YWRh")),
        // Flask's format: signed, readable (base64 of the JSON, compressed or not).
        _ => assert_eq!(value(&cookie).matches('.').count(), 2, "{cookie}"),
    }
    assert_eq!(app.store.total_calls(), 0);
}

pub(crate) async fn untouched_and_empty_sessions_send_no_cookie(ctx: &Ctx) {
    let app = ctx.app().await;
    assert_eq!(app.get("/noop", None).await.set_cookie(), None);
    assert_eq!(app.get("/get/a", None).await.set_cookie(), None);
    let mut browser = Browser::new(&app);
    browser.get("/set/a/1").await;
    let cookie = browser.cookie.clone();
    // A read within the refresh step sends nothing back.
    let read = browser.get("/get/a").await;
    assert_eq!(read.body, "1");
    assert_eq!(read.set_cookie(), None);
    assert_eq!(browser.get("/noop").await.set_cookie(), None);
    assert_eq!(browser.cookie, cookie);
    assert_eq!(app.store.total_calls(), 0);
}

pub(crate) async fn a_changed_or_tampered_cookie_is_no_session(ctx: &Ctx) {
    let app = ctx.app().await;
    let mut browser = Browser::new(&app);
    browser.get("/set/role/user").await;
    let cookie = browser.cookie.clone().unwrap();
    let (name, value) = cookie.split_once('=').unwrap();
    for i in [0, value.len() / 2, value.len() - 1] {
        let mut bytes = value.as_bytes().to_vec();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{name}={}", String::from_utf8(bytes).unwrap());
        let response = app.get("/get/role", Some(&tampered)).await;
        assert_eq!(response.body, "<none>", "byte {i} changed");
    }
    for junk in ["", "x", "a.b.c", "..", &"A".repeat(5000)] {
        let response = app.get("/get/role", Some(&format!("{name}={junk}"))).await;
        assert_eq!(response.body, "<none>", "{junk:.20}");
    }
    // The genuine cookie still works, and a junk duplicate beside it is ignored.
    let with_junk = format!("{name}=junk; {cookie}");
    assert_eq!(app.get("/get/role", Some(&with_junk)).await.body, "user");
    assert_eq!(app.store.total_calls(), 0);
}

pub(crate) async fn a_cookie_older_than_the_lifetime_is_no_session(ctx: &Ctx) {
    let app = ctx.app().await;
    let mut browser = Browser::new(&app);
    browser.get("/set/a/1").await;
    app.outlive_lifetime().await;
    assert_eq!(browser.get("/get/a").await.body, "<none>");
}

pub(crate) async fn reads_reissue_the_cookie_once_per_refresh_step(ctx: &Ctx) {
    let app = ctx
        .app_with(&[("PERMANENT_SESSION_LIFETIME", "1000")])
        .await;
    let mut browser = Browser::new(&app);
    browser.get("/set/a/1").await;
    // The default step is 1% of the lifetime: 10 s (the issue time counts whole seconds).
    app.advance(Duration::from_secs(5)).await;
    assert_eq!(browser.get("/get/a").await.set_cookie(), None);
    app.advance(Duration::from_secs(6)).await;
    let refreshed = browser.get("/get/a").await;
    let set_cookie = refreshed.set_cookie().expect("re-issued after the step");
    assert!(set_cookie.contains("Max-Age=1000"), "{set_cookie}");
    // Reading every 600 s keeps the session alive well past its 1000 s lifetime.
    for _ in 0..5 {
        app.advance(Duration::from_secs(600)).await;
        assert_eq!(browser.get("/get/a").await.body, "1");
    }
}

pub(crate) async fn a_logout_removes_the_cookie_but_an_old_copy_stays_valid(ctx: &Ctx) {
    let app = ctx.app().await;
    let mut browser = Browser::new(&app);
    browser.get("/login/ada").await;
    let copy = browser.cookie.clone().unwrap();
    let logout = browser.get("/clear").await;
    assert!(logout.removes_cookie());
    assert_eq!(browser.get("/get/_user_id").await.body, "<none>");
    // What the README states: without server state nothing can revoke a copy taken
    // before the logout; it stays valid until it expires.
    assert_eq!(app.get("/get/_user_id", Some(&copy)).await.body, "ada");
    app.outlive_lifetime().await;
    assert_eq!(app.get("/get/_user_id", Some(&copy)).await.body, "<none>");
}

pub(crate) async fn rotation_reseals_and_a_flash_after_logout_starts_anew(ctx: &Ctx) {
    let app = ctx.app().await;
    let mut browser = Browser::new(&app);
    browser.get("/set/a/1").await;
    let before = browser.cookie.clone().unwrap();
    let rotated = browser.get("/cycle").await;
    if ctx.backend == Backend::Cookie {
        // Sealed: a fresh nonce. (Flask's format is deterministic: within the same second
        // the same session signs to the same value.)
        assert_ne!(rotated.cookie(), before);
    } else {
        assert!(rotated.set_cookie().is_some());
    }
    assert_eq!(browser.get("/get/a").await.body, "1");
    browser.get("/clear_then_set/flash/bye").await;
    assert_eq!(browser.get("/get/a").await.body, "<none>");
    assert_eq!(browser.get("/get/flash").await.body, "bye");
}

pub(crate) async fn a_session_too_large_for_a_cookie_is_an_error_and_changes_nothing(ctx: &Ctx) {
    let app = ctx.app().await;
    let mut browser = Browser::new(&app);
    browser.get("/set/a/1").await;
    let kept = browser.cookie.clone();
    // Random-looking text, so Flask's zlib cannot shrink it under 4 KB.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let big: String = (0..6000)
        .map(|_| {
            // xorshift64: letters no compressor shrinks below 4.7 bits each.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'a' + (state >> 58) as u8 % 26)
        })
        .collect();
    let response = browser.get(&format!("/set/big/{big}")).await;
    assert!(response.status.is_server_error(), "{}", response.status);
    assert_eq!(
        response.set_cookie(),
        None,
        "no cookie the browser would drop"
    );
    assert_eq!(browser.cookie, kept);
    assert_eq!(browser.get("/get/a").await.body, "1");
}

pub(crate) async fn rotated_keys_open_old_cookies_and_seal_new_ones(ctx: &Ctx) {
    const OLD: &str = "the old key, 32 bytes or longer..";
    const NEW: &str = "the new key, 32 bytes or longer..";
    let before = ctx.app_with(&[("SECRET_KEY", OLD)]).await;
    let mut browser = Browser::new(&before);
    browser.get("/set/a/1").await;
    let old_cookie = browser.cookie.clone().unwrap();
    let fallbacks = format!(r#"["{OLD}"]"#);
    let after = ctx
        .app_with(&[("SECRET_KEY", NEW), ("SECRET_KEY_FALLBACKS", &fallbacks)])
        .await;
    let response = after.get("/set/b/2", Some(&old_cookie)).await;
    let new_cookie = response.cookie();
    assert_eq!(after.get("/get/a", Some(&new_cookie)).await.body, "1");
    let without_old = ctx.app_with(&[("SECRET_KEY", NEW)]).await;
    assert_eq!(
        without_old.get("/get/a", Some(&old_cookie)).await.body,
        "<none>"
    );
    assert_eq!(without_old.get("/get/b", Some(&new_cookie)).await.body, "2");
}

pub(crate) async fn a_session_past_its_absolute_lifetime_is_removed(ctx: &Ctx) {
    let app = ctx.app_with(&[("SESSION_ABSOLUTE_LIFETIME", "150")]).await;
    let mut browser = Browser::new(&app);
    browser.get("/set/a/1").await;
    for _ in 0..2 {
        app.advance(Duration::from_secs(60)).await;
        assert_eq!(browser.get("/get/a").await.body, "1");
    }
    app.advance(Duration::from_secs(60)).await;
    let response = browser.get("/get/a").await;
    assert_eq!(response.body, "<none>");
    assert!(response.removes_cookie());
}
