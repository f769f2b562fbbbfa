//! "A logout is never undone": two overlapping requests, one of them held at the gate
//! between loading the session and finishing, the other a logout or a login.

use crate::support::{Ctx, id_of};

pub(crate) async fn rotation_racing_a_logout_is_not_undone(ctx: &Ctx) {
    let app = ctx.app().await;
    let cookie = app.get("/set/user/ada", None).await.cookie();

    let rotating = app.spawn_get("/slow_cycle", &cookie);
    app.gate.entered.notified().await;
    let logout = app.get("/clear", Some(&cookie)).await;
    assert!(logout.removes_cookie());
    app.gate.release.notify_one();
    let rotating = rotating.await.unwrap();

    assert_eq!(
        rotating.set_cookie(),
        None,
        "no cookie for the would-be new id"
    );
    let new_id = rotating
        .body
        .parse()
        .expect("the handler reports the new id");
    assert!(
        app.store.data(&new_id).await.is_none(),
        "the logged-out data came back under a new id"
    );
    assert!(app.store.data(&id_of(&cookie)).await.is_none());
    assert_eq!(app.get("/get/user", Some(&cookie)).await.body, "<none>");
}

pub(crate) async fn logout_by_popping_the_user_key_wins_over_a_slow_write_of_it(ctx: &Ctx) {
    let app = ctx.app().await;
    let cookie = app.get("/set/_user_id/ada", None).await.cookie();
    app.get("/set/cart/book", Some(&cookie)).await;

    let writer = app.spawn_get("/slow_set/_user_id/ada", &cookie);
    app.gate.entered.notified().await;
    // Flask-Login's logout_user(): session.pop("_user_id").
    let logout = app.get("/take/_user_id", Some(&cookie)).await;
    assert_eq!(logout.body, "ada");
    let after_logout = logout.cookie();
    assert_ne!(
        after_logout, cookie,
        "the rest of the session moved to a fresh id"
    );
    app.gate.release.notify_one();
    let writer = writer.await.unwrap();

    assert_eq!(writer.set_cookie(), None);
    assert!(app.store.data(&id_of(&cookie)).await.is_none());
    assert_eq!(app.get("/get/_user_id", Some(&cookie)).await.body, "<none>");
    assert_eq!(
        app.get("/get/_user_id", Some(&after_logout)).await.body,
        "<none>"
    );
    assert_eq!(app.get("/get/cart", Some(&after_logout)).await.body, "book");
}

pub(crate) async fn logout_with_a_flash_message_wins_over_a_slow_write(ctx: &Ctx) {
    let app = ctx.app().await;
    let cookie = app.get("/set/_user_id/ada", None).await.cookie();

    let writer = app.spawn_get("/slow_set/_user_id/ada", &cookie);
    app.gate.entered.notified().await;
    let logout = app.get("/clear_then_set/flash/bye", Some(&cookie)).await;
    let flash = logout.cookie();
    assert_ne!(flash, cookie, "writes after a logout go to a fresh id");
    app.gate.release.notify_one();
    let writer = writer.await.unwrap();

    assert_eq!(writer.set_cookie(), None);
    assert_eq!(app.get("/get/_user_id", Some(&cookie)).await.body, "<none>");
    assert_eq!(app.get("/get/_user_id", Some(&flash)).await.body, "<none>");
    assert_eq!(app.get("/get/flash", Some(&flash)).await.body, "bye");
}

pub(crate) async fn slow_read_overlapping_a_login_does_not_send_the_old_id_back(ctx: &Ctx) {
    let app = ctx.app().await;
    let cookie = app.get("/set/a/1", None).await.cookie();

    let reader = app.spawn_get("/slow_read/a", &cookie);
    app.gate.entered.notified().await;
    let login = app.get("/cycle", Some(&cookie)).await;
    let logged_in = login.cookie();
    assert_ne!(logged_in, cookie);
    app.gate.release.notify_one();
    let reader = reader.await.unwrap();

    assert_eq!(reader.body, "1", "the reader saw what it loaded");
    assert_eq!(
        reader.set_cookie(),
        None,
        "re-sending the pre-login id would log the browser out"
    );
    assert_eq!(app.get("/get/a", Some(&logged_in)).await.body, "1");
}

pub(crate) async fn destroy_removes_the_session_and_its_cookie(ctx: &Ctx) {
    let app = ctx.app().await;
    let cookie = app.get("/set/a/1", None).await.cookie();
    let response = app.get("/destroy", Some(&cookie)).await;
    assert!(response.removes_cookie());
    assert!(app.store.data(&id_of(&cookie)).await.is_none());
    assert_eq!(app.get("/get/a", Some(&cookie)).await.body, "<none>");
}
