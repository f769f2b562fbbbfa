//! [axum] and [tower] adapter for [sessionkit](https://docs.rs/sessionkit): a
//! [`SessionLayer`] that runs the request lifecycle around any tower HTTP service, and a
//! [`Session`] extractor for handlers.
//!
//! ```
//! use std::sync::Arc;
//! use axum::{Router, routing::get};
//! use sessionkit_axum::{Session, SessionError, SessionLayer};
//! use sessionkit_core::{MemoryStore, SessionConfig};
//!
//! async fn counter(session: Session) -> Result<String, SessionError> {
//!     let n: u64 = session.get("refreshed").await?.unwrap_or(0) + 1;
//!     session.insert("refreshed", &n).await?;
//!     Ok(format!("refreshed {n} times"))
//! }
//!
//! # fn main() -> Result<(), sessionkit_core::Error> {
//! let layer = SessionLayer::from_store(Arc::new(MemoryStore::new()), SessionConfig::default())?;
//! let app: Router = Router::new().route("/", get(counter)).layer(layer);
//! # let _ = app; Ok(()) }
//! ```
//!
//! What the layer does per request: reads the session cookie (no store call), lets the
//! handler load the session lazily, then stores changes once and adds `Set-Cookie` and
//! `Vary: Cookie` (when the session was accessed). A store failure becomes a
//! `503 Service Unavailable` (other session errors a `500`) unless the app supplies its own
//! response with [`SessionLayer::on_error`].
//!
//! [axum]: https://docs.rs/axum
//! [tower]: https://docs.rs/tower

mod error;
mod extract;
mod headers;
mod layer;
mod service;

pub use error::{SessionError, default_error_response};
pub use extract::Session;
pub use layer::SessionLayer;
pub use service::SessionService;
