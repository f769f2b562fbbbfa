//! Configuration key/value pairs (`KEY=VALUE` lines) -> a `Config`. Never panics: every
//! mistake is an error naming a key, and no error quotes a secret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sessionkit::{Config, ConfigKey};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Known keys often, so the values reach every parser.
    let pairs: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| {
            let key = match k.parse::<usize>() {
                Ok(n) => ConfigKey::ALL[n % ConfigKey::ALL.len()].as_str().to_owned(),
                Err(_) => k.to_owned(),
            };
            (key, v.to_owned())
        })
        .collect();
    if let Err(error) = Config::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        let message = error.to_string();
        for (i, (key, value)) in pairs.iter().enumerate() {
            let secret = key == "SECRET_KEY" || key == "SECRET_KEY_FALLBACKS";
            // A secret that also stands inside another pair (a key, or a value the message
            // may rightly quote) cannot be told apart in the message.
            let elsewhere = pairs.iter().enumerate().any(|(j, (k, v))| {
                j != i && (k.contains(value.as_str()) || v.contains(value.as_str()))
            });
            if secret && value.len() >= 8 && !elsewhere {
                assert!(!message.contains(value.as_str()), "{key} echoed: {message}");
            }
        }
    }
});
