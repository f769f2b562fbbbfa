//! The conformance suite and the user index cases against two memcached servers (127.0.0.1:11211 and :11212).

mod support;

use sessionkit_testkit::{Harness, TimeTravel};
use support::{NODE_A, NODE_B, connect};

async fn two_nodes() -> Harness {
    Harness::new(connect(&[NODE_A, NODE_B]).await, TimeTravel::Real)
}

sessionkit_testkit::conformance_tests!(two_nodes);
sessionkit_testkit::user_index_tests!(two_nodes);
sessionkit_testkit::scan_tests!(two_nodes);

#[tokio::test]
async fn sessions_are_spread_over_both_servers() {
    let store = connect(&[NODE_A, NODE_B]).await;
    let on_a = (0..200)
        .filter(|_| store.server_for(&sessionkit_core::Id::random()) == NODE_A)
        .count();
    assert!((60..=140).contains(&on_a), "{on_a} of 200 on {NODE_A}");
}
