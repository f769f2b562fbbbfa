//! [`SessionMiddleware`]: installs the session lifecycle around an app's services.

use std::fmt;
use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use sessionkit_core::{DynSessionStore, Error, SessionConfig, Sessions};

use crate::SessionService;

/// Builds the response for a session error; see [`SessionMiddleware::on_error`].
pub(crate) type ErrorHandler = Arc<dyn Fn(&Error) -> HttpResponse + Send + Sync>;

/// An actix-web middleware ([`Transform`]) that gives every request a lazily loaded session
/// and writes it back when the response is ready. Wrap an `App` (or a scope) with it:
/// `App::new().wrap(middleware.clone())`, one clone per worker; the clones share one
/// lifecycle and one store.
#[derive(Clone)]
pub struct SessionMiddleware {
    sessions: Sessions,
    on_error: Option<ErrorHandler>,
}

impl SessionMiddleware {
    /// A middleware running `sessions`.
    pub fn new(sessions: Sessions) -> Self {
        Self {
            sessions,
            on_error: None,
        }
    }

    /// A middleware over `store` with `config`.
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
    /// use actix_web::HttpResponse;
    /// use sessionkit_actix::SessionMiddleware;
    /// # use sessionkit_core::{MemoryStore, SessionConfig};
    ///
    /// # let middleware = SessionMiddleware::from_store(Arc::new(MemoryStore::new()), SessionConfig::default()).unwrap();
    /// let middleware = middleware.on_error(|error| {
    ///     let mut response = if error.is_unavailable() {
    ///         HttpResponse::ServiceUnavailable()
    ///     } else {
    ///         HttpResponse::InternalServerError()
    ///     };
    ///     response.body("<h1>Please try again shortly</h1>")
    /// });
    /// ```
    pub fn on_error(
        mut self,
        handler: impl Fn(&Error) -> HttpResponse + Send + Sync + 'static,
    ) -> Self {
        self.on_error = Some(Arc::new(handler));
        self
    }

    /// The lifecycle this middleware runs.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }
}

impl fmt::Debug for SessionMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionMiddleware")
            .field("sessions", &self.sessions)
            .field("custom_error_handler", &self.on_error.is_some())
            .finish()
    }
}

impl<S, B> Transform<S, ServiceRequest> for SessionMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = SessionService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SessionService::new(
            service,
            self.sessions.clone(),
            self.on_error.clone(),
        )))
    }
}
