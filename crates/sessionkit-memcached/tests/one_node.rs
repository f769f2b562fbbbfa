//! The conformance suite and the user index cases against one memcached (127.0.0.1:11211).

mod support;

use sessionkit_testkit::{Harness, TimeTravel};
use support::{NODE_A, connect};

async fn one_node() -> Harness {
    Harness::new(connect(&[NODE_A]).await, TimeTravel::Real)
}

sessionkit_testkit::conformance_tests!(one_node);
sessionkit_testkit::user_index_tests!(one_node);
sessionkit_testkit::scan_tests!(one_node);
