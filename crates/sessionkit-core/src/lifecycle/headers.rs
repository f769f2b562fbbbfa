//! [`ResponseHeaders`]: a response's headers as the lifecycle reads and changes them.

use std::borrow::Cow;

use crate::BoxError;

/// A response's headers, as [`Outcome::apply_to`](crate::Outcome::apply_to) reads and
/// changes them. Each web adapter implements it for its framework's header map, in a few
/// lines; which headers to add, keep or replace is decided in the core, once for every
/// framework. Header names are given in lower case.
///
/// ```
/// use std::borrow::Cow;
/// use sessionkit_core::{BoxError, ResponseHeaders};
///
/// /// A header list, as a framework might keep it.
/// struct Headers(Vec<(&'static str, Vec<u8>)>);
///
/// impl ResponseHeaders for Headers {
///     fn values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
///         self.0.iter().filter(move |(n, _)| *n == name).map(|(_, v)| v.as_slice())
///     }
///     fn insert(&mut self, name: &'static str, value: &'static str) {
///         self.0.retain(|(n, _)| *n != name);
///         self.0.push((name, value.as_bytes().to_vec()));
///     }
///     fn append(&mut self, name: &'static str, value: Cow<'static, str>) -> Result<(), BoxError> {
///         self.0.push((name, value.into_owned().into_bytes()));
///         Ok(())
///     }
/// }
/// ```
pub trait ResponseHeaders {
    /// Every value of the header `name`, in order.
    fn values(&self, name: &'static str) -> impl Iterator<Item = &[u8]>;

    /// Sets the header `name` to `value`, replacing the values it had.
    fn insert(&mut self, name: &'static str, value: &'static str);

    /// Adds `value` to the header `name`, keeping the values it had.
    ///
    /// # Errors
    /// When the framework refuses `value` as a header value.
    fn append(&mut self, name: &'static str, value: Cow<'static, str>) -> Result<(), BoxError>;
}
