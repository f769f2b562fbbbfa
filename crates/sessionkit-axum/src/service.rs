//! [`SessionService`]: the lifecycle around one request.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::header::COOKIE;
use http::{HeaderValue, Request, Response};
use sessionkit_core::{Error, Session, Sessions};
use tower_service::Service;

use crate::default_error_response;
use crate::error::SessionFailure;
use crate::headers::Headers;
use crate::layer::ErrorHandler;

/// The service made by [`SessionLayer`](crate::SessionLayer).
pub struct SessionService<S, B> {
    inner: S,
    sessions: Sessions,
    on_error: Option<ErrorHandler<B>>,
}

impl<S, B> SessionService<S, B> {
    pub(crate) fn new(inner: S, sessions: Sessions, on_error: Option<ErrorHandler<B>>) -> Self {
        Self {
            inner,
            sessions,
            on_error,
        }
    }
}

impl<S: Clone, B> Clone for SessionService<S, B> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            sessions: self.sessions.clone(),
            on_error: self.on_error.clone(),
        }
    }
}

impl<S: fmt::Debug, B> fmt::Debug for SessionService<S, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionService")
            .field("inner", &self.inner)
            .field("sessions", &self.sessions)
            .finish_non_exhaustive()
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S, ResBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let cookies = request
            .headers()
            .get_all(COOKIE)
            .iter()
            .map(HeaderValue::as_bytes);
        let session = self.sessions.start(cookies);
        request.extensions_mut().insert(session.clone());

        // The clone that was driven to readiness serves this request (tower's guidance).
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let sessions = self.sessions.clone();
        let on_error = self.on_error.clone();
        Box::pin(async move {
            let response = inner.call(request).await?;
            Ok(write_back(&sessions, &session, response, on_error.as_ref()).await)
        })
    }
}

/// Writes the session and decorates the response, or answers the session error.
async fn write_back<B: Default>(
    sessions: &Sessions,
    session: &Session,
    mut response: Response<B>,
    on_error: Option<&ErrorHandler<B>>,
) -> Response<B> {
    if let Some(SessionFailure(error)) = response.extensions().get::<SessionFailure>() {
        // The handler already failed on the session (the store is down, most likely):
        // nothing is written; the app's own error response replaces the default one.
        return match on_error {
            Some(handler) => handler(error),
            None => response,
        };
    }
    let error_response = |error: &Error| match on_error {
        Some(handler) => handler(error),
        None => default_error_response(error),
    };
    let outcome = match sessions.finish(session).await {
        Ok(outcome) => outcome,
        Err(error) => {
            tracing::error!(?error, "could not store the session");
            return error_response(&error);
        }
    };
    // Set-Cookie, Cache-Control and Vary: the core decides, once for every adapter.
    if let Err(error) = outcome.apply_to(&mut Headers(response.headers_mut())) {
        tracing::error!(?error, "session cookie is not a valid header value");
        return error_response(&error);
    }
    response
}
