//! The [`Session`] extractor.

use std::future::{Ready, ready};
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::error::ErrorInternalServerError;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

/// The request's session, as an actix-web extractor. Derefs to
/// [`sessionkit_core::Session`]: `get`, `insert`, `remove`, `take`, `clear`, `destroy`,
/// `cycle_id`, `set_permanent`, `id`, ...
///
/// Needs a [`SessionMiddleware`](crate::SessionMiddleware) around the route; without one,
/// extraction fails with a `500` that says so.
#[derive(Debug, Clone)]
pub struct Session(sessionkit_core::Session);

impl Session {
    /// The framework-neutral handle.
    pub fn into_inner(self) -> sessionkit_core::Session {
        self.0
    }
}

impl Deref for Session {
    type Target = sessionkit_core::Session;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FromRequest for Session {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            request
                .extensions()
                .get::<sessionkit_core::Session>()
                .cloned()
                .map(Session)
                .ok_or_else(|| {
                    ErrorInternalServerError("sessionkit: no SessionMiddleware wraps this route")
                }),
        )
    }
}
