//! SQLite on a temporary file: the conformance suite and batched cleanup.

mod support;

use sessionkit_core::ManualClock;
use sessionkit_sql::SqliteStore;
use support::sqlite_harness;

sessionkit_testkit::conformance_tests!(sqlite_harness);

async fn sqlite(clock: &ManualClock) -> SqliteStore {
    support::sqlite(clock).await.0
}

support::dialect_tests!(sqlite);
