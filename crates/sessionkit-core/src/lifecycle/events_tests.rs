//! Lifecycle events: each one published exactly once per scenario, with the right hint,
//! user and time; and delivery that never makes a request wait, whatever the subscriber
//! does. On the memory store with a manual clock.

use std::sync::Arc;
use std::time::Duration;

use crate::{
    Action, Clock, DynSessionStore, Id, ManualClock, MemoryStore, Outcome, Session, SessionConfig,
    SessionEvent, SessionEventKind, SessionEvents, SessionStore, Sessions,
};
use sessionkit_testkit::MetricsRecorder;

const MINUTE: Duration = Duration::from_secs(60);

struct Env {
    sessions: Sessions,
    memory: Arc<MemoryStore>,
    clock: ManualClock,
}

fn env(configure: impl FnOnce(&mut SessionConfig)) -> Env {
    let clock = ManualClock::new();
    let memory = Arc::new(MemoryStore::with_clock(Arc::new(clock.clone())));
    sessions_over(&memory, clock, configure)
}

fn sessions_over(
    memory: &Arc<MemoryStore>,
    clock: ManualClock,
    configure: impl FnOnce(&mut SessionConfig),
) -> Env {
    let mut config = SessionConfig::default();
    configure(&mut config);
    let store = Arc::clone(memory) as DynSessionStore;
    let sessions = Sessions::with_clock(store, config, Arc::new(clock.clone())).unwrap();
    Env {
        sessions,
        memory: Arc::clone(memory),
        clock,
    }
}

fn cookie_of(outcome: &Outcome) -> String {
    let set_cookie = outcome.set_cookie.as_deref().expect("a Set-Cookie");
    set_cookie.split(';').next().unwrap().to_owned()
}

fn id_of(cookie: &str) -> Id {
    cookie.split_once('=').unwrap().1.parse().unwrap()
}

/// The hint events give the session under `cookie` (ids not hashed at rest).
fn hint_of(cookie: &str) -> String {
    id_of(cookie).hint()
}

impl Env {
    fn request(&self, cookie: &str) -> Session {
        self.sessions.start([cookie.as_bytes()])
    }

    async fn finish(&self, session: &Session) -> Outcome {
        self.sessions.finish(session).await.unwrap()
    }

    /// A new session holding `key` = `value`; its cookie.
    async fn created(&self, key: &str, value: &str) -> String {
        let session = self.sessions.start([]);
        session.insert(key, value).await.unwrap();
        cookie_of(&self.finish(&session).await)
    }

    /// A login as `user` on the session under `cookie`: binds and rotates; the new cookie.
    async fn log_in(&self, cookie: &str, user: &str) -> String {
        let session = self.request(cookie);
        session.insert("_user_id", user).await.unwrap();
        session.cycle_id().await.unwrap();
        cookie_of(&self.finish(&session).await)
    }
}

/// Every event waiting, and no more.
fn drain(events: &mut SessionEvents) -> Vec<SessionEvent> {
    std::iter::from_fn(|| events.try_recv()).collect()
}

fn event(kind: SessionEventKind, hint: String, user: Option<&str>, env: &Env) -> SessionEvent {
    SessionEvent {
        kind,
        hint,
        user: user.map(str::to_owned),
        at: env.clock.now(),
    }
}

#[tokio::test]
async fn a_visit_a_login_and_a_logout_publish_created_rotated_and_destroyed_once_each() {
    let env = env(|_| ());
    let mut events = env.sessions.subscribe(16);

    let visitor = env.created("cart", "book").await;
    assert_eq!(
        drain(&mut events),
        [event(
            SessionEventKind::Created,
            hint_of(&visitor),
            None,
            &env
        )]
    );

    // Reads, writes and refreshes are not events.
    let session = env.request(&visitor);
    session.insert("cart", "pen").await.unwrap();
    assert_eq!(env.finish(&session).await.action, Action::Saved);
    env.clock.advance(MINUTE);
    env.finish(&env.request(&visitor)).await;
    assert_eq!(drain(&mut events), []);

    let member = env.log_in(&visitor, "ada").await;
    let rotated = SessionEventKind::Rotated {
        previous: hint_of(&visitor),
    };
    assert_eq!(
        drain(&mut events),
        [event(rotated, hint_of(&member), Some("ada"), &env)]
    );

    let session = env.request(&member);
    session.clear().await.unwrap();
    assert_eq!(env.finish(&session).await.action, Action::Deleted);
    assert_eq!(
        drain(&mut events),
        [event(
            SessionEventKind::Destroyed,
            hint_of(&member),
            Some("ada"),
            &env
        )],
        "the user the session had, without the user index"
    );
}

#[tokio::test]
async fn a_logout_that_keeps_a_flash_message_destroys_one_session_and_creates_another() {
    let env = env(|_| ());
    let mut events = env.sessions.subscribe(16);
    let visitor = env.created("cart", "book").await;
    let member = env.log_in(&visitor, "ada").await;
    drain(&mut events);

    let session = env.request(&member);
    session.clear().await.unwrap();
    session.insert("flash", "bye").await.unwrap();
    let outcome = env.finish(&session).await;
    assert_eq!(outcome.action, Action::Cycled);
    let flash = cookie_of(&outcome);
    assert_eq!(
        drain(&mut events),
        [
            event(
                SessionEventKind::Destroyed,
                hint_of(&member),
                Some("ada"),
                &env
            ),
            event(SessionEventKind::Created, hint_of(&flash), None, &env),
        ]
    );
}

#[tokio::test]
async fn every_revocation_is_published_once_with_its_user() {
    let env = env(|c| c.user_index = true);
    let mut events = env.sessions.subscribe(16);
    let phone = env.log_in(&env.created("a", "1").await, "ada").await;
    let laptop = env.log_in(&env.created("a", "1").await, "ada").await;
    let tablet = env.log_in(&env.created("a", "1").await, "ada").await;
    drain(&mut events);

    // From a request: the others of the laptop.
    let session = env.request(&laptop);
    assert_eq!(session.revoke_other_sessions().await.unwrap(), 2);
    env.finish(&session).await;
    let mut revoked: Vec<String> = drain(&mut events)
        .into_iter()
        .map(|e| {
            assert_eq!(e.kind, SessionEventKind::Revoked);
            assert_eq!(e.user.as_deref(), Some("ada"));
            e.hint
        })
        .collect();
    revoked.sort();
    let mut expected = vec![hint_of(&phone), hint_of(&tablet)];
    expected.sort();
    assert_eq!(revoked, expected);

    // From outside a request: by hint, then everything.
    let again = env.log_in(&env.created("a", "1").await, "ada").await;
    drain(&mut events);
    assert!(
        env.sessions
            .revoke_session("ada", &hint_of(&again))
            .await
            .unwrap()
    );
    assert_eq!(
        drain(&mut events),
        [event(
            SessionEventKind::Revoked,
            hint_of(&again),
            Some("ada"),
            &env
        )]
    );
    assert_eq!(env.sessions.revoke_user("ada").await.unwrap(), 1);
    assert_eq!(
        drain(&mut events),
        [event(
            SessionEventKind::Revoked,
            hint_of(&laptop),
            Some("ada"),
            &env
        )]
    );
    assert_eq!(env.sessions.revoke_user("ada").await.unwrap(), 0);
    assert_eq!(drain(&mut events), [], "nothing left, nothing published");
}

#[tokio::test]
async fn the_cap_per_user_publishes_the_revocation_of_the_oldest() {
    let env = env(|c| c.max_per_user = std::num::NonZeroUsize::new(1));
    let mut events = env.sessions.subscribe(16);
    let first = env.log_in(&env.created("a", "1").await, "ada").await;
    env.clock.advance(MINUTE);
    let visitor = env.created("a", "1").await;
    drain(&mut events);
    let second = env.log_in(&visitor, "ada").await;
    let kinds: Vec<(SessionEventKind, String)> = drain(&mut events)
        .into_iter()
        .map(|e| (e.kind, e.hint))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                SessionEventKind::Rotated {
                    previous: hint_of(&visitor)
                },
                hint_of(&second)
            ),
            (SessionEventKind::Revoked, hint_of(&first)),
        ]
    );
}

#[tokio::test]
async fn a_session_read_past_its_absolute_lifetime_is_published_as_expired_once() {
    // Written by an app without an absolute lifetime, read by one with an hour of it.
    let clock = ManualClock::new();
    let memory = Arc::new(MemoryStore::with_clock(Arc::new(clock.clone())));
    let writer = sessions_over(&memory, clock.clone(), |c| {
        c.lifetime = 3 * 60 * MINUTE;
    });
    let reader = sessions_over(&memory, clock.clone(), |c| {
        c.lifetime = 3 * 60 * MINUTE;
        c.absolute_lifetime = Some(60 * MINUTE);
    });
    let mut events = reader.sessions.subscribe(16);
    let cookie = writer.log_in(&writer.created("a", "1").await, "ada").await;
    clock.advance(61 * MINUTE);

    let session = reader.request(&cookie);
    assert_eq!(session.get::<String>("_user_id").await.unwrap(), None);
    reader.finish(&session).await;
    assert_eq!(
        drain(&mut events),
        [event(
            SessionEventKind::Expired,
            hint_of(&cookie),
            Some("ada"),
            &reader
        )]
    );
    assert!(memory.load(&id_of(&cookie)).await.unwrap().is_none());
    reader.finish(&reader.request(&cookie)).await;
    let session = reader.request(&cookie);
    session.get::<String>("a").await.unwrap();
    reader.finish(&session).await;
    assert_eq!(drain(&mut events), [], "once");
}

#[tokio::test]
async fn hints_match_the_user_index_listing_with_ids_hashed_at_rest() {
    let env = env(|c| {
        c.user_index = true;
        c.hash_ids = true;
    });
    let mut events = env.sessions.subscribe(16);
    let cookie = env.log_in(&env.created("a", "1").await, "ada").await;
    let listed = env.sessions.user_sessions("ada").await.unwrap();
    let published = drain(&mut events).pop().unwrap();
    assert_eq!(published.hint, listed[0].hint);
    assert_ne!(
        published.hint,
        hint_of(&cookie),
        "the hint of the stored id"
    );
    assert!(!id_of(&cookie).to_string().contains(&published.hint));
}

#[tokio::test]
async fn a_full_channel_drops_and_counts_events_and_never_holds_a_request() {
    let recorder = MetricsRecorder::install();
    let env = env(|_| ());
    let mut events = env.sessions.subscribe(2);
    // Nobody reads: each request still finishes at once.
    for n in 0..10 {
        let session = env.sessions.start([]);
        session.insert("n", &n).await.unwrap();
        let finished = tokio::time::timeout(Duration::from_secs(10), env.finish(&session)).await;
        assert_eq!(finished.unwrap().action, Action::Created);
    }
    assert_eq!(events.dropped(), 8);
    assert_eq!(recorder.counter("sessionkit.events.dropped", &[]), 8);
    assert_eq!(drain(&mut events).len(), 2, "the first two were kept");
    assert_eq!(env.memory.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_subscriber_never_delays_a_request() {
    let env = env(|_| ());
    let mut events = env.sessions.subscribe(4);
    let (took, mut took_first) = tokio::sync::mpsc::channel::<()>(1);
    let stuck = tokio::sync::Notify::new();
    let stuck = Arc::new(stuck);
    let subscriber = {
        let stuck = Arc::clone(&stuck);
        tokio::spawn(async move {
            // Takes one event, then hangs (an audit sink whose disk stalled).
            let first = events.recv().await;
            took.send(()).await.unwrap();
            stuck.notified().await;
            (first, events)
        })
    };
    env.created("k", "v").await;
    took_first.recv().await.unwrap();
    for _ in 0..20 {
        let created = tokio::time::timeout(Duration::from_secs(10), env.created("k", "v"));
        created
            .await
            .expect("a request never waits for the subscriber");
    }
    stuck.notify_one();
    let (first, events) = subscriber.await.unwrap();
    assert_eq!(first.unwrap().kind, SessionEventKind::Created);
    assert_eq!(events.dropped(), 16, "4 kept of the 20 sent while it hung");
}

#[tokio::test]
async fn every_subscription_gets_every_event_and_a_dropped_one_is_forgotten() {
    let env = env(|_| ());
    let mut first = env.sessions.subscribe(8);
    let second = env.sessions.subscribe(8);
    drop(second);
    env.created("k", "v").await;
    assert_eq!(drain(&mut first).len(), 1);
    assert!(env.sessions.shared().events.is_active());
    drop(first);
    env.created("k", "v").await;
    assert!(
        !env.sessions.shared().events.is_active(),
        "no subscriber left: events are no longer built"
    );
}

#[tokio::test]
async fn the_subscription_ends_with_the_last_clone_of_the_sessions() {
    let env = env(|_| ());
    let mut events = env.sessions.subscribe(8);
    let clone = env.sessions.clone();
    drop(env);
    assert!(events.try_recv().is_none());
    drop(clone);
    assert_eq!(events.recv().await, None);
}
