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
    if let Err(error) = from_pairs(&pairs) {
        let message = error.to_string();
        for (i, (key, value)) in pairs.iter().enumerate() {
            let secret = key == "SECRET_KEY" || key == "SECRET_KEY_FALLBACKS";
            // A secret that also stands inside another pair (a key, or a value the message
            // may rightly quote) cannot be told apart in the message.
            let elsewhere = pairs.iter().enumerate().any(|(j, (k, v))| {
                j != i && (k.contains(value.as_str()) || v.contains(value.as_str()))
            });
            if secret && value.len() >= 8 && !elsewhere && message.contains(value.as_str()) {
                // Nor can a secret that spells text the message holds anyway (a key name
                // and its `=`): the same configuration with another secret of the same
                // length must then not show that one.
                let marker: String = "zQ7".chars().cycle().take(value.len()).collect();
                let mut other = pairs.clone();
                other[i].1 = marker.clone();
                let echoed = from_pairs(&other)
                    .err()
                    .is_some_and(|e| e.to_string().contains(&marker));
                assert!(!echoed, "{key} echoed: {message}");
            }
        }
    }
});

fn from_pairs(pairs: &[(String, String)]) -> Result<Config, sessionkit::Error> {
    Config::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}
