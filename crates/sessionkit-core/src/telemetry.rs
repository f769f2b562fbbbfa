//! What sessionkit reports about itself: metrics through the [`metrics`] facade, named in
//! OpenTelemetry's style and listed in the README, and a `tracing` span around every store
//! call. The application installs a recorder (an exporter) and a subscriber, or neither:
//! without them each report costs an atomic load or two.
//!
//! Spans and metrics never carry a session id or data; a span names its session by the
//! short one-way hint at most (the [`UserSession::hint`](crate::UserSession::hint) of the
//! id the store keeps).

mod store_calls;

use metrics::{
    Key, Metadata, Unit, describe_counter, describe_gauge, describe_histogram, with_recorder,
};

pub(crate) use store_calls::{Call, Operation, StoreCalls};

use crate::ErrorKind;

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

/// Where sessionkit's metrics come from, for recorders that filter on it.
static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

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

    #[test]
    fn metric_names_are_unique() {
        let mut names: Vec<&str> = METRICS.iter().map(|m| m.0).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), METRICS.len());
    }
}
