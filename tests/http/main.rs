//! The request lifecycle through real web frameworks, one test per rule, run unchanged on
//! every adapter (axum, actix-web) against every store: memory (manual clock), Redis (with
//! its near cache, the default, and without), Redis Cluster, Memcached (two nodes),
//! PostgreSQL, MariaDB and SQLite (real servers, short lifetimes). The cases describe requests and expectations; each adapter serves the same
//! route table (`adapters`). The store is chosen only through configuration keys, as an
//! application would; a failing test's name starts with its adapter and backend
//! (`actix::redis_cluster::cycle_id_keeps_the_data_under_a_new_id`).

#![recursion_limit = "256"]

mod adapters;
mod concurrency;
mod cookies;
mod counters;
mod devices;
mod failures;
mod in_cookie;
mod lifecycle;
mod races;
mod signing;
mod support;
mod tampering;
mod traces;

use adapters::Adapter;
use support::{Backend, Ctx, on_local_set};

/// One `#[tokio::test]` per case for `$adapter` on `$backend`, cleaning up the case's
/// stores whether it passed or failed.
macro_rules! http_suite {
    ($adapter:expr, $backend:expr; $($module:ident :: $case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "current_thread")]
            async fn $case() {
                crate::on_local_set(async {
                    use futures_util::FutureExt as _;
                    let ctx = crate::Ctx::new($adapter, $backend);
                    let outcome = std::panic::AssertUnwindSafe(crate::$module::$case(&ctx))
                        .catch_unwind()
                        .await;
                    ctx.cleanup().await;
                    if let Err(panic) = outcome {
                        std::panic::resume_unwind(panic);
                    }
                })
                .await
            }
        )+
    };
}

/// Every case of the suite, for one adapter on one backend.
macro_rules! every_case {
    ($adapter:expr, $backend:expr) => {
        http_suite! {
            $adapter, $backend;
            lifecycle::untouched_session_costs_no_store_call,
            lifecycle::empty_new_session_stores_nothing_and_sends_no_cookie,
            lifecycle::new_session_with_data_is_created_with_a_cookie,
            lifecycle::counter_counts_across_requests,
            lifecycle::unknown_id_from_the_client_is_never_adopted,
            lifecycle::expired_session_is_replaced_by_a_fresh_one,
            lifecycle::reading_slides_the_expiry_without_rewriting,
            lifecycle::without_refresh_reads_do_not_slide_the_expiry,
            lifecycle::unchanged_permanent_session_re_sends_its_cookie_with_the_new_expiry,
            lifecycle::unchanged_browser_session_sends_no_cookie,
            lifecycle::modified_session_is_saved,
            lifecycle::clear_deletes_the_record_and_removes_the_cookie,
            lifecycle::removing_the_last_key_deletes_the_session,
            lifecycle::cycle_id_keeps_the_data_under_a_new_id,
            lifecycle::session_id_is_reported_to_the_handler,
            lifecycle::permanent_sessions_store_the_flask_marker_and_get_an_expiring_cookie,
            lifecycle::browser_sessions_have_no_marker_and_no_expires,
            lifecycle::set_permanent_switches_a_session_to_a_browser_session,
            lifecycle::store_lifetime_applies_to_browser_sessions_too,
            lifecycle::vary_cookie_when_the_session_was_accessed,
            lifecycle::corrupt_stored_value_means_no_session_a_warning_and_no_loss,
            cookies::default_cookie_attributes,
            cookies::configured_cookie_attributes,
            cookies::host_prefixed_cookie_meets_the_browser_rules,
            cookies::other_cookies_are_ignored,
            cookies::responses_setting_the_cookie_are_not_cacheable,
            cookies::responses_without_a_cookie_get_no_cache_control,
            cookies::the_apps_own_caching_headers_are_kept,
            concurrency::concurrent_writes_to_different_keys_both_land,
            concurrency::concurrent_writes_to_the_same_key_the_later_save_wins,
            concurrency::slow_read_only_request_does_not_revert_a_concurrent_write,
            concurrency::logout_during_a_concurrent_write_is_not_undone,
            races::rotation_racing_a_logout_is_not_undone,
            races::logout_by_popping_the_user_key_wins_over_a_slow_write_of_it,
            races::logout_with_a_flash_message_wins_over_a_slow_write,
            races::slow_read_overlapping_a_login_does_not_send_the_old_id_back,
            races::destroy_removes_the_session_and_its_cookie,
            tampering::malformed_cookies_never_reach_the_store,
            tampering::duplicated_session_cookies_are_refused,
            tampering::a_junk_duplicate_cookie_does_not_lock_the_user_out,
            tampering::an_unsigned_or_wrongly_signed_duplicate_is_junk,
            tampering::wrong_signatures_never_reach_the_store,
            signing::signed_cookie_round_trips_and_the_store_key_is_the_bare_id,
            signing::unsigned_or_wrongly_signed_cookies_are_refused_without_a_lookup,
            signing::rotation_accepts_the_old_key_and_issues_the_new_one,
            devices::three_devices_are_listed_and_the_others_revoked,
            devices::an_admin_logs_a_user_out_everywhere,
            devices::a_cap_of_two_revokes_the_oldest_at_login,
            devices::a_revocation_racing_requests_in_flight_leaves_no_session,
            devices::hashed_ids_keep_no_cookie_id_in_the_store,
            counters::created_counts_each_new_session_once,
            counters::saved_counts_each_write_of_changed_data,
            counters::merged_counts_a_write_merged_onto_a_concurrent_one,
            counters::merge_given_up_counts_a_write_that_kept_conflicting,
            counters::gone_counts_a_write_to_a_session_ended_meanwhile,
            counters::deleted_counts_each_logout,
            counters::rotated_counts_each_move_to_a_new_id,
            counters::revoked_counts_each_revoked_session,
            counters::expired_counts_a_session_read_past_its_absolute_lifetime,
            counters::unreadable_counts_stored_sessions_that_cannot_be_read,
            counters::store_calls_are_timed_by_backend_operation_and_outcome,
            traces::spans_of_a_login_write_rotation_and_logout_hold_no_id_and_no_value,
            traces::info_is_quiet_in_normal_operation,
        }
    };
}

/// The cases of sessions kept in the cookie (`in_cookie`), for one adapter and format.
macro_rules! in_cookie_cases {
    ($adapter:expr, $backend:expr) => {
        http_suite! {
            $adapter, $backend;
            in_cookie::the_counter_counts_with_the_data_in_the_cookie_and_no_store,
            in_cookie::untouched_and_empty_sessions_send_no_cookie,
            in_cookie::a_changed_or_tampered_cookie_is_no_session,
            in_cookie::a_cookie_older_than_the_lifetime_is_no_session,
            in_cookie::reads_reissue_the_cookie_once_per_refresh_step,
            in_cookie::a_logout_removes_the_cookie_but_an_old_copy_stays_valid,
            in_cookie::rotation_reseals_and_a_flash_after_logout_starts_anew,
            in_cookie::a_session_too_large_for_a_cookie_is_an_error_and_changes_nothing,
            in_cookie::rotated_keys_open_old_cookies_and_seal_new_ones,
            in_cookie::a_session_past_its_absolute_lifetime_is_removed,
            cookies::default_cookie_attributes,
            cookies::configured_cookie_attributes,
            cookies::host_prefixed_cookie_meets_the_browser_rules,
            cookies::responses_setting_the_cookie_are_not_cacheable,
            cookies::the_apps_own_caching_headers_are_kept,
            lifecycle::vary_cookie_when_the_session_was_accessed,
        }
    };
}

/// The store-failure cases (`failures`), for one adapter.
macro_rules! failure_cases {
    ($adapter:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "current_thread")]
            async fn $case() {
                crate::on_local_set(crate::failures::$case($adapter)).await
            }
        )+

        #[tokio::test(flavor = "current_thread", start_paused = true)]
        async fn hanging_store_fails_within_the_configured_timeout() {
            crate::on_local_set(crate::failures::hanging_store_fails_within_the_configured_timeout(
                $adapter,
            ))
            .await
        }

        #[tokio::test(flavor = "current_thread", start_paused = true)]
        async fn a_timed_out_store_call_is_counted_as_a_timeout() {
            crate::on_local_set(crate::failures::a_timed_out_store_call_is_counted_as_a_timeout(
                $adapter,
            ))
            .await
        }
    };
}

/// Every case on every backend, and the store-failure cases, for one adapter.
macro_rules! every_backend {
    ($adapter:expr) => {
        mod memory {
            every_case!($adapter, crate::Backend::Memory);
        }

        #[cfg(feature = "redis")]
        mod redis {
            every_case!($adapter, crate::Backend::Redis);
        }

        #[cfg(feature = "redis")]
        mod redis_without_near_cache {
            every_case!($adapter, crate::Backend::RedisWithoutNearCache);
        }

        #[cfg(feature = "redis")]
        mod redis_cluster {
            every_case!($adapter, crate::Backend::RedisCluster);
        }

        #[cfg(feature = "redis")]
        mod valkey {
            every_case!($adapter, crate::Backend::Valkey);
        }

        #[cfg(feature = "memcached")]
        mod memcached {
            every_case!($adapter, crate::Backend::Memcached);
        }

        #[cfg(feature = "postgres")]
        mod postgres {
            every_case!($adapter, crate::Backend::Postgres);
        }

        #[cfg(feature = "mysql")]
        mod mysql {
            every_case!($adapter, crate::Backend::MySql);
        }

        #[cfg(feature = "sqlite")]
        mod sqlite {
            every_case!($adapter, crate::Backend::Sqlite);
        }

        mod cookie {
            in_cookie_cases!($adapter, crate::Backend::Cookie);
        }

        mod cookie_flask {
            in_cookie_cases!($adapter, crate::Backend::CookieFlask);
        }

        mod failures {
            failure_cases! {
                $adapter;
                unreachable_store_during_load_is_a_503,
                a_handler_error_and_a_failed_write_back_answer_alike,
                unreachable_store_when_writing_is_a_503,
                app_supplied_error_response_replaces_the_default,
                requests_that_never_touch_the_session_work_while_the_store_is_down,
                store_errors_are_counted_by_backend_operation_and_kind,
            }
        }
    };
}

mod axum {
    every_backend!(crate::Adapter::Axum);
}

mod actix {
    every_backend!(crate::Adapter::Actix);
}
