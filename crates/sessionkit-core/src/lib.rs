//! The core of [sessionkit](https://docs.rs/sessionkit): server-side web sessions with
//! pluggable stores.
//!
//! - [`Id`]: a 256-bit random session id, the only thing the browser holds.
//! - [`SessionData`]: the session's contents, typed through serde, with per-key change
//!   tracking.
//! - [`Codec`]: MessagePack (default) or JSON bytes, as Flask-Session writes them.
//! - [`SessionStore`]: the contract every backend meets, checked by `sessionkit-testkit`.
//! - [`UserIndex`]: the optional capability of finding and revoking a user's sessions.
//! - [`SessionScan`]: the optional capability of listing every session, page by page, for
//!   admin tools.
//! - [`MemoryStore`]: the in-process store and embedded default, bounded with
//!   least-recently-used eviction.
//! - [`MigratingStore`]: moves sessions from an old store to a new one as they are used
//!   (`SESSION_MIGRATE_FROM`).
//! - [`SessionConfig`] and [`CookieConfig`]: behaviour and cookie settings.
//! - [`Error`]: one error type; branch on [`Error::kind`].
//! - [`Clock`]: where the time comes from, replaceable in tests.
//! - [`redact_url`]: passwords hidden before a URL reaches an error, a log line or `Debug`.
//! - [`Sessions`] and [`Session`]: the framework-neutral request lifecycle that web adapters
//!   drive: lazy loading, sliding expiry, merge of concurrent writes, cookies, signing.
//! - [`Outcome::apply_to`], [`ResponseHeaders`] and [`ErrorResponse`]: what an adapter
//!   writes into the response, decided here once for every framework.
//! - [`SessionEvents`]: lifecycle events (created, rotated, destroyed, revoked, expired)
//!   for audit logs, from [`Sessions::subscribe`]. Metrics go through the `metrics` facade
//!   and store calls are traced with `tracing` (the README lists the names).
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
mod codec;
mod config_key;
mod cookies;
mod data;
mod error;
mod events;
mod id;
mod in_cookie;
mod lifecycle;
mod memory;
mod migrating;
#[cfg(test)]
mod proptests;
mod record;
mod redact;
mod scan;
mod session_config;
mod signer;
mod store;
mod telemetry;
mod timeout;
mod timestamp;
mod user_index;

pub use clock::{Clock, DynClock, ManualClock, SystemClock};
pub use codec::{Codec, MAX_DEPTH};
pub use config_key::ConfigKey;
pub use data::SessionData;
pub use error::{BoxError, Error, ErrorKind};
pub use events::{SessionEvent, SessionEventKind, SessionEvents};
pub use id::Id;
pub use in_cookie::{CookieFormat, CookieStore, MAX_COOKIE_LEN};
pub use lifecycle::{
    Action, CREATED_KEY, ErrorResponse, Outcome, PERMANENT_KEY, ResponseHeaders, Session, Sessions,
    UserSession,
};
pub use memory::{MemoryStore, MemoryStoreBuilder};
pub use migrating::MigratingStore;
pub use record::{Record, Version};
pub use redact::redact_url;
pub use scan::{ScanCursor, ScanPage, ScannedRecord, SessionScan};
pub use session_config::{
    CookieConfig, DEFAULT_AUTH_KEY, DEFAULT_KEY_PREFIX, DEFAULT_MAX_SIZE, DEFAULT_SQL_TABLE,
    DEFAULT_STORE_TIMEOUT, MAX_LIFETIME, SameSite, SecretKey, SessionConfig,
};
pub use signer::SignerFormat;
pub use store::{DynSessionStore, ExpiredDeletion, SessionStore};
use timeout::TimeoutStore;
pub use timestamp::Timestamp;
pub use user_index::{IndexedRecord, UserIndex};

/// Entry points for the fuzz targets (`fuzz/`) into code that is not public; not an API.
#[doc(hidden)]
pub mod __fuzz {
    /// Decodes `bytes` as Flask's tagged JSON; what decodes is encoded again, and must read
    /// back the same.
    pub fn tagged_json_round_trip(bytes: &[u8]) {
        use crate::codec::tagged_json::{Originals, decode, encode};
        if let Ok((data, originals)) = decode(bytes) {
            let json = encode(&data, &originals).expect("what decoded encodes");
            let (again, _) = decode(json.as_bytes()).expect("what was encoded decodes");
            assert_eq!(again, data);
            // Written anew (no originals kept), it reads back the same too.
            let fresh = encode(&data, &Originals::default()).expect("what decoded encodes");
            let (again, _) = decode(fresh.as_bytes()).expect("what was encoded decodes");
            assert_eq!(again, data);
        }
    }
}
