//! The core of [sessionkit](https://docs.rs/sessionkit): server-side web sessions with
//! pluggable stores.
//!
//! - [`Id`]: a 256-bit random session id, the only thing the browser holds.
//! - [`SessionData`]: the session's contents, typed through serde, with per-key change
//!   tracking.
//! - [`Codec`]: MessagePack (default) or JSON bytes, as Flask-Session writes them.
//! - [`SessionStore`]: the contract every backend meets, checked by `sessionkit-testkit`.
//! - [`MemoryStore`]: the in-process store and embedded default.
//! - [`SessionConfig`] and [`CookieConfig`]: behaviour and cookie settings.
//! - [`Error`]: one error type; branch on [`Error::kind`].
//! - [`Clock`]: where the time comes from, replaceable in tests.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
mod codec;
mod config;
mod data;
mod error;
mod id;
mod memory;
mod record;
mod store;

pub use clock::{Clock, DynClock, ManualClock, SystemClock};
pub use codec::{Codec, MAX_DEPTH};
pub use config::{CookieConfig, SameSite, SecretKey, SessionConfig};
pub use data::{Change, SessionData};
pub use error::{BoxError, Error, ErrorKind};
pub use id::{EncodedId, Id};
pub use memory::MemoryStore;
pub use record::{Record, Version};
pub use store::{DynSessionStore, ExpiredDeletion, SessionStore};
