//! What the Redis store reports through the [`metrics`] facade, beside what the core
//! reports for every store: the near cache's work and size. Named in OpenTelemetry's style
//! and listed in the README, like the core's.

use metrics::{Key, Metadata, Unit, describe_counter, describe_gauge, with_recorder};

/// Loads answered from the near cache, without a round trip.
pub(crate) const NEAR_CACHE_HITS: &str = "sessionkit.near_cache.hits";
/// Loads the near cache could not answer, sent to Redis.
pub(crate) const NEAR_CACHE_MISSES: &str = "sessionkit.near_cache.misses";
/// Keys Redis reported changed (whether or not they were cached).
pub(crate) const NEAR_CACHE_INVALIDATIONS: &str = "sessionkit.near_cache.invalidations";
/// Times the whole near cache was dropped: tracking lost, or the database flushed.
pub(crate) const NEAR_CACHE_FLUSHES: &str = "sessionkit.near_cache.flushes";
/// Entries held by the near cache.
pub(crate) const NEAR_CACHE_ENTRIES: &str = "sessionkit.near_cache.entries";
/// Bytes held by the near cache (keys, payloads and bookkeeping).
pub(crate) const NEAR_CACHE_SIZE: &str = "sessionkit.near_cache.size";

/// Every metric of this crate: name, whether it is a gauge (else a counter), unit,
/// description. The README's table lists the same (a test checks).
pub(crate) const METRICS: &[(&str, bool, Unit, &str)] = &[
    (
        NEAR_CACHE_HITS,
        false,
        Unit::Count,
        "Loads answered from the near cache",
    ),
    (
        NEAR_CACHE_MISSES,
        false,
        Unit::Count,
        "Loads the near cache sent to Redis",
    ),
    (
        NEAR_CACHE_INVALIDATIONS,
        false,
        Unit::Count,
        "Keys Redis reported changed to the near cache",
    ),
    (
        NEAR_CACHE_FLUSHES,
        false,
        Unit::Count,
        "Times the whole near cache was dropped (tracking lost, database flushed)",
    ),
    (
        NEAR_CACHE_ENTRIES,
        true,
        Unit::Count,
        "Entries in the near cache",
    ),
    (
        NEAR_CACHE_SIZE,
        true,
        Unit::Bytes,
        "Bytes held by the near cache",
    ),
];

/// Describes this crate's metrics to the recorder in use. Called when a store with a near
/// cache is built.
pub(crate) fn describe() {
    for &(name, gauge, unit, help) in METRICS {
        if gauge {
            describe_gauge!(name, unit, help);
        } else {
            describe_counter!(name, unit, help);
        }
    }
}

/// The keys, built at compile time so a report computes nothing before the recorder.
pub(crate) mod keys {
    use metrics::Key;

    pub(crate) static NEAR_CACHE_HITS: Key = Key::from_static_name(super::NEAR_CACHE_HITS);
    pub(crate) static NEAR_CACHE_MISSES: Key = Key::from_static_name(super::NEAR_CACHE_MISSES);
    pub(crate) static NEAR_CACHE_INVALIDATIONS: Key =
        Key::from_static_name(super::NEAR_CACHE_INVALIDATIONS);
    pub(crate) static NEAR_CACHE_FLUSHES: Key = Key::from_static_name(super::NEAR_CACHE_FLUSHES);
    pub(crate) static NEAR_CACHE_ENTRIES: Key = Key::from_static_name(super::NEAR_CACHE_ENTRIES);
    pub(crate) static NEAR_CACHE_SIZE: Key = Key::from_static_name(super::NEAR_CACHE_SIZE);
}

/// Adds `n` to the counter `key` (one of [`keys`]).
pub(crate) fn count(key: &'static Key, n: u64) {
    with_recorder(|r| r.register_counter(key, &METADATA)).increment(n);
}

/// Sets the gauge `key` (one of [`keys`]) to `value`.
pub(crate) fn set(key: &'static Key, value: f64) {
    with_recorder(|r| r.register_gauge(key, &METADATA)).set(value);
}

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_lists_every_metric() {
        let readme = include_str!("../../../README.md");
        for &(name, gauge, _, _) in METRICS {
            let row = readme
                .lines()
                .find(|line| line.starts_with(&format!("| `{name}` |")))
                .unwrap_or_else(|| panic!("{name} is not in the README's metric table"));
            let kind = if gauge { "gauge" } else { "counter" };
            assert!(row.contains(kind), "{name}: the README says {row}");
        }
    }
}
