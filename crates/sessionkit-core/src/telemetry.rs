//! What sessionkit reports about itself: metrics through the [`metrics`] facade, named in
//! OpenTelemetry's style and listed in the README, and a `tracing` span around every store
//! call. The application installs a recorder (an exporter) and a subscriber, or neither:
//! without them each report costs an atomic load or two.
//!
//! Spans and metrics never carry a session id or data; a span names its session by the
//! short one-way hint at most (the [`UserSession::hint`](crate::UserSession::hint) of the
//! id the store keeps).

use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use tokio::time::Instant;

use metrics::{
    Key, Label, Metadata, Unit, describe_counter, describe_gauge, describe_histogram, with_recorder,
};
use tracing::Instrument as _;
use tracing::field::Empty;

use crate::{Error, ErrorKind, Id, IndexedRecord, Record};

/// A new session stored.
pub(crate) const SESSION_CREATED: &str = "sessionkit.session.created";
/// Changed data written on the first try.
pub(crate) const SESSION_SAVED: &str = "sessionkit.session.saved";
/// Changed data written after merging onto a concurrent change.
pub(crate) const SESSION_MERGED: &str = "sessionkit.session.merged";
/// A write given up after every merge attempt conflicted (the request fails).
pub(crate) const SESSION_MERGE_GIVEN_UP: &str = "sessionkit.session.merge.given_up";
/// A request whose session was ended elsewhere meanwhile: nothing written.
pub(crate) const SESSION_GONE: &str = "sessionkit.session.gone";
/// A logout: the request deleted its session's record.
pub(crate) const SESSION_DELETED: &str = "sessionkit.session.deleted";
/// A session moved to a new id (`cycle_id`).
pub(crate) const SESSION_ROTATED: &str = "sessionkit.session.rotated";
/// A session deleted by a revocation through the user index (including the cap).
pub(crate) const SESSION_REVOKED: &str = "sessionkit.session.revoked";
/// A session read past its absolute lifetime, and deleted.
pub(crate) const SESSION_EXPIRED: &str = "sessionkit.session.expired";
/// A stored session that could not be read (over the size limit, or not decodable).
pub(crate) const SESSION_UNREADABLE: &str = "sessionkit.session.unreadable";
/// The size of payloads read from and written to the store.
pub(crate) const SESSION_SIZE: &str = "sessionkit.session.size";
/// The duration of store calls.
pub(crate) const STORE_DURATION: &str = "sessionkit.store.operation.duration";
/// Store calls that failed (not the contract's gone, conflict and collision answers).
pub(crate) const STORE_ERRORS: &str = "sessionkit.store.errors";
/// Lifecycle events not delivered because a subscriber's channel was full.
pub(crate) const EVENTS_DROPPED: &str = "sessionkit.events.dropped";
/// The memory store's entries.
pub(crate) const MEMORY_SESSIONS: &str = "sessionkit.memory.sessions";
/// The bytes of the memory store's payloads.
pub(crate) const MEMORY_SIZE: &str = "sessionkit.memory.size";
/// Sessions the full memory store evicted, least recently used first.
pub(crate) const MEMORY_EVICTED: &str = "sessionkit.memory.evicted";

/// Every metric sessionkit reports: name, kind, unit, description. The README's table
/// lists the same (a test checks).
pub(crate) const METRICS: &[(&str, Kind, Unit, &str)] = &[
    (
        SESSION_CREATED,
        Kind::Counter,
        Unit::Count,
        "New sessions stored",
    ),
    (
        SESSION_SAVED,
        Kind::Counter,
        Unit::Count,
        "Changed sessions written on the first try",
    ),
    (
        SESSION_MERGED,
        Kind::Counter,
        Unit::Count,
        "Changed sessions written after merging onto a concurrent change",
    ),
    (
        SESSION_MERGE_GIVEN_UP,
        Kind::Counter,
        Unit::Count,
        "Writes given up after every merge attempt conflicted",
    ),
    (
        SESSION_GONE,
        Kind::Counter,
        Unit::Count,
        "Requests whose session was ended elsewhere meanwhile; nothing written",
    ),
    (
        SESSION_DELETED,
        Kind::Counter,
        Unit::Count,
        "Logouts: sessions deleted by their own request",
    ),
    (
        SESSION_ROTATED,
        Kind::Counter,
        Unit::Count,
        "Sessions moved to a new id",
    ),
    (
        SESSION_REVOKED,
        Kind::Counter,
        Unit::Count,
        "Sessions revoked through the user index",
    ),
    (
        SESSION_EXPIRED,
        Kind::Counter,
        Unit::Count,
        "Sessions read past their absolute lifetime and deleted",
    ),
    (
        SESSION_UNREADABLE,
        Kind::Counter,
        Unit::Count,
        "Stored sessions treated as none: over the size limit or not decodable",
    ),
    (
        SESSION_SIZE,
        Kind::Histogram,
        Unit::Bytes,
        "Size of session payloads read and written",
    ),
    (
        STORE_DURATION,
        Kind::Histogram,
        Unit::Seconds,
        "Duration of session store calls",
    ),
    (
        STORE_ERRORS,
        Kind::Counter,
        Unit::Count,
        "Failed session store calls",
    ),
    (
        EVENTS_DROPPED,
        Kind::Counter,
        Unit::Count,
        "Lifecycle events dropped because a subscriber's channel was full",
    ),
    (
        MEMORY_SESSIONS,
        Kind::Gauge,
        Unit::Count,
        "Entries in the memory store",
    ),
    (
        MEMORY_SIZE,
        Kind::Gauge,
        Unit::Bytes,
        "Payload bytes in the memory store",
    ),
    (
        MEMORY_EVICTED,
        Kind::Counter,
        Unit::Count,
        "Sessions evicted from the full memory store",
    ),
];

/// The kind of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Describes every metric (unit and help text) to the recorder in use, for exporters that
/// show them. Called when a [`Sessions`](crate::Sessions) is built.
pub(crate) fn describe() {
    for &(name, kind, unit, help) in METRICS {
        match kind {
            Kind::Counter => describe_counter!(name, unit, help),
            Kind::Gauge => describe_gauge!(name, unit, help),
            Kind::Histogram => describe_histogram!(name, unit, help),
        }
    }
}

/// The keys of the metrics that have no labels, or fixed ones: built at compile time, so a
/// report computes nothing before it reaches the recorder.
pub(crate) mod keys {
    use metrics::{Key, Label};

    pub(crate) static SESSION_CREATED: Key = Key::from_static_name(super::SESSION_CREATED);
    pub(crate) static SESSION_SAVED: Key = Key::from_static_name(super::SESSION_SAVED);
    pub(crate) static SESSION_MERGED: Key = Key::from_static_name(super::SESSION_MERGED);
    pub(crate) static SESSION_MERGE_GIVEN_UP: Key =
        Key::from_static_name(super::SESSION_MERGE_GIVEN_UP);
    pub(crate) static SESSION_GONE: Key = Key::from_static_name(super::SESSION_GONE);
    pub(crate) static SESSION_DELETED: Key = Key::from_static_name(super::SESSION_DELETED);
    pub(crate) static SESSION_ROTATED: Key = Key::from_static_name(super::SESSION_ROTATED);
    pub(crate) static SESSION_REVOKED: Key = Key::from_static_name(super::SESSION_REVOKED);
    pub(crate) static SESSION_EXPIRED: Key = Key::from_static_name(super::SESSION_EXPIRED);
    pub(crate) static SESSION_UNREADABLE_TOO_LARGE: Key =
        Key::from_static_parts(super::SESSION_UNREADABLE, &TOO_LARGE);
    pub(crate) static SESSION_UNREADABLE_DECODE: Key =
        Key::from_static_parts(super::SESSION_UNREADABLE, &DECODE);
    pub(crate) static EVENTS_DROPPED: Key = Key::from_static_name(super::EVENTS_DROPPED);
    pub(crate) static MEMORY_SESSIONS: Key = Key::from_static_name(super::MEMORY_SESSIONS);
    pub(crate) static MEMORY_SIZE: Key = Key::from_static_name(super::MEMORY_SIZE);
    pub(crate) static MEMORY_EVICTED: Key = Key::from_static_name(super::MEMORY_EVICTED);

    static TOO_LARGE: [Label; 1] = [Label::from_static_parts("reason", "too_large")];
    static DECODE: [Label; 1] = [Label::from_static_parts("reason", "decode")];
}

/// Adds one to the counter `key` (one of [`keys`]).
pub(crate) fn count(key: &'static Key) {
    with_recorder(|r| r.register_counter(key, &METADATA)).increment(1);
}

/// Sets the gauge `key` (one of [`keys`]) to `value`.
pub(crate) fn set(key: &'static Key, value: f64) {
    with_recorder(|r| r.register_gauge(key, &METADATA)).set(value);
}

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

/// Where sessionkit's metrics come from, for recorders that filter on it.
static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

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
        let result = future.instrument(span.clone()).await;
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

/// The name of an error kind in labels and spans.
pub(crate) fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Unavailable => "unavailable",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Encode => "encode",
        ErrorKind::Decode => "decode",
        ErrorKind::TooLarge => "too_large",
        ErrorKind::Conflict => "conflict",
        ErrorKind::Gone => "gone",
        ErrorKind::Collision => "collision",
        ErrorKind::Config => "config",
        ErrorKind::Unsupported => "unsupported",
        ErrorKind::Backend => "backend",
    }
}

/// A metrics recorder for one test: installed on the test's thread (current-thread
/// runtimes only), read back by name and labels.
#[cfg(test)]
pub(crate) mod test_recorder {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use metrics::LocalRecorderGuard;
    use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

    /// A metric's name and labels, sorted.
    type Key = (String, Vec<(String, String)>);

    pub(crate) struct LocalRecorder {
        snapshotter: Snapshotter,
        /// Counters and histograms accumulated over the snapshots taken (a snapshot resets
        /// what it reads).
        counters: RefCell<HashMap<Key, u64>>,
        histograms: RefCell<HashMap<Key, Vec<f64>>>,
        _guard: LocalRecorderGuard<'static>,
    }

    impl LocalRecorder {
        /// Installs a recorder for the current thread until the returned value is dropped.
        pub(crate) fn install() -> Self {
            // Leaked: the guard needs it for as long as the test runs.
            let recorder: &'static DebuggingRecorder = Box::leak(Box::default());
            Self {
                snapshotter: recorder.snapshotter(),
                counters: RefCell::default(),
                histograms: RefCell::default(),
                _guard: metrics::set_default_local_recorder(recorder),
            }
        }

        /// Reads what was recorded since the last read; returns the gauges' values.
        fn collect(&self) -> HashMap<Key, f64> {
            let mut gauges = HashMap::new();
            for (key, _, _, value) in self.snapshotter.snapshot().into_vec() {
                let key = key.key();
                let mut labels: Vec<(String, String)> = key
                    .labels()
                    .map(|l| (l.key().to_owned(), l.value().to_owned()))
                    .collect();
                labels.sort();
                let name = (key.name().to_owned(), labels);
                match value {
                    DebugValue::Counter(n) => {
                        *self.counters.borrow_mut().entry(name).or_default() += n;
                    }
                    DebugValue::Gauge(v) => {
                        gauges.insert(name, v.into_inner());
                    }
                    DebugValue::Histogram(values) => self
                        .histograms
                        .borrow_mut()
                        .entry(name)
                        .or_default()
                        .extend(values.into_iter().map(|v| v.into_inner())),
                }
            }
            gauges
        }

        fn key(name: &str, labels: &[(&str, &str)]) -> Key {
            let mut labels: Vec<(String, String)> = labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            labels.sort();
            (name.to_owned(), labels)
        }

        /// The counter `name` with exactly `labels`, since installation.
        pub(crate) fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
            self.collect();
            let counters = self.counters.borrow();
            counters.get(&Self::key(name, labels)).copied().unwrap_or(0)
        }

        /// The values recorded into the histogram `name` with exactly `labels`.
        pub(crate) fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
            self.collect();
            let histograms = self.histograms.borrow();
            histograms
                .get(&Self::key(name, labels))
                .cloned()
                .unwrap_or_default()
        }

        /// The gauges (without labels) set since the previous read, by name; one that was
        /// not set since reads 0.
        pub(crate) fn gauges(&self) -> HashMap<String, f64> {
            self.collect()
                .into_iter()
                .filter(|((_, labels), _)| labels.is_empty())
                .map(|((name, _), value)| (name, value))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_lists_every_metric() {
        let readme = include_str!("../../../README.md");
        for (name, kind, _, _) in METRICS {
            let row = readme
                .lines()
                .find(|line| line.starts_with(&format!("| `{name}` |")))
                .unwrap_or_else(|| panic!("{name} is not in the README's metric table"));
            let kind = format!("{kind:?}").to_lowercase();
            assert!(row.contains(&kind), "{name}: the README says {row}");
        }
    }

    #[tokio::test]
    async fn store_calls_are_timed_by_backend_operation_and_outcome() {
        use std::sync::Arc;

        use crate::{MemoryStore, SessionConfig, Sessions};

        let recorder = test_recorder::LocalRecorder::install();
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

    #[test]
    fn metric_names_are_unique() {
        let mut names: Vec<&str> = METRICS.iter().map(|m| m.0).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), METRICS.len());
    }
}
