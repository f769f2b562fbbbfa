//! "Log out everywhere": a user's sessions found through the user index, listed and
//! revoked from a request or from outside one, capped per user, and revocations racing
//! requests in flight; ids hashed at rest.

use std::time::Duration;

use sessionkit::Id;

use crate::support::{Ctx, TestApp, id_of};

const INDEX: &[(&str, &str)] = &[("SESSION_USER_INDEX", "true")];

/// A user name no other test uses (tests share servers).
fn user(name: &str) -> String {
    format!("{name}-{}", &Id::random().to_string()[..10])
}

/// A new browser ("device") logging in as `user`; returns its cookie after the login.
async fn device(app: &TestApp, user: &str) -> String {
    let visitor = app.get("/set/visits/1", None).await.cookie();
    let login = app.get(&format!("/login/{user}"), Some(&visitor)).await;
    let cookie = login.cookie();
    assert_ne!(cookie, visitor, "a login moves the session to a new id");
    cookie
}

/// The user logged in on the browser holding `cookie`, or `<none>`.
async fn logged_in_as(app: &TestApp, cookie: &str) -> String {
    app.get("/get/_user_id", Some(cookie)).await.body
}

/// Lets the store's clock move on, so creation times differ: a second on the manual
/// clock; on real servers time moves between requests by itself.
async fn tick(app: &TestApp, ctx: &Ctx) {
    if ctx.backend == crate::support::Backend::Memory {
        app.advance(Duration::from_secs(1)).await;
    }
}

pub(crate) async fn three_devices_are_listed_and_the_others_revoked(ctx: &Ctx) {
    let app = ctx.app_with(INDEX).await;
    let ada = user("ada");
    let bob = user("bob");
    let phone = device(&app, &ada).await;
    let laptop = device(&app, &ada).await;
    let tablet = device(&app, &ada).await;
    let bobs = device(&app, &bob).await;

    let devices = app.get("/devices", Some(&laptop)).await.body;
    let hints: Vec<&str> = devices.split(',').collect();
    assert_eq!(hints.len(), 3, "{devices}");
    assert_eq!(hints.iter().filter(|h| h.ends_with('*')).count(), 1);
    for cookie in [&phone, &laptop, &tablet] {
        let id = id_of(cookie).to_string();
        assert!(
            hints.iter().all(|h| !id.contains(h.trim_end_matches('*'))),
            "a hint is not a piece of an id"
        );
    }

    let revoked = app.get("/revoke_others", Some(&laptop)).await;
    assert_eq!(revoked.body, "2");
    assert_eq!(
        logged_in_as(&app, &laptop).await,
        ada,
        "the current one stays"
    );
    for other in [&phone, &tablet] {
        let response = app.get("/get/_user_id", Some(other)).await;
        assert_eq!(response.body, "<none>", "a revoked device is logged out");
        assert_eq!(response.set_cookie(), None, "and gets no new session");
    }
    assert_eq!(
        logged_in_as(&app, &bobs).await,
        bob,
        "other users are untouched"
    );
    let devices = app.get("/devices", Some(&laptop)).await.body;
    assert!(
        devices.ends_with('*') && !devices.contains(','),
        "{devices}"
    );
}

pub(crate) async fn an_admin_logs_a_user_out_everywhere(ctx: &Ctx) {
    let app = ctx.app_with(INDEX).await;
    let ada = user("ada");
    let bob = user("bob");
    let devices = [
        device(&app, &ada).await,
        device(&app, &ada).await,
        device(&app, &ada).await,
    ];
    let bobs = device(&app, &bob).await;
    let listed = app.sessions.user_sessions(&ada).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|s| s.size > 0 && s.created_at.is_some()));

    assert_eq!(app.sessions.revoke_user(&ada).await.unwrap(), 3);
    for cookie in &devices {
        assert_eq!(logged_in_as(&app, cookie).await, "<none>");
    }
    assert!(app.sessions.user_sessions(&ada).await.unwrap().is_empty());
    assert_eq!(logged_in_as(&app, &bobs).await, bob);
}

pub(crate) async fn a_cap_of_two_revokes_the_oldest_at_login(ctx: &Ctx) {
    let app = ctx.app_with(&[("SESSION_MAX_PER_USER", "2")]).await;
    let ada = user("ada");
    let first = device(&app, &ada).await;
    tick(&app, ctx).await;
    let second = device(&app, &ada).await;
    tick(&app, ctx).await;
    let third = device(&app, &ada).await;
    assert_eq!(
        logged_in_as(&app, &first).await,
        "<none>",
        "the oldest went"
    );
    assert_eq!(logged_in_as(&app, &second).await, ada);
    assert_eq!(
        logged_in_as(&app, &third).await,
        ada,
        "never the one logging in"
    );
    assert_eq!(app.sessions.user_sessions(&ada).await.unwrap().len(), 2);
}

pub(crate) async fn a_revocation_racing_requests_in_flight_leaves_no_session(ctx: &Ctx) {
    let app = ctx.app_with(INDEX).await;
    let ada = user("ada");
    let mut cookies = Vec::new();
    for _ in 0..10 {
        cookies.push(device(&app, &ada).await);
    }
    // Ten requests in flight, each holding its session loaded: half write, half rotate.
    let mut in_flight = Vec::new();
    for (n, cookie) in cookies.iter().enumerate() {
        let path = if n % 2 == 0 {
            "/slow_set/cart/book"
        } else {
            "/slow_cycle"
        };
        in_flight.push(app.spawn_get(path, cookie));
        app.gate.entered.notified().await;
    }
    assert_eq!(app.sessions.revoke_user(&ada).await.unwrap(), 10);
    app.gate.release.notify_waiters();
    for request in in_flight {
        let response = request.await.unwrap();
        assert_eq!(
            response.set_cookie(),
            None,
            "no cookie for a revoked session"
        );
    }
    assert!(
        app.sessions.user_sessions(&ada).await.unwrap().is_empty(),
        "a revoked session came back"
    );
    for cookie in &cookies {
        assert_eq!(logged_in_as(&app, cookie).await, "<none>");
    }
}

pub(crate) async fn hashed_ids_keep_no_cookie_id_in_the_store(ctx: &Ctx) {
    let app = ctx
        .app_with(&[("SESSION_HASH_IDS", "true"), ("SESSION_USER_INDEX", "true")])
        .await;
    let ada = user("ada");
    let cookie = device(&app, &ada).await;
    assert_eq!(
        app.store.raw(&id_of(&cookie)).await,
        None,
        "the store holds nothing under the cookie's id"
    );
    assert_eq!(logged_in_as(&app, &cookie).await, ada);
    app.get("/set/cart/book", Some(&cookie)).await;
    assert_eq!(app.get("/get/cart", Some(&cookie)).await.body, "book");
    let other = device(&app, &ada).await;
    assert_eq!(app.get("/revoke_others", Some(&other)).await.body, "1");
    assert_eq!(logged_in_as(&app, &cookie).await, "<none>");
    assert_eq!(logged_in_as(&app, &other).await, ada);
    let logout = app.get("/clear", Some(&other)).await;
    assert!(logout.removes_cookie());
    assert!(app.sessions.user_sessions(&ada).await.unwrap().is_empty());
}
