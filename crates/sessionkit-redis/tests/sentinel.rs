//! The conformance suite and the user index cases against the master of service
//! `sessionkit`, found through a Sentinel on 127.0.0.1:26379.

mod support;

use sessionkit_redis::ConnectionKind;
use sessionkit_testkit::{Harness, TimeTravel};
use support::{SENTINEL, connect};

async fn sentinel() -> Harness {
    Harness::new(
        connect(SENTINEL, ConnectionKind::default()).await,
        TimeTravel::Real,
    )
}

sessionkit_testkit::conformance_tests!(sentinel);
sessionkit_testkit::user_index_tests!(sentinel);
