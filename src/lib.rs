//! Server-side web sessions for Rust, with the store chosen at run time by configuration,
//! as Flask-Session does with `SESSION_TYPE=redis`.
//!
//! The browser holds only a random session id in a cookie; the data lives in a store.
//! [`Config`] reads Flask-Session's keys from the environment (or a builder), and
//! [`connect`] hands back the store it names:
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::time::{Duration, SystemTime};
//! use sessionkit::{Codec, Config, Id, SessionData};
//!
//! let config = Config::from_env()?; // SESSION_TYPE unset: the memory store
//! let store = sessionkit::connect(&config).await?;
//!
//! let mut data = SessionData::new();
//! data.insert("username", "ada")?;
//! let id = Id::random();
//! let expires = SystemTime::now() + config.session().lifetime;
//! store.create(&id, &Codec::MessagePack.encode(&data)?, expires).await?;
//!
//! let record = store.load(&id).await?.expect("just stored");
//! let loaded = Codec::MessagePack.decode(record.payload())?;
//! assert_eq!(loaded.get::<String>("username")?.as_deref(), Some("ada"));
//! # Ok::<(), sessionkit::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Features
//!
//! | Feature | Adds |
//! |---|---|
//! | `axum` (default) | the tower / axum adapter, `axum::layer_from_env()` |
//! | `actix` | the actix-web adapter, `actix::middleware_from_env()` |
//! | `redis` | `SESSION_TYPE=redis` (`sessionkit-redis`) |
//! | `memcached` | `SESSION_TYPE=memcached` (`sessionkit-memcached`) |
//! | `postgres`, `mysql`, `sqlite` | the SQL stores (`sessionkit-sql`) |
//! | `testing` | `testing::TestStore` for an application's own tests |
//! | `full` | every backend and adapter |
//!
//! Web apps use the `axum` module (feature `axum`, on by default) or the `actix` module
//! (feature `actix`): one call, `sessionkit::axum::layer_from_env()` or
//! `sessionkit::actix::middleware_from_env()`, builds the session layer or middleware for
//! the configured store.
//!
//! The pieces live in their own crates, usable without this facade:
//! `sessionkit-core` (ids, data, codecs, the [`SessionStore`] contract, the request
//! lifecycle, the memory store), `sessionkit-axum` (the tower layer and axum extractor) and
//! `sessionkit-actix` (the actix-web middleware and extractor).
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod actix;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
mod config;
mod connect;
mod migrate_from;
mod parse;
mod session_type;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
#[cfg(feature = "tower-sessions")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower-sessions")))]
pub mod tower_sessions;

pub use config::{
    Config, ConfigBuilder, DEFAULT_CLEANUP_INTERVAL, DEFAULT_MEMCACHED_SERVER, DEFAULT_REDIS_URL,
};
pub use connect::connect;
pub use session_type::SessionType;
#[cfg(feature = "memcached")]
#[cfg_attr(docsrs, doc(cfg(feature = "memcached")))]
pub use sessionkit_memcached::MemcachedPlacement;

pub use sessionkit_core::{
    Action, Clock, Codec, ConfigKey, CookieConfig, CookieFormat, CookieStore, DynClock,
    DynSessionStore, Error, ErrorKind, ErrorResponse, ExpiredDeletion, Id, IndexedRecord,
    ManualClock, MemoryStore, MigratingStore, Outcome, Record, ResponseHeaders, SameSite,
    ScanCursor, ScanPage, ScannedRecord, SecretKey, Session, SessionConfig, SessionData,
    SessionEvent, SessionEventKind, SessionEvents, SessionScan, SessionStore, Sessions,
    SignerFormat, SystemClock, Timestamp, UserIndex, UserSession, Version,
};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
