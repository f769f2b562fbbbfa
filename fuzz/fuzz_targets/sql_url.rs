//! Text -> the SQL connection options the SQL stores connect with (sqlx's parsers for
//! PostgreSQL, MySQL and SQLite URLs) and the redaction every error message applies to
//! them. Never panics.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use sqlx::mysql::MySqlConnectOptions;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = sessionkit_core::redact_url(text);
    let _ = PgConnectOptions::from_str(text);
    let _ = MySqlConnectOptions::from_str(text);
    let _ = SqliteConnectOptions::from_str(text);
});
