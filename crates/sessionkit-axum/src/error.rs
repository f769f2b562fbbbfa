//! Session errors as HTTP responses.

use std::sync::Arc;

use axum_core::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use sessionkit_core::{Error, ErrorResponse};

/// A session error returned by a handler (`Result<_, SessionError>` lets handlers use `?`
/// on every [`Session`](crate::Session) call).
///
/// It answers `503 Service Unavailable` with `Retry-After: 1` when the store is unavailable
/// or timed out, and `500 Internal Server Error` otherwise. When the layer has an
/// [`on_error`](crate::SessionLayer::on_error) handler, that handler's response is sent
/// instead.
#[derive(Debug)]
pub struct SessionError(pub Error);

impl From<Error> for SessionError {
    fn from(error: Error) -> Self {
        Self(error)
    }
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for SessionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Marks a response made from a [`SessionError`], so the layer can replace it with the
/// app's own error response.
#[derive(Debug, Clone)]
pub(crate) struct SessionFailure(pub(crate) Arc<Error>);

impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        tracing::error!(error = ?self.0, "session error in handler");
        let mut response = default_error_response::<axum_core::body::Body>(&self.0);
        response
            .extensions_mut()
            .insert(SessionFailure(Arc::new(self.0)));
        response
    }
}

/// The default response to a session error, as [`ErrorResponse`] decides it: `503` with
/// `Retry-After: 1` for an unavailable or slow store, `500` otherwise, with an empty body.
pub fn default_error_response<B: Default>(error: &Error) -> http::Response<B> {
    let answer = ErrorResponse::for_error(error);
    let mut response = http::Response::new(B::default());
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(seconds) = answer.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static(seconds));
    }
    response
}
