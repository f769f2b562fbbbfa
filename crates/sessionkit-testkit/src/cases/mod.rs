//! The conformance cases, one `pub async fn` per rule of the
//! [`SessionStore`](sessionkit_core::SessionStore) contract.
//!
//! Every case takes the store and its [`TimeTravel`](crate::TimeTravel), uses fresh random
//! ids (so cases can run in parallel against one server), and panics with a message naming
//! the broken rule.

mod concurrency;
mod create;
mod delete;
mod expiry;
mod round_trip;
mod save;
mod scan;
mod support;
mod user_index;

pub use concurrency::{
    concurrent_creates_are_all_stored_and_distinct, concurrent_saves_from_one_version_one_wins,
};
pub use create::{create_collision_is_reported, create_over_an_expired_record_succeeds};
pub use delete::{
    delete_if_after_touch_still_deletes, delete_if_of_a_missing_record_is_gone,
    delete_if_with_a_stale_version_conflicts, delete_if_with_the_loaded_version_removes,
    delete_is_idempotent, delete_removes_the_record,
};
pub use expiry::{
    expired_record_is_not_loaded, load_and_touch_extends_expiry, load_and_touch_of_unknown_is_none,
    save_sets_the_new_expiry, touch_extends_expiry, touch_keeps_data_and_version,
    touch_of_missing_record_is_gone,
};
pub use round_trip::{
    large_value_round_trips, load_of_unknown_id_is_none, payload_bytes_are_kept_exactly,
    round_trip_binary_values, round_trip_nested_values, round_trip_unicode_keys_and_values,
};
pub use save::{
    save_after_delete_does_not_resurrect, save_after_expiry_is_gone,
    save_of_missing_record_is_gone, save_replaces_the_data, save_with_stale_version_conflicts,
};
pub use scan::{
    scan_in_small_pages_visits_every_record, scan_lists_bound_records_and_not_the_index,
    scan_lists_live_records_with_size_and_expiry, scan_skips_deleted_and_expired_records,
};
pub use user_index::{
    create_for_binds_the_record, create_for_collision_binds_nothing,
    deleted_records_are_not_listed, expired_records_are_not_listed,
    listing_shows_the_current_record, save_for_binds_and_rebinds, save_for_failures_bind_nothing,
    touch_for_keeps_the_record_listed, unknown_user_lists_nothing, user_names_are_opaque,
};
