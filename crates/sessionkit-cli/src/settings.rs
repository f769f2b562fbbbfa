//! Where the tool's configuration comes from: the library's keys, from the environment and
//! env files, checked by the library ([`sessionkit::Config`]).

use std::path::{Path, PathBuf};

use sessionkit::{Config, ConfigKey};

use crate::failure::Failure;

/// Keys the tool always sets, whatever the configuration says: it runs no background sweep
/// (`purge-expired` does that on demand) and keeps no near cache (it reads each session
/// once).
const TOOL_KEYS: [(&str, &str); 2] = [
    ("SESSION_CLEANUP_INTERVAL", "0"),
    ("SESSION_NEAR_CACHE", "false"),
];

/// The configuration from sessionkit's keys in the environment, then in each file of
/// `files` (later ones win).
///
/// # Errors
/// A file that cannot be read or has a line that is not `KEY=VALUE`; the library's
/// configuration errors, as it reports them (naming the key, never quoting a secret).
pub(crate) fn from_env_and_files(files: &[PathBuf]) -> Result<Config, Failure> {
    let mut pairs: Vec<(String, String)> = std::env::vars()
        .filter(|(key, value)| is_library_key(key) && !value.is_empty())
        .collect();
    for file in files {
        pairs.extend(read_env_file(file)?);
    }
    build(pairs)
}

/// The configuration in `file` alone (for each side of `copy`).
///
/// # Errors
/// As [`from_env_and_files`].
pub(crate) fn from_file(file: &Path) -> Result<Config, Failure> {
    build(read_env_file(file)?)
}

fn build(mut pairs: Vec<(String, String)>) -> Result<Config, Failure> {
    pairs.extend(TOOL_KEYS.map(|(k, v)| (k.to_owned(), v.to_owned())));
    Ok(Config::from_pairs(pairs)?)
}

/// One of the library's keys.
fn is_library_key(key: &str) -> bool {
    ConfigKey::ALL.iter().any(|k| k.as_str() == key)
}

/// The `KEY=VALUE` lines of `file` whose key is sessionkit's or looks like it (`SESSION_`:
/// a misspelt key is reported, not ignored). Blank lines and `#` comments are skipped; a
/// line may start with `export `; a value in matching single or double quotes loses them.
fn read_env_file(file: &Path) -> Result<Vec<(String, String)>, Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", file.display())))?;
    let mut pairs = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            return Err(Failure::new(format!(
                "{} line {}: not KEY=VALUE",
                file.display(),
                number + 1
            )));
        };
        let key = key.trim();
        if !is_library_key(key) {
            if key.starts_with("SESSION_") {
                // The library's own error for a key it does not know.
                let unknown = sessionkit::Error::UnknownConfigKey {
                    key: key.to_owned(),
                };
                let failure = Failure::from(unknown);
                return Err(Failure::new(format!(
                    "{} line {}: {}",
                    file.display(),
                    number + 1,
                    failure.message()
                )));
            }
            continue;
        }
        let value = value.trim();
        let unquoted = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q)?.strip_suffix(*q))
            .unwrap_or(value);
        pairs.push((key.to_owned(), unquoted.to_owned()));
    }
    Ok(pairs)
}
