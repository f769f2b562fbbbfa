//! [actix-web] adapter for [sessionkit](https://docs.rs/sessionkit): a [`SessionMiddleware`]
//! that runs the request lifecycle around an app's services, and a [`Session`] extractor for
//! handlers, with the same handler API as the axum adapter.
//!
//! ```
//! use std::sync::Arc;
//! use actix_web::{App, web};
//! use sessionkit_actix::{Session, SessionError, SessionMiddleware};
//! use sessionkit_core::{MemoryStore, SessionConfig};
//!
//! async fn counter(session: Session) -> Result<String, SessionError> {
//!     let n: u64 = session.get("refreshed").await?.unwrap_or(0) + 1;
//!     session.insert("refreshed", &n).await?;
//!     Ok(format!("refreshed {n} times"))
//! }
//!
//! # fn main() -> Result<(), sessionkit_core::Error> {
//! let middleware = SessionMiddleware::from_store(Arc::new(MemoryStore::new()), SessionConfig::default())?;
//! // In `HttpServer::new(move || ...)`, one clone per worker.
//! let app = App::new()
//!     .wrap(middleware.clone())
//!     .route("/", web::get().to(counter));
//! # let _ = app; Ok(()) }
//! ```
//!
//! What the middleware does per request: reads the session cookie (no store call), lets the
//! handler load the session lazily, then stores changes once and adds `Set-Cookie` and
//! `Vary: Cookie` (when the session was accessed). A store failure becomes a
//! `503 Service Unavailable` (other session errors a `500`) unless the app supplies its own
//! response with [`SessionMiddleware::on_error`].
//!
//! [actix-web]: https://docs.rs/actix-web

mod error;
mod extract;
mod headers;
mod middleware;
mod service;

pub use error::SessionError;
pub use extract::Session;
pub use middleware::SessionMiddleware;
pub use service::SessionService;
