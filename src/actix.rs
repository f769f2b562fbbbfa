//! The actix-web adapter, configured from the environment (feature `actix`).
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use sessionkit::actix::{Session, SessionError};
//!
//! async fn index(session: Session) -> Result<String, SessionError> {
//!     let n: u64 = session.get("refreshed").await?.unwrap_or(0) + 1;
//!     session.insert("refreshed", &n).await?;
//!     Ok(format!("refreshed {n} times"))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // SESSION_TYPE and the other keys choose the store: no code change between backends.
//! let sessions = sessionkit::actix::middleware_from_env().await?;
//! HttpServer::new(move || {
//!     App::new()
//!         .wrap(sessions.clone())
//!         .route("/", web::get().to(index))
//! })
//! .bind(("127.0.0.1", 3000))?
//! .run()
//! .await?;
//! # Ok(()) }
//! ```

pub use sessionkit_actix::{Session, SessionError, SessionMiddleware, SessionService};

use crate::{Config, Error, connect};

/// A [`SessionMiddleware`] over the store `config` names, with its session settings.
///
/// # Errors
/// As [`connect`]: configuration and connection errors.
pub async fn middleware(config: &Config) -> Result<SessionMiddleware, Error> {
    let store = connect(config).await?;
    SessionMiddleware::from_store(store, config.session().clone())
}

/// A [`SessionMiddleware`] configured from the environment ([`Config::from_env`]).
///
/// # Errors
/// As [`Config::from_env`] and [`connect`].
pub async fn middleware_from_env() -> Result<SessionMiddleware, Error> {
    middleware(&Config::from_env()?).await
}
