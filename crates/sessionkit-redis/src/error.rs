//! redis-rs and bb8 errors as sessionkit errors.

use redis::RedisError;
use sessionkit_core::Error;

pub(crate) const BACKEND: &str = "redis";

/// Connection-level failures are [`Error::Unavailable`]; anything else the server or the
/// client reports is [`Error::Backend`]. The redis-rs error is kept as the source.
pub(crate) fn from_redis(error: RedisError) -> Error {
    if is_connection_error(&error) {
        Error::Unavailable {
            backend: BACKEND,
            source: Box::new(error),
        }
    } else {
        Error::Backend {
            backend: BACKEND,
            source: Box::new(error),
        }
    }
}

/// Whether the error means the connection is unusable (so the store drops it; for
/// Sentinel, the next connection asks for the master again).
pub(crate) fn is_connection_error(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_timeout()
        || error.is_unrecoverable_error()
        || error.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::ReadOnly)
        || error.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::MasterDown)
        || error.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::ClusterDown)
}

pub(crate) fn from_pool(error: bb8::RunError<RedisError>) -> Error {
    match error {
        bb8::RunError::User(error) => from_redis(error),
        bb8::RunError::TimedOut => Error::Unavailable {
            backend: BACKEND,
            source: "timed out waiting for a pooled Redis connection".into(),
        },
    }
}
