//! [`ErrorResponse`]: how a web adapter answers a session error by default.

use crate::Error;

/// How a web adapter answers a session error when the application supplies no response of
/// its own: `503 Service Unavailable` with `Retry-After: 1` when the store is down or too
/// slow ([`Error::is_unavailable`]), `500 Internal Server Error` otherwise; an empty body
/// either way, so nothing about the store reaches the client.
///
/// ```
/// use std::time::Duration;
/// use sessionkit_core::{Error, ErrorResponse};
///
/// let timeout = Error::Timeout { backend: "redis", after: Duration::from_secs(1) };
/// let answer = ErrorResponse::for_error(&timeout);
/// assert_eq!((answer.status, answer.retry_after), (503, Some("1")));
/// assert_eq!(ErrorResponse::for_error(&Error::Conflict).status, 500);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorResponse {
    /// The status code.
    pub status: u16,
    /// The `Retry-After` header's value (seconds), if any.
    pub retry_after: Option<&'static str>,
}

impl ErrorResponse {
    /// The answer to `error`.
    pub fn for_error(error: &Error) -> Self {
        if error.is_unavailable() {
            Self {
                status: 503,
                retry_after: Some("1"),
            }
        } else {
            Self {
                status: 500,
                retry_after: None,
            }
        }
    }
}
