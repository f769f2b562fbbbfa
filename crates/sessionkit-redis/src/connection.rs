//! Running one command: bounded by the store's timeout, its reply checked to be its own,
//! and the connection dropped when the call timed out or found it unusable.
//!
//! A connection whose call timed out may have lost a request or a reply on the way (a
//! stalled route, a proxy that swallows bytes): from then on each reply it reads would be
//! paired with the request before it. So every command goes out with an `ECHO` of a tag no
//! other call carries, in the same round trip; a reply is accepted only behind its own tag,
//! and a connection that failed a call is never used again.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use redis::aio::ConnectionLike;
use redis::{Cmd, FromRedisValue, Pipeline, RedisError, RedisResult, Value};
use sessionkit_core::Error;

use crate::error::{BACKEND, from_pool, from_redis};
use crate::pool::PoolManager;
use crate::shared::Shared;
use crate::source::Link;

/// How the store reaches Redis.
#[derive(Clone)]
pub(crate) enum Connection {
    /// One connection that concurrent calls share: standalone, Sentinel's master or a
    /// cluster.
    Shared(Arc<Shared>),
    /// A bb8 pool of connections, one call at a time on each.
    Pool(bb8::Pool<PoolManager>),
}

impl Connection {
    /// Runs `cmd` within `timeout`.
    pub(crate) async fn query<T: FromRedisValue>(
        &self,
        cmd: Cmd,
        timeout: Duration,
    ) -> Result<T, Error> {
        let tag = next_tag();
        let mut call = redis::pipe();
        call.add_command(cmd).cmd("ECHO").arg(tag);
        let reply = match self {
            Self::Shared(shared) => {
                let mut used = None;
                let result = bounded(timeout, async {
                    let (generation, mut link) = shared.get(timeout).await?;
                    used = Some(generation);
                    match &mut link {
                        Link::Single(connection) => exchange(connection, &call, tag).await,
                        Link::Cluster(connection) => exchange(connection, &call, tag).await,
                    }
                })
                .await;
                if let (Err(error), Some(generation)) = (&result, used)
                    && breaks_connection(error)
                {
                    shared.discard(generation);
                }
                result
            }
            Self::Pool(pool) => {
                let mut held = None;
                let result = bounded(timeout, async {
                    let pooled = held.insert(pool.get().await.map_err(from_pool)?);
                    exchange(&mut pooled.connection, &call, tag).await
                })
                .await;
                if let (Err(error), Some(pooled)) = (&result, held.as_mut()) {
                    pooled.broken = breaks_connection(error);
                }
                result
            }
        }?;
        T::from_redis_value(reply).map_err(|e| from_redis(e.into()))
    }

    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Shared(shared) => shared.kind(),
            Self::Pool(_) => "bb8 pool",
        }
    }
}

/// Sends `call` (a command, then `ECHO tag`) and returns the command's reply, if the echo
/// behind it is this call's tag.
async fn exchange(
    connection: &mut impl ConnectionLike,
    call: &Pipeline,
    tag: u64,
) -> Result<Value, Error> {
    let replies = connection
        .req_packed_commands(call, 0, 2)
        .await
        .map_err(from_redis)?;
    own_reply(replies, tag).map_err(from_redis)
}

fn own_reply(replies: Vec<Value>, tag: u64) -> RedisResult<Value> {
    let lost = || {
        // An I/O error: the connection is unusable.
        RedisError::from(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "a reply was not the one to this call: the connection lost a request or a reply",
        ))
    };
    let [reply, echo] = <[Value; 2]>::try_from(replies).map_err(|_| lost())?;
    match echo {
        // The server refused the ECHO (an ACL without it, a renamed command): its error,
        // never the reply, which is not known to be this call's.
        Value::ServerError(_) => echo.extract_error(),
        echo if u64::from_redis_value_ref(&echo).is_ok_and(|echo| echo == tag) => {
            reply.extract_error()
        }
        _ => Err(lost()),
    }
}

/// Whether a call that failed with `error` leaves its connection unfit for another call:
/// it timed out (a request or a reply may be lost) or the connection failed.
fn breaks_connection(error: &Error) -> bool {
    matches!(error, Error::Timeout { .. } | Error::Unavailable { .. })
}

/// A tag no other call in this process carries. It starts at a random number, so no stored
/// value can be made to look like the tag of a call.
fn next_tag() -> u64 {
    static NEXT: LazyLock<AtomicU64> =
        LazyLock::new(|| AtomicU64::new(RandomState::new().hash_one("sessionkit-redis")));
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Runs `call`, failing with [`Error::Timeout`] after `limit`: the one timer on a call.
pub(crate) async fn bounded<T>(
    limit: Duration,
    call: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::time::timeout(limit, call)
        .await
        .map_err(|_| Error::Timeout {
            backend: BACKEND,
            after: limit,
        })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_taken_only_behind_its_own_tag() {
        let echo = |tag: u64| Value::BulkString(tag.to_string().into_bytes());
        let reply = Value::BulkString(b"mine".to_vec());
        assert_eq!(own_reply(vec![reply.clone(), echo(7)], 7).unwrap(), reply);
        for replies in [
            vec![reply.clone(), echo(6)],
            vec![reply.clone(), reply.clone()],
            vec![reply.clone()],
            vec![echo(7), reply, echo(7)],
        ] {
            let error = own_reply(replies, 7).unwrap_err();
            assert!(error.is_io_error(), "{error:?}");
        }
    }

    #[test]
    fn a_refused_echo_is_the_servers_error_never_the_reply() {
        let refused = redis::parse_redis_value(b"-NOPERM no permission for 'echo'\r\n").unwrap();
        let reply = Value::BulkString(b"not known to be mine".to_vec());
        let error = own_reply(vec![reply, refused], 7).unwrap_err();
        assert_eq!(error.code(), Some("NOPERM"), "{error:?}");
    }

    #[test]
    fn tags_are_never_repeated() {
        let first = next_tag();
        assert_ne!(first, next_tag());
    }
}
