//! [`MemoryStoreBuilder`]: how large a [`MemoryStore`] may grow and which clock it reads.

use std::num::NonZeroUsize;
use std::sync::Arc;

use crate::{DynClock, MemoryStore, SystemClock};

/// Builds a [`MemoryStore`]; start with [`MemoryStore::builder`].
///
/// ```
/// use std::num::NonZeroUsize;
/// use std::sync::Arc;
/// use sessionkit_core::{ManualClock, MemoryStore};
///
/// let store = MemoryStore::builder()
///     .max_sessions(NonZeroUsize::new(10_000).unwrap())
///     .clock(Arc::new(ManualClock::new()))
///     .build();
/// assert_eq!(store.max_sessions().get(), 10_000);
/// ```
#[derive(Debug, Clone)]
pub struct MemoryStoreBuilder {
    max_sessions: NonZeroUsize,
    clock: DynClock,
}

impl MemoryStoreBuilder {
    pub(super) fn new() -> Self {
        Self {
            max_sessions: MemoryStore::DEFAULT_MAX_SESSIONS,
            clock: Arc::new(SystemClock),
        }
    }

    /// The most sessions the store holds, default
    /// [`MemoryStore::DEFAULT_MAX_SESSIONS`]. Creating one more evicts the least recently
    /// used. The type rules out zero, a store that could hold nothing.
    pub fn max_sessions(mut self, max_sessions: NonZeroUsize) -> Self {
        self.max_sessions = max_sessions;
        self
    }

    /// Where the store reads the time, default [`SystemClock`].
    pub fn clock(mut self, clock: DynClock) -> Self {
        self.clock = clock;
        self
    }

    /// An empty store with these settings.
    pub fn build(self) -> MemoryStore {
        MemoryStore::from_builder(self.max_sessions, self.clock)
    }
}
