//! Overlapping requests on one session: per-key merge, no reverts, no resurrection.

use crate::support::{TestApp, id_of, spawn_get};

#[tokio::test]
async fn concurrent_writes_to_different_keys_both_land() {
    let app = TestApp::new();
    let cookie = app.get("/set/a/1", None).await.cookie();

    let slow = spawn_get(&app, "/slow_set/b/2", &cookie);
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

#[tokio::test]
async fn concurrent_writes_to_the_same_key_the_later_save_wins() {
    let app = TestApp::new();
    let cookie = app.get("/set/a/0", None).await.cookie();

    let slow = spawn_get(&app, "/slow_set/a/slow", &cookie);
    app.gate.entered.notified().await;
    app.get("/set/a/fast", Some(&cookie)).await;
    app.gate.release.notify_one();
    slow.await.unwrap();

    assert_eq!(app.get("/get/a", Some(&cookie)).await.body, "slow");
}

#[tokio::test]
async fn slow_read_only_request_does_not_revert_a_concurrent_write() {
    let app = TestApp::new();
    let cookie = app.get("/set/a/old", None).await.cookie();

    let reader = spawn_get(&app, "/slow_read/a", &cookie);
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

#[tokio::test]
async fn logout_during_a_concurrent_write_is_not_undone() {
    let app = TestApp::new();
    let cookie = app.get("/set/user/ada", None).await.cookie();

    let writer = spawn_get(&app, "/slow_set/cart/book", &cookie);
    app.gate.entered.notified().await;
    let logout = app.get("/clear", Some(&cookie)).await;
    assert!(logout.removes_cookie());
    app.gate.release.notify_one();
    let writer = writer.await.unwrap();

    assert!(
        writer.removes_cookie(),
        "the late writer's response drops the cookie too"
    );
    assert!(
        app.store.data(&id_of(&cookie)).await.is_none(),
        "the session came back"
    );
    assert_eq!(app.get("/get/user", Some(&cookie)).await.body, "<none>");
}
