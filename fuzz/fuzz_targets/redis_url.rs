//! Text -> a Redis URL (standalone, TLS, Sentinel, Cluster). Never panics; an error never
//! quotes the password.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sessionkit_redis::RedisUrl;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = RedisUrl::parse(text);
    let _ = sessionkit_core::redact_url(text);
});
