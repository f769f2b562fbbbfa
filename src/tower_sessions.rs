//! The tower-sessions bridge, configured from the environment (feature `tower-sessions`):
//! axum-login, axum-messages and handlers that take a `tower_sessions::Session` on a
//! sessionkit store chosen by `SESSION_TYPE`.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use sessionkit::tower_sessions::Session; // the same type as `tower_sessions::Session`
//!
//! async fn index(session: Session) -> String {
//!     let n: u64 = session.get("refreshed").await.unwrap().unwrap_or(0) + 1;
//!     session.insert("refreshed", n).await.unwrap();
//!     format!("refreshed {n} times")
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let app: Router = Router::new()
//!     .route("/", get(index))
//!     .layer(sessionkit::tower_sessions::layer_from_env().await?);
//! # let _ = app; Ok(()) }
//! ```
//!
//! See [`sessionkit_tower_sessions`] for axum-login's setup and the value mapping.

pub use sessionkit_tower_sessions::{
    Expiry, Session, TowerSessionsLayer, TowerSessionsService, TowerStore,
};

use crate::{Config, Error, connect};

/// A [`TowerSessionsLayer`] over the store `config` names, with its session settings.
///
/// # Errors
/// As [`connect`]: configuration and connection errors.
pub async fn layer(config: &Config) -> Result<TowerSessionsLayer, Error> {
    let store = connect(config).await?;
    TowerSessionsLayer::from_store(store, config.session().clone())
}

/// A [`TowerSessionsLayer`] configured from the environment ([`Config::from_env`]).
///
/// # Errors
/// As [`Config::from_env`] and [`connect`].
pub async fn layer_from_env() -> Result<TowerSessionsLayer, Error> {
    layer(&Config::from_env()?).await
}

/// The store `config` names as a tower-sessions store, for tower-sessions' own
/// `SessionManagerLayer`, in the configured codec (`SESSION_SERIALIZATION_FORMAT`).
///
/// # Errors
/// As [`connect`].
pub async fn store(config: &Config) -> Result<TowerStore, Error> {
    Ok(TowerStore::new(connect(config).await?).codec(config.session().codec))
}
