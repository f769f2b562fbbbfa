//! The bb8 pool's connections: made from the store's client, dropped by the pool once a
//! call on them failed.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{Client, RedisError};

use crate::source::connection_config;

/// Makes the pool's connections.
pub(crate) struct PoolManager {
    pub(crate) client: Client,
    pub(crate) timeout: Duration,
}

/// A pooled connection and whether a call on it failed (the pool then drops it instead of
/// taking it back).
pub(crate) struct Pooled {
    pub(crate) connection: MultiplexedConnection,
    pub(crate) broken: bool,
}

impl bb8::ManageConnection for PoolManager {
    type Connection = Pooled;
    type Error = RedisError;

    async fn connect(&self) -> Result<Pooled, RedisError> {
        let connection = self
            .client
            .get_multiplexed_async_connection_with_config(&connection_config(self.timeout))
            .await?;
        Ok(Pooled {
            connection,
            broken: false,
        })
    }

    async fn is_valid(&self, pooled: &mut Pooled) -> Result<(), RedisError> {
        redis::cmd("PING").query_async(&mut pooled.connection).await
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        pooled.broken
    }
}
