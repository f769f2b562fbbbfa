//! What the suite needs from a backend's test file: the store, and how to make time pass.

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
#[derive(Debug)]
pub struct Harness {
    store: Box<dyn SessionStore>,
    time: TimeTravel,
}

impl Harness {
    /// Wraps `store`; `time` must be the clock the store reads.
    pub fn new(store: impl SessionStore + 'static, time: TimeTravel) -> Self {
        Self {
            store: Box::new(store),
            time,
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
