//! The user index through the lifecycle: binding, re-binding and unbinding through every
//! end of request, listing, revocation (also racing requests in flight), the cap per user
//! and ids hashed at rest; on the memory store with a manual clock.

use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::{
    Action, Clock, ConfigKey, DynSessionStore, Error, ErrorKind, Id, ManualClock, MemoryStore,
    Outcome, Record, Session, SessionConfig, SessionStore, Sessions, SignerFormat, UserIndex,
    Version,
};

const MINUTE: Duration = Duration::from_secs(60);

struct Env {
    sessions: Sessions,
    memory: Arc<MemoryStore>,
    clock: ManualClock,
}

fn env(configure: impl FnOnce(&mut SessionConfig)) -> Env {
    let clock = ManualClock::new();
    let memory = Arc::new(MemoryStore::with_clock(Arc::new(clock.clone())));
    let mut config = SessionConfig {
        user_index: true,
        ..SessionConfig::default()
    };
    configure(&mut config);
    let store = Arc::clone(&memory) as DynSessionStore;
    let sessions = Sessions::with_clock(store, config, Arc::new(clock.clone())).unwrap();
    Env {
        sessions,
        memory,
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

impl Env {
    fn request(&self, cookie: &str) -> Session {
        self.sessions.start([cookie.as_bytes()])
    }

    async fn finish(&self, session: &Session) -> Outcome {
        self.sessions.finish(session).await.unwrap()
    }

    /// A new browser logging in as `user` (a fresh session, rotated as a login does);
    /// returns its cookie.
    async fn login(&self, user: &str) -> String {
        let session = self.sessions.start([]);
        session.insert("visits", &1).await.unwrap();
        let cookie = cookie_of(&self.finish(&session).await);
        self.login_on(&cookie, user).await
    }

    /// Logs in as `user` on the browser holding `cookie`: sets the user key and moves the
    /// session to a new id; returns the new cookie.
    async fn login_on(&self, cookie: &str, user: &str) -> String {
        let session = self.request(cookie);
        session.insert("_user_id", user).await.unwrap();
        session.cycle_id().await.unwrap();
        let outcome = self.finish(&session).await;
        assert_eq!(outcome.action, Action::Cycled);
        cookie_of(&outcome)
    }

    /// Whether the browser holding `cookie` is still logged in as someone.
    async fn logged_in(&self, cookie: &str) -> bool {
        let session = self.request(cookie);
        let user = session.get::<String>("_user_id").await.unwrap();
        self.finish(&session).await;
        user.is_some()
    }

    async fn count(&self, user: &str) -> usize {
        self.sessions.user_sessions(user).await.unwrap().len()
    }
}

#[tokio::test]
async fn a_login_binds_the_session_and_listing_describes_it() {
    let env = env(|c| c.refresh_step = Some(Duration::ZERO));
    let started = env.clock.now();
    let cookie = env.login("ada").await;
    env.clock.advance(MINUTE);
    assert!(env.logged_in(&cookie).await, "a read slides the expiry");

    let listed = env.sessions.user_sessions("ada").await.unwrap();
    assert_eq!(listed.len(), 1);
    let s = &listed[0];
    let id = id_of(&cookie);
    assert_eq!(s.hint.len(), 8);
    assert!(
        !id.to_string().contains(&s.hint),
        "the hint is not a piece of the id"
    );
    assert_eq!(s.created_at, Some(started));
    assert_eq!(
        s.expires_at,
        env.clock.now() + env.sessions.config().lifetime
    );
    assert_eq!(s.last_active, Some(env.clock.now()));
    let stored = env.memory.load(&id).await.unwrap().unwrap();
    assert_eq!(s.size, stored.payload().len());
    assert!(!s.current, "listed outside any request");
    assert!(env.sessions.user_sessions("bob").await.unwrap().is_empty());
}

#[tokio::test]
async fn integer_user_ids_bind_as_their_decimal_text() {
    let env = env(|_| {});
    let session = env.sessions.start([]);
    session.insert("_user_id", &42_u64).await.unwrap();
    env.finish(&session).await;
    let session = env.sessions.start([]);
    session.insert("_user_id", &-7_i64).await.unwrap();
    env.finish(&session).await;
    let session = env.sessions.start([]);
    session.insert("_user_id", &true).await.unwrap();
    env.finish(&session).await;
    assert_eq!(env.count("42").await, 1);
    assert_eq!(env.count("-7").await, 1);
    assert_eq!(env.count("true").await, 0, "a bool names nobody");
}

#[tokio::test]
async fn the_user_key_is_configurable() {
    let env = env(|c| c.user_key = "account".into());
    let session = env.sessions.start([]);
    session.insert("_user_id", "ada").await.unwrap();
    session.insert("account", "acct-9").await.unwrap();
    env.finish(&session).await;
    assert_eq!(env.count("acct-9").await, 1);
    assert_eq!(env.count("ada").await, 0);
}

#[tokio::test]
async fn a_field_of_a_map_can_name_the_user() {
    // axum-login keeps `{"user_id": 7, "auth_hash": <bytes>}` under `axum-login.data`.
    #[derive(serde::Serialize)]
    struct Data {
        user_id: i64,
        auth_hash: serde_bytes::ByteBuf,
    }
    let env = env(|c| c.user_key = "axum-login.data/user_id".into());
    let session = env.sessions.start([]);
    let data = Data {
        user_id: 7,
        auth_hash: serde_bytes::ByteBuf::from(vec![1, 2, 3]),
    };
    session.insert("axum-login.data", &data).await.unwrap();
    env.finish(&session).await;
    let session = env.sessions.start([]);
    session
        .insert("axum-login.data", "not a map")
        .await
        .unwrap();
    env.finish(&session).await;
    assert_eq!(env.count("7").await, 1);
}

#[tokio::test]
async fn logging_in_as_someone_else_rebinds_and_logging_out_unbinds() {
    let env = env(|_| {});
    let cookie = env.login("ada").await;
    // Another login on the same browser, as bob, without a logout first.
    let cookie = env.login_on(&cookie, "bob").await;
    assert_eq!(env.count("ada").await, 0, "re-bound away from ada");
    assert_eq!(env.count("bob").await, 1);

    // Re-binding without a rotation (a plain save) moves the binding too.
    let session = env.request(&cookie);
    session.insert("_user_id", "cy").await.unwrap();
    assert_eq!(env.finish(&session).await.action, Action::Saved);
    assert_eq!(env.count("bob").await, 0);
    assert_eq!(env.count("cy").await, 1);

    // Logout (removing the user key) unbinds: the record is gone, the flash message
    // written afterwards lives unbound under a new id.
    let session = env.request(&cookie);
    session.remove("_user_id").await.unwrap();
    session.insert("flash", "bye").await.unwrap();
    assert_eq!(env.finish(&session).await.action, Action::Cycled);
    assert_eq!(env.count("cy").await, 0);
}

#[tokio::test]
async fn a_merged_write_keeps_the_binding() {
    let env = env(|_| {});
    let cookie = env.login("ada").await;
    // Two overlapping requests: the first saves, the second merges onto it.
    let first = env.request(&cookie);
    let second = env.request(&cookie);
    first.insert("a", &1).await.unwrap();
    second.insert("b", &2).await.unwrap();
    assert_eq!(env.finish(&first).await.action, Action::Saved);
    assert_eq!(env.finish(&second).await.action, Action::Merged);
    assert_eq!(env.count("ada").await, 1);
    let session = env.request(&cookie);
    assert_eq!(session.get::<u32>("a").await.unwrap(), Some(1));
    assert_eq!(session.get::<u32>("b").await.unwrap(), Some(2));
}

#[tokio::test]
async fn revoking_all_sessions_logs_out_every_device() {
    let env = env(|_| {});
    let devices = [
        env.login("ada").await,
        env.login("ada").await,
        env.login("ada").await,
    ];
    let bob = env.login("bob").await;
    assert_eq!(env.count("ada").await, 3);
    assert_eq!(env.sessions.revoke_user("ada").await.unwrap(), 3);
    for cookie in &devices {
        assert!(
            !env.logged_in(cookie).await,
            "a revoked device is logged out"
        );
    }
    assert!(env.logged_in(&bob).await, "other users are untouched");
    assert_eq!(env.sessions.revoke_user("ada").await.unwrap(), 0);
}

#[tokio::test]
async fn revoke_other_sessions_keeps_the_current_one() {
    let env = env(|_| {});
    let phone = env.login("ada").await;
    let laptop = env.login("ada").await;
    let tablet = env.login("ada").await;

    let session = env.request(&laptop);
    let listed = session.user_sessions().await.unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed.iter().filter(|s| s.current).count(), 1);
    assert_eq!(session.revoke_other_sessions().await.unwrap(), 2);
    env.finish(&session).await;

    assert!(env.logged_in(&laptop).await);
    assert!(!env.logged_in(&phone).await);
    assert!(!env.logged_in(&tablet).await);
    assert_eq!(env.count("ada").await, 1);
}

#[tokio::test]
async fn revoke_other_sessions_during_a_login_keeps_the_new_session() {
    // "Log in and sign out everywhere else" in one request: the session moves to a new id
    // in this request, and neither the old nor the new record may be revoked by it.
    let env = env(|_| {});
    let other = env.login("ada").await;
    let session = env.sessions.start([]);
    session.insert("visits", &1).await.unwrap();
    let cookie = cookie_of(&env.finish(&session).await);

    let session = env.request(&cookie);
    session.insert("_user_id", "ada").await.unwrap();
    session.cycle_id().await.unwrap();
    // The old record is not bound to ada yet; the other device is.
    assert_eq!(session.revoke_other_sessions().await.unwrap(), 1);
    let outcome = env.finish(&session).await;
    assert_eq!(outcome.action, Action::Cycled);
    let cookie = cookie_of(&outcome);
    assert!(env.logged_in(&cookie).await);
    assert!(!env.logged_in(&other).await);
}

#[tokio::test]
async fn revoking_one_session_by_its_hint() {
    let env = env(|_| {});
    let first = env.login("ada").await;
    let second = env.login("ada").await;
    let listed = env.sessions.user_sessions("ada").await.unwrap();
    assert_eq!(listed.len(), 2);
    let target = listed[0].hint.clone();
    assert!(env.sessions.revoke_session("ada", &target).await.unwrap());
    assert!(!env.sessions.revoke_session("ada", &target).await.unwrap());
    assert!(
        !env.sessions
            .revoke_session("bob", &listed[1].hint)
            .await
            .unwrap(),
        "a hint only reaches its own user's sessions"
    );
    assert_eq!(
        [env.logged_in(&first).await, env.logged_in(&second).await]
            .iter()
            .filter(|live| **live)
            .count(),
        1
    );
}

#[tokio::test]
async fn the_cap_revokes_the_oldest_sessions_at_login() {
    let env = env(|c| c.max_per_user = NonZeroUsize::new(2));
    let first = env.login("ada").await;
    env.clock.advance(MINUTE);
    let second = env.login("ada").await;
    env.clock.advance(MINUTE);
    // Used recently, but the oldest: the cap goes by creation.
    assert!(env.logged_in(&first).await);
    let third = env.login("ada").await;
    assert!(!env.logged_in(&first).await, "the oldest went");
    assert!(env.logged_in(&second).await);
    assert!(env.logged_in(&third).await, "never the one logging in");
    assert_eq!(env.count("ada").await, 2);

    // Requests that do not log in never revoke.
    let session = env.request(&third);
    session.insert("x", &1).await.unwrap();
    env.finish(&session).await;
    assert_eq!(env.count("ada").await, 2);
}

#[tokio::test]
async fn a_cap_of_one_keeps_only_the_newest_login() {
    let env = env(|c| {
        c.user_index = false;
        c.max_per_user = NonZeroUsize::new(1);
    });
    let first = env.login("ada").await;
    let second = env.login("ada").await;
    assert!(!env.logged_in(&first).await);
    assert!(env.logged_in(&second).await);
}

#[tokio::test]
async fn a_revocation_racing_requests_in_flight_leaves_no_session() {
    // Ten devices of ada, each with a request in flight that loaded its session before the
    // revocation and writes after it: some save, some rotate (`cycle_id`). None may
    // survive, and none is sent a cookie.
    let env = env(|_| {});
    let mut cookies = Vec::new();
    for _ in 0..10 {
        cookies.push(env.login("ada").await);
    }
    let mut in_flight = Vec::new();
    for (n, cookie) in cookies.iter().enumerate() {
        let session = env.request(cookie);
        session.insert("n", &n).await.unwrap();
        if n % 3 == 0 {
            session.cycle_id().await.unwrap();
        }
        in_flight.push(session);
    }
    assert_eq!(env.sessions.revoke_user("ada").await.unwrap(), 10);
    for session in &in_flight {
        let outcome = env.finish(session).await;
        assert_eq!(outcome.action, Action::Gone, "{outcome:?}");
        assert!(outcome.set_cookie.is_none());
    }
    assert_eq!(env.count("ada").await, 0);
    for cookie in &cookies {
        assert!(!env.logged_in(cookie).await);
    }
}

#[tokio::test]
async fn a_rotation_that_finishes_during_a_revocation_is_found_by_a_later_pass() {
    // The rotation's new record appears after the revocation's first listing and the
    // rotation removes the old record itself before the revocation reaches it: only a
    // second pass can find the new record.
    let store = Arc::new(Interleaved::default());
    let clock = ManualClock::new();
    let config = SessionConfig {
        user_index: true,
        ..SessionConfig::default()
    };
    let sessions = Sessions::with_clock(
        Arc::clone(&store) as DynSessionStore,
        config,
        Arc::new(clock),
    )
    .unwrap();
    let session = sessions.start([]);
    session.insert("_user_id", "ada").await.unwrap();
    let cookie = cookie_of(&sessions.finish(&session).await.unwrap());

    let rotating = sessions.start([cookie.as_bytes()]);
    rotating.get::<String>("_user_id").await.unwrap();
    rotating.cycle_id().await.unwrap();
    // Right after the revocation's first listing, the rotation runs to its end.
    let sessions_in_hook = sessions.clone();
    *store.after_first_listing.lock().unwrap() = Some(Box::new(move || {
        let outcome = at_once(sessions_in_hook.finish(&rotating)).unwrap();
        assert_eq!(outcome.action, Action::Cycled);
    }));
    sessions.revoke_user("ada").await.unwrap();
    assert!(
        sessions.user_sessions("ada").await.unwrap().is_empty(),
        "the rotated session survived the revocation"
    );
}

/// The output of `future`, which must complete without waiting (the memory store never
/// waits), so that a synchronous hook can run a whole end of request.
fn at_once<F: Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the end of request waited"),
    }
}

/// The memory store, running a hook right after the first `sessions_of` returns.
#[derive(Default)]
struct Interleaved {
    memory: MemoryStore,
    after_first_listing: std::sync::Mutex<Option<Hook>>,
}

type Hook = Box<dyn FnOnce() + Send>;

impl std::fmt::Debug for Interleaved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interleaved").finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl SessionStore for Interleaved {
    async fn create(&self, id: &Id, payload: &[u8], at: SystemTime) -> Result<(), Error> {
        self.memory.create(id, payload, at).await
    }
    async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
        self.memory.load(id).await
    }
    async fn load_and_touch(&self, id: &Id, at: SystemTime) -> Result<Option<Record>, Error> {
        self.memory.load_and_touch(id, at).await
    }
    async fn save(&self, id: &Id, p: &[u8], at: SystemTime, v: Version) -> Result<(), Error> {
        self.memory.save(id, p, at, v).await
    }
    async fn touch(&self, id: &Id, at: SystemTime) -> Result<(), Error> {
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
    fn user_index(&self) -> Option<&dyn UserIndex> {
        Some(self)
    }
}

#[async_trait::async_trait]
impl UserIndex for Interleaved {
    async fn create_for(
        &self,
        id: &Id,
        p: &[u8],
        at: SystemTime,
        user: Option<&str>,
    ) -> Result<(), Error> {
        self.memory.create_for(id, p, at, user).await
    }
    async fn save_for(
        &self,
        id: &Id,
        p: &[u8],
        at: SystemTime,
        v: Version,
        user: Option<&str>,
    ) -> Result<(), Error> {
        self.memory.save_for(id, p, at, v, user).await
    }
    async fn touch_for(&self, id: &Id, at: SystemTime, user: Option<&str>) -> Result<(), Error> {
        self.memory.touch_for(id, at, user).await
    }
    async fn sessions_of(&self, user: &str) -> Result<Vec<crate::IndexedRecord>, Error> {
        let found = self.memory.sessions_of(user).await?;
        let hook = self.after_first_listing.lock().unwrap().take();
        if let Some(hook) = hook {
            hook();
        }
        Ok(found)
    }
    async fn unindex(&self, user: &str, id: &Id) -> Result<(), Error> {
        self.memory.unindex(user, id).await
    }
}

#[tokio::test]
async fn hashed_ids_keep_no_cookie_id_in_the_store() {
    let env = env(|c| c.hash_ids = true);
    let cookie = env.login("ada").await;
    let id = id_of(&cookie);
    assert!(
        env.memory.load(&id).await.unwrap().is_none(),
        "the store holds nothing under the cookie's id"
    );
    assert_eq!(env.memory.len(), 1, "one record, under another id");
    assert!(env.logged_in(&cookie).await, "the session works as before");
    let listed = env.sessions.user_sessions("ada").await.unwrap();
    assert_eq!(listed.len(), 1);
    // Every store path: save, merge, rotation, logout.
    let session = env.request(&cookie);
    session.insert("k", "v").await.unwrap();
    assert_eq!(env.finish(&session).await.action, Action::Saved);
    let session = env.request(&cookie);
    assert_eq!(session.revoke_other_sessions().await.unwrap(), 0);
    session.cycle_id().await.unwrap();
    let cookie = cookie_of(&env.finish(&session).await);
    assert!(env.logged_in(&cookie).await);
    assert_eq!(env.count("ada").await, 1);
    let session = env.request(&cookie);
    session.clear().await.unwrap();
    assert_eq!(env.finish(&session).await.action, Action::Deleted);
    assert!(env.memory.is_empty());
}

#[tokio::test]
async fn hashed_ids_cannot_be_combined_with_flask_session_signing() {
    let config = SessionConfig {
        hash_ids: true,
        signer_format: SignerFormat::Itsdangerous,
        ..SessionConfig::default()
    };
    let err = Sessions::new(Arc::new(MemoryStore::new()), config).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Config {
                key: ConfigKey::HashIds,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn the_index_on_a_store_without_one_is_refused_at_startup() {
    #[derive(Debug)]
    struct NoIndex(MemoryStore);
    #[async_trait::async_trait]
    impl SessionStore for NoIndex {
        async fn create(&self, id: &Id, p: &[u8], at: SystemTime) -> Result<(), Error> {
            self.0.create(id, p, at).await
        }
        async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
            self.0.load(id).await
        }
        async fn load_and_touch(&self, id: &Id, at: SystemTime) -> Result<Option<Record>, Error> {
            self.0.load_and_touch(id, at).await
        }
        async fn save(&self, id: &Id, p: &[u8], at: SystemTime, v: Version) -> Result<(), Error> {
            self.0.save(id, p, at, v).await
        }
        async fn touch(&self, id: &Id, at: SystemTime) -> Result<(), Error> {
            self.0.touch(id, at).await
        }
        async fn delete(&self, id: &Id) -> Result<(), Error> {
            self.0.delete(id).await
        }
        async fn delete_if(&self, id: &Id, v: Version) -> Result<(), Error> {
            self.0.delete_if(id, v).await
        }
    }
    for (configure, key) in [
        (
            (|c: &mut SessionConfig| c.user_index = true) as fn(&mut SessionConfig),
            ConfigKey::UserIndex,
        ),
        (
            |c: &mut SessionConfig| c.max_per_user = NonZeroUsize::new(3),
            ConfigKey::MaxPerUser,
        ),
    ] {
        let mut config = SessionConfig::default();
        configure(&mut config);
        let err = Sessions::new(Arc::new(NoIndex(MemoryStore::new())), config).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
        assert!(
            matches!(&err, Error::Unsupported { key: k, .. } if *k == key),
            "{err}"
        );
        assert!(err.to_string().contains(key.as_str()), "{err}");
    }
    // Without the index configured, the same store serves, and listing says what to set.
    let sessions = Sessions::new(
        Arc::new(NoIndex(MemoryStore::new())),
        SessionConfig::default(),
    )
    .unwrap();
    let err = sessions.user_sessions("ada").await.unwrap_err();
    assert!(err.to_string().contains("SESSION_USER_INDEX"), "{err}");
}

#[tokio::test]
async fn browser_sessions_with_the_index_keep_the_entry_alive_on_reads() {
    // With the index, a read's refresh is a touch that carries the user (not folded into
    // the load), so the index entry lives as long as the session.
    let env = env(|c| c.permanent = false);
    let cookie = env.login("ada").await;
    for _ in 0..3 {
        env.clock.advance(env.sessions.config().lifetime / 2);
        assert!(env.logged_in(&cookie).await);
    }
    assert_eq!(env.count("ada").await, 1);
}
