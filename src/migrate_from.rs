//! `SESSION_MIGRATE_FROM`: the old store's settings, read as a configuration of its own.

use std::fmt;

use sessionkit_core::{ConfigKey, Error};

use crate::{Config, ConfigBuilder, SessionType};

const KEY: ConfigKey = ConfigKey::MigrateFrom;

/// The keys the old store's settings may hold: what builds a store. The others (lifetime,
/// cookie, signer, codec, user index, ...) belong to the lifecycle, which is the same for
/// both stores, and are refused inside `SESSION_MIGRATE_FROM` rather than ignored.
pub(crate) const STORE_KEYS: [ConfigKey; 12] = [
    ConfigKey::SessionType,
    ConfigKey::Redis,
    ConfigKey::Memcached,
    ConfigKey::MemcachedPlacement,
    ConfigKey::SqlUrl,
    ConfigKey::SqlTable,
    ConfigKey::KeyPrefix,
    ConfigKey::CleanupInterval,
    ConfigKey::NearCache,
    ConfigKey::NearCacheEntries,
    ConfigKey::NearCacheBytes,
    ConfigKey::StoreTimeout,
];

/// The old store, as given: keys from `SESSION_MIGRATE_FROM` (resolved against the outer
/// configuration when it is built) or a whole [`Config`] from
/// [`ConfigBuilder::migrate_from`].
#[derive(Clone)]
pub(crate) enum OldStore {
    Keys(Vec<(ConfigKey, String)>),
    Config(Box<Config>),
}

impl fmt::Debug for OldStore {
    /// The key names only: the values may hold passwords.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Keys(keys) => f
                .debug_tuple("Keys")
                .field(&keys.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>())
                .finish(),
            Self::Config(config) => f.debug_tuple("Config").field(config).finish(),
        }
    }
}

/// Reads the value of `SESSION_MIGRATE_FROM`: a JSON object of store keys, each value a
/// string (numbers and booleans are taken as their text), each checked as its own key is.
///
/// # Errors
/// [`Error::Config`] naming `SESSION_MIGRATE_FROM` (and the inner key): not a JSON object,
/// an unknown key, a session setting, a malformed value. Values are never quoted whole.
pub(crate) fn parse(value: &str) -> Result<OldStore, Error> {
    // serde_json's message may quote part of the value (a password): only its position.
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(value).map_err(|e| {
            Error::config(
                KEY,
                "",
                format!(
                    "not a JSON object (line {}, column {}); write the old store's keys as \
                     {{\"SESSION_TYPE\":\"memcached\",\"SESSION_MEMCACHED\":\"127.0.0.1:11211\"}}",
                    e.line(),
                    e.column()
                ),
            )
        })?;
    let mut keys = Vec::with_capacity(object.len());
    for (name, value) in object {
        let key: ConfigKey = name.parse().map_err(|_| {
            Error::config(
                KEY,
                "",
                format!("`{name}` is not a sessionkit configuration key"),
            )
        })?;
        if !STORE_KEYS.contains(&key) {
            return Err(Error::config(KEY, "", not_a_store_key(key)));
        }
        let text = match value {
            serde_json::Value::String(text) => text,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            _ => {
                return Err(Error::config(KEY, "", format!("{key}: expected a string")));
            }
        };
        // Malformed values are refused now, as for any other key.
        ConfigBuilder::default()
            .with_config(key, &text)
            .map_err(named)?;
        keys.push((key, text));
    }
    Ok(OldStore::Keys(keys))
}

fn not_a_store_key(key: ConfigKey) -> String {
    if key == KEY {
        return "the old store cannot itself migrate from another".to_owned();
    }
    let names: Vec<&str> = STORE_KEYS.iter().map(|k| k.as_str()).collect();
    format!(
        "{key} is a session setting, the same for both stores: set it outside \
         SESSION_MIGRATE_FROM, which takes only the old store's keys ({})",
        names.join(", ")
    )
}

impl OldStore {
    /// The old store's configuration, for the new store's `outer` configuration: its own
    /// keys over the defaults, except that `SESSION_KEY_PREFIX` and `SESSION_STORE_TIMEOUT`
    /// are the outer ones unless it sets them. Checked as a configuration of its own.
    ///
    /// # Errors
    /// [`Error::Config`] naming `SESSION_MIGRATE_FROM`: what [`ConfigBuilder::build`]
    /// refuses, no `SESSION_TYPE`, or an old store that keeps no sessions to move
    /// (`memory`, `cookie`), or migrating to sessions in the cookie.
    pub(crate) fn resolve(self, outer: &Config) -> Result<Config, Error> {
        if outer.session_type() == SessionType::Cookie {
            return Err(Error::config(
                KEY,
                "",
                "with SESSION_TYPE=cookie there is no store to move sessions to",
            ));
        }
        let old = match self {
            Self::Config(config) => *config,
            Self::Keys(keys) => {
                if !keys.iter().any(|(k, _)| *k == ConfigKey::SessionType) {
                    return Err(Error::config(
                        KEY,
                        "",
                        "the old store's SESSION_TYPE is needed",
                    ));
                }
                let timeout = outer.session().store_timeout;
                let builder = ConfigBuilder::default()
                    .key_prefix(outer.key_prefix())
                    .session(|s| s.store_timeout = timeout);
                keys.iter()
                    .try_fold(builder, |b, (key, value)| b.with_config(*key, value))
                    .and_then(ConfigBuilder::build)
                    .map_err(named)?
            }
        };
        match old.session_type() {
            SessionType::Memory | SessionType::Cookie => Err(Error::config(
                KEY,
                "",
                format!(
                    "SESSION_TYPE={}: that old store keeps no sessions that outlive the \
                     process to move",
                    old.session_type()
                ),
            )),
            _ if old.migrate_from().is_some() => Err(Error::config(KEY, "", not_a_store_key(KEY))),
            _ => Ok(old),
        }
    }
}

/// `error`, from the old store's settings, as an error of `SESSION_MIGRATE_FROM` naming the
/// inner key and its (already redacted) value. Other kinds pass unchanged.
pub(crate) fn named(error: Error) -> Error {
    match error {
        Error::Config { key, value, reason } => {
            Error::config(KEY, "", format!("{key}={value:?}: {reason}"))
        }
        Error::UnknownConfigKey { key } => Error::config(
            KEY,
            "",
            format!("`{key}` is not a sessionkit configuration key"),
        ),
        other => other,
    }
}
