//! The one error type of sessionkit, and its kinds.

use std::borrow::Cow;
use std::time::Duration;

use crate::ConfigKey;

/// A boxed error from a client library, kept as the [`source`](std::error::Error::source)
/// of an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in sessionkit.
///
/// Branch on [`Error::kind`] or the `is_*` helpers, never on the message text. Errors from a
/// backend's client library are kept whole as the [`source`](std::error::Error::source).
///
/// `Conflict`, `Gone` and `Collision` are outcomes of the [`SessionStore`] contract that
/// callers are expected to handle; the others are failures.
///
/// [`SessionStore`]: crate::SessionStore
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store could not be reached: connection refused, reset, pool exhausted, node down.
    #[error("session store `{backend}` is unavailable")]
    Unavailable {
        /// Which backend failed, such as `redis`.
        backend: &'static str,
        /// What the client library reported.
        #[source]
        source: BoxError,
    },

    /// A store call did not finish within its time limit.
    #[error("session store `{backend}` did not answer within {after:?}")]
    Timeout {
        /// Which backend was called.
        backend: &'static str,
        /// The limit that was exceeded.
        after: Duration,
    },

    /// Session data could not be encoded (a value the format cannot hold, a value too large
    /// for the store).
    #[error("could not encode session data")]
    Encode(#[source] BoxError),

    /// Stored or supplied bytes are not valid session data.
    #[error("could not decode session data")]
    Decode(#[source] BoxError),

    /// The session would exceed its size limit (`SESSION_MAX_SIZE`); nothing was changed
    /// or written.
    #[error("the session would take {size} bytes, over its limit of {limit}")]
    TooLarge {
        /// The encoded size the session would have had.
        size: usize,
        /// The configured limit.
        limit: usize,
    },

    /// `save` found that the record changed since it was loaded; nothing was written.
    #[error("the session changed since it was loaded")]
    Conflict,

    /// The record no longer exists (deleted, revoked or expired); nothing was written.
    #[error("the session no longer exists")]
    Gone,

    /// `create` found a record with the same id; nothing was written.
    #[error("a session with this id already exists")]
    Collision,

    /// A configuration value is missing, malformed or names something not compiled in.
    #[error("invalid configuration {key}={value:?}: {reason}")]
    Config {
        /// The configuration key, such as [`ConfigKey::SessionType`].
        key: ConfigKey,
        /// The offending value as given (empty when the key was missing).
        value: String,
        /// What is wrong with it and what is accepted.
        reason: Cow<'static, str>,
    },

    /// A configuration key that sessionkit does not have.
    #[error("`{key}` is not a sessionkit configuration key")]
    UnknownConfigKey {
        /// The name given.
        key: String,
    },

    /// The store cannot do what the configuration asks of it, such as keeping a user index
    /// (`SESSION_USER_INDEX`) on a store without one. Reported at startup.
    #[error("the session store cannot {feature}, which {key} asks for")]
    Unsupported {
        /// What the store cannot do.
        feature: &'static str,
        /// The configuration key that asks for it.
        key: ConfigKey,
    },

    /// Any other error reported by a backend (a protocol error, a rejected query).
    #[error("session store `{backend}` failed")]
    Backend {
        /// Which backend failed.
        backend: &'static str,
        /// What the client library reported.
        #[source]
        source: BoxError,
    },
}

/// The kind of an [`Error`], for matching without the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// See [`Error::Unavailable`].
    Unavailable,
    /// See [`Error::Timeout`].
    Timeout,
    /// See [`Error::Encode`].
    Encode,
    /// See [`Error::Decode`].
    Decode,
    /// See [`Error::TooLarge`].
    TooLarge,
    /// See [`Error::Conflict`].
    Conflict,
    /// See [`Error::Gone`].
    Gone,
    /// See [`Error::Collision`].
    Collision,
    /// See [`Error::Config`] and [`Error::UnknownConfigKey`].
    Config,
    /// See [`Error::Unsupported`].
    Unsupported,
    /// See [`Error::Backend`].
    Backend,
}

impl Error {
    /// The kind of this error.
    ///
    /// ```
    /// use sessionkit_core::{Error, ErrorKind};
    /// assert_eq!(Error::Gone.kind(), ErrorKind::Gone);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Unavailable { .. } => ErrorKind::Unavailable,
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::Encode(_) => ErrorKind::Encode,
            Self::Decode(_) => ErrorKind::Decode,
            Self::TooLarge { .. } => ErrorKind::TooLarge,
            Self::Conflict => ErrorKind::Conflict,
            Self::Gone => ErrorKind::Gone,
            Self::Collision => ErrorKind::Collision,
            Self::Config { .. } | Self::UnknownConfigKey { .. } => ErrorKind::Config,
            Self::Unsupported { .. } => ErrorKind::Unsupported,
            Self::Backend { .. } => ErrorKind::Backend,
        }
    }

    /// A configuration error naming `key`, its `value` and what is wrong.
    ///
    /// ```
    /// use sessionkit_core::{ConfigKey, Error};
    ///
    /// let err = Error::config(ConfigKey::SessionType, "redsi", "unknown session type");
    /// assert_eq!(
    ///     err.to_string(),
    ///     r#"invalid configuration SESSION_TYPE="redsi": unknown session type"#
    /// );
    /// ```
    pub fn config(
        key: ConfigKey,
        value: impl Into<String>,
        reason: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::Config {
            key,
            value: value.into(),
            reason: reason.into(),
        }
    }

    /// An encode error carrying a plain message.
    pub fn encode(message: impl Into<Cow<'static, str>>) -> Self {
        Self::Encode(Box::new(Message(message.into())))
    }

    /// A decode error carrying a plain message.
    pub fn decode(message: impl Into<Cow<'static, str>>) -> Self {
        Self::Decode(Box::new(Message(message.into())))
    }

    /// True for [`ErrorKind::Conflict`].
    pub fn is_conflict(&self) -> bool {
        self.kind() == ErrorKind::Conflict
    }

    /// True for [`ErrorKind::Gone`].
    pub fn is_gone(&self) -> bool {
        self.kind() == ErrorKind::Gone
    }

    /// True for [`ErrorKind::Collision`].
    pub fn is_collision(&self) -> bool {
        self.kind() == ErrorKind::Collision
    }

    /// True for [`ErrorKind::Config`].
    pub fn is_config(&self) -> bool {
        self.kind() == ErrorKind::Config
    }

    /// True when the store could not serve the call ([`ErrorKind::Unavailable`] or
    /// [`ErrorKind::Timeout`]): an outage, which a web adapter answers with a 503.
    pub fn is_unavailable(&self) -> bool {
        matches!(self.kind(), ErrorKind::Unavailable | ErrorKind::Timeout)
    }
}

/// A plain message used as the source of encode and decode errors that have no deeper cause.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Message(Cow<'static, str>);

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn backend_errors_keep_their_source() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err = Error::Unavailable {
            backend: "redis",
            source: Box::new(io),
        };
        assert!(err.is_unavailable());
        let source = err.source().expect("source kept");
        assert_eq!(source.to_string(), "refused");
        assert!(source.downcast_ref::<std::io::Error>().is_some());
    }

    #[test]
    fn timeout_counts_as_unavailable() {
        let err = Error::Timeout {
            backend: "memcached",
            after: Duration::from_secs(1),
        };
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(err.is_unavailable());
        assert!(!Error::Conflict.is_unavailable());
    }

    #[test]
    fn decode_message_is_the_source() {
        let err = Error::decode("pickle refused");
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert_eq!(err.source().unwrap().to_string(), "pickle refused");
    }
}
