//! Metrics through real requests: each counter moves exactly when its event happens, and
//! store calls are timed under the backend's name. A metrics recorder is installed on the
//! test's thread (the suite runs each case on a current-thread runtime), so the counts
//! are this test's alone.

use std::collections::HashMap;
use std::time::Duration;

use sessionkit::Id;
use sessionkit_testkit::MetricsRecorder as Recorder;

use crate::support::Ctx;

/// Checks one counter at each step of a scenario, and that it moved alone among the
/// lifecycle's counters: every other one stays as it was, except those named as moving
/// along.
struct Watch<'a> {
    recorder: &'a Recorder,
    counter: &'static str,
    along: &'static [&'static str],
    before: HashMap<String, u64>,
}

impl<'a> Watch<'a> {
    fn new(recorder: &'a Recorder, counter: &'static str) -> Self {
        Self {
            recorder,
            counter,
            along: &[],
            before: recorder.counters(),
        }
    }

    /// Counters that the scenario moves too (its setup creates sessions, ...).
    fn along(mut self, along: &'static [&'static str]) -> Self {
        self.along = along;
        self
    }

    /// Asserts the counter moved by `by` since the last check; `step` says what happened.
    #[track_caller]
    fn moved(&mut self, by: u64, step: &str) {
        let now = self.recorder.counters();
        let delta = |name: &str| {
            now.get(name).copied().unwrap_or(0) - self.before.get(name).copied().unwrap_or(0)
        };
        assert_eq!(delta(self.counter), by, "{}: {step}", self.counter);
        for name in LIFECYCLE {
            if *name != self.counter && !self.along.contains(name) {
                assert_eq!(delta(name), 0, "{name} moved at: {step}");
            }
        }
        self.before = now;
    }
}

/// The counters of the lifecycle's events.
const LIFECYCLE: &[&str] = &[
    CREATED, SAVED, MERGED, GIVEN_UP, GONE, DELETED, ROTATED, REVOKED, EXPIRED, UNREADABLE,
];
const CREATED: &str = "sessionkit.session.created";
const SAVED: &str = "sessionkit.session.saved";
const MERGED: &str = "sessionkit.session.merged";
const GIVEN_UP: &str = "sessionkit.session.merge.given_up";
const GONE: &str = "sessionkit.session.gone";
const DELETED: &str = "sessionkit.session.deleted";
const ROTATED: &str = "sessionkit.session.rotated";
const REVOKED: &str = "sessionkit.session.revoked";
const EXPIRED: &str = "sessionkit.session.expired";
const UNREADABLE: &str = "sessionkit.session.unreadable";

pub(crate) async fn created_counts_each_new_session_once(ctx: &Ctx) {
    let recorder = Recorder::install();
    let app = ctx.app().await;
    let mut watch = Watch::new(&recorder, CREATED).along(&[SAVED]);
    app.get("/get/a", None).await;
    app.get("/noop", None).await;
    watch.moved(0, "a new session left empty is not stored");
    let cookie = app.get("/set/a/1", None).await.cookie();
    watch.moved(1, "a new session with data");
    app.get("/set/a/2", Some(&cookie)).await;
    app.get("/get/a", Some(&cookie)).await;
    watch.moved(0, "writing and reading a stored session");
    app.get("/set/a/1", None).await;
    watch.moved(1, "another browser");
}

pub(crate) async fn saved_counts_each_write_of_changed_data(ctx: &Ctx) {
    let recorder = Recorder::install();
    let app = ctx.app().await;
    let cookie = app.get("/set/a/1", None).await.cookie();
    let mut watch = Watch::new(&recorder, SAVED);
    app.get("/get/a", Some(&cookie)).await;
    app.get("/set/a/1", Some(&cookie)).await;
    watch.moved(0, "a read, and a write of the value already there");
    app.get("/set/a/2", Some(&cookie)).await;
    watch.moved(1, "a changed value");
    app.get("/set/b/x", Some(&cookie)).await;
    app.get("/incr", Some(&cookie)).await;
    watch.moved(2, "two more writes");
}

pub(crate) async fn merged_counts_a_write_merged_onto_a_concurrent_one(ctx: &Ctx) {
    let recorder = Recorder::install();
    let app = ctx.app().await;
    let cookie = app.get("/set/a/1", None).await.cookie();
    let mut watch = Watch::new(&recorder, MERGED).along(&[SAVED]);
    let slow = app.spawn_get("/slow_set/b/2", &cookie);
    app.gate.entered.notified().await;
    app.get("/set/c/3", Some(&cookie)).await;
    assert_eq!(
        recorder.counter(SAVED, &[]),
        1,
        "the fast write saved first"
    );
    watch.moved(0, "the fast write");
    app.gate.release.notify_one();
    slow.await.unwrap();
    watch.moved(1, "the slow write, merged");
    assert_eq!(
        recorder.counter(SAVED, &[]),
        1,
        "a merged write is not also saved"
    );
    assert_eq!(app.get("/keys", Some(&cookie)).await.body, "a,b,c");
}

pub(crate) async fn merge_given_up_counts_a_write_that_kept_conflicting(ctx: &Ctx) {
    let recorder = Recorder::install();
    let app = ctx.app().await;
    let cookie = app.get("/set/a/1", None).await.cookie();
    let mut watch = Watch::new(&recorder, GIVEN_UP).along(&[SAVED]);
    app.get("/set/a/2", Some(&cookie)).await;
    watch.moved(0, "a write that saved");
    app.store.rival_before_each_save();
    let response = app.get("/set/a/3", Some(&cookie)).await;
    assert_eq!(response.status, 500, "Conflict after every merge attempt");
    watch.moved(1, "a write that conflicted five times");
    assert_eq!(app.store.calls("save"), 1 + 5);
    assert_eq!(recorder.counter(MERGED, &[]), 0);
}

pub(crate) async fn gone_counts_a_write_to_a_session_ended_meanwhile(ctx: &Ctx) {
    let recorder = Recorder::install();
    let app = ctx.app().await;
    let cookie = app.get("/set/a/1", None).await.cookie();
    let mut watch = Watch::new(&recorder, GONE).along(&[DELETED]);
    let slow = app.spawn_get("/slow_set/b/2", &cookie);
    app.gate.entered.notified().await;
    app.get("/clear", Some(&cookie)).await;
    watch.moved(0, "the logout");
    app.gate.release.notify_one();
    assert_eq!(slow.await.unwrap().set_cookie(), None);
    watch.moved(1, "the slow write found its session gone");
    app.get("/set/b/2", Some(&cookie)).await;
    watch
        .along(&[DELETED, CREATED])
        .moved(0, "a later request on the old cookie starts a new session");
}

pub(crate) async fn deleted_counts_each_logout(ctx: &Ctx) {
    let recorder = Recorder::install();
    let app = ctx.app().await;
    let mut cookies = Vec::new();
    for _ in 0..3 {
        cookies.push(app.get("/set/a/1", None).await.cookie());
    }
    let mut watch = Watch::new(&recorder, DELETED);
    app.get("/clear", None).await;
    watch.moved(0, "clearing a session never stored");
    assert!(app.get("/clear", Some(&cookies[0])).await.removes_cookie());
    watch.moved(1, "clear");
    assert!(
        app.get("/destroy", Some(&cookies[1]))
            .await
            .removes_cookie()
    );
    watch.moved(1, "destroy");
    assert!(
        app.get("/remove/a", Some(&cookies[2]))
            .await
            .removes_cookie()
    );
    watch.moved(1, "removing the last key");
    app.get("/clear", Some(&cookies[0])).await;
    watch.moved(0, "a logout of a session already ended");
}

pub(crate) async fn rotated_counts_each_move_to_a_new_id(ctx: &Ctx) {
    let recorder = Recorder::install();
    let app = ctx.app().await;
    let cookie = app.get("/set/a/1", None).await.cookie();
    let mut watch = Watch::new(&recorder, ROTATED);
    app.get("/cycle", None).await;
    watch.moved(0, "rotating a session never stored");
    let cycled = app.get("/cycle", Some(&cookie)).await.cookie();
    assert_ne!(cycled, cookie);
    watch.moved(1, "cycle_id");
    let logged_in = app.get("/login/ada", Some(&cycled)).await.cookie();
    assert_ne!(logged_in, cycled);
    watch.moved(1, "a login");
    app.get("/get/a", Some(&logged_in)).await;
    watch.moved(0, "a read");
}

pub(crate) async fn revoked_counts_each_revoked_session(ctx: &Ctx) {
    let recorder = Recorder::install();
    let app = ctx.app_with(&[("SESSION_USER_INDEX", "true")]).await;
    let ada = format!("ada-{}", &Id::random().to_string()[..10]);
    let mut devices = Vec::new();
    for _ in 0..3 {
        let visitor = app.get("/set/visits/1", None).await.cookie();
        devices.push(
            app.get(&format!("/login/{ada}"), Some(&visitor))
                .await
                .cookie(),
        );
    }
    let mut watch = Watch::new(&recorder, REVOKED);
    app.get("/devices", Some(&devices[0])).await;
    watch.moved(0, "a listing");
    assert_eq!(app.get("/revoke_others", Some(&devices[0])).await.body, "2");
    watch.moved(2, "the two other devices");
    assert_eq!(app.sessions.revoke_user(&ada).await.unwrap(), 1);
    watch.moved(1, "the last one, by an admin");
    assert_eq!(app.sessions.revoke_user(&ada).await.unwrap(), 0);
    watch.moved(0, "nothing left");
}

pub(crate) async fn expired_counts_a_session_read_past_its_absolute_lifetime(ctx: &Ctx) {
    let recorder = Recorder::install();
    // Written by an app without an absolute lifetime, read by one with a second of it.
    let writer = ctx.app().await;
    let reader = ctx.app_sharing(&writer, &[("SESSION_ABSOLUTE_LIFETIME", "1")]);
    let mut watch = Watch::new(&recorder, EXPIRED).along(&[CREATED]);
    let cookie = writer.get("/set/a/1", None).await.cookie();
    assert_eq!(writer.get("/get/a", Some(&cookie)).await.body, "1");
    watch.moved(0, "stored and read");
    writer.advance(Duration::from_millis(1500)).await;
    assert_eq!(reader.get("/get/a", Some(&cookie)).await.body, "<none>");
    watch.moved(1, "read past it: deleted");
    assert_eq!(writer.get("/get/a", Some(&cookie)).await.body, "<none>");
    assert_eq!(reader.get("/get/a", Some(&cookie)).await.body, "<none>");
    watch.moved(0, "gone for every app");
}

pub(crate) async fn unreadable_counts_stored_sessions_that_cannot_be_read(ctx: &Ctx) {
    let recorder = Recorder::install();
    let app = ctx.app_with(&[("SESSION_MAX_SIZE", "64")]).await;
    let mut watch = Watch::new(&recorder, UNREADABLE);
    let corrupt = Id::random();
    app.store.put_raw(&corrupt, b"\xc1garbage").await;
    app.get("/get/a", Some(&format!("session={corrupt}"))).await;
    watch.moved(1, "a payload that does not decode");
    assert_eq!(recorder.counter(UNREADABLE, &[("reason", "decode")]), 1);
    let large = Id::random();
    let mut payload = vec![0x81, 0xa1, b'a', 0xc4, 100];
    payload.extend([0; 100]);
    app.store.put_raw(&large, &payload).await;
    app.get("/get/a", Some(&format!("session={large}"))).await;
    watch.moved(1, "a payload over SESSION_MAX_SIZE");
    assert_eq!(recorder.counter(UNREADABLE, &[("reason", "too_large")]), 1);
}

pub(crate) async fn store_calls_are_timed_by_backend_operation_and_outcome(ctx: &Ctx) {
    let recorder = Recorder::install();
    let app = ctx.app().await;
    let backend = ctx.backend.name();
    let duration = "sessionkit.store.operation.duration";
    let call = |operation, outcome| {
        recorder.histogram(
            duration,
            &[
                ("backend", backend),
                ("operation", operation),
                ("outcome", outcome),
            ],
        )
    };

    let response = app.get("/set/a/hello", None).await;
    let created = call("create", "ok");
    assert_eq!(created.len(), 1);
    assert!(created[0] > 0.0 && created[0] < 10.0, "{created:?} s");
    let stored = app.store.raw(&response.cookie_id()).await.unwrap().len() as f64;
    let size =
        |operation| recorder.histogram("sessionkit.session.size", &[("operation", operation)]);
    assert_eq!(size("create"), [stored]);

    app.get("/get/a", Some(&response.cookie())).await;
    assert_eq!(
        call("load", "ok").len(),
        1,
        "sessions are permanent by default"
    );
    assert_eq!(size("load"), [stored]);
    app.get("/get/a", Some(&format!("session={}", Id::random())))
        .await;
    assert_eq!(call("load", "not_found").len(), 1);
    assert_eq!(recorder.counters().get("sessionkit.store.errors"), None);
}
