//! [`connect`]: from a [`Config`] to a ready store.

use std::sync::Arc;

use sessionkit_core::{
    ConfigKey, CookieStore, DynSessionStore, Error, MemoryStore, MigratingStore,
};

use crate::{Config, SessionType, migrate_from};

/// Builds the store that `config` names and returns it type-erased, ready to share. With
/// `SESSION_MIGRATE_FROM` ([`Config::migrate_from`]), it also connects the old store and
/// returns a [`MigratingStore`] that moves sessions from it to the new one as they are used.
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
/// errors ([`Error::Unavailable`], [`Error::Timeout`]) when its server cannot be reached
/// (the old store's configuration errors name `SESSION_MIGRATE_FROM`).
pub async fn connect(config: &Config) -> Result<DynSessionStore, Error> {
    let store = connect_one(config).await?;
    let Some(old) = config.migrate_from() else {
        return Ok(store);
    };
    let old = connect_one(old).await.map_err(migrate_from::named)?;
    Ok(Arc::new(MigratingStore::new(
        store,
        old,
        config.session().lifetime,
    )))
}

/// The one store `config` names, ignoring `SESSION_MIGRATE_FROM`.
async fn connect_one(config: &Config) -> Result<DynSessionStore, Error> {
    match config.session_type() {
        SessionType::Memory => Ok(Arc::new(
            MemoryStore::builder()
                .max_sessions(config.memory_max_sessions())
                .build(),
        )),
        // Keeps nothing: the lifecycle seals each session into its cookie.
        SessionType::Cookie => Ok(Arc::new(CookieStore)),
        #[cfg(feature = "redis")]
        SessionType::Redis => {
            let mut builder = sessionkit_redis::RedisStore::builder(config.redis_url())
                .key_prefix(config.key_prefix())
                .timeout(config.session().store_timeout)
                .near_cache(config.near_cache());
            if let Some(entries) = config.near_cache_entries() {
                builder = builder.near_cache_entries(entries.get());
            }
            if let Some(bytes) = config.near_cache_bytes() {
                builder = builder.near_cache_bytes(bytes.get());
            }
            let store = builder.build().await?;
            Ok(Arc::new(store))
        }
        #[cfg(feature = "memcached")]
        SessionType::Memcached => {
            let store = sessionkit_memcached::MemcachedStore::builder(
                config.memcached_servers().iter().cloned(),
            )
            .key_prefix(config.key_prefix())
            .timeout(config.session().store_timeout)
            .placement(config.memcached_placement())
            .build()
            .await?;
            Ok(Arc::new(store))
        }
        #[cfg(feature = "postgres")]
        SessionType::Postgres => sql_store::<sessionkit_sql::Postgres>(config).await,
        #[cfg(feature = "mysql")]
        SessionType::MySql => sql_store::<sessionkit_sql::MySql>(config).await,
        #[cfg(feature = "sqlite")]
        SessionType::Sqlite => sql_store::<sessionkit_sql::Sqlite>(config).await,
        #[allow(unreachable_patterns)]
        other => Err(Error::config(
            ConfigKey::SessionType,
            other.name(),
            "this backend is not compiled into this build of sessionkit",
        )),
    }
}

/// Connects the SQL store `config` names, creates its table if needed, and starts the
/// cleanup task unless it is turned off.
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
async fn sql_store<D: sessionkit_sql::Dialect>(config: &Config) -> Result<DynSessionStore, Error> {
    let url = config
        .sql_url()
        .ok_or_else(|| Error::config(ConfigKey::SqlUrl, "", "a database URL is needed"))?;
    let store = sessionkit_sql::SqlStoreBuilder::<D>::connect(url)
        .await?
        .table(config.sql_table())
        .key_prefix(config.key_prefix())
        .timeout(config.session().store_timeout)
        .build()?;
    store.migrate().await?;
    if let Some(interval) = config.cleanup_interval() {
        // The task ends by itself when the store is dropped.
        drop(store.start_cleanup(interval));
    }
    Ok(Arc::new(store))
}
