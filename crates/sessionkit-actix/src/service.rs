//! [`SessionService`]: the lifecycle around one request.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, forward_ready};
use actix_web::http::header::{COOKIE, HeaderValue};
use actix_web::{HttpMessage, HttpResponse};
use sessionkit_core::{Error, Session, Sessions};

use crate::SessionError;
use crate::error::default_error_response;
use crate::headers::Headers;
use crate::middleware::ErrorHandler;

/// The service made by [`SessionMiddleware`](crate::SessionMiddleware).
pub struct SessionService<S> {
    service: S,
    sessions: Sessions,
    on_error: Option<ErrorHandler>,
}

impl<S> SessionService<S> {
    pub(crate) fn new(service: S, sessions: Sessions, on_error: Option<ErrorHandler>) -> Self {
        Self {
            service,
            sessions,
            on_error,
        }
    }
}

impl<S> fmt::Debug for SessionService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionService")
            .field("sessions", &self.sessions)
            .finish_non_exhaustive()
    }
}

type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T> + 'static>>;

impl<S, B> Service<ServiceRequest> for SessionService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let cookies = request.headers().get_all(COOKIE).map(HeaderValue::as_bytes);
        let session = self.sessions.start(cookies);
        request.extensions_mut().insert(session.clone());

        let response = self.service.call(request);
        let sessions = self.sessions.clone();
        let on_error = self.on_error.clone();
        Box::pin(async move {
            let response = response.await?;
            Ok(write_back(&sessions, &session, response, on_error.as_ref()).await)
        })
    }
}

/// Writes the session and decorates the response, or answers the session error.
async fn write_back<B>(
    sessions: &Sessions,
    session: &Session,
    mut response: ServiceResponse<B>,
    on_error: Option<&ErrorHandler>,
) -> ServiceResponse<EitherBody<B>> {
    let handler_failure = response
        .response()
        .error()
        .and_then(|error| error.as_error::<SessionError>());
    if let Some(SessionError(error)) = handler_failure {
        // The handler already failed on the session (the store is down, most likely):
        // nothing is written; the app's own error response replaces the default one.
        return match on_error {
            Some(handler) => {
                let replacement = handler(error);
                response.into_response(replacement).map_into_right_body()
            }
            None => response.map_into_left_body(),
        };
    }
    let error_response = |response: ServiceResponse<B>, error: &Error| {
        let replacement: HttpResponse = match on_error {
            Some(handler) => handler(error),
            None => default_error_response(error),
        };
        response.into_response(replacement).map_into_right_body()
    };
    let outcome = match sessions.finish(session).await {
        Ok(outcome) => outcome,
        Err(error) => {
            tracing::error!(?error, "could not store the session");
            return error_response(response, &error);
        }
    };
    // Set-Cookie, Cache-Control and Vary: the core decides, once for every adapter.
    if let Err(error) = outcome.apply_to(&mut Headers(response.headers_mut())) {
        tracing::error!(?error, "session cookie is not a valid header value");
        return error_response(response, &error);
    }
    response.map_into_left_body()
}
