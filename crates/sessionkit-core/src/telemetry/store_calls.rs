//! [`StoreCalls`]: a span, the duration, the payload size and the failures of every store
//! call the lifecycle makes.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use metrics::{Key, Label, with_recorder};
use tokio::time::Instant;
use tracing::Instrument as _;
use tracing::field::Empty;

use super::{METADATA, SESSION_SIZE, STORE_DURATION, STORE_ERRORS, kind_name};
use crate::{Error, ErrorKind, Id, IndexedRecord, Record};

/// A store call, as it appears in labels (`operation`) and spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    Create,
    Load,
    LoadAndTouch,
    Save,
    Touch,
    Delete,
    DeleteIf,
    SessionsOf,
    Unindex,
}

impl Operation {
    /// How many there are.
    const COUNT: usize = 9;

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Load => "load",
            Self::LoadAndTouch => "load_and_touch",
            Self::Save => "save",
            Self::Touch => "touch",
            Self::Delete => "delete",
            Self::DeleteIf => "delete_if",
            Self::SessionsOf => "sessions_of",
            Self::Unindex => "unindex",
        }
    }
}

/// What a store call returned, as far as reports go: the payload size it read, and
/// whether it found anything.
pub(crate) trait Returned {
    /// The size of the payload read, if any.
    fn read_size(&self) -> Option<usize> {
        None
    }

    /// Whether a read found nothing.
    fn not_found(&self) -> bool {
        false
    }
}

impl Returned for () {}

impl Returned for Vec<IndexedRecord> {}

impl Returned for Option<Record> {
    fn read_size(&self) -> Option<usize> {
        self.as_ref().map(|record| record.payload().len())
    }

    fn not_found(&self) -> bool {
        self.is_none()
    }
}

/// Reports the store calls of one backend: a span, the duration, the payload size and the
/// failures of each. Cheap to clone.
///
/// The metric keys (name and labels) are built once per operation and outcome and kept,
/// rather than built (a vector of labels, a hash) on every call; each report still asks
/// for the recorder in force at that moment, so one installed later, or only for a
/// thread, gets every report.
#[derive(Debug, Clone)]
pub(crate) struct StoreCalls {
    keys: Arc<Keys>,
}

/// The keys of one backend's metrics, each built on first use.
struct Keys {
    backend: &'static str,
    /// `STORE_DURATION` by operation and outcome.
    durations: Box<[OnceLock<Key>]>,
    /// `STORE_ERRORS` by operation and outcome (the failures only are used).
    errors: Box<[OnceLock<Key>]>,
    /// `SESSION_SIZE` by operation.
    sizes: Box<[OnceLock<Key>]>,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keys")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// How a store call ended, as the `outcome` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    NotFound,
    Failed(ErrorKind),
}

impl Outcome {
    const COUNT: usize = 2 + ERROR_KIND_COUNT;

    fn index(self) -> usize {
        match self {
            Self::Ok => 0,
            Self::NotFound => 1,
            Self::Failed(kind) => 2 + kind_index(kind),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::NotFound => "not_found",
            Self::Failed(kind) => kind_name(kind),
        }
    }
}

/// How many error kinds there are ([`kind_index`]).
const ERROR_KIND_COUNT: usize = 11;

/// The place of `kind` among the error kinds, below [`ERROR_KIND_COUNT`].
fn kind_index(kind: ErrorKind) -> usize {
    match kind {
        ErrorKind::Unavailable => 0,
        ErrorKind::Timeout => 1,
        ErrorKind::Encode => 2,
        ErrorKind::Decode => 3,
        ErrorKind::TooLarge => 4,
        ErrorKind::Conflict => 5,
        ErrorKind::Gone => 6,
        ErrorKind::Collision => 7,
        ErrorKind::Config => 8,
        ErrorKind::Unsupported => 9,
        ErrorKind::Backend => 10,
    }
}

fn empty_keys(n: usize) -> Box<[OnceLock<Key>]> {
    (0..n).map(|_| OnceLock::new()).collect()
}

/// One store call about to be made.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    pub(crate) operation: Operation,
    /// The id the store keeps, when the call is about one session (named in the span by
    /// its hint only).
    pub(crate) key: Option<&'a Id>,
    /// The size of the payload written, if any.
    pub(crate) size: Option<usize>,
    /// Which try this is, from 1, for calls a loop repeats (a merge, a collision).
    pub(crate) attempt: usize,
}

impl<'a> Call<'a> {
    /// A first attempt of `operation` about the session the store keeps under `key`.
    pub(crate) fn on(operation: Operation, key: &'a Id) -> Self {
        Self {
            operation,
            key: Some(key),
            size: None,
            attempt: 1,
        }
    }

    /// The same call, writing `size` bytes.
    pub(crate) fn writing(self, size: usize) -> Self {
        Self {
            size: Some(size),
            ..self
        }
    }

    /// The same call, as try number `attempt`.
    pub(crate) fn attempt(self, attempt: usize) -> Self {
        Self { attempt, ..self }
    }
}

impl StoreCalls {
    /// Reports the calls to a store named `backend` ([`SessionStore::backend`]).
    ///
    /// [`SessionStore::backend`]: crate::SessionStore::backend
    pub(crate) fn new(backend: &'static str) -> Self {
        let by_outcome = Operation::COUNT * Outcome::COUNT;
        Self {
            keys: Arc::new(Keys {
                backend,
                durations: empty_keys(by_outcome),
                errors: empty_keys(by_outcome),
                sizes: empty_keys(Operation::COUNT),
            }),
        }
    }

    /// The key of `name` for `operation` ending as `outcome`, labelled with the backend.
    fn key<'a>(
        &self,
        keys: &'a [OnceLock<Key>],
        name: &'static str,
        operation: Operation,
        outcome: Outcome,
        outcome_label: &'static str,
    ) -> &'a Key {
        keys[operation as usize * Outcome::COUNT + outcome.index()].get_or_init(|| {
            let labels = vec![
                Label::from_static_parts("backend", self.keys.backend),
                Label::from_static_parts("operation", operation.as_str()),
                Label::from_static_parts(outcome_label, outcome.as_str()),
            ];
            Key::from_parts(name, labels)
        })
    }

    /// Runs `future`, the store call `call` describes, inside a `sessionkit.store` span
    /// (debug level), and reports its duration, payload size and failure.
    pub(crate) async fn run<T: Returned>(
        &self,
        call: Call<'_>,
        future: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let operation = call.operation.as_str();
        let span = tracing::debug_span!(
            "sessionkit.store",
            backend = self.keys.backend,
            operation,
            attempt = call.attempt,
            session = Empty,
            size = call.size,
            outcome = Empty,
        );
        if !span.is_disabled()
            && let Some(key) = call.key
        {
            span.record("session", key.hint());
        }
        let started = Instant::now();
        // (Without a subscriber that wants the span, the call runs as it is.)
        let result = if span.is_disabled() {
            future.await
        } else {
            future.instrument(span.clone()).await
        };
        let elapsed = started.elapsed();
        let outcome = match &result {
            Ok(returned) if returned.not_found() => Outcome::NotFound,
            Ok(_) => Outcome::Ok,
            Err(error) => Outcome::Failed(error.kind()),
        };
        span.record("outcome", outcome.as_str());
        let keys = &self.keys;
        let duration = self.key(
            &keys.durations,
            STORE_DURATION,
            call.operation,
            outcome,
            "outcome",
        );
        with_recorder(|r| r.register_histogram(duration, &METADATA)).record(elapsed.as_secs_f64());
        let size = match &result {
            Ok(returned) => returned.read_size().or(call.size),
            Err(_) => None,
        };
        if let Some(size) = size {
            if call.size.is_none() {
                span.record("size", size);
            }
            let key = keys.sizes[call.operation as usize].get_or_init(|| {
                let label = Label::from_static_parts("operation", operation);
                Key::from_parts(SESSION_SIZE, vec![label])
            });
            with_recorder(|r| r.register_histogram(key, &METADATA)).record(size as f64);
        }
        if let Err(error) = &result
            && !(error.is_gone() || error.is_conflict() || error.is_collision())
        {
            let failed = self.key(
                &keys.errors,
                STORE_ERRORS,
                call.operation,
                outcome,
                "error.type",
            );
            with_recorder(|r| r.register_counter(failed, &METADATA)).increment(1);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn store_calls_are_timed_by_backend_operation_and_outcome() {
        use std::sync::Arc;

        use crate::{MemoryStore, SessionConfig, Sessions};

        let recorder = sessionkit_testkit::MetricsRecorder::install();
        let sessions =
            Sessions::new(Arc::new(MemoryStore::new()), SessionConfig::default()).unwrap();
        let session = sessions.start([]);
        session.insert("k", "v").await.unwrap();
        sessions.finish(&session).await.unwrap();
        let created = [
            ("backend", "memory"),
            ("operation", "create"),
            ("outcome", "ok"),
        ];
        assert_eq!(recorder.histogram(STORE_DURATION, &created).len(), 1);
        let sizes = recorder.histogram(SESSION_SIZE, &[("operation", "create")]);
        assert!(matches!(sizes[..], [size] if size > 0.0), "{sizes:?}");

        let unknown = format!("session={}", Id::random());
        let session = sessions.start([unknown.as_bytes()]);
        session.get::<String>("k").await.unwrap();
        // (Sessions are permanent by default: the read is a plain load.)
        let missed = [
            ("backend", "memory"),
            ("operation", "load"),
            ("outcome", "not_found"),
        ];
        assert_eq!(recorder.histogram(STORE_DURATION, &missed).len(), 1);
        assert!(
            recorder
                .histogram(SESSION_SIZE, &[("operation", "load")])
                .is_empty()
        );
    }
}
