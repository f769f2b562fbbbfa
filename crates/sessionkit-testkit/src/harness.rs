//! What the suite needs from a backend's test file: the store, and how to make time pass.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use sessionkit_core::{Clock, ManualClock, SessionStore};

/// Extra real time the suite waits past an expiry, for servers that count expiry in whole
/// seconds (Memcached, Redis `EX`) and for clock ticks between this process and the server.
pub const REAL_SLACK: Duration = Duration::from_millis(1500);

/// How the suite makes time pass for the store under test.
#[derive(Debug, Clone)]
pub enum TimeTravel {
    /// The store keeps real time (a real server): the suite sleeps, with [`REAL_SLACK`].
    Real,
    /// The store reads this clock: the suite advances it and never sleeps.
    Manual(ManualClock),
}

impl TimeTravel {
    /// The time the store sees now.
    pub fn now(&self) -> SystemTime {
        match self {
            Self::Real => SystemTime::now(),
            Self::Manual(clock) => clock.now(),
        }
    }

    /// Lets `by` pass for the store, so that an expiry `by` from now has passed.
    pub async fn pass(&self, by: Duration) {
        match self {
            Self::Real => tokio::time::sleep(by + REAL_SLACK).await,
            Self::Manual(clock) => clock.advance(by),
        }
    }
}

/// A store under test and its [`TimeTravel`].
///
/// ```
/// use std::sync::Arc;
/// use sessionkit_core::{ManualClock, MemoryStore};
/// use sessionkit_testkit::{Harness, TimeTravel};
///
/// let clock = ManualClock::new();
/// let harness = Harness::new(
///     MemoryStore::with_clock(Arc::new(clock.clone())),
///     TimeTravel::Manual(clock),
/// );
/// # let _ = harness;
/// ```
pub struct Harness {
    store: Box<dyn SessionStore>,
    time: TimeTravel,
    teardown: Option<Teardown>,
}

type Teardown = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

impl Harness {
    /// Wraps `store`; `time` must be the clock the store reads.
    pub fn new(store: impl SessionStore + 'static, time: TimeTravel) -> Self {
        Self {
            store: Box::new(store),
            time,
            teardown: None,
        }
    }

    /// Runs `teardown` after the case, whether it passed or failed: drop the table, the
    /// keys or the server the harness made.
    pub fn with_teardown<F, Fut>(mut self, teardown: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.teardown = Some(Box::new(move || Box::pin(teardown())));
        self
    }

    /// Runs the teardown, if any, and drops the store.
    pub async fn teardown(self) {
        let Self {
            store, teardown, ..
        } = self;
        drop(store);
        if let Some(teardown) = teardown {
            teardown().await;
        }
    }

    /// The store under test.
    pub fn store(&self) -> &dyn SessionStore {
        &*self.store
    }

    /// How time passes for it.
    pub fn time(&self) -> &TimeTravel {
        &self.time
    }
}

impl fmt::Debug for Harness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Harness")
            .field("store", &self.store)
            .field("time", &self.time)
            .field("teardown", &self.teardown.is_some())
            .finish()
    }
}
