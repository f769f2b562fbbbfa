//! A metrics recorder for one test: installed on the test's thread (current-thread
//! runtimes only), read back by name and labels.

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
