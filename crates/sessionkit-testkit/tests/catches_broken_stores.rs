//! The suite is only worth something if it fails broken stores. Each store here breaks one
//! rule of the contract on top of the memory store; the case for that rule must panic.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use sessionkit_core::{Error, Id, ManualClock, MemoryStore, Record, SessionStore, Version};
use sessionkit_testkit::{Harness, TimeTravel, cases};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Flaw {
    /// `create` overwrites a live record.
    CreateOverwrites,
    /// `save` ignores the expected version.
    SaveIgnoresVersion,
    /// `save` of a missing record creates it.
    SaveResurrects,
    /// Records never expire.
    NeverExpires,
    /// `touch` rewrites the record, changing its version.
    TouchRewrites,
    /// `delete` of a missing record fails.
    DeleteNotIdempotent,
    /// `delete_if` deletes whatever the version.
    DeleteIfIgnoresVersion,
    /// `delete_if` of a missing record succeeds.
    DeleteIfOfMissingSucceeds,
}

#[derive(Debug)]
struct Broken {
    inner: MemoryStore,
    flaw: Flaw,
}

const FOREVER: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

impl Broken {
    fn expiry(&self, expires_at: SystemTime) -> SystemTime {
        if self.flaw == Flaw::NeverExpires {
            SystemTime::now() + FOREVER
        } else {
            expires_at
        }
    }
}

#[async_trait]
impl SessionStore for Broken {
    async fn create(&self, id: &Id, payload: &[u8], expires_at: SystemTime) -> Result<(), Error> {
        if self.flaw == Flaw::CreateOverwrites {
            self.inner.delete(id).await?;
        }
        self.inner
            .create(id, payload, self.expiry(expires_at))
            .await
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>, Error> {
        self.inner.load(id).await
    }

    async fn load_and_touch(
        &self,
        id: &Id,
        expires_at: SystemTime,
    ) -> Result<Option<Record>, Error> {
        self.inner.load_and_touch(id, self.expiry(expires_at)).await
    }

    async fn save(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
    ) -> Result<(), Error> {
        let expires_at = self.expiry(expires_at);
        match (self.flaw, self.inner.load(id).await?) {
            (Flaw::SaveIgnoresVersion, Some(current)) => {
                self.inner
                    .save(id, payload, expires_at, current.version())
                    .await
            }
            (Flaw::SaveResurrects, None) => self.inner.create(id, payload, expires_at).await,
            _ => self.inner.save(id, payload, expires_at, expected).await,
        }
    }

    async fn touch(&self, id: &Id, expires_at: SystemTime) -> Result<(), Error> {
        let expires_at = self.expiry(expires_at);
        if self.flaw == Flaw::TouchRewrites {
            let current = self.inner.load(id).await?.ok_or(Error::Gone)?;
            return self
                .inner
                .save(id, current.payload(), expires_at, current.version())
                .await;
        }
        self.inner.touch(id, expires_at).await
    }

    async fn delete(&self, id: &Id) -> Result<(), Error> {
        if self.flaw == Flaw::DeleteNotIdempotent && self.inner.load(id).await?.is_none() {
            return Err(Error::Gone);
        }
        self.inner.delete(id).await
    }

    async fn delete_if(&self, id: &Id, expected: Version) -> Result<(), Error> {
        match self.flaw {
            Flaw::DeleteIfIgnoresVersion => self.inner.delete(id).await,
            Flaw::DeleteIfOfMissingSucceeds if self.inner.load(id).await?.is_none() => Ok(()),
            _ => self.inner.delete_if(id, expected).await,
        }
    }
}

fn broken(flaw: Flaw) -> Harness {
    let clock = ManualClock::new();
    let inner = MemoryStore::with_clock(Arc::new(clock.clone()));
    Harness::new(Broken { inner, flaw }, TimeTravel::Manual(clock))
}

/// Runs one case against a store with `flaw` and asserts that the case fails.
macro_rules! assert_case_fails {
    ($flaw:expr, $case:ident) => {{
        let harness = broken($flaw);
        let outcome = tokio::spawn(async move {
            cases::$case(harness.store(), harness.time()).await;
        })
        .await;
        assert!(
            outcome.is_err_and(|e| e.is_panic()),
            "{} passed a store with {:?}",
            stringify!($case),
            $flaw
        );
    }};
}

#[tokio::test]
async fn overwriting_create_is_caught() {
    assert_case_fails!(Flaw::CreateOverwrites, create_collision_is_reported);
}

#[tokio::test]
async fn version_blind_save_is_caught() {
    assert_case_fails!(Flaw::SaveIgnoresVersion, save_with_stale_version_conflicts);
    assert_case_fails!(
        Flaw::SaveIgnoresVersion,
        concurrent_saves_from_one_version_one_wins
    );
}

#[tokio::test]
async fn resurrecting_save_is_caught() {
    assert_case_fails!(Flaw::SaveResurrects, save_after_delete_does_not_resurrect);
    assert_case_fails!(Flaw::SaveResurrects, save_after_expiry_is_gone);
    assert_case_fails!(Flaw::SaveResurrects, save_of_missing_record_is_gone);
}

#[tokio::test]
async fn missing_expiry_is_caught() {
    assert_case_fails!(Flaw::NeverExpires, expired_record_is_not_loaded);
    assert_case_fails!(Flaw::NeverExpires, save_sets_the_new_expiry);
}

#[tokio::test]
async fn rewriting_touch_is_caught() {
    assert_case_fails!(Flaw::TouchRewrites, touch_keeps_data_and_version);
}

#[tokio::test]
async fn non_idempotent_delete_is_caught() {
    assert_case_fails!(Flaw::DeleteNotIdempotent, delete_is_idempotent);
}

#[tokio::test]
async fn version_blind_delete_if_is_caught() {
    assert_case_fails!(
        Flaw::DeleteIfIgnoresVersion,
        delete_if_with_a_stale_version_conflicts
    );
}

#[tokio::test]
async fn delete_if_of_a_missing_record_succeeding_is_caught() {
    assert_case_fails!(
        Flaw::DeleteIfOfMissingSucceeds,
        delete_if_of_a_missing_record_is_gone
    );
}

#[tokio::test]
async fn the_unbroken_wrapper_passes() {
    // Control: the same wrapper with a flaw that none of these cases look at passes them,
    // so the failures above come from the flaws, not from the wrapper.
    let harness = broken(Flaw::DeleteNotIdempotent);
    cases::create_collision_is_reported(harness.store(), harness.time()).await;
    cases::save_with_stale_version_conflicts(harness.store(), harness.time()).await;
    cases::save_after_delete_does_not_resurrect(harness.store(), harness.time()).await;
    cases::expired_record_is_not_loaded(harness.store(), harness.time()).await;
    cases::touch_keeps_data_and_version(harness.store(), harness.time()).await;
}
