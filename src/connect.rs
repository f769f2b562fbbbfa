//! [`connect`]: from a [`Config`] to a ready store.

use std::sync::Arc;

use sessionkit_core::{ConfigKey, DynSessionStore, Error, MemoryStore};

use crate::{Config, SessionType};

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
        SessionType::Memory => Ok(Arc::new(
            MemoryStore::builder()
                .max_sessions(config.memory_max_sessions())
                .build(),
        )),
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
        #[cfg(feature = "postgres")]
        SessionType::Postgres => {
            let store = sessionkit_sql::PostgresStore::connect(sql_url(config)?).await?;
            sql_store(store, config).await
        }
        #[cfg(feature = "mysql")]
        SessionType::MySql => {
            let store = sessionkit_sql::MySqlStore::connect(sql_url(config)?).await?;
            sql_store(store, config).await
        }
        #[cfg(feature = "sqlite")]
        SessionType::Sqlite => {
            let store = sessionkit_sql::SqliteStore::connect(sql_url(config)?).await?;
            sql_store(store, config).await
        }
        #[allow(unreachable_patterns)]
        other => Err(Error::config(
            ConfigKey::SessionType,
            other.name(),
            "this backend is not compiled into this build of sessionkit",
        )),
    }
}

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
fn sql_url(config: &Config) -> Result<&str, Error> {
    config
        .sql_url()
        .ok_or_else(|| Error::config(ConfigKey::SqlUrl, "", "a database URL is needed"))
}

/// Applies the configured table, prefix and timeout to a freshly connected SQL store,
/// creates its table if needed, and starts the cleanup task unless it is turned off.
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
async fn sql_store<D>(
    connected: sessionkit_sql::SqlStore<D>,
    config: &Config,
) -> Result<DynSessionStore, Error>
where
    D: sessionkit_sql::Dialect,
    sessionkit_sql::SqlStore<D>: sessionkit_core::ExpiredDeletion + Migrate,
{
    let store = sessionkit_sql::SqlStore::<D>::builder(connected.pool().clone())
        .table(config.sql_table())
        .key_prefix(config.key_prefix())
        .timeout(config.session().store_timeout)
        .build()?;
    store.run_migrations().await?;
    if let Some(interval) = config.cleanup_interval() {
        // The task ends by itself when the store is dropped.
        drop(store.start_cleanup(interval));
    }
    Ok(Arc::new(store))
}

/// `migrate` per dialect, behind one name for [`sql_store`].
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
trait Migrate {
    async fn run_migrations(&self) -> Result<(), Error>;
}

#[cfg(feature = "postgres")]
impl Migrate for sessionkit_sql::PostgresStore {
    async fn run_migrations(&self) -> Result<(), Error> {
        self.migrate().await
    }
}

#[cfg(feature = "mysql")]
impl Migrate for sessionkit_sql::MySqlStore {
    async fn run_migrations(&self) -> Result<(), Error> {
        self.migrate().await
    }
}

#[cfg(feature = "sqlite")]
impl Migrate for sessionkit_sql::SqliteStore {
    async fn run_migrations(&self) -> Result<(), Error> {
        self.migrate().await
    }
}
