//! The memory store passes the whole conformance suite, directly and through
//! `Arc<dyn SessionStore>`, the user index and scan cases, on a manual clock (no sleeping).

use std::sync::Arc;

use sessionkit_core::{DynSessionStore, ManualClock, MemoryStore};
use sessionkit_testkit::{Harness, TimeTravel};

fn store_on_manual_clock() -> (MemoryStore, TimeTravel) {
    let clock = ManualClock::new();
    (
        MemoryStore::with_clock(Arc::new(clock.clone())),
        TimeTravel::Manual(clock),
    )
}

async fn direct() -> Harness {
    let (store, time) = store_on_manual_clock();
    Harness::new(store, time)
}

async fn through_arc_dyn() -> Harness {
    let (store, time) = store_on_manual_clock();
    let shared: DynSessionStore = Arc::new(store);
    Harness::new(shared, time)
}

mod direct {
    sessionkit_testkit::conformance_tests!(super::direct);
    sessionkit_testkit::user_index_tests!(super::direct);
    sessionkit_testkit::scan_tests!(super::direct);
}

mod through_arc_dyn {
    sessionkit_testkit::conformance_tests!(super::through_arc_dyn);
    sessionkit_testkit::user_index_tests!(super::through_arc_dyn);
    sessionkit_testkit::scan_tests!(super::through_arc_dyn);
}

mod through_box {
    use super::*;

    async fn boxed() -> Harness {
        let (store, time) = store_on_manual_clock();
        let boxed: Box<dyn sessionkit_core::SessionStore> = Box::new(store);
        Harness::new(boxed, time)
    }

    sessionkit_testkit::conformance_tests!(boxed);
}

#[tokio::test]
async fn run_all_runs_every_case() {
    let (store, time) = store_on_manual_clock();
    sessionkit_testkit::run_all(&Harness::new(store, time)).await;
    let unique: std::collections::HashSet<_> = sessionkit_testkit::CASES.iter().collect();
    assert_eq!(
        unique.len(),
        sessionkit_testkit::CASES.len(),
        "a case is listed twice"
    );
}
