//! The [`Session`] extractor.

use std::ops::Deref;

use axum_core::extract::FromRequestParts;
use http::StatusCode;
use http::request::Parts;

/// The request's session, as an axum extractor. Derefs to [`sessionkit_core::Session`]:
/// `get`, `insert`, `remove`, `take`, `clear`, `cycle_id`, `set_permanent`, `id`, ...
///
/// Needs a [`SessionLayer`](crate::SessionLayer) around the route; without one, extraction
/// fails with a `500` that says so.
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

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<sessionkit_core::Session>()
            .cloned()
            .map(Session)
            .ok_or((
                StatusCode::INTERNAL_SERVER_ERROR,
                "sessionkit: no SessionLayer is installed around this route",
            ))
    }
}
