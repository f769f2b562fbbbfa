//! [`connect`]: from a [`Config`] to a ready store.

use std::sync::Arc;

use sessionkit_core::{DynSessionStore, Error, MemoryStore};

use crate::{Config, SessionType, keys};

/// Builds the store that `config` names and returns it type-erased, ready to share.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let config = sessionkit::Config::from_pairs([("SESSION_TYPE", "memory")])?;
/// let store = sessionkit::connect(&config).await?;
/// let id = sessionkit::Id::random();
/// assert!(store.load(&id).await?.is_none());
/// # Ok::<(), sessionkit::Error>(())
/// # }).unwrap();
/// ```
///
/// # Errors
/// [`Error::Config`] for a backend this build does not include; a backend's connection
/// errors ([`Error::Unavailable`], [`Error::Timeout`]) when its server cannot be reached.
pub async fn connect(config: &Config) -> Result<DynSessionStore, Error> {
    match config.session_type() {
        SessionType::Memory => Ok(Arc::new(MemoryStore::new())),
        #[cfg(feature = "redis")]
        SessionType::Redis => {
            let store = sessionkit_redis::RedisStore::builder(config.redis_url())
                .key_prefix(config.key_prefix())
                .timeout(config.session().store_timeout)
                .build()
                .await?;
            Ok(Arc::new(store))
        }
        #[cfg(feature = "memcached")]
        SessionType::Memcached => {
            let store = sessionkit_memcached::MemcachedStore::builder(
                config.memcached_servers().iter().cloned(),
            )
            .key_prefix(config.key_prefix())
            .timeout(config.session().store_timeout)
            .build()
            .await?;
            Ok(Arc::new(store))
        }
        other => Err(Error::config(
            keys::SESSION_TYPE,
            other.name(),
            "this backend is not compiled into this build of sessionkit",
        )),
    }
}
