//! `Cookie` header bytes -> the session a request starts with, for every way the cookie can
//! carry it: a bare id, an id signed in sessionkit's format or itsdangerous', a sealed
//! session, a Flask session. Never panics; a bare id found is one the header holds.
#![no_main]

use std::sync::{Arc, LazyLock};

use libfuzzer_sys::fuzz_target;
use sessionkit::{
    CookieFormat, CookieStore, MemoryStore, SecretKey, SessionConfig, Sessions, SignerFormat,
};

const KEY: &str = "0123456789abcdef0123456789abcdef";

static SESSIONS: LazyLock<Vec<(&'static str, Sessions)>> = LazyLock::new(|| {
    let config = |f: &dyn Fn(&mut SessionConfig)| {
        let mut config = SessionConfig::default();
        config.secret_key = Some(SecretKey::new(KEY));
        f(&mut config);
        config
    };
    let memory = || Arc::new(MemoryStore::new());
    vec![
        (
            "unsigned",
            Sessions::new(memory(), config(&|_| ())).unwrap(),
        ),
        (
            "hmac-sha256",
            Sessions::new(memory(), config(&|c| c.use_signer = true)).unwrap(),
        ),
        (
            "itsdangerous",
            Sessions::new(
                memory(),
                config(&|c| {
                    c.use_signer = true;
                    c.signer_format = SignerFormat::Itsdangerous;
                }),
            )
            .unwrap(),
        ),
        (
            "sealed",
            Sessions::new(Arc::new(CookieStore), config(&|_| ())).unwrap(),
        ),
        (
            "flask",
            Sessions::new(
                Arc::new(CookieStore),
                config(&|c| c.cookie_format = CookieFormat::Flask),
            )
            .unwrap(),
        ),
    ]
});

fuzz_target!(|data: &[u8]| {
    // Up to three headers, split at 0xff bytes.
    let headers: Vec<&[u8]> = data.splitn(3, |b| *b == 0xff).collect();
    for (name, sessions) in SESSIONS.iter() {
        let session = sessions.start(headers.iter().copied());
        if *name == "unsigned" && session.has_cookie_id() {
            assert!(
                headers.iter().any(|h| h
                    .windows(43)
                    .any(|w| sessionkit::Id::parse_bytes(w).is_some())),
                "an id was found that the headers do not hold"
            );
        }
    }
});
