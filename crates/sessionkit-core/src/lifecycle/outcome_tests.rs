//! One test per end-of-request outcome, and the races between two overlapping requests,
//! on the memory store with a manual clock.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::{
    Action, CREATED_KEY, Clock, Codec, DynSessionStore, Error, ErrorKind, Id, ManualClock,
    MemoryStore, Outcome, Record, Session, SessionConfig, SessionData, SessionStore, Sessions,
    Timestamp, Version,
};

const HOUR: Duration = Duration::from_secs(3600);

struct Env {
    sessions: Sessions,
    memory: Arc<MemoryStore>,
    clock: ManualClock,
}

fn env(configure: impl FnOnce(&mut SessionConfig)) -> Env {
    let clock = ManualClock::new();
    let memory = Arc::new(MemoryStore::with_clock(Arc::new(clock.clone())));
    env_over(
        Arc::clone(&memory) as DynSessionStore,
        memory,
        clock,
        configure,
    )
}

fn env_over(
    store: DynSessionStore,
    memory: Arc<MemoryStore>,
    clock: ManualClock,
    configure: impl FnOnce(&mut SessionConfig),
) -> Env {
    let mut config = SessionConfig::default();
    configure(&mut config);
    let sessions = Sessions::with_clock(store, config, Arc::new(clock.clone())).unwrap();
    Env {
        sessions,
        memory,
        clock,
    }
}

impl Env {
    /// A request carrying `cookie` (the `name=value` part of a `Set-Cookie`).
    fn request(&self, cookie: &str) -> Session {
        self.sessions.start([cookie.as_bytes()])
    }

    /// Stores a session holding `pairs` and returns its cookie.
    async fn stored(&self, pairs: &[(&str, &str)]) -> String {
        let session = self.sessions.start([]);
        for (k, v) in pairs {
            session.insert(k, v).await.unwrap();
        }
        let outcome = self.sessions.finish(&session).await.unwrap();
        assert_eq!(outcome.action, Action::Created);
        cookie_of(&outcome)
    }

    async fn finish(&self, session: &Session) -> Outcome {
        self.sessions.finish(session).await.unwrap()
    }

    async fn data(&self, cookie: &str) -> Option<SessionData> {
        let id = id_of(cookie);
        let record = self.memory.load(&id).await.unwrap()?;
        Some(Codec::MessagePack.decode(record.payload()).unwrap())
    }
}

fn cookie_of(outcome: &Outcome) -> String {
    let set_cookie = outcome.set_cookie.as_deref().expect("a Set-Cookie");
    set_cookie.split(';').next().unwrap().to_owned()
}

fn id_of(cookie: &str) -> Id {
    cookie.split_once('=').unwrap().1.parse().unwrap()
}

fn get(data: &SessionData, key: &str) -> Option<String> {
    data.get::<String>(key).unwrap()
}

#[tokio::test]
async fn untouched_session_costs_nothing_and_sends_nothing() {
    let env = env(|_| ());
    let cookie = env.stored(&[("k", "v")]).await;
    let outcome = env.finish(&env.request(&cookie)).await;
    assert_eq!(outcome.action, Action::None);
    assert!(!outcome.accessed && outcome.set_cookie.is_none());
}

#[tokio::test]
async fn new_session_left_empty_is_not_stored() {
    let env = env(|_| ());
    let session = env.sessions.start([]);
    assert!(session.is_empty().await.unwrap());
    let outcome = env.finish(&session).await;
    assert_eq!((outcome.action, outcome.set_cookie), (Action::None, None));
    assert!(env.memory.is_empty());
}

#[tokio::test]
async fn created_session_is_stored_with_its_creation_time() {
    let env = env(|_| ());
    let cookie = env.stored(&[("k", "v")]).await;
    let data = env.data(&cookie).await.expect("stored");
    let created: Timestamp = data.get(CREATED_KEY).unwrap().expect("_created");
    assert_eq!(SystemTime::from(created), env.clock.now());
    let session = env.request(&cookie);
    assert_eq!(session.keys().await.unwrap(), vec!["k".to_owned()]);
}

#[tokio::test]
async fn changed_session_is_saved() {
    let env = env(|_| ());
    let cookie = env.stored(&[("k", "v")]).await;
    let session = env.request(&cookie);
    session.insert("k", "w").await.unwrap();
    let outcome = env.finish(&session).await;
    assert_eq!(outcome.action, Action::Saved);
    assert_eq!(cookie_of(&outcome), cookie);
    assert_eq!(
        get(&env.data(&cookie).await.unwrap(), "k").as_deref(),
        Some("w")
    );
}

#[tokio::test]
async fn concurrent_writes_to_different_keys_are_merged() {
    let env = env(|_| ());
    let cookie = env.stored(&[("k", "v")]).await;
    let (a, b) = (env.request(&cookie), env.request(&cookie));
    a.insert("a", "1").await.unwrap();
    b.insert("b", "2").await.unwrap();
    assert_eq!(env.finish(&a).await.action, Action::Saved);
    assert_eq!(env.finish(&b).await.action, Action::Merged);
    let data = env.data(&cookie).await.unwrap();
    assert_eq!(
        (get(&data, "a"), get(&data, "b")),
        (Some("1".into()), Some("2".into()))
    );
}

#[tokio::test]
async fn read_of_a_permanent_session_slides_and_resends_the_cookie() {
    let env = env(|c| c.refresh_step = Some(Duration::ZERO));
    let cookie = env.stored(&[("k", "v")]).await;
    env.clock.advance(HOUR);
    let session = env.request(&cookie);
    assert_eq!(
        session.get::<String>("k").await.unwrap().as_deref(),
        Some("v")
    );
    let outcome = env.finish(&session).await;
    assert_eq!(outcome.action, Action::Refreshed);
    assert_eq!(cookie_of(&outcome), cookie);
    // The expiry slid: the record outlives its first lifetime.
    env.clock
        .advance(SessionConfig::default().lifetime - HOUR / 2);
    assert!(env.data(&cookie).await.is_some());
}

#[tokio::test]
async fn read_of_a_browser_session_sends_no_cookie() {
    let env = env(|c| c.permanent = false);
    let cookie = env.stored(&[("k", "v")]).await;
    let session = env.request(&cookie);
    session.get::<String>("k").await.unwrap();
    let outcome = env.finish(&session).await;
    assert_eq!((outcome.action, outcome.set_cookie), (Action::None, None));
}

#[tokio::test]
async fn slow_read_overlapping_a_login_does_not_send_the_old_id_back() {
    let env = env(|_| ());
    let cookie = env.stored(&[("cart", "book")]).await;
    let slow = env.request(&cookie);
    slow.get::<String>("cart").await.unwrap();

    let login = env.request(&cookie);
    login.insert("_user_id", "ada").await.unwrap();
    login.cycle_id().await.unwrap();
    let logged_in = env.finish(&login).await;
    assert_eq!(logged_in.action, Action::Cycled);
    assert_ne!(cookie_of(&logged_in), cookie);

    let outcome = env.finish(&slow).await;
    assert_eq!(outcome.action, Action::Gone);
    assert_eq!(outcome.set_cookie, None, "neither the old id nor a removal");
}

#[tokio::test]
async fn save_after_a_logout_is_gone_and_sends_no_cookie() {
    let env = env(|_| ());
    let cookie = env.stored(&[("_user_id", "ada")]).await;
    let slow = env.request(&cookie);
    slow.get::<String>("_user_id").await.unwrap();

    let logout = env.request(&cookie);
    logout.clear().await.unwrap();
    let outcome = env.finish(&logout).await;
    assert_eq!(outcome.action, Action::Deleted);
    assert!(outcome.set_cookie.unwrap().contains("Max-Age=0"));

    slow.insert("_user_id", "ada").await.unwrap();
    slow.insert("last_seen", "now").await.unwrap();
    let outcome = env.finish(&slow).await;
    assert_eq!((outcome.action, outcome.set_cookie), (Action::Gone, None));
    assert!(env.memory.is_empty(), "the logged-out session came back");
}

#[tokio::test]
async fn logout_with_a_flash_moves_the_flash_to_a_fresh_id_and_wins_over_a_slow_write() {
    let env = env(|_| ());
    let cookie = env.stored(&[("_user_id", "ada"), ("cart", "book")]).await;
    let slow = env.request(&cookie);
    slow.get::<String>("_user_id").await.unwrap();

    let logout = env.request(&cookie);
    logout.clear().await.unwrap();
    logout.insert("flash", "bye").await.unwrap();
    let outcome = env.finish(&logout).await;
    assert_eq!(outcome.action, Action::Cycled);
    let fresh = cookie_of(&outcome);
    assert_ne!(fresh, cookie);
    assert!(env.data(&cookie).await.is_none(), "old record deleted");
    let data = env.data(&fresh).await.unwrap();
    assert_eq!(get(&data, "flash").as_deref(), Some("bye"));
    assert_eq!(get(&data, "_user_id"), None);
    assert_eq!(get(&data, "cart"), None);

    slow.insert("_user_id", "ada").await.unwrap();
    assert_eq!(env.finish(&slow).await.action, Action::Gone);
    assert_eq!(env.memory.len(), 1);
}

#[tokio::test]
async fn removing_the_user_key_is_a_logout_that_keeps_the_rest() {
    let env = env(|_| ());
    let cookie = env.stored(&[("_user_id", "ada"), ("cart", "book")]).await;
    let slow = env.request(&cookie);
    slow.get::<String>("cart").await.unwrap();

    // Flask-Login's logout_user(): session.pop("_user_id").
    let logout = env.request(&cookie);
    let user: Option<String> = logout.take("_user_id").await.unwrap();
    assert_eq!(user.as_deref(), Some("ada"));
    let outcome = env.finish(&logout).await;
    assert_eq!(outcome.action, Action::Cycled);
    let fresh = cookie_of(&outcome);
    assert!(env.data(&cookie).await.is_none());
    let data = env.data(&fresh).await.unwrap();
    assert_eq!(
        (get(&data, "cart"), get(&data, "_user_id")),
        (Some("book".into()), None)
    );

    slow.insert("_user_id", "ada").await.unwrap();
    assert_eq!(env.finish(&slow).await.action, Action::Gone);
}

#[tokio::test]
async fn configured_auth_keys_replace_the_default() {
    let env = env(|c| c.auth_keys = vec!["account".into()]);
    let cookie = env
        .stored(&[("account", "7"), ("_user_id", "ada"), ("cart", "book")])
        .await;
    let session = env.request(&cookie);
    session.remove("_user_id").await.unwrap();
    assert_eq!(env.finish(&session).await.action, Action::Saved);
    let session = env.request(&cookie);
    session.remove("account").await.unwrap();
    assert_eq!(env.finish(&session).await.action, Action::Cycled);
}

#[tokio::test]
async fn emptying_a_session_key_by_key_deletes_it() {
    let env = env(|_| ());
    let cookie = env.stored(&[("k", "v")]).await;
    let session = env.request(&cookie);
    session.remove("k").await.unwrap();
    let outcome = env.finish(&session).await;
    assert_eq!(outcome.action, Action::Deleted);
    assert!(outcome.set_cookie.unwrap().contains("Max-Age=0"));
    assert!(env.memory.is_empty());
}

#[tokio::test]
async fn destroy_ends_the_session_and_resets_permanence() {
    let env = env(|c| c.permanent = false);
    let session = env.sessions.start([]);
    session.set_permanent(true).await.unwrap();
    session.insert("k", "v").await.unwrap();
    let cookie = cookie_of(&env.finish(&session).await);

    let session = env.request(&cookie);
    session.destroy().await.unwrap();
    assert!(!session.is_permanent().await.unwrap());
    assert_ne!(session.id().await.unwrap(), id_of(&cookie));
    let outcome = env.finish(&session).await;
    assert_eq!(outcome.action, Action::Deleted);
    assert!(env.memory.is_empty());
}

#[tokio::test]
async fn rotation_moves_the_data_and_deletes_the_old_record() {
    let env = env(|_| ());
    let cookie = env.stored(&[("k", "v")]).await;
    let session = env.request(&cookie);
    session.cycle_id().await.unwrap();
    let outcome = env.finish(&session).await;
    assert_eq!(outcome.action, Action::Cycled);
    let fresh = cookie_of(&outcome);
    assert!(env.data(&cookie).await.is_none());
    let data = env.data(&fresh).await.unwrap();
    assert_eq!(get(&data, "k").as_deref(), Some("v"));
}

#[tokio::test]
async fn rotation_racing_a_logout_leaves_nothing() {
    let env = env(|_| ());
    let cookie = env.stored(&[("_user_id", "ada")]).await;
    let rotating = env.request(&cookie);
    rotating.cycle_id().await.unwrap();

    let logout = env.request(&cookie);
    logout.clear().await.unwrap();
    assert_eq!(env.finish(&logout).await.action, Action::Deleted);

    let outcome = env.finish(&rotating).await;
    assert_eq!((outcome.action, outcome.set_cookie), (Action::Gone, None));
    assert!(
        env.memory.is_empty(),
        "the logged-out data came back under a new id"
    );
}

#[tokio::test]
async fn rotation_racing_a_save_merges_it() {
    let env = env(|_| ());
    let cookie = env.stored(&[("k", "v")]).await;
    let rotating = env.request(&cookie);
    rotating.insert("_user_id", "ada").await.unwrap();
    rotating.cycle_id().await.unwrap();

    let other = env.request(&cookie);
    other.insert("theme", "dark").await.unwrap();
    assert_eq!(env.finish(&other).await.action, Action::Saved);

    let outcome = env.finish(&rotating).await;
    assert_eq!(outcome.action, Action::Cycled);
    let data = env.data(&cookie_of(&outcome)).await.unwrap();
    assert_eq!(get(&data, "theme").as_deref(), Some("dark"));
    assert_eq!(get(&data, "_user_id").as_deref(), Some("ada"));
    assert_eq!(env.memory.len(), 1);
}

/// A store whose `delete_if` waits until released, to hold a rotation between its two
/// store calls.
#[derive(Debug)]
struct HeldDelete {
    inner: Arc<MemoryStore>,
    entered: Notify,
    release: Notify,
}

#[async_trait]
impl SessionStore for HeldDelete {
    async fn create(&self, id: &Id, payload: &[u8], expires_at: SystemTime) -> Result<(), Error> {
        self.inner.create(id, payload, expires_at).await
    }
    async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
        self.inner.load(id).await
    }
    async fn load_and_touch(
        &self,
        id: &Id,
        expires_at: SystemTime,
    ) -> Result<Option<Record>, Error> {
        self.inner.load_and_touch(id, expires_at).await
    }
    async fn save(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
    ) -> Result<(), Error> {
        self.inner.save(id, payload, expires_at, expected).await
    }
    async fn touch(&self, id: &Id, expires_at: SystemTime) -> Result<(), Error> {
        self.inner.touch(id, expires_at).await
    }
    async fn delete(&self, id: &Id) -> Result<(), Error> {
        self.inner.delete(id).await
    }
    async fn delete_if(&self, id: &Id, expected: Version) -> Result<(), Error> {
        self.entered.notify_one();
        self.release.notified().await;
        self.inner.delete_if(id, expected).await
    }
    fn call_timeout(&self) -> Option<Duration> {
        Some(Duration::ZERO)
    }
}

#[tokio::test]
async fn cancelled_rotation_does_not_leave_two_live_records() {
    let clock = ManualClock::new();
    let memory = Arc::new(MemoryStore::with_clock(Arc::new(clock.clone())));
    let held = Arc::new(HeldDelete {
        inner: Arc::clone(&memory),
        entered: Notify::new(),
        release: Notify::new(),
    });
    let env = env_over(Arc::clone(&held) as DynSessionStore, memory, clock, |_| ());
    let cookie = env.stored(&[("k", "v")]).await;

    let session = env.request(&cookie);
    session.cycle_id().await.unwrap();
    let sessions = env.sessions.clone();
    let task = tokio::spawn(async move { sessions.finish(&session).await });
    held.entered.notified().await;
    assert_eq!(
        env.memory.len(),
        2,
        "the new record exists while the old is being deleted"
    );
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());

    // The new record is deleted by a task spawned when the rotation was dropped.
    for _ in 0..1_000 {
        if env.memory.len() == 1 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(env.memory.len(), 1);
    assert!(
        env.data(&cookie).await.is_some(),
        "the old session is untouched"
    );
}

#[tokio::test]
async fn absolute_lifetime_ends_an_active_session() {
    let env = env(|c| {
        c.absolute_lifetime = Some(HOUR);
        c.refresh_step = Some(Duration::ZERO);
    });
    let cookie = env.stored(&[("k", "v")]).await;
    let created = env.clock.now();
    // The cookie of a new session never outlives the absolute lifetime.
    let session = env.request(&cookie);
    session.insert("k", "w").await.unwrap();
    let outcome = env.finish(&session).await;
    assert!(outcome.set_cookie.unwrap().contains("Max-Age=3600"));

    env.clock.advance(HOUR / 2);
    let session = env.request(&cookie);
    assert!(
        session.get::<String>("k").await.unwrap().is_some(),
        "active at 30 min"
    );
    let refreshed = env.finish(&session).await;
    assert!(refreshed.set_cookie.unwrap().contains("Max-Age=1800"));

    env.clock.advance(HOUR / 2);
    let session = env.request(&cookie);
    assert_eq!(
        session.get::<String>("k").await.unwrap(),
        None,
        "over at 60 min"
    );
    assert!(env.memory.load(&id_of(&cookie)).await.unwrap().is_none());
    // A rotation keeps the creation time: it does not extend the absolute lifetime.
    assert!(env.clock.now() >= created + HOUR);
}

#[tokio::test]
async fn sessions_written_without_a_creation_time_get_one_on_their_next_save() {
    let env = env(|c| c.absolute_lifetime = Some(HOUR));
    // As Flask-Session writes it: no `_created`.
    let id = Id::random();
    let mut python = SessionData::new();
    python.insert("k", "v").unwrap();
    let payload = Codec::MessagePack.encode(&python).unwrap();
    env.memory
        .create(&id, &payload, env.clock.now() + HOUR * 24)
        .await
        .unwrap();
    let cookie = format!("session={id}");
    env.clock.advance(HOUR * 2);
    let session = env.request(&cookie);
    assert!(
        session.get::<String>("k").await.unwrap().is_some(),
        "no creation time: kept"
    );
    session.insert("k", "w").await.unwrap();
    env.finish(&session).await;
    let data = env.data(&cookie).await.unwrap();
    let created: Timestamp = data.get(CREATED_KEY).unwrap().expect("stamped");
    assert_eq!(SystemTime::from(created), env.clock.now());
}

#[tokio::test]
async fn growing_a_session_past_its_size_limit_is_refused_before_anything_is_written() {
    let env = env(|c| c.max_size = 1024);
    let cookie = env.stored(&[("k", "v")]).await;
    let session = env.request(&cookie);
    let err = session.insert("big", &"x".repeat(2000)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge);
    assert!(!session.contains_key("big").await.unwrap());
    let outcome = env.finish(&session).await;
    assert_eq!(
        outcome.action,
        Action::None,
        "nothing changed, nothing written"
    );
}

#[tokio::test]
async fn stored_payload_over_the_size_limit_is_no_session_and_left_alone() {
    let env = env(|c| c.max_size = 1024);
    let id = Id::random();
    let mut data = SessionData::new();
    data.insert("big", &"x".repeat(4000)).unwrap();
    let payload = Codec::MessagePack.encode(&data).unwrap();
    env.memory
        .create(&id, &payload, env.clock.now() + HOUR)
        .await
        .unwrap();
    let session = env.request(&format!("session={id}"));
    assert!(session.is_empty().await.unwrap());
    assert_ne!(session.id().await.unwrap(), id);
    assert!(env.memory.load(&id).await.unwrap().is_some());
}

#[tokio::test]
async fn corrupt_record_met_while_merging_is_treated_as_gone() {
    let env = env(|_| ());
    let cookie = env.stored(&[("k", "v")]).await;
    let id = id_of(&cookie);
    let session = env.request(&cookie);
    session.insert("a", "1").await.unwrap();
    // Someone else writes bytes that are not a session.
    let version = env.memory.load(&id).await.unwrap().unwrap().version();
    env.memory
        .save(&id, b"\xc1garbage", env.clock.now() + HOUR, version)
        .await
        .unwrap();
    let outcome = env.finish(&session).await;
    assert_eq!((outcome.action, outcome.set_cookie), (Action::Gone, None));
    let left = env.memory.load(&id).await.unwrap().unwrap();
    assert_eq!(left.payload().as_ref(), b"\xc1garbage", "left alone");
}

#[tokio::test]
async fn two_requests_that_together_remove_every_key_end_the_session() {
    // Found by the merge property test: each request removes one of the two keys; the
    // later one's merge leaves nothing, which must end the session rather than store an
    // empty record.
    let env = env(|_| ());
    let cookie = env.stored(&[("a", "1"), ("b", "2")]).await;
    let (one, two) = (env.request(&cookie), env.request(&cookie));
    assert!(one.remove("a").await.unwrap());
    assert!(two.remove("b").await.unwrap());
    assert_eq!(env.finish(&one).await.action, Action::Saved);
    let second = env.finish(&two).await;
    assert_eq!(second.action, Action::Deleted);
    assert!(second.set_cookie.unwrap().contains("Max-Age=0"));
    assert!(env.data(&cookie).await.is_none(), "no empty record left");

    // The same through a rotation: nothing is left to move.
    let cookie = env.stored(&[("a", "1"), ("b", "2")]).await;
    let (one, two) = (env.request(&cookie), env.request(&cookie));
    assert!(one.remove("a").await.unwrap());
    two.cycle_id().await.unwrap();
    assert!(two.remove("b").await.unwrap());
    assert_eq!(env.finish(&one).await.action, Action::Saved);
    assert_eq!(env.finish(&two).await.action, Action::Deleted);
    assert!(env.data(&cookie).await.is_none());
    assert!(
        env.memory.is_empty(),
        "neither the old record nor a new one"
    );
}
