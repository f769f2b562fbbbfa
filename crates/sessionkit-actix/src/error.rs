//! Session errors as HTTP responses.

use actix_web::http::StatusCode;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{HttpResponse, ResponseError};
use sessionkit_core::{Error, ErrorResponse};

/// A session error returned by a handler (`Result<_, SessionError>` lets handlers use `?`
/// on every [`Session`](crate::Session) call).
///
/// It answers `503 Service Unavailable` with `Retry-After: 1` when the store is unavailable
/// or timed out, and `500 Internal Server Error` otherwise, with an empty body
/// ([`ErrorResponse`]). When the middleware has an
/// [`on_error`](crate::SessionMiddleware::on_error) handler, that handler's response is
/// sent instead.
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

impl ResponseError for SessionError {
    fn status_code(&self) -> StatusCode {
        let status = ErrorResponse::for_error(&self.0).status;
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        tracing::error!(error = ?self.0, "session error in handler");
        default_error_response(&self.0)
    }
}

/// The default response to a session error, as [`ErrorResponse`] decides it.
pub(crate) fn default_error_response(error: &Error) -> HttpResponse {
    let answer = ErrorResponse::for_error(error);
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    if let Some(seconds) = answer.retry_after {
        response.insert_header((RETRY_AFTER, seconds));
    }
    response.finish()
}
