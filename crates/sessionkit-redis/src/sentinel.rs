//! The master of a Sentinel-monitored service, re-discovered after a failover.

use std::sync::RwLock;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::sentinel::SentinelClient;
use redis::{Cmd, FromRedisValue};
use sessionkit_core::Error;
use tokio::sync::Mutex;

use crate::error::{from_redis, is_connection_error};

/// Asks the sentinels for the master on first use and whenever the current master fails
/// or turns out to be a replica (`READONLY` after a failover).
pub(crate) struct SentinelMaster {
    sentinel: Mutex<SentinelClient>,
    current: RwLock<Option<ConnectionManager>>,
    config: ConnectionManagerConfig,
}

impl SentinelMaster {
    pub(crate) async fn connect(
        sentinel: SentinelClient,
        config: ConnectionManagerConfig,
    ) -> Result<Self, Error> {
        let master = Self {
            sentinel: Mutex::new(sentinel),
            current: RwLock::new(None),
            config,
        };
        master.connection().await?;
        Ok(master)
    }

    pub(crate) async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, Error> {
        let mut connection = self.connection().await?;
        let result = cmd.query_async(&mut connection).await;
        if let Err(error) = &result
            && is_connection_error(error)
        {
            tracing::info!(error = %error, "Redis master failed; asking Sentinel again on the next call");
            *self
                .current
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        }
        result.map_err(from_redis)
    }

    async fn connection(&self) -> Result<ConnectionManager, Error> {
        if let Some(connection) = self
            .current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
        {
            return Ok(connection);
        }
        let mut sentinel = self.sentinel.lock().await;
        // Another caller may have re-discovered while this one waited for the lock.
        if let Some(connection) = self
            .current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
        {
            return Ok(connection);
        }
        let client = sentinel.async_get_client().await.map_err(from_redis)?;
        let connection = ConnectionManager::new_with_config(client, self.config.clone())
            .await
            .map_err(from_redis)?;
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(connection.clone());
        Ok(connection)
    }
}
