//! The axum / tower adapter, configured from the environment (feature `axum`).
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use sessionkit::axum::{Session, SessionError};
//!
//! async fn index(session: Session) -> Result<String, SessionError> {
//!     let n: u64 = session.get("refreshed").await?.unwrap_or(0) + 1;
//!     session.insert("refreshed", &n).await?;
//!     Ok(format!("refreshed {n} times"))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // SESSION_TYPE and the other keys choose the store: no code change between backends.
//! let app: Router = Router::new()
//!     .route("/", get(index))
//!     .layer(sessionkit::axum::layer_from_env().await?);
//! # let _ = app; Ok(()) }
//! ```

pub use sessionkit_axum::{
    Session, SessionError, SessionLayer, SessionService, default_error_response,
};

use crate::{Config, Error, connect};

/// A [`SessionLayer`] over the store `config` names, with its session settings.
///
/// # Errors
/// As [`connect`]: configuration and connection errors.
pub async fn layer(config: &Config) -> Result<SessionLayer, Error> {
    let store = connect(config).await?;
    SessionLayer::from_store(store, config.session().clone())
}

/// A [`SessionLayer`] configured from the environment ([`Config::from_env`]).
///
/// # Errors
/// As [`Config::from_env`] and [`connect`].
pub async fn layer_from_env() -> Result<SessionLayer, Error> {
    layer(&Config::from_env()?).await
}
