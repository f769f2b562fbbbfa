//! The sessionkit conformance suite: one set of cases that every
//! [`SessionStore`](sessionkit_core::SessionStore) must pass, for sessionkit's own backends
//! and for third-party stores alike.
//!
//! A backend's test file builds its store in an async function returning a [`Harness`] and
//! invokes [`conformance_tests!`], which writes one `#[tokio::test]` per case, so a failure
//! names the case (the test file needs `tokio` with the `macros` and `rt-multi-thread`
//! features as a dev-dependency):
//!
//! ```
//! use std::sync::Arc;
//! use sessionkit_core::{ManualClock, MemoryStore};
//! use sessionkit_testkit::{Harness, TimeTravel};
//!
//! async fn memory() -> Harness {
//!     let clock = ManualClock::new();
//!     Harness::new(MemoryStore::with_clock(Arc::new(clock.clone())), TimeTravel::Manual(clock))
//! }
//!
//! sessionkit_testkit::conformance_tests!(memory);
//! # fn main() {}
//! ```
//!
//! Stores backed by a real server use [`TimeTravel::Real`]; the expiry cases then sleep
//! about 2.5 s each, in parallel. [`run_all`] runs every case in one test instead.
//!
//! The cases are in [`cases`]; [`CASES`] lists their names.

mod cases_macro;
mod fault_proxy;
mod harness;
mod metrics_recorder;

pub mod cases;
pub mod recovery;

pub use fault_proxy::{Fault, FaultProxy};
pub use harness::{Harness, REAL_SLACK, TimeTravel};
pub use metrics_recorder::MetricsRecorder;

/// What the `conformance_tests!` expansion calls; not an API.
#[doc(hidden)]
pub mod __private {
    use std::future::Future;
    use std::pin::Pin;

    use futures_util::FutureExt as _;

    use crate::Harness;

    /// Runs one case on a two-worker runtime of its own: builds the harness, runs the case,
    /// tears the harness down whether the case passed or panicked, then reports the panic.
    /// (A runtime built here rather than `#[tokio::test]` in the expansion, so the calling
    /// crate needs no `tokio` of its own under that name.)
    pub fn run_case<H, F>(harness: fn() -> H, case: F)
    where
        H: Future<Output = Harness>,
        F: for<'a> FnOnce(&'a Harness) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>,
    {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a Tokio runtime for the conformance case");
        runtime.block_on(async {
            let harness = harness().await;
            let outcome = std::panic::AssertUnwindSafe(case(&harness))
                .catch_unwind()
                .await;
            harness.teardown().await;
            if let Err(panic) = outcome {
                std::panic::resume_unwind(panic);
            }
        });
    }
}

macro_rules! define_run_all {
    ([] $($case:ident),+ $(,)?) => {
        /// The names of all conformance cases, in the order [`run_all`] runs them.
        pub const CASES: &[&str] = &[$(stringify!($case)),+];

        /// Runs every conformance case against the harness's store, one after another,
        /// printing each case's name before it runs. Panics at the first failure.
        pub async fn run_all(harness: &Harness) {
            $(
                println!("conformance case: {}", stringify!($case));
                cases::$case(harness.store(), harness.time()).await;
            )+
        }
    };
}

__with_conformance_cases!(define_run_all);
