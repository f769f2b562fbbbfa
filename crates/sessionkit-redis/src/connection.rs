//! Running commands: bounded by the call's deadline, their replies checked to be their
//! own, and the connection dropped when the call timed out or found it unusable.
//!
//! A connection whose call timed out may have lost a request or a reply on the way (a
//! stalled route, a proxy that swallows bytes): from then on each reply it reads would be
//! paired with the request before it. So every command goes out with an `ECHO` of a tag no
//! other call carries, in the same round trip; a reply is accepted only behind its own tag,
//! and a connection that failed a call is never used again.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use redis::aio::ConnectionLike;
use redis::{Cmd, FromRedisValue, Pipeline, RedisError, RedisResult, Value};
use sessionkit_core::Error;

use crate::deadline::Deadline;
use crate::error::{from_pool, from_redis};
use crate::pool::PoolManager;
use crate::replica_ack::ReplicaAck;
use crate::shared::Shared;
use crate::source::Link;
use crate::tracking::Writer;

/// How the store reaches Redis.
#[derive(Clone)]
pub(crate) enum Connection {
    /// One connection that concurrent calls share: standalone, Sentinel's master or a
    /// cluster.
    Shared(Arc<Shared>),
    /// A bb8 pool of connections, one call at a time on each.
    Pool(bb8::Pool<PoolManager>),
    /// The near cache's tracking connection, lent to one call whose result the cache may
    /// keep.
    Tracking(Writer),
}

impl Connection {
    /// Runs `cmd` before `deadline`.
    pub(crate) async fn query<T: FromRedisValue>(
        &self,
        cmd: Cmd,
        deadline: &Deadline,
    ) -> Result<T, Error> {
        let [reply] = <[Value; 1]>::try_from(self.query_all([cmd], deadline).await?)
            .map_err(|_| from_redis(lost()))?;
        T::from_redis_value(reply).map_err(|e| from_redis(e.into()))
    }

    /// Runs `cmds` in one round trip before `deadline` and returns their replies, in
    /// order. On a cluster they must all go to one slot. A server error in any reply is the
    /// call's error.
    pub(crate) async fn query_all(
        &self,
        cmds: impl IntoIterator<Item = Cmd>,
        deadline: &Deadline,
    ) -> Result<Vec<Value>, Error> {
        let tag = next_tag();
        let mut call = redis::pipe();
        let mut count = 0;
        for cmd in cmds {
            call.add_command(cmd);
            count += 1;
        }
        call.cmd("ECHO").arg(tag);
        match self {
            Self::Shared(shared) => {
                let mut used = None;
                let result = deadline
                    .bound(async {
                        let (generation, mut link) = shared.get(deadline.limit()).await?;
                        used = Some(generation);
                        match &mut link {
                            Link::Single(connection) => {
                                exchange(connection, &call, count, tag).await
                            }
                            Link::Cluster(connection) => {
                                exchange(connection, &call, count, tag).await
                            }
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
            Self::Tracking(writer) => {
                let mut connection = writer.connection.clone();
                let result = deadline
                    .bound(exchange(&mut connection, &call, count, tag))
                    .await;
                if let Err(error) = &result
                    && breaks_connection(error)
                {
                    writer.broken();
                }
                result
            }
            Self::Pool(pool) => {
                let mut held = None;
                let result = deadline
                    .bound(async {
                        // Boxed: bb8's `get` future is large and the call's own is small.
                        let pooled = held.insert(Box::pin(pool.get()).await.map_err(from_pool)?);
                        exchange(&mut pooled.connection, &call, count, tag).await
                    })
                    .await;
                if let (Err(error), Some(pooled)) = (&result, held.as_mut()) {
                    pooled.broken = breaks_connection(error);
                }
                result
            }
        }
    }

    /// Runs `cmds`, writes that delete, as [`query_all`](Self::query_all) does, with the
    /// `WAIT` of `ack` (if any) behind them in the same round trip; done when `ack` says so
    /// ([`ReplicaAck::settle`]). A delete that a failover may lose is an error, and the
    /// connection is dropped so the next call asks Sentinel for the master again.
    pub(crate) async fn query_all_acked(
        &self,
        cmds: impl IntoIterator<Item = Cmd>,
        deadline: &Deadline,
        ack: Option<&ReplicaAck>,
    ) -> Result<Vec<Value>, Error> {
        let Some((ack, wait)) = ack.and_then(|ack| Some((ack, ack.wait()?))) else {
            return self.query_all(cmds, deadline).await;
        };
        let mut replies = self
            .query_all(cmds.into_iter().chain([wait]), deadline)
            .await?;
        let waited = replies.pop().ok_or_else(|| from_redis(lost()))?;
        let server = match self {
            Self::Shared(shared) => shared.server(),
            Self::Pool(_) | Self::Tracking(_) => None,
        };
        if let Err(error) = ack.settle(&waited, server, deadline).await {
            if let Self::Shared(shared) = self {
                shared.discard_current();
            }
            return Err(error);
        }
        Ok(replies)
    }

    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Shared(shared) => shared.kind(),
            Self::Pool(_) => "bb8 pool",
            Self::Tracking(_) => "tracking",
        }
    }
}

/// Sends `call` (`count` commands, then `ECHO tag`) and returns the commands' replies, if
/// the echo behind them is this call's tag.
async fn exchange(
    connection: &mut impl ConnectionLike,
    call: &Pipeline,
    count: usize,
    tag: u64,
) -> Result<Vec<Value>, Error> {
    let replies = connection
        .req_packed_commands(call, 0, count + 1)
        .await
        .map_err(from_redis)?;
    own_replies(replies, count, tag).map_err(from_redis)
}

/// An I/O error: a reply was not the one to this call, so the connection is unusable.
fn lost() -> RedisError {
    RedisError::from(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "a reply was not the one to this call: the connection lost a request or a reply",
    ))
}

fn own_replies(mut replies: Vec<Value>, count: usize, tag: u64) -> RedisResult<Vec<Value>> {
    if replies.len() != count + 1 {
        return Err(lost());
    }
    let echo = replies.pop().expect("count + 1 replies");
    match echo {
        // The server refused the ECHO (an ACL without it, a renamed command): its error,
        // never the replies, which are not known to be this call's.
        Value::ServerError(_) => echo.extract_error().map(|_| Vec::new()),
        echo if u64::from_redis_value_ref(&echo).is_ok_and(|echo| echo == tag) => {
            replies.into_iter().map(Value::extract_error).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_taken_only_behind_its_own_tag() {
        let echo = |tag: u64| Value::BulkString(tag.to_string().into_bytes());
        let reply = Value::BulkString(b"mine".to_vec());
        assert_eq!(
            own_replies(vec![reply.clone(), echo(7)], 1, 7).unwrap(),
            std::slice::from_ref(&reply)
        );
        assert_eq!(
            own_replies(vec![reply.clone(), reply.clone(), echo(7)], 2, 7).unwrap(),
            [reply.clone(), reply.clone()]
        );
        for (replies, count) in [
            (vec![reply.clone(), echo(6)], 1),
            (vec![reply.clone(), reply.clone()], 1),
            (vec![reply.clone()], 1),
            (vec![echo(7), reply.clone(), echo(7)], 1),
            (vec![reply, echo(7)], 2),
        ] {
            let error = own_replies(replies, count, 7).unwrap_err();
            assert!(error.is_io_error(), "{error:?}");
        }
    }

    #[test]
    fn a_refused_echo_is_the_servers_error_never_the_reply() {
        let refused = redis::parse_redis_value(b"-NOPERM no permission for 'echo'\r\n").unwrap();
        let reply = Value::BulkString(b"not known to be mine".to_vec());
        let error = own_replies(vec![reply, refused], 1, 7).unwrap_err();
        assert_eq!(error.code(), Some("NOPERM"), "{error:?}");
    }

    #[test]
    fn a_server_error_in_any_reply_is_the_calls_error() {
        let echo = Value::BulkString(b"7".to_vec());
        let failed = redis::parse_redis_value(b"-WRONGTYPE not a string\r\n").unwrap();
        let reply = Value::BulkString(b"fine".to_vec());
        let error = own_replies(vec![reply, failed, echo], 2, 7).unwrap_err();
        assert_eq!(error.code(), Some("WRONGTYPE"), "{error:?}");
    }

    #[test]
    fn tags_are_never_repeated() {
        let first = next_tag();
        assert_ne!(first, next_tag());
    }
}
