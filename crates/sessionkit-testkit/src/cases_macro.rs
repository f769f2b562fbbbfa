//! The list of cases, written once, and the macro that turns it into tests.

/// Calls `$callback! { [args] case, case, ... }` with every conformance case: the single
/// list from which both [`run_all`](crate::run_all) and [`conformance_tests!`] are made.
#[doc(hidden)]
#[macro_export]
macro_rules! __with_conformance_cases {
    ($callback:path $(; $($args:tt)*)?) => {
        $callback! {
            [$($($args)*)?]
            round_trip_nested_values,
            round_trip_unicode_keys_and_values,
            round_trip_binary_values,
            payload_bytes_are_kept_exactly,
            large_value_round_trips,
            load_of_unknown_id_is_none,
            create_collision_is_reported,
            create_over_an_expired_record_succeeds,
            expired_record_is_not_loaded,
            touch_extends_expiry,
            touch_keeps_data_and_version,
            touch_of_missing_record_is_gone,
            load_and_touch_extends_expiry,
            load_and_touch_of_unknown_is_none,
            save_sets_the_new_expiry,
            save_replaces_the_data,
            save_with_stale_version_conflicts,
            save_of_missing_record_is_gone,
            save_after_delete_does_not_resurrect,
            save_after_expiry_is_gone,
            concurrent_saves_from_one_version_one_wins,
            concurrent_creates_are_all_stored_and_distinct,
            delete_removes_the_record,
            delete_is_idempotent,
            delete_if_with_the_loaded_version_removes,
            delete_if_with_a_stale_version_conflicts,
            delete_if_of_a_missing_record_is_gone,
            delete_if_after_touch_still_deletes,
        }
    };
}

/// Writes one `#[tokio::test]` per conformance case. `$harness` names an `async fn() ->
/// Harness` that builds the store under test; it is called once per case, and its
/// teardown runs after the case, passed or failed.
///
/// See the [crate docs](crate) for an example.
#[macro_export]
macro_rules! conformance_tests {
    ($harness:path) => {
        $crate::__with_conformance_cases!($crate::__conformance_test_fns; $harness);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_test_fns {
    ([$harness:path] $($case:ident),+ $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::__private::run_case($harness, |harness| {
                    ::std::boxed::Box::pin($crate::cases::$case(harness.store(), harness.time()))
                });
            }
        )+
    };
}

/// Calls `$callback! { [args] case, ... }` with every case of the
/// [`UserIndex`](sessionkit_core::UserIndex) capability.
#[doc(hidden)]
#[macro_export]
macro_rules! __with_user_index_cases {
    ($callback:path $(; $($args:tt)*)?) => {
        $callback! {
            [$($($args)*)?]
            create_for_binds_the_record,
            create_for_collision_binds_nothing,
            save_for_binds_and_rebinds,
            save_for_failures_bind_nothing,
            deleted_records_are_not_listed,
            expired_records_are_not_listed,
            touch_for_keeps_the_record_listed,
            listing_shows_the_current_record,
            user_names_are_opaque,
            unknown_user_lists_nothing,
        }
    };
}

/// Writes one test per case of the [`UserIndex`](sessionkit_core::UserIndex) capability,
/// for a store whose [`user_index`](sessionkit_core::SessionStore::user_index) is `Some`;
/// `$harness` as for [`conformance_tests!`](crate::conformance_tests). A store with the capability runs both macros.
///
/// ```
/// use std::sync::Arc;
/// use sessionkit_core::{ManualClock, MemoryStore};
/// use sessionkit_testkit::{Harness, TimeTravel};
///
/// async fn memory() -> Harness {
///     let clock = ManualClock::new();
///     Harness::new(MemoryStore::with_clock(Arc::new(clock.clone())), TimeTravel::Manual(clock))
/// }
///
/// sessionkit_testkit::conformance_tests!(memory);
/// sessionkit_testkit::user_index_tests!(memory);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! user_index_tests {
    ($harness:path) => {
        $crate::__with_user_index_cases!($crate::__conformance_test_fns; $harness);
    };
}

/// Calls `$callback! { [args] case, ... }` with every case of the
/// [`SessionScan`](sessionkit_core::SessionScan) capability.
#[doc(hidden)]
#[macro_export]
macro_rules! __with_scan_cases {
    ($callback:path $(; $($args:tt)*)?) => {
        $callback! {
            [$($($args)*)?]
            scan_lists_live_records_with_size_and_expiry,
            scan_in_small_pages_visits_every_record,
            scan_skips_deleted_and_expired_records,
            scan_lists_bound_records_and_not_the_index,
        }
    };
}

/// Writes one test per case of the [`SessionScan`](sessionkit_core::SessionScan)
/// capability, for a store whose
/// [`session_scan`](sessionkit_core::SessionStore::session_scan) is `Some`; `$harness` as
/// for [`conformance_tests!`](crate::conformance_tests). The cases look only for the
/// records they create, so the store may be shared with other tests.
///
/// ```
/// use std::sync::Arc;
/// use sessionkit_core::{ManualClock, MemoryStore};
/// use sessionkit_testkit::{Harness, TimeTravel};
///
/// async fn memory() -> Harness {
///     let clock = ManualClock::new();
///     Harness::new(MemoryStore::with_clock(Arc::new(clock.clone())), TimeTravel::Manual(clock))
/// }
///
/// sessionkit_testkit::scan_tests!(memory);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! scan_tests {
    ($harness:path) => {
        $crate::__with_scan_cases!($crate::__conformance_test_fns; $harness);
    };
}
