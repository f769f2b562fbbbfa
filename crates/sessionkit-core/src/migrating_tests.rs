//! The migration rules on two memory stores with a manual clock: moves on read, writes and
//! deletes reaching both stores, the contract's answers for records never moved, the user
//! index over both, and a logout that races a move. (The conformance suite and real
//! servers: the facade's `tests/migrating_store.rs` and `tests/migration.rs`.)

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use super::MigratingStore;
use crate::{
    Clock, DynSessionStore, Error, Id, ManualClock, MemoryStore, Record, SessionStore, UserIndex,
    Version,
};

const LIFETIME: Duration = Duration::from_secs(3600);
const MINUTE: Duration = Duration::from_secs(60);

struct Env {
    new: Arc<MemoryStore>,
    old: Arc<MemoryStore>,
    store: MigratingStore,
    clock: ManualClock,
}

fn env() -> Env {
    let clock = ManualClock::new();
    let new = Arc::new(MemoryStore::with_clock(Arc::new(clock.clone())));
    let old = Arc::new(MemoryStore::with_clock(Arc::new(clock.clone())));
    let store = MigratingStore::new(
        Arc::clone(&new) as DynSessionStore,
        Arc::clone(&old) as DynSessionStore,
        LIFETIME,
    )
    .with_clock(Arc::new(clock.clone()));
    Env {
        new,
        old,
        store,
        clock,
    }
}

impl Env {
    fn in_(&self, by: Duration) -> SystemTime {
        self.clock.now() + by
    }

    /// A session only the old store has, as the app left it before the switch.
    async fn in_old(&self, payload: &[u8]) -> Id {
        let id = Id::random();
        self.old
            .create(&id, payload, self.in_(MINUTE))
            .await
            .unwrap();
        id
    }

    /// A session in both stores (a move that did not finish).
    async fn in_both(&self) -> Id {
        let id = self.in_old(b"old copy").await;
        self.new
            .create(&id, b"new copy", self.in_(MINUTE))
            .await
            .unwrap();
        id
    }
}

fn payload(record: Option<Record>) -> Vec<u8> {
    record.expect("a record").payload().to_vec()
}

#[tokio::test]
async fn a_session_only_in_the_old_store_moves_on_first_read() {
    let env = env();
    let id = env.in_old(b"counter=7").await;

    let record = env
        .store
        .load(&id)
        .await
        .unwrap()
        .expect("found in the old store");
    assert_eq!(record.payload().as_ref(), b"counter=7");
    assert!(
        env.old.load(&id).await.unwrap().is_none(),
        "left the old store"
    );
    let in_new = env
        .new
        .load(&id)
        .await
        .unwrap()
        .expect("moved to the new store");
    assert_eq!(
        in_new.version(),
        record.version(),
        "the new store's version"
    );

    env.store
        .save(&id, b"counter=8", env.in_(MINUTE), record.version())
        .await
        .expect("the version a move hands out is good for a save");
    assert_eq!(payload(env.new.load(&id).await.unwrap()), b"counter=8");
}

#[tokio::test]
async fn a_move_by_load_gets_the_idle_lifetime_and_by_load_and_touch_the_asked_expiry() {
    let env = env();
    let read = env.in_old(b"read").await;
    let touched = env.in_old(b"touched").await;
    env.store.load(&read).await.unwrap().unwrap();
    let asked = env.in_(10 * MINUTE);
    assert_eq!(
        payload(env.store.load_and_touch(&touched, asked).await.unwrap()),
        b"touched"
    );

    // Both outlive the old record's minute; the touched one ends at its asked expiry, the
    // read one at the idle lifetime.
    env.clock.advance(10 * MINUTE - Duration::from_secs(1));
    assert!(env.new.load(&touched).await.unwrap().is_some());
    env.clock.advance(Duration::from_secs(1));
    assert!(env.new.load(&touched).await.unwrap().is_none());
    assert!(env.new.load(&read).await.unwrap().is_some());
    env.clock.advance(LIFETIME - 10 * MINUTE);
    assert!(env.store.load(&read).await.unwrap().is_none());
}

#[tokio::test]
async fn a_session_in_neither_store_is_none_and_cannot_be_touched() {
    let env = env();
    let id = Id::random();
    assert!(env.store.load(&id).await.unwrap().is_none());
    assert!(
        env.store
            .load_and_touch(&id, env.in_(MINUTE))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        env.store
            .touch(&id, env.in_(MINUTE))
            .await
            .unwrap_err()
            .is_gone()
    );
}

#[tokio::test]
async fn an_expired_old_record_is_not_moved() {
    let env = env();
    let id = env.in_old(b"stale").await;
    env.clock.advance(MINUTE);
    assert!(env.store.load(&id).await.unwrap().is_none());
    assert!(env.new.load(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn touch_moves_a_session_only_in_the_old_store() {
    let env = env();
    let id = env.in_old(b"data").await;
    env.store.touch(&id, env.in_(5 * MINUTE)).await.unwrap();
    assert!(env.old.load(&id).await.unwrap().is_none());
    env.clock.advance(4 * MINUTE);
    assert_eq!(payload(env.new.load(&id).await.unwrap()), b"data");
}

#[tokio::test]
async fn the_new_store_wins_over_a_copy_left_in_the_old_one() {
    let env = env();
    let id = env.in_both().await;
    assert_eq!(payload(env.store.load(&id).await.unwrap()), b"new copy");
    assert!(
        env.old.load(&id).await.unwrap().is_some(),
        "a read leaves the old copy alone"
    );
}

#[tokio::test]
async fn a_logout_removes_both_copies() {
    let env = env();
    let id = env.in_both().await;
    env.store.delete(&id).await.unwrap();
    assert!(env.old.load(&id).await.unwrap().is_none());
    assert!(env.new.load(&id).await.unwrap().is_none());
    assert!(
        env.store.load(&id).await.unwrap().is_none(),
        "nothing comes back"
    );
}

#[tokio::test]
async fn a_save_removes_the_old_copy() {
    let env = env();
    let id = env.in_both().await;
    let version = env.store.load(&id).await.unwrap().unwrap().version();
    env.store
        .save(&id, b"saved", env.in_(MINUTE), version)
        .await
        .unwrap();
    assert!(env.old.load(&id).await.unwrap().is_none());
    assert_eq!(payload(env.store.load(&id).await.unwrap()), b"saved");
}

#[tokio::test]
async fn delete_if_removes_both_copies() {
    let env = env();
    let id = env.in_both().await;
    let version = env.store.load(&id).await.unwrap().unwrap().version();
    env.store.delete_if(&id, version).await.unwrap();
    assert!(env.old.load(&id).await.unwrap().is_none());
    assert!(env.store.load(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn save_and_delete_if_of_a_record_never_moved_conflict_and_change_nothing() {
    let env = env();
    let id = env.in_old(b"unmoved").await;
    let old_version = env.old.load(&id).await.unwrap().unwrap().version();

    let save = env
        .store
        .save(&id, b"x", env.in_(MINUTE), old_version)
        .await;
    assert!(save.unwrap_err().is_conflict());
    let delete = env.store.delete_if(&id, old_version).await;
    assert!(delete.unwrap_err().is_conflict());
    assert!(
        env.new.load(&id).await.unwrap().is_none(),
        "nothing written"
    );
    assert_eq!(payload(env.old.load(&id).await.unwrap()), b"unmoved");

    // Loading again, as the lifecycle's merge does, moves it and hands out a good version.
    let version = env.store.load(&id).await.unwrap().unwrap().version();
    env.store
        .save(&id, b"x", env.in_(MINUTE), version)
        .await
        .unwrap();
}

#[tokio::test]
async fn save_and_delete_if_of_a_record_in_neither_store_are_gone() {
    let env = env();
    let id = Id::random();
    let any = Version::new(1);
    let save = env.store.save(&id, b"x", env.in_(MINUTE), any).await;
    assert!(save.unwrap_err().is_gone());
    assert!(env.store.delete_if(&id, any).await.unwrap_err().is_gone());
}

#[tokio::test]
async fn create_collides_with_a_record_of_either_store() {
    let env = env();
    let old_only = env.in_old(b"old").await;
    let err = env
        .store
        .create(&old_only, b"x", env.in_(MINUTE))
        .await
        .unwrap_err();
    assert!(err.is_collision());
    assert_eq!(payload(env.old.load(&old_only).await.unwrap()), b"old");
    assert!(env.new.load(&old_only).await.unwrap().is_none());

    let fresh = Id::random();
    env.store
        .create(&fresh, b"x", env.in_(MINUTE))
        .await
        .unwrap();
    assert!(
        env.store
            .create(&fresh, b"y", env.in_(MINUTE))
            .await
            .unwrap_err()
            .is_collision()
    );
    assert!(
        env.old.load(&fresh).await.unwrap().is_none(),
        "created in the new store only"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_reads_of_one_session_all_succeed_and_leave_one_record() {
    let env = env();
    for _ in 0..50 {
        let id = env.in_old(b"shared").await;
        let store = Arc::new(env.store.clone());
        let reads: Vec<_> = (0..8)
            .map(|_| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { store.load(&id).await })
            })
            .collect();
        let mut versions = Vec::new();
        for read in reads {
            let record = read.await.unwrap().unwrap().expect("every read finds it");
            assert_eq!(record.payload().as_ref(), b"shared");
            versions.push(record.version());
        }
        let stored = env.new.load(&id).await.unwrap().expect("in the new store");
        assert!(
            versions.iter().all(|v| *v == stored.version()),
            "one record"
        );
        assert!(env.old.load(&id).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn the_user_index_lists_both_stores_and_unindexes_both() {
    let env = env();
    let moved = Id::random();
    let unmoved = Id::random();
    for id in [&moved, &unmoved] {
        env.old
            .create_for(id, b"ada's", env.in_(MINUTE), Some("ada"))
            .await
            .unwrap();
    }
    let fresh = Id::random();
    let index = env.store.user_index().expect("the new store has an index");
    index
        .create_for(&fresh, b"ada's", env.in_(MINUTE), Some("ada"))
        .await
        .unwrap();
    // A refresh at the end of a request moves the session and binds it in the new index.
    index
        .touch_for(&moved, env.in_(MINUTE), Some("ada"))
        .await
        .unwrap();
    assert!(env.old.load(&moved).await.unwrap().is_none());
    let in_new: Vec<Id> = env
        .new
        .sessions_of("ada")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(in_new.len(), 2);
    assert!(in_new.contains(&moved) && in_new.contains(&fresh));

    let mut listed: Vec<Id> = index
        .sessions_of("ada")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    listed.sort_by_key(Id::to_string);
    let mut expected = vec![moved, unmoved, fresh];
    expected.sort_by_key(Id::to_string);
    assert_eq!(listed, expected);

    for id in [&moved, &unmoved] {
        index.unindex("ada", id).await.unwrap();
    }
    let left: Vec<Id> = index
        .sessions_of("ada")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left, [fresh]);
    assert!(
        env.old.load(&unmoved).await.unwrap().is_some(),
        "unindex keeps the record"
    );
}

#[tokio::test]
async fn save_for_moves_nothing_and_removes_the_old_copy() {
    let env = env();
    let id = env.in_both().await;
    let index = env.store.user_index().unwrap();
    let version = env.store.load(&id).await.unwrap().unwrap().version();
    index
        .save_for(&id, b"bound", env.in_(MINUTE), version, Some("ada"))
        .await
        .unwrap();
    assert!(env.old.load(&id).await.unwrap().is_none());
    let listed = index.sessions_of("ada").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].record.payload().as_ref(), b"bound");
}

#[test]
fn it_is_named_after_the_new_store_and_leaves_timeouts_to_the_lifecycle() {
    let env = env();
    assert_eq!(env.store.backend(), "memory");
    assert_eq!(env.store.call_timeout(), None);
    assert!(!env.store.data_in_cookie());
    let without_index = MigratingStore::new(
        Arc::new(crate::CookieStore),
        Arc::clone(&env.old) as DynSessionStore,
        LIFETIME,
    );
    assert!(without_index.user_index().is_none());
}

/// Which call of a store another request's work is slipped in before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Load,
    Create,
    DeleteIf,
}

type Meanwhile = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A memory store that, at the first call of one kind, first runs what another request
/// does meanwhile (to completion), then the call: a fixed interleaving of two requests.
struct Interleaved {
    memory: Arc<MemoryStore>,
    /// The step, how many of its calls to let through first, and what runs before the
    /// next one.
    meanwhile: Mutex<Option<(Step, usize, Meanwhile)>>,
}

impl std::fmt::Debug for Interleaved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interleaved").finish_non_exhaustive()
    }
}

impl Interleaved {
    fn new(memory: &Arc<MemoryStore>) -> Arc<Self> {
        Arc::new(Self {
            memory: Arc::clone(memory),
            meanwhile: Mutex::new(None),
        })
    }

    fn before(&self, step: Step, meanwhile: impl Future<Output = ()> + Send + 'static) {
        self.before_nth(step, 0, meanwhile);
    }

    /// Runs `meanwhile` before the call of kind `step` that follows `skip` others.
    fn before_nth(
        &self,
        step: Step,
        skip: usize,
        meanwhile: impl Future<Output = ()> + Send + 'static,
    ) {
        *self.meanwhile.lock().unwrap() = Some((step, skip, Box::pin(meanwhile)));
    }

    async fn at(&self, step: Step) {
        let due = {
            let mut slot = self.meanwhile.lock().unwrap();
            match slot.take() {
                Some((at, 0, meanwhile)) if at == step => Some(meanwhile),
                Some((at, skip, meanwhile)) if at == step => {
                    *slot = Some((at, skip - 1, meanwhile));
                    None
                }
                other => {
                    *slot = other;
                    None
                }
            }
        };
        if let Some(meanwhile) = due {
            meanwhile.await;
        }
    }
}

#[async_trait::async_trait]
impl SessionStore for Interleaved {
    async fn create(&self, id: &Id, payload: &[u8], at: SystemTime) -> Result<(), Error> {
        self.at(Step::Create).await;
        self.memory.create(id, payload, at).await
    }
    async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
        self.at(Step::Load).await;
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
        self.at(Step::DeleteIf).await;
        self.memory.delete_if(id, v).await
    }
}

/// A migrating store whose new or old store is `Interleaved`.
fn interleaved(new: Arc<dyn SessionStore>, old: Arc<dyn SessionStore>) -> Arc<MigratingStore> {
    Arc::new(MigratingStore::new(new, old, LIFETIME))
}

#[tokio::test]
async fn a_logout_while_the_session_is_being_moved_wins() {
    let env = env();
    let id = env.in_old(b"logged in").await;
    let new = Interleaved::new(&env.new);
    let store = interleaved(new.clone(), env.old.clone());
    // The logout runs through the migrating store after the move read the old record and
    // before it writes its copy.
    let logout = Arc::clone(&store);
    new.before(
        Step::Create,
        async move { logout.delete(&id).await.unwrap() },
    );

    assert!(
        store.load(&id).await.unwrap().is_none(),
        "the read after a logout finds no session"
    );
    assert!(
        env.new.load(&id).await.unwrap().is_none(),
        "the copy was taken back"
    );
    assert!(env.old.load(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn a_read_that_misses_both_stores_while_another_moves_the_session_finds_it() {
    let env = env();
    let id = env.in_old(b"moving").await;
    let old = Interleaved::new(&env.old);
    let store = interleaved(env.new.clone(), old.clone());
    // This read misses the new store; before it asks the old one, another request moves
    // the session all the way (the old store has it no more).
    let other = Arc::clone(&store);
    old.before(Step::Load, async move {
        other
            .load(&id)
            .await
            .unwrap()
            .expect("the other request moves it");
    });

    let record = store
        .load(&id)
        .await
        .unwrap()
        .expect("found where it moved");
    assert_eq!(record.payload().as_ref(), b"moving");
    assert_eq!(
        env.new.load(&id).await.unwrap().unwrap().version(),
        record.version()
    );
}

#[tokio::test]
async fn a_read_whose_copy_collides_reads_the_other_copy() {
    let env = env();
    let id = env.in_old(b"moving").await;
    let new = Interleaved::new(&env.new);
    let store = interleaved(new.clone(), env.old.clone());
    // Both requests read the old record; the other writes its copy first.
    let other = Arc::clone(&store);
    new.before(Step::Create, async move {
        other
            .load(&id)
            .await
            .unwrap()
            .expect("the other request moves it");
    });

    let record = store.load(&id).await.unwrap().expect("the other copy");
    assert_eq!(
        env.new.load(&id).await.unwrap().unwrap().version(),
        record.version()
    );
    assert!(env.old.load(&id).await.unwrap().is_none());
}

/// Another request reads the copy being moved and saves it (which removes the old record,
/// as every save does) before the move removes the old record itself: the move must not
/// take that for a logout.
async fn a_save_of_the_copy_during_its_move_keeps_the_session(new_step: Option<(Step, usize)>) {
    let env = env();
    let id = env.in_old(b"moving").await;
    let (new, old) = (Interleaved::new(&env.new), Interleaved::new(&env.old));
    let store = interleaved(new.clone(), old.clone());
    let other = Arc::clone(&store);
    let expires = env.in_(MINUTE);
    let save = async move {
        let record = other.load(&id).await.unwrap().expect("the copy");
        other
            .save(&id, b"saved meanwhile", expires, record.version())
            .await
            .unwrap();
    };
    match new_step {
        // Before the move reads its copy back.
        Some((step, skip)) => new.before_nth(step, skip, save),
        // After it read its copy back, before it removes the old record.
        None => old.before(Step::DeleteIf, save),
    }

    let record = store
        .load(&id)
        .await
        .unwrap()
        .expect("the session lives on");
    assert_eq!(record.payload().as_ref(), b"saved meanwhile");
    assert_eq!(
        env.new.load(&id).await.unwrap().unwrap().version(),
        record.version()
    );
    assert!(env.old.load(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn a_save_of_the_copy_before_the_old_record_is_removed_keeps_the_session() {
    a_save_of_the_copy_during_its_move_keeps_the_session(None).await;
}

#[tokio::test]
async fn a_save_of_the_copy_before_it_is_read_back_keeps_the_session() {
    // The move's second load of the new store reads its copy back.
    a_save_of_the_copy_during_its_move_keeps_the_session(Some((Step::Load, 1))).await;
}
