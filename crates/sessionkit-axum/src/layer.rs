//! [`SessionLayer`]: installs the session lifecycle around a service.

use std::fmt;
use std::sync::Arc;

use sessionkit_core::{DynSessionStore, Error, SessionConfig, Sessions};
use tower_layer::Layer;

use crate::SessionService;

/// Builds the response for a session error; see [`SessionLayer::on_error`].
pub(crate) type ErrorHandler<B> = Arc<dyn Fn(&Error) -> http::Response<B> + Send + Sync>;

/// A tower [`Layer`] that gives every request a lazily loaded session and writes it back
/// when the response is ready.
///
/// `B` is the response body type of the wrapped service (axum's `Body` by default).
pub struct SessionLayer<B = axum_core::body::Body> {
    sessions: Sessions,
    on_error: Option<ErrorHandler<B>>,
}

impl<B> SessionLayer<B> {
    /// A layer running `sessions`.
    pub fn new(sessions: Sessions) -> Self {
        Self {
            sessions,
            on_error: None,
        }
    }

    /// A layer over `store` with `config`.
    ///
    /// # Errors
    /// [`Error::Config`] when `config` does not validate.
    pub fn from_store(store: DynSessionStore, config: SessionConfig) -> Result<Self, Error> {
        Ok(Self::new(Sessions::new(store, config)?))
    }

    /// Answers session errors (a failing store when the session is written, or a
    /// [`SessionError`](crate::SessionError) returned by a handler) with `handler`'s
    /// response instead of the default `503`/`500`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use axum::body::Body;
    /// use http::{Response, StatusCode};
    /// use sessionkit_axum::SessionLayer;
    /// # use sessionkit_core::{MemoryStore, SessionConfig};
    ///
    /// # let layer: SessionLayer = SessionLayer::from_store(Arc::new(MemoryStore::new()), SessionConfig::default()).unwrap();
    /// let layer = layer.on_error(|error| {
    ///     let status = if error.is_unavailable() {
    ///         StatusCode::SERVICE_UNAVAILABLE
    ///     } else {
    ///         StatusCode::INTERNAL_SERVER_ERROR
    ///     };
    ///     let mut response = Response::new(Body::from("<h1>Please try again shortly</h1>"));
    ///     *response.status_mut() = status;
    ///     response
    /// });
    /// ```
    pub fn on_error(
        mut self,
        handler: impl Fn(&Error) -> http::Response<B> + Send + Sync + 'static,
    ) -> Self {
        self.on_error = Some(Arc::new(handler));
        self
    }

    /// The lifecycle this layer runs.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }
}

impl<B> Clone for SessionLayer<B> {
    fn clone(&self) -> Self {
        Self {
            sessions: self.sessions.clone(),
            on_error: self.on_error.clone(),
        }
    }
}

impl<B> fmt::Debug for SessionLayer<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionLayer")
            .field("sessions", &self.sessions)
            .field("custom_error_handler", &self.on_error.is_some())
            .finish()
    }
}

impl<S, B> Layer<S> for SessionLayer<B> {
    type Service = SessionService<S, B>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService::new(inner, self.sessions.clone(), self.on_error.clone())
    }
}
