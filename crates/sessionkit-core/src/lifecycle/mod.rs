//! The framework-neutral request lifecycle: from the incoming cookie to a lazily loaded
//! [`Session`], and after the handler, to one store call and the `Set-Cookie` to send.

mod error_response;
#[cfg(test)]
mod events_tests;
mod finish;
mod finish_in_cookie;
mod headers;
#[cfg(test)]
mod in_cookie_tests;
mod outcome;
#[cfg(test)]
mod outcome_tests;
#[cfg(test)]
mod refresh_tests;
mod refreshes;
mod session;
mod sessions;
mod shared;
mod state;
mod users;
#[cfg(test)]
mod users_tests;

pub use error_response::ErrorResponse;
pub use headers::ResponseHeaders;
pub use outcome::{Action, Outcome};
pub use session::Session;
pub use sessions::Sessions;
pub use users::UserSession;

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
mod is_new_tests {
    use std::sync::Arc;

    use super::*;
    use crate::{Id, MemoryStore, SessionConfig};

    #[tokio::test]
    async fn is_new_says_whether_a_stored_record_was_loaded() {
        let sessions =
            Sessions::new(Arc::new(MemoryStore::new()), SessionConfig::default()).unwrap();
        let fresh = sessions.start([]);
        assert!(!fresh.has_cookie_id());
        assert!(fresh.is_new().await.unwrap());
        fresh.insert("k", "v").await.unwrap();
        let set_cookie = sessions.finish(&fresh).await.unwrap().set_cookie.unwrap();
        let cookie = set_cookie.split(';').next().unwrap().to_owned();

        let stored = sessions.start([cookie.as_bytes()]);
        assert!(stored.has_cookie_id());
        assert!(!stored.is_new().await.unwrap());

        let unknown = format!("session={}", Id::random());
        let unknown = sessions.start([unknown.as_bytes()]);
        assert!(
            unknown.has_cookie_id(),
            "a well-formed id, not yet looked up"
        );
        assert!(unknown.is_new().await.unwrap(), "no record behind it");
    }
}

#[cfg(test)]
mod timer_tests {
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    use async_trait::async_trait;

    use super::*;
    use crate::{Error, ErrorKind, Id, Record, SessionConfig, SessionStore, Version};

    /// A store whose loads take `delay` and that says it bounds its calls by `claims`.
    #[derive(Debug)]
    struct Slow {
        delay: Duration,
        claims: Option<Duration>,
    }

    #[async_trait]
    impl SessionStore for Slow {
        async fn create(&self, _: &Id, _: &[u8], _: SystemTime) -> Result<(), Error> {
            Ok(())
        }
        async fn load(&self, _: &Id) -> Result<Option<Record>, Error> {
            tokio::time::sleep(self.delay).await;
            Ok(None)
        }
        async fn load_and_touch(&self, id: &Id, _: SystemTime) -> Result<Option<Record>, Error> {
            self.load(id).await
        }
        async fn save(&self, _: &Id, _: &[u8], _: SystemTime, _: Version) -> Result<(), Error> {
            Ok(())
        }
        async fn touch(&self, _: &Id, _: SystemTime) -> Result<(), Error> {
            Ok(())
        }
        async fn delete(&self, _: &Id) -> Result<(), Error> {
            Ok(())
        }
        async fn delete_if(&self, _: &Id, _: Version) -> Result<(), Error> {
            Ok(())
        }
        fn call_timeout(&self) -> Option<Duration> {
            self.claims
        }
    }

    /// Loads a session from a store that takes 5 s, with a 1 s configured timeout.
    async fn load_through(claims: Option<Duration>) -> Result<(), Error> {
        let store = Arc::new(Slow {
            delay: Duration::from_secs(5),
            claims,
        });
        let sessions = Sessions::new(store, SessionConfig::default())?;
        let cookie = format!("session={}", Id::random());
        let session = sessions.start([cookie.as_bytes()]);
        session.get::<String>("k").await.map(drop)
    }

    #[tokio::test(start_paused = true)]
    async fn a_store_without_a_bound_of_its_own_is_timed_by_the_lifecycle() {
        let err = load_through(None).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
    }

    #[tokio::test(start_paused = true)]
    async fn a_store_with_a_longer_bound_than_configured_is_timed_by_the_lifecycle() {
        let err = load_through(Some(Duration::from_secs(30)))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
    }

    #[tokio::test(start_paused = true)]
    async fn a_store_that_bounds_its_calls_within_the_limit_is_not_timed_twice() {
        // The store says it bounds its own calls within 1 s, so no second timer runs (this
        // one breaks its word, which shows that no second timer is there).
        load_through(Some(Duration::from_millis(500)))
            .await
            .unwrap();
    }
}
