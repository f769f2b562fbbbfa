//! The framework-neutral request lifecycle: from the incoming cookie to a lazily loaded
//! [`Session`], and after the handler, to one store call and the `Set-Cookie` to send.

mod finish;
mod outcome;
#[cfg(test)]
mod outcome_tests;
mod session;
mod sessions;
mod shared;
mod state;

pub use outcome::{Action, Outcome};
pub use session::Session;
pub use sessions::Sessions;

/// The data key holding a session's permanence, as Flask writes it.
pub const PERMANENT_KEY: &str = "_permanent";

/// The data key holding a session's creation time, for the absolute lifetime: a
/// MessagePack timestamp (a `datetime` in Python), written when a session is first saved
/// by sessionkit and kept through rotations; a logout starts a new one.
pub const CREATED_KEY: &str = "_created";

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>(_: &T) {}
    fn assert_send<T: Send + 'static>(_: &T) {}

    #[test]
    fn session_and_its_futures_can_cross_await_points_and_threads() {
        let sessions = Sessions::new(
            std::sync::Arc::new(crate::MemoryStore::new()),
            crate::SessionConfig::default(),
        )
        .unwrap();
        let session = sessions.start([]);
        assert_send_sync(&session);
        assert_send_sync(&sessions);
        // Futures returned by the handle are Send, so handlers stay Send.
        let s = session.clone();
        assert_send(&async move { s.get::<String>("k").await });
        let s = session.clone();
        assert_send(&async move { s.insert("k", "v").await });
        let s = session.clone();
        assert_send(&async move { s.cycle_id().await });
        assert_send(&async move { sessions.finish(&session).await });
    }
}

#[cfg(test)]
mod timer_tests {
    use super::*;
    use crate::{DynSessionStore, MemoryStore, SessionConfig, TimeoutStore};
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn stores_that_bound_their_calls_are_not_timed_twice() {
        let memory: DynSessionStore = Arc::new(MemoryStore::new());
        let sessions = Sessions::new(memory, SessionConfig::default()).unwrap();
        assert!(
            !format!("{sessions:?}").contains("TimeoutStore"),
            "{sessions:?}"
        );

        // A store with a longer limit of its own than the configured one gets the timer.
        let slow: DynSessionStore = Arc::new(TimeoutStore::new(
            MemoryStore::new(),
            Duration::from_secs(30),
        ));
        let sessions = Sessions::new(slow, SessionConfig::default()).unwrap();
        let debug = format!("{sessions:?}");
        assert_eq!(debug.matches("TimeoutStore").count(), 2, "{debug}");
    }
}
