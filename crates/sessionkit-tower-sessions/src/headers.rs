//! An `http::HeaderMap` as the lifecycle's [`ResponseHeaders`].

use std::borrow::Cow;

use http::{HeaderMap, HeaderValue};
use sessionkit_core::{BoxError, ResponseHeaders};

/// A response's header map, for [`Outcome::apply_to`](sessionkit_core::Outcome::apply_to).
pub(crate) struct Headers<'a>(pub(crate) &'a mut HeaderMap);

impl ResponseHeaders for Headers<'_> {
    fn values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
        self.0.get_all(name).iter().map(HeaderValue::as_bytes)
    }

    fn insert(&mut self, name: &'static str, value: &'static str) {
        self.0.insert(name, HeaderValue::from_static(value));
    }

    fn append(&mut self, name: &'static str, value: Cow<'static, str>) -> Result<(), BoxError> {
        let value = match value {
            Cow::Borrowed(value) => HeaderValue::from_static(value),
            Cow::Owned(value) => HeaderValue::try_from(value)?,
        };
        self.0.append(name, value);
        Ok(())
    }
}

/// The response to a session error, as [`ErrorResponse`](sessionkit_core::ErrorResponse)
/// decides it: `503` with `Retry-After: 1` for an unavailable or slow store, `500`
/// otherwise, with an empty body.
pub(crate) fn error_response<B: Default>(error: &sessionkit_core::Error) -> http::Response<B> {
    let answer = sessionkit_core::ErrorResponse::for_error(error);
    let mut response = http::Response::new(B::default());
    *response.status_mut() = http::StatusCode::from_u16(answer.status)
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(seconds) = answer.retry_after {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from_static(seconds));
    }
    response
}
