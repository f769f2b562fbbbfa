//! sqlx errors as sessionkit errors.

use sessionkit_core::ConfigKey;
use sessionkit_core::{Error, redact_url};

/// Connection-level failures are [`Error::Unavailable`]; everything else is
/// [`Error::Backend`]. The sqlx error is kept as the source.
pub(crate) fn from_sqlx(backend: &'static str, error: sqlx::Error) -> Error {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Error::Unavailable {
            backend,
            source: Box::new(error),
        },
        other => Error::Backend {
            backend,
            source: Box::new(other),
        },
    }
}

/// Whether `error` is a primary-key violation.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// A failure to connect: a malformed URL is [`Error::Config`] naming `SESSION_SQL_URL`,
/// with the password hidden ([`redact_url`]); anything else is as [`from_sqlx`].
pub(crate) fn connect_error(backend: &'static str, url: &str, error: sqlx::Error) -> Error {
    match error {
        sqlx::Error::Configuration(e) => Error::config(
            ConfigKey::SqlUrl,
            redact_url(url),
            format!("not a valid {backend} URL: {e}"),
        ),
        other => from_sqlx(backend, other),
    }
}
