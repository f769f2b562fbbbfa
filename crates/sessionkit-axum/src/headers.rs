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
