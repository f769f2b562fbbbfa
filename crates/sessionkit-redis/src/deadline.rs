//! [`Deadline`]: one call's time limit, shared by every command the call makes.

use std::future::Future;
use std::time::Duration;

use futures_util::FutureExt as _;
use sessionkit_core::Error;
use tokio::time::Instant;

use crate::error::BACKEND;

/// The moment a call must be done by. A store call that needs several commands (the user
/// index on a cluster, a listing) gives each the same deadline, so the call as a whole
/// stays within the store's timeout, as a one-command call does.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    at: Instant,
    limit: Duration,
}

impl Deadline {
    /// `limit` from now.
    pub(crate) fn after(limit: Duration) -> Self {
        Self {
            at: Instant::now() + limit,
            limit,
        }
    }

    /// The whole call's limit (what a [`Error::Timeout`] reports).
    pub(crate) fn limit(&self) -> Duration {
        self.limit
    }

    /// Runs `step`, failing with [`Error::Timeout`] once the deadline has passed: the one
    /// timer on a step.
    ///
    /// A plain function, not an `async fn`: one would hold `step` twice (the argument and
    /// the timer around it), doubling the future of every call.
    pub(crate) fn bound<T>(
        &self,
        step: impl Future<Output = Result<T, Error>>,
    ) -> impl Future<Output = Result<T, Error>> {
        let after = self.limit;
        tokio::time::timeout_at(self.at, step).map(move |outcome| {
            outcome.unwrap_or(Err(Error::Timeout {
                backend: BACKEND,
                after,
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn steps_share_one_limit() {
        let deadline = Deadline::after(Duration::from_millis(50));
        let first = deadline
            .bound(async {
                tokio::time::sleep(Duration::from_millis(30)).await;
                Ok(())
            })
            .await;
        assert!(first.is_ok());
        let second = deadline
            .bound(async {
                tokio::time::sleep(Duration::from_millis(30)).await;
                Ok(())
            })
            .await;
        assert!(
            matches!(second, Err(Error::Timeout { after, .. }) if after == Duration::from_millis(50)),
            "{second:?}"
        );
    }
}
