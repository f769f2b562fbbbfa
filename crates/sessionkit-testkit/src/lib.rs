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

pub mod cases;
pub mod recovery;

pub use fault_proxy::{Fault, FaultProxy};
pub use harness::{Harness, REAL_SLACK, TimeTravel};

#[doc(hidden)]
pub mod __private {
    pub use futures_util;
    pub use tokio;
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
