//! [tower-sessions] on [sessionkit](https://docs.rs/sessionkit), both ways:
//!
//! - [`TowerSessionsLayer`] hands handlers a real `tower_sessions::Session` whose data lives
//!   in a sessionkit session: axum-login, axum-messages and handlers written for
//!   tower-sessions keep working unchanged, with sessionkit's lazy loading, sliding expiry,
//!   per-key merge, compare-and-set, "logout always wins", 503 on store outages, cookie
//!   settings and Flask-compatible signing. `cycle_id()` is sessionkit's rotation,
//!   `flush()` its `destroy`.
//! - [`TowerStore`] makes any sessionkit store a `tower_sessions_core::SessionStore`, for
//!   apps that keep tower-sessions' own layer and only change the backend.
//!
//! ```
//! use std::sync::Arc;
//! use axum::{Router, routing::get};
//! use sessionkit_core::{MemoryStore, SessionConfig};
//! use sessionkit_tower_sessions::{Session, TowerSessionsLayer};
//!
//! async fn counter(session: Session) -> String {
//!     let n: u64 = session.get("n").await.unwrap().unwrap_or(0) + 1;
//!     session.insert("n", n).await.unwrap();
//!     format!("{n}")
//! }
//!
//! # fn main() -> Result<(), sessionkit_core::Error> {
//! let layer = TowerSessionsLayer::from_store(Arc::new(MemoryStore::new()), SessionConfig::default())?;
//! let app: Router = Router::new().route("/", get(counter)).layer(layer);
//! # let _ = app; Ok(()) }
//! ```
//!
//! # axum-login
//!
//! axum-login's `AuthManagerLayerBuilder` wants tower-sessions' own layer; with sessionkit,
//! put axum-login's `AuthManager` service inside [`TowerSessionsLayer`]:
//!
//! ```
//! # use std::sync::Arc;
//! use axum::{Router, routing::get};
//! use axum_login::{AuthManager, AuthSession, login_required};
//! use axum_messages::MessagesManagerLayer;
//! use sessionkit_core::{MemoryStore, SessionConfig, Sessions};
//! use sessionkit_tower_sessions::TowerSessionsLayer;
//! # #[derive(Debug, Clone)] struct User;
//! # impl axum_login::AuthUser for User {
//! #     type Id = i64;
//! #     fn id(&self) -> i64 { 1 }
//! #     fn session_auth_hash(&self) -> &[u8] { b"hash" }
//! # }
//! # #[derive(Debug, Clone)] struct Backend;
//! # impl axum_login::AuthnBackend for Backend {
//! #     type User = User;
//! #     type Credentials = ();
//! #     type Error = std::convert::Infallible;
//! #     async fn authenticate(&self, _: ()) -> Result<Option<User>, Self::Error> { Ok(None) }
//! #     async fn get_user(&self, _: &i64) -> Result<Option<User>, Self::Error> { Ok(None) }
//! # }
//!
//! async fn protected(auth: AuthSession<Backend>) -> String {
//!     format!("{:?}", auth.user)
//! }
//!
//! # fn main() -> Result<(), sessionkit_core::Error> {
//! let sessions = Sessions::new(Arc::new(MemoryStore::new()), SessionConfig::default())?;
//! let backend = Backend;
//! let app: Router = Router::new()
//!     .route("/protected", get(protected))
//!     .route_layer(login_required!(Backend, login_url = "/login"))
//!     .layer(MessagesManagerLayer) // optional: flash messages
//!     .layer(tower::layer::layer_fn(move |inner| {
//!         // "axum-login.data": axum-login's default data key.
//!         AuthManager::new(inner, backend.clone(), "axum-login.data")
//!     }))
//!     .layer(TowerSessionsLayer::new(sessions));
//! # let _ = app; Ok(()) }
//! ```
//!
//! axum-login's `login` calls `cycle_id()` (a sessionkit rotation: the data moves to a new
//! id and the old record is deleted only if unchanged) and its `logout` and auth-hash
//! check call `flush()` (a sessionkit logout: the record is deleted, a request in flight
//! can no longer write to it, and a flash message set afterwards goes to a fresh session).
//!
//! # Values
//!
//! tower-sessions holds `serde_json::Value`s, sessionkit MessagePack (what Flask-Session
//! writes). A handler sees:
//!
//! | MessagePack (Python)                 | JSON seen by a tower-sessions handler              |
//! |--------------------------------------|----------------------------------------------------|
//! | nil, bool, int, float, str           | `null`, bool, number, string                       |
//! | array, map with string keys          | array, object                                      |
//! | binary (`bytes`)                     | array of numbers 0-255 (serde's `Vec<u8>` shape)   |
//! | timestamp, ext -1 (`datetime`)       | RFC 3339 string in UTC, nanoseconds kept           |
//! | NaN or infinite float, other ext types, non-string map keys, invalid UTF-8 | not shown |
//!
//! Nothing is silently changed: a key is written back only when a handler changed its
//! value, so binary and timestamps that were only read keep their MessagePack type, and
//! keys JSON cannot show stay hidden and untouched. A value a handler writes is stored as
//! serde encodes its `serde_json::Value` (a JSON array stays an array).
//!
//! # Differences from tower-sessions' own layer
//!
//! - `Session::id()` is a per-request placeholder, not the sessionkit id in the cookie
//!   (tower-sessions' ids have 16 bytes, sessionkit's 32); use the
//!   `sessionkit_core::Session`, also in the request's extensions, for the real one.
//! - `set_expiry` maps to permanence: `Expiry::OnSessionEnd` is a browser session,
//!   `OnInactivity` and `AtDateTime` a permanent one with sessionkit's configured lifetime
//!   (`PERMANENT_SESSION_LIFETIME`), whatever duration they carry.
//! - Store errors met while loading are answered `503` (`500` for other session errors)
//!   at the end of the request, whatever the handler made of the error it got.
//!
//! [tower-sessions]: https://docs.rs/tower-sessions

mod bridge;
mod headers;
mod layer;
mod service;
mod store;
mod value;

/// The session type handlers, axum-login and axum-messages take (`tower_sessions::Session`
/// is the same type), and its expiry setting.
pub use tower_sessions_core::{Expiry, Session};

pub use layer::TowerSessionsLayer;
pub use service::TowerSessionsService;
pub use store::TowerStore;
