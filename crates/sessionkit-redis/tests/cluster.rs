//! The conformance suite and the user index cases against a 3-master Redis Cluster on
//! 127.0.0.1:7000-7002.

mod support;

use sessionkit_redis::ConnectionKind;
use sessionkit_testkit::{Harness, TimeTravel};
use support::{CLUSTER, connect};

async fn cluster() -> Harness {
    Harness::new(
        connect(CLUSTER, ConnectionKind::default()).await,
        TimeTravel::Real,
    )
}

sessionkit_testkit::conformance_tests!(cluster);
sessionkit_testkit::user_index_tests!(cluster);
sessionkit_testkit::scan_tests!(cluster);
