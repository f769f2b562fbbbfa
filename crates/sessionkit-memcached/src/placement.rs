//! [`MemcachedPlacement`]: how a key's server is chosen (`SESSION_MEMCACHED_PLACEMENT`),
//! and the [`Ring`] it builds over the servers.

use std::fmt;
use std::str::FromStr;

use sessionkit_core::{ConfigKey, Error};

use crate::pymemcache_hash::PymemcacheHash;
use crate::rendezvous::Rendezvous;

/// How keys are spread over the servers (`SESSION_MEMCACHED_PLACEMENT`). Both are
/// rendezvous hashing: with one server they are the same, and adding a server moves only
/// the keys it now wins. What differs is the hash: switching on several servers sends most
/// sessions (about half with two servers, two thirds with three) to another server, where
/// they are not found, and their users are logged out.
///
/// ```
/// use sessionkit_memcached::MemcachedPlacement;
///
/// let placement: MemcachedPlacement = "pymemcache".parse()?;
/// assert_eq!(placement, MemcachedPlacement::Pymemcache);
/// assert_eq!(MemcachedPlacement::default().as_str(), "sessionkit");
/// # Ok::<(), sessionkit_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum MemcachedPlacement {
    /// `sessionkit` (the default): XXH3 of the key seeded with XXH3 of the server name.
    #[default]
    Sessionkit,
    /// `pymemcache`: exactly as pymemcache's `HashClient` (its default `RendezvousHash`),
    /// so a Flask-Session app with a `HashClient` over the same servers looks for each
    /// session where this store put it. The score of a server is MurmurHash3 (x86, 32-bit,
    /// seed 0) of `<node>-<key>`, where `<node>` is `host:port` as pymemcache normalizes it
    /// (`[::1]:11211` is `::1:11211`, a port's leading zeros dropped); the highest score
    /// wins, a tie goes to the greater name. Name the servers with the same host text as
    /// the Python app (`localhost` and `127.0.0.1` are different names); their order does
    /// not matter. The `HashClient`'s own `key_prefix` must stay empty (it is not hashed):
    /// use Flask-Session's `SESSION_KEY_PREFIX`, which is.
    Pymemcache,
}

impl MemcachedPlacement {
    /// The value's name, as in `SESSION_MEMCACHED_PLACEMENT`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sessionkit => "sessionkit",
            Self::Pymemcache => "pymemcache",
        }
    }
}

impl FromStr for MemcachedPlacement {
    type Err = Error;

    /// `sessionkit` or `pymemcache`, case-insensitive.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sessionkit" => Ok(Self::Sessionkit),
            "pymemcache" => Ok(Self::Pymemcache),
            _ => Err(Error::config(
                ConfigKey::MemcachedPlacement,
                s,
                "expected `sessionkit` (default) or `pymemcache` (pymemcache's HashClient)",
            )),
        }
    }
}

impl fmt::Display for MemcachedPlacement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A [`MemcachedPlacement`] built over the servers: which one holds a key.
#[derive(Debug, Clone)]
pub(crate) enum Ring {
    Sessionkit(Rendezvous),
    Pymemcache(PymemcacheHash),
}

impl Ring {
    /// The ring of `placement` over `servers` (`host:port` each, in the builder's order).
    pub(crate) fn new<S: AsRef<str>>(placement: MemcachedPlacement, servers: &[S]) -> Self {
        match placement {
            MemcachedPlacement::Sessionkit => Self::Sessionkit(Rendezvous::new(servers)),
            MemcachedPlacement::Pymemcache => Self::Pymemcache(PymemcacheHash::new(servers)),
        }
    }

    /// The index of the server for `key`.
    pub(crate) fn pick(&self, key: &[u8]) -> usize {
        match self {
            Self::Sessionkit(ring) => ring.pick(key),
            Self::Pymemcache(ring) => ring.pick(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_anything_else_names_the_key() {
        for placement in [
            MemcachedPlacement::Sessionkit,
            MemcachedPlacement::Pymemcache,
        ] {
            assert_eq!(
                placement.as_str().parse::<MemcachedPlacement>().unwrap(),
                placement
            );
            assert_eq!(placement.to_string(), placement.as_str());
        }
        assert_eq!(
            " PyMemcache ".parse::<MemcachedPlacement>().unwrap(),
            MemcachedPlacement::Pymemcache
        );
        for bad in ["", "xxh3", "pymemcached", "ketama"] {
            let err = bad.parse::<MemcachedPlacement>().unwrap_err();
            assert_eq!(err.kind(), sessionkit_core::ErrorKind::Config);
            let message = err.to_string();
            assert!(
                message.contains("SESSION_MEMCACHED_PLACEMENT") && message.contains(bad),
                "{message}"
            );
        }
    }

    #[test]
    fn the_default_places_keys_as_before() {
        let servers = ["10.0.0.0:11211", "10.0.0.1:11211", "10.0.0.2:11211"];
        let ring = Ring::new(MemcachedPlacement::default(), &servers);
        let before = Rendezvous::new(&servers);
        for i in 0..1_000 {
            let key = format!("session:{i}");
            assert_eq!(ring.pick(key.as_bytes()), before.pick(key.as_bytes()));
        }
    }
}
