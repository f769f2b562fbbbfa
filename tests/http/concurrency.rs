//! Overlapping requests on one session: per-key merge, no reverts, no resurrection.

use crate::support::{Ctx, id_of};

pub(crate) async fn concurrent_writes_to_different_keys_both_land(ctx: &Ctx) {
    let app = ctx.app().await;
    let cookie = app.get("/set/a/1", None).await.cookie();

    let slow = app.spawn_get("/slow_set/b/2", &cookie);
    app.gate.entered.notified().await; // the slow request has loaded the session
    app.get("/set/c/3", Some(&cookie)).await; // a fast request saves meanwhile
    app.gate.release.notify_one();
    let slow = slow.await.unwrap();
    assert_eq!(slow.cookie(), cookie);

    assert_eq!(app.get("/keys", Some(&cookie)).await.body, "a,b,c");
    assert_eq!(
        app.store.calls("save"),
        3,
        "fast save, conflicting save, merged save"
    );
}

pub(crate) async fn concurrent_writes_to_the_same_key_the_later_save_wins(ctx: &Ctx) {
    let app = ctx.app().await;
    let cookie = app.get("/set/a/0", None).await.cookie();

    let slow = app.spawn_get("/slow_set/a/slow", &cookie);
    app.gate.entered.notified().await;
    app.get("/set/a/fast", Some(&cookie)).await;
    app.gate.release.notify_one();
    slow.await.unwrap();

    assert_eq!(app.get("/get/a", Some(&cookie)).await.body, "slow");
}

pub(crate) async fn slow_read_only_request_does_not_revert_a_concurrent_write(ctx: &Ctx) {
    let app = ctx.app().await;
    let cookie = app.get("/set/a/old", None).await.cookie();

    let reader = app.spawn_get("/slow_read/a", &cookie);
    app.gate.entered.notified().await;
    app.get("/set/a/new", Some(&cookie)).await;
    app.gate.release.notify_one();
    assert_eq!(
        reader.await.unwrap().body,
        "old",
        "the reader saw what it loaded"
    );

    assert_eq!(app.get("/get/a", Some(&cookie)).await.body, "new");
    assert_eq!(app.store.calls("save"), 1, "only the writer saved");
}

pub(crate) async fn logout_during_a_concurrent_write_is_not_undone(ctx: &Ctx) {
    let app = ctx.app().await;
    let cookie = app.get("/set/user/ada", None).await.cookie();

    let writer = app.spawn_get("/slow_set/cart/book", &cookie);
    app.gate.entered.notified().await;
    let logout = app.get("/clear", Some(&cookie)).await;
    assert!(logout.removes_cookie());
    app.gate.release.notify_one();
    let writer = writer.await.unwrap();

    assert_eq!(
        writer.set_cookie(),
        None,
        "the late writer's response sends no cookie: neither the old id back nor a removal"
    );
    assert!(
        app.store.data(&id_of(&cookie)).await.is_none(),
        "the session came back"
    );
    assert_eq!(app.get("/get/user", Some(&cookie)).await.body, "<none>");
}
