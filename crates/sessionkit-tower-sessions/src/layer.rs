//! [`TowerSessionsLayer`]: hands handlers a `tower_sessions::Session` run by sessionkit.

use sessionkit_core::{DynSessionStore, Error, SessionConfig, Sessions};
use tower_layer::Layer;

use crate::TowerSessionsService;

/// A tower [`Layer`] that gives every request a `tower_sessions::Session` (the type
/// axum-login, axum-messages and tower-sessions handlers extract) whose data lives in a
/// sessionkit session: loaded lazily through the lifecycle, written back at the end of the
/// request with sessionkit's merge, compare-and-set and logout rules, and sent with
/// sessionkit's cookie. It replaces tower-sessions' `SessionManagerLayer`.
///
/// The request also carries the `sessionkit_core::Session` itself, so handlers written for
/// `sessionkit-axum`'s extractor can share the route.
#[derive(Debug, Clone)]
pub struct TowerSessionsLayer {
    sessions: Sessions,
}

impl TowerSessionsLayer {
    /// A layer running `sessions`.
    pub fn new(sessions: Sessions) -> Self {
        Self { sessions }
    }

    /// A layer over `store` with `config`.
    ///
    /// # Errors
    /// [`Error::Config`] when `config` does not validate.
    pub fn from_store(store: DynSessionStore, config: SessionConfig) -> Result<Self, Error> {
        Ok(Self::new(Sessions::new(store, config)?))
    }

    /// The lifecycle this layer runs.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }
}

impl<S> Layer<S> for TowerSessionsLayer {
    type Service = TowerSessionsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TowerSessionsService::new(inner, self.sessions.clone())
    }
}
