//! [`TowerStore`]: a sessionkit store as a `tower_sessions_core::SessionStore`.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value as Json;
use sessionkit_core::{Codec, DynSessionStore, Error, ErrorKind, SessionData};
use time::OffsetDateTime;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{self, SessionStore};

use crate::value::to_json;

/// How many times `save` retries when another writer changed the record in between.
const SAVE_ATTEMPTS: usize = 5;

/// Any sessionkit store (Redis standalone, Sentinel or Cluster, Memcached, PostgreSQL,
/// MySQL, SQLite, memory) as a tower-sessions store, for apps that keep tower-sessions'
/// own `SessionManagerLayer` and only change the backend.
///
/// - `create` never overwrites: on an id collision it draws a new id.
/// - `save` updates a record that exists and never recreates one that was deleted
///   (logged out, revoked or expired): it then does nothing.
/// - `load` returns nothing for an expired record; with
///   [`touch_on_load`](TowerStore::touch_on_load) it also slides the expiry in the same
///   store call.
/// - Records are written in the store's codec (MessagePack by default, Flask-Session's
///   format) under `session:` + a sessionkit-shaped id: the tower-sessions id's 16 bytes
///   followed by 16 zero bytes, base64url.
/// - `save` keeps the stored bytes of every value whose JSON form is unchanged, and keeps
///   values JSON cannot show (see the crate docs), so a Python app's binary and
///   timestamps are not rewritten when a Rust handler did not change them.
///
/// What this path loses compared with [`TowerSessionsLayer`](crate::TowerSessionsLayer):
/// tower-sessions' layer saves the whole record (the last writer wins, no per-key merge of
/// concurrent requests); a slower request that loaded the session before a logout writes
/// nothing when it saves, but if it rotates the id (`cycle_id`), tower-sessions creates
/// the new record unconditionally and the logged-out data comes back under the new id; its
/// cookie is tower-sessions' (no Flask-compatible signing, not readable by Flask-Session);
/// it has no absolute lifetime or size limit; and its store errors are 500s, not 503s.
#[derive(Debug, Clone)]
pub struct TowerStore {
    store: DynSessionStore,
    codec: Codec,
    touch: Option<Duration>,
}

impl TowerStore {
    /// `store` as a tower-sessions store, writing MessagePack.
    pub fn new(store: DynSessionStore) -> Self {
        Self {
            store,
            codec: Codec::default(),
            touch: None,
        }
    }

    /// Writes and reads records in `codec` (JSON for a Flask app configured with
    /// `SESSION_SERIALIZATION_FORMAT=json`).
    pub fn codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }

    /// Every `load` also moves the record's expiry to `lifetime` from now, in the same store
    /// call (tower-sessions' `Expiry::OnInactivity` without a save on every request).
    pub fn touch_on_load(mut self, lifetime: Duration) -> Self {
        self.touch = Some(lifetime);
        self
    }

    fn encode(
        &self,
        data: &std::collections::HashMap<String, Json>,
        stored: Option<&SessionData>,
    ) -> Result<Vec<u8>, Error> {
        let mut out = SessionData::new();
        if let Some(stored) = stored {
            for key in stored.keys() {
                let Some(value) = stored.get::<rmpv::Value>(key)? else {
                    continue;
                };
                match to_json(&value) {
                    // Unchanged for tower-sessions: the stored bytes stay as they were.
                    Some(json) if data.get(key) == Some(&json) => out.insert(key, &value)?,
                    // Not shown to tower-sessions, so it cannot have been changed there.
                    None => out.insert(key, &value)?,
                    Some(_) => {}
                }
            }
        }
        for (key, value) in data {
            if !out.contains_key(key) {
                out.insert(key.as_str(), value)?;
            }
        }
        self.codec.encode(&out)
    }

    fn decode(&self, payload: &bytes::Bytes) -> Result<SessionData, Error> {
        self.codec.decode(payload)
    }
}

/// The sessionkit id a tower-sessions id is stored under.
fn store_id(id: &Id) -> sessionkit_core::Id {
    let mut raw = [0u8; 32];
    raw[..16].copy_from_slice(&id.0.to_le_bytes());
    sessionkit_core::Id::parse(&URL_SAFE_NO_PAD.encode(raw)).expect("32 bytes make an id")
}

fn expires_at(record: &Record) -> SystemTime {
    SystemTime::from(record.expiry_date)
}

fn backend(error: &Error) -> session_store::Error {
    match error.kind() {
        ErrorKind::Encode => session_store::Error::Encode(error.to_string()),
        ErrorKind::Decode => session_store::Error::Decode(error.to_string()),
        _ => session_store::Error::Backend(error.to_string()),
    }
}

#[async_trait]
impl SessionStore for TowerStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let payload = self.encode(&record.data, None).map_err(|e| backend(&e))?;
        loop {
            match self
                .store
                .create(&store_id(&record.id), &payload, expires_at(record))
                .await
            {
                Err(error) if error.kind() == ErrorKind::Collision => record.id = Id::default(),
                result => return result.map_err(|e| backend(&e)),
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let id = store_id(&record.id);
        for _ in 0..SAVE_ATTEMPTS {
            // Update-if-exists: a record that is gone stays gone.
            let Some(stored) = self.store.load(&id).await.map_err(|e| backend(&e))? else {
                return Ok(());
            };
            let (payload, version) = stored.into_parts();
            let stored = self.decode(&payload).ok();
            let payload = self
                .encode(&record.data, stored.as_ref())
                .map_err(|e| backend(&e))?;
            match self
                .store
                .save(&id, &payload, expires_at(record), version)
                .await
            {
                Err(error) if error.kind() == ErrorKind::Conflict => continue,
                Err(error) if error.kind() == ErrorKind::Gone => return Ok(()),
                result => return result.map_err(|e| backend(&e)),
            }
        }
        Err(backend(&Error::Conflict))
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let id = store_id(session_id);
        let now = SystemTime::now();
        let (record, lifetime) = match self.touch {
            Some(lifetime) => (
                self.store.load_and_touch(&id, now + lifetime).await,
                lifetime,
            ),
            // sessionkit stores keep no expiry to report; tower-sessions recomputes its own
            // on every save, so this one (its default two weeks) is informative only.
            None => (
                self.store.load(&id).await,
                Duration::from_secs(14 * 24 * 60 * 60),
            ),
        };
        let Some(record) = record.map_err(|e| backend(&e))? else {
            return Ok(None);
        };
        let data = self.decode(record.payload()).map_err(|e| backend(&e))?;
        let mut json = std::collections::HashMap::new();
        for key in data.keys() {
            if let Some(value) = data.get::<rmpv::Value>(key).map_err(|e| backend(&e))?
                && let Some(value) = to_json(&value)
            {
                json.insert(key.to_owned(), value);
            }
        }
        Ok(Some(Record {
            id: *session_id,
            data: json,
            expiry_date: OffsetDateTime::from(now + lifetime),
        }))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.store
            .delete(&store_id(session_id))
            .await
            .map_err(|e| backend(&e))
    }
}
