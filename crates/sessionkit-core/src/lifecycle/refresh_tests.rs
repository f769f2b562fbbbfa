//! Throttled expiry refresh (`SESSION_REFRESH_STEP`): reads within a step of this process's
//! last refresh write nothing and send no cookie; past it they slide the expiry as before;
//! the stored expiry is never more than one step behind. On the memory store with a manual
//! clock, counting the store's writes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use crate::{
    Action, DynSessionStore, Error, Id, ManualClock, MemoryStore, Outcome, Record, SessionConfig,
    SessionStore, Sessions, Version,
};

const LIFETIME: Duration = Duration::from_secs(100 * 60);
/// 1% of the lifetime: the default step.
const STEP: Duration = Duration::from_secs(60);

/// The memory store, counting calls by name.
#[derive(Debug)]
struct Counting {
    memory: MemoryStore,
    calls: Mutex<HashMap<&'static str, usize>>,
}

impl Counting {
    fn count(&self, name: &'static str) {
        *self.calls.lock().unwrap().entry(name).or_default() += 1;
    }

    fn calls(&self, name: &str) -> usize {
        self.calls.lock().unwrap().get(name).copied().unwrap_or(0)
    }

    /// Calls that move an expiry or write.
    fn writes(&self) -> usize {
        ["touch", "load_and_touch", "save", "create"]
            .iter()
            .map(|n| self.calls(n))
            .sum()
    }
}

#[async_trait]
impl SessionStore for Counting {
    async fn create(&self, id: &Id, p: &[u8], at: SystemTime) -> Result<(), Error> {
        self.count("create");
        self.memory.create(id, p, at).await
    }
    async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
        self.count("load");
        self.memory.load(id).await
    }
    async fn load_and_touch(&self, id: &Id, at: SystemTime) -> Result<Option<Record>, Error> {
        self.count("load_and_touch");
        self.memory.load_and_touch(id, at).await
    }
    async fn save(&self, id: &Id, p: &[u8], at: SystemTime, v: Version) -> Result<(), Error> {
        self.count("save");
        self.memory.save(id, p, at, v).await
    }
    async fn touch(&self, id: &Id, at: SystemTime) -> Result<(), Error> {
        self.count("touch");
        self.memory.touch(id, at).await
    }
    async fn delete(&self, id: &Id) -> Result<(), Error> {
        self.memory.delete(id).await
    }
    async fn delete_if(&self, id: &Id, v: Version) -> Result<(), Error> {
        self.memory.delete_if(id, v).await
    }
    fn call_timeout(&self) -> Option<Duration> {
        Some(Duration::ZERO)
    }
}

struct Env {
    store: Arc<Counting>,
    clock: ManualClock,
    config: SessionConfig,
}

fn env(configure: impl FnOnce(&mut SessionConfig)) -> (Env, Sessions) {
    let clock = ManualClock::new();
    let store = Arc::new(Counting {
        memory: MemoryStore::with_clock(Arc::new(clock.clone())),
        calls: Mutex::default(),
    });
    let mut config = SessionConfig {
        lifetime: LIFETIME,
        ..SessionConfig::default()
    };
    configure(&mut config);
    let env = Env {
        store,
        clock,
        config,
    };
    let sessions = env.sessions();
    (env, sessions)
}

impl Env {
    /// Another process's lifecycle over the same store.
    fn sessions(&self) -> Sessions {
        Sessions::with_clock(
            Arc::clone(&self.store) as DynSessionStore,
            self.config.clone(),
            Arc::new(self.clock.clone()),
        )
        .unwrap()
    }
}

fn cookie_of(outcome: &Outcome) -> String {
    let set_cookie = outcome.set_cookie.as_deref().expect("a Set-Cookie");
    set_cookie.split(';').next().unwrap().to_owned()
}

async fn create(sessions: &Sessions) -> String {
    let session = sessions.start([]);
    session.insert("k", "v").await.unwrap();
    cookie_of(&sessions.finish(&session).await.unwrap())
}

async fn read(sessions: &Sessions, cookie: &str) -> Outcome {
    let session = sessions.start([cookie.as_bytes()]);
    assert_eq!(
        session.get::<String>("k").await.unwrap().as_deref(),
        Some("v"),
        "the session is live"
    );
    sessions.finish(&session).await.unwrap()
}

#[test]
fn the_default_step_is_one_percent_of_the_lifetime() {
    let (env, _) = env(|_| {});
    assert_eq!(env.config.effective_refresh_step(), STEP);
}

#[test]
fn a_step_as_long_as_the_lifetime_is_refused() {
    let config = SessionConfig {
        lifetime: LIFETIME,
        refresh_step: Some(LIFETIME),
        ..SessionConfig::default()
    };
    let err = config.validate().unwrap_err();
    assert!(err.to_string().contains("SESSION_REFRESH_STEP"), "{err}");
}

#[tokio::test]
async fn permanent_reads_within_the_step_write_nothing_and_send_no_cookie() {
    let (env, sessions) = env(|_| {});
    let cookie = create(&sessions).await;
    let writes = env.store.writes();
    for _ in 0..5 {
        env.clock.advance(STEP / 6);
        let outcome = read(&sessions, &cookie).await;
        assert_eq!(outcome.action, Action::None);
        assert!(outcome.set_cookie.is_none());
    }
    assert_eq!(env.store.writes(), writes, "no store write within the step");
    assert_eq!(env.store.calls("load"), 5, "one load per read");

    // Past the step: the expiry slides and the cookie follows, exactly.
    env.clock.advance(STEP / 3);
    let outcome = read(&sessions, &cookie).await;
    assert_eq!(outcome.action, Action::Refreshed);
    let set_cookie = outcome.set_cookie.unwrap();
    assert!(
        set_cookie.contains(&format!("Max-Age={}", LIFETIME.as_secs())),
        "{set_cookie}"
    );
    assert_eq!(env.store.calls("touch"), 1);
}

#[tokio::test]
async fn browser_reads_fold_the_refresh_only_when_it_is_due() {
    let (env, sessions) = env(|c| c.permanent = false);
    let cookie = create(&sessions).await;
    env.clock.advance(STEP / 2);
    assert_eq!(read(&sessions, &cookie).await.action, Action::None);
    assert_eq!(env.store.calls("load"), 1, "a plain load within the step");
    assert_eq!(env.store.calls("load_and_touch"), 0);
    env.clock.advance(STEP);
    assert_eq!(read(&sessions, &cookie).await.action, Action::None);
    assert_eq!(env.store.calls("load_and_touch"), 1, "folded once due");
    assert_eq!(env.store.calls("touch"), 0);
}

#[tokio::test]
async fn the_stored_expiry_is_never_more_than_a_step_behind() {
    let (env, sessions) = env(|_| {});
    let cookie = create(&sessions).await;
    // Reads every 59 s for a whole lifetime and more: each is within a step of the last
    // refresh, or refreshes; the session must stay live throughout, and once reads stop
    // it must live at least the lifetime minus one step after the last read.
    for _ in 0..(LIFETIME.as_secs() / 59 + 10) {
        env.clock.advance(Duration::from_secs(59));
        read(&sessions, &cookie).await;
    }
    env.clock.advance(LIFETIME - STEP - Duration::from_secs(1));
    let session = sessions.start([cookie.as_bytes()]);
    assert_eq!(
        session.get::<String>("k").await.unwrap().as_deref(),
        Some("v"),
        "expired earlier than one step before a strict sliding window"
    );
    assert!(
        env.store.calls("touch") < 100,
        "about one refresh per step, not one per read: {}",
        env.store.calls("touch")
    );
}

#[tokio::test]
async fn another_process_refreshes_on_its_first_read() {
    let (env, sessions) = env(|_| {});
    let cookie = create(&sessions).await;
    env.clock.advance(STEP / 2);
    let other = env.sessions();
    assert_eq!(read(&other, &cookie).await.action, Action::Refreshed);
    assert_eq!(read(&other, &cookie).await.action, Action::None);
    assert_eq!(read(&sessions, &cookie).await.action, Action::None);
}

#[tokio::test]
async fn a_step_of_zero_refreshes_every_read() {
    let (env, sessions) = env(|c| c.refresh_step = Some(Duration::ZERO));
    let cookie = create(&sessions).await;
    for _ in 0..3 {
        env.clock.advance(Duration::from_secs(1));
        assert_eq!(read(&sessions, &cookie).await.action, Action::Refreshed);
    }
    assert_eq!(env.store.calls("touch"), 3);
}

#[tokio::test]
async fn writes_are_never_throttled() {
    let (env, sessions) = env(|_| {});
    let cookie = create(&sessions).await;
    env.clock.advance(Duration::from_secs(1));
    let session = sessions.start([cookie.as_bytes()]);
    session.insert("k", "w").await.unwrap();
    assert_eq!(
        sessions.finish(&session).await.unwrap().action,
        Action::Saved
    );
    assert_eq!(env.store.calls("save"), 1);
}
