//! Which server holds a key: rendezvous (highest random weight) hashing.

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Picks a server for each key by rendezvous hashing over the servers' names.
///
/// Every server gets a score per key, `xxh3(key, seed = xxh3(server name))`, and the key
/// goes to the highest score. XXH3 is a specified algorithm with fixed output, so the
/// choice is the same in every process, after restarts and across Rust versions (unlike
/// std's `DefaultHasher`). Adding a server moves only the keys it now wins, about 1/N of
/// them; removing one moves only its own keys.
#[derive(Debug, Clone)]
pub(crate) struct Rendezvous {
    seeds: Vec<u64>,
}

impl Rendezvous {
    pub(crate) fn new<S: AsRef<str>>(servers: &[S]) -> Self {
        Self {
            seeds: servers
                .iter()
                .map(|s| xxh3_64_with_seed(s.as_ref().as_bytes(), 0))
                .collect(),
        }
    }

    /// The index of the server for `key`.
    pub(crate) fn pick(&self, key: &[u8]) -> usize {
        let mut best = (0, 0u64);
        for (index, seed) in self.seeds.iter().enumerate() {
            let score = xxh3_64_with_seed(key, *seed);
            if index == 0 || score > best.1 {
                best = (index, score);
            }
        }
        best.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("10.0.0.{i}:11211")).collect()
    }

    fn keys() -> Vec<String> {
        (0..20_000).map(|i| format!("session:{i:08}")).collect()
    }

    #[test]
    fn choice_is_stable_across_processes_and_versions() {
        // Pinned outputs: a change here would send every user to another server after an
        // upgrade, logging them out.
        let ring = Rendezvous::new(&servers(3));
        let picks: Vec<usize> = [
            "session:a",
            "session:b",
            "session:c",
            "session:d",
            "session:e",
        ]
        .iter()
        .map(|k| ring.pick(k.as_bytes()))
        .collect();
        assert_eq!(picks, PINNED_PICKS);
    }

    const PINNED_PICKS: [usize; 5] = [0, 2, 1, 2, 0];

    #[test]
    fn keys_spread_evenly() {
        let ring = Rendezvous::new(&servers(4));
        let mut counts = [0usize; 4];
        for key in keys() {
            counts[ring.pick(key.as_bytes())] += 1;
        }
        for count in counts {
            assert!((4_500..=5_500).contains(&count), "{counts:?}");
        }
    }

    #[test]
    fn adding_a_server_moves_about_one_in_n_keys() {
        let before = Rendezvous::new(&servers(4));
        let after = Rendezvous::new(&servers(5));
        let keys = keys();
        let moved = keys
            .iter()
            .filter(|k| before.pick(k.as_bytes()) != after.pick(k.as_bytes()))
            .count();
        // Ideal: 1/5 of the keys, all of them to the new server.
        let share = moved as f64 / keys.len() as f64;
        assert!((0.17..=0.23).contains(&share), "{share}");
        for key in &keys {
            let (b, a) = (before.pick(key.as_bytes()), after.pick(key.as_bytes()));
            assert!(a == b || a == 4, "a key moved between old servers");
        }
    }

    #[test]
    fn removing_a_server_moves_only_its_keys() {
        let all = servers(4);
        let before = Rendezvous::new(&all);
        let after = Rendezvous::new(&all[..3]);
        for key in keys() {
            let b = before.pick(key.as_bytes());
            if b != 3 {
                assert_eq!(after.pick(key.as_bytes()), b);
            }
        }
    }
}
