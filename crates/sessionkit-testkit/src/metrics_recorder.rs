//! [`MetricsRecorder`]: reads back what sessionkit reported through the `metrics` facade,
//! for tests that check a counter moved exactly when its event happened.

use std::cell::RefCell;
use std::collections::HashMap;

use metrics::LocalRecorderGuard;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// A metric's name and labels, the labels sorted.
type Key = (String, Vec<(String, String)>);

/// A metrics recorder installed on the current thread for one test, read back by name and
/// labels.
///
/// It records what runs on the installing thread only, so the code under test must run
/// there too: a current-thread runtime (`#[tokio::test]`'s default), not a multi-thread one.
///
/// ```
/// let recorder = sessionkit_testkit::MetricsRecorder::install();
/// metrics::counter!("sessionkit.session.created").increment(2);
/// assert_eq!(recorder.counter("sessionkit.session.created", &[]), 2);
/// ```
pub struct MetricsRecorder {
    snapshotter: Snapshotter,
    /// Counters and histograms accumulated over the snapshots taken (a snapshot resets
    /// what it reads).
    counters: RefCell<HashMap<Key, u64>>,
    histograms: RefCell<HashMap<Key, Vec<f64>>>,
    _guard: LocalRecorderGuard<'static>,
}

impl std::fmt::Debug for MetricsRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsRecorder").finish_non_exhaustive()
    }
}

impl MetricsRecorder {
    /// Installs a recorder for the current thread until the returned value is dropped.
    pub fn install() -> Self {
        // Leaked: the guard borrows it for as long as the test runs.
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
            let name = key_of(key.name(), key.labels().map(|l| (l.key(), l.value())));
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

    /// The counter `name` with exactly `labels`, since installation.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.collect();
        let key = key_of(name, labels.iter().copied());
        self.counters.borrow().get(&key).copied().unwrap_or(0)
    }

    /// Every counter since installation, by name, its labels summed over.
    pub fn counters(&self) -> HashMap<String, u64> {
        self.collect();
        let mut totals = HashMap::new();
        for ((name, _), n) in self.counters.borrow().iter() {
            *totals.entry(name.clone()).or_default() += n;
        }
        totals
    }

    /// The values recorded into the histogram `name` with exactly `labels`.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        self.collect();
        let key = key_of(name, labels.iter().copied());
        self.histograms
            .borrow()
            .get(&key)
            .cloned()
            .unwrap_or_default()
    }

    /// The gauges without labels set since the previous read of gauges, by name.
    pub fn gauges(&self) -> HashMap<String, f64> {
        self.collect()
            .into_iter()
            .filter(|((_, labels), _)| labels.is_empty())
            .map(|((name, _), value)| (name, value))
            .collect()
    }
}

fn key_of<'a>(name: &str, labels: impl Iterator<Item = (&'a str, &'a str)>) -> Key {
    let mut labels: Vec<(String, String)> =
        labels.map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    labels.sort();
    (name.to_owned(), labels)
}
