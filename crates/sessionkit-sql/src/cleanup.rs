//! Deleting expired rows: [`ExpiredDeletion`] and the background task.

use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use sessionkit_core::{Error, ExpiredDeletion};

use crate::driver::Param;
use crate::store::Inner;
use crate::{Dialect, SqlStore};

/// Rows deleted per statement by [`ExpiredDeletion::delete_expired`], so a large backlog
/// never holds locks for long.
pub const CLEANUP_BATCH: i64 = 1000;

#[async_trait]
impl<D: Dialect> ExpiredDeletion for SqlStore<D> {
    async fn delete_expired(&self) -> Result<u64, Error> {
        let params = [Param::Int(self.now_ms()), Param::Int(CLEANUP_BATCH)];
        let mut total = 0;
        loop {
            let deleted = self
                .execute(&self.inner.sql.delete_expired, &params)
                .await?;
            total += deleted;
            if deleted < CLEANUP_BATCH as u64 {
                return Ok(total);
            }
        }
    }
}

impl<D: Dialect> SqlStore<D> {
    /// Starts a task that deletes expired rows every `interval`. It stops by itself once
    /// every clone of the store is dropped; the handle is only needed to wait for that.
    pub fn start_cleanup(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Inner<D>> = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                let store = SqlStore { inner };
                match store.delete_expired().await {
                    Ok(0) => {}
                    Ok(deleted) => {
                        tracing::debug!(deleted, table = %store.table(), "deleted expired sessions");
                    }
                    Err(error) => {
                        tracing::warn!(?error, table = %store.table(), "expired-session cleanup failed");
                    }
                }
            }
        })
    }
}
