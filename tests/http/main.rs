//! The request lifecycle through a real axum `Router`: one test per rule, on the memory
//! store with an injected clock.

mod concurrency;
mod cookies;
mod failures;
mod lifecycle;
mod signing;
mod support;
mod tampering;
