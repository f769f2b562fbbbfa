//! Which server holds a key, as pymemcache's `HashClient` decides it
//! ([`MemcachedPlacement::Pymemcache`](crate::MemcachedPlacement::Pymemcache)).
//!
//! pymemcache 4.0.0 (`pymemcache/client/hash.py`, `rendezvous.py`, `murmur3.py`):
//! - `HashClient` names each server by `normalize_server_spec` then `_make_client_key`:
//!   `"host:port"` becomes `(host, int(port))`, a host in brackets loses them, a server
//!   without a port gets 11211, and the node is `"%s:%s" % (host, port)`. A
//!   `(host, port)` tuple gets the same name as its `"host:port"` string.
//! - `RendezvousHash.get_node(key)` scores every node with
//!   `murmur3_32(f"{node}-{key}", seed=0)`, the key being the one the application passed
//!   (Flask-Session: its prefix + the id; `HashClient`'s own `key_prefix` is not part of
//!   it). The highest score wins; on a tie the greater name
//!   (`max(str(node), str(winner))`), so the order of the servers does not matter.
//! - `murmur3_32` is a pure-Python MurmurHash3 x86 32-bit over the *characters* of the
//!   text (`ord(c)`), keeping the low byte of each: for ASCII, which memcached keys are
//!   unless `allow_unicode_keys`, the standard hash of the bytes. pymemcache never uses
//!   the `mmh3` package for it.
//!
//! `tests/pymemcache_vectors.py` prints the vectors pinned below from pymemcache itself.

use std::borrow::Cow;
use std::io::Read as _;

/// A server as pymemcache's `RendezvousHash` sees it.
#[derive(Debug, Clone)]
struct Node {
    /// The node name `HashClient` gives the server: ties go to the greater.
    name: String,
    /// What every hashed text starts with: the name and `-`, as [`hashed_text`] reads it.
    hashed_prefix: Vec<u8>,
}

/// pymemcache's rendezvous hashing over the servers' node names.
#[derive(Debug, Clone)]
pub(crate) struct PymemcacheHash {
    nodes: Vec<Node>,
}

impl PymemcacheHash {
    /// The ring over `servers` (`host:port` each).
    pub(crate) fn new<S: AsRef<str>>(servers: &[S]) -> Self {
        Self {
            nodes: servers
                .iter()
                .map(|server| {
                    let name = node_name(server.as_ref());
                    let mut hashed_prefix = hashed_text(name.as_bytes()).into_owned();
                    hashed_prefix.push(b'-');
                    Node {
                        name,
                        hashed_prefix,
                    }
                })
                .collect(),
        }
    }

    /// The index of the server for `key`: the highest `murmur3_32("<node>-<key>")`, ties to
    /// the greater node name.
    pub(crate) fn pick(&self, key: &[u8]) -> usize {
        let key = hashed_text(key);
        let mut best: Option<(u32, &str, usize)> = None;
        for (index, node) in self.nodes.iter().enumerate() {
            let score = murmur3_32(node.hashed_prefix.as_slice().chain(&*key));
            let name = node.name.as_str();
            if best.is_none_or(|(high, winner, _)| (score, name) > (high, winner)) {
                best = Some((score, name, index));
            }
        }
        best.map_or(0, |(_, _, index)| index)
    }
}

/// The node name pymemcache's `HashClient` gives `server`: `normalize_server_spec`, then
/// `_make_client_key`.
fn node_name(server: &str) -> String {
    if let Some(path) = server.strip_prefix("unix:") {
        return path.to_owned();
    }
    if server.starts_with('/') {
        return server.to_owned();
    }
    let (host, port) = match server.rsplit_once(':') {
        Some((host, port)) if !server.ends_with(']') => {
            // `int(port)`; a port it refuses never gets here (the store's own connection
            // refused the address first), so it is kept as written.
            let port = port
                .trim()
                .parse::<u64>()
                .map_or_else(|_| port.to_owned(), |p| p.to_string());
            (host, port)
        }
        _ => (server, "11211".to_owned()),
    };
    let host = if host.starts_with('[') {
        host.trim_matches(['[', ']'])
    } else {
        host
    };
    format!("{host}:{port}")
}

/// `text` as pymemcache's pure-Python `murmur3_32` reads a `str`: one byte per character,
/// the low byte of its code point. ASCII is unchanged; so is anything that is not UTF-8
/// (never a key of this store: its prefix is text and ids are base64url).
fn hashed_text(text: &[u8]) -> Cow<'_, [u8]> {
    if text.is_ascii() {
        return Cow::Borrowed(text);
    }
    match std::str::from_utf8(text) {
        Ok(text) => Cow::Owned(
            text.chars()
                .map(|c| u32::from(c).to_le_bytes()[0])
                .collect(),
        ),
        Err(_) => Cow::Borrowed(text),
    }
}

/// MurmurHash3 x86 32-bit with seed 0, as pymemcache calls it.
fn murmur3_32(mut bytes: impl std::io::Read) -> u32 {
    murmur3::murmur3_32(&mut bytes, 0).expect("reading bytes in memory cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_pymemcaches_murmur3_32() {
        for (text, expected) in MURMUR3 {
            let got = murmur3_32(&*hashed_text(text.as_bytes()));
            assert_eq!(got, expected, "{text:?}: {got:#010x}");
        }
    }

    #[test]
    fn servers_are_named_as_hashclient_names_them() {
        for (server, name) in NODE_NAMES {
            assert_eq!(node_name(server), name, "{server}");
        }
    }

    #[test]
    fn keys_go_where_hashclient_sends_them() {
        let two = PymemcacheHash::new(&TWO_NODES);
        let three = PymemcacheHash::new(&THREE_NODES);
        for (i, key) in KEYS.iter().enumerate() {
            assert_eq!(two.pick(key.as_bytes()), TWO_PICKS[i], "{key} on two nodes");
            assert_eq!(
                three.pick(key.as_bytes()),
                THREE_PICKS[i],
                "{key} on three nodes"
            );
        }
        // The vectors use both servers (and all three).
        assert!(TWO_PICKS.contains(&0) && TWO_PICKS.contains(&1));
        assert!((0..3).all(|n| THREE_PICKS.contains(&n)));
    }

    #[test]
    fn a_tie_goes_to_the_greater_node_name_in_either_order() {
        let [lesser, greater] = TIE_NODES;
        for node in TIE_NODES {
            let text = format!("{node}-{TIE_KEY}");
            assert_eq!(murmur3_32(text.as_bytes()), TIE_SCORE, "{text}");
        }
        let forward = PymemcacheHash::new(&[lesser, greater]);
        assert_eq!(forward.pick(TIE_KEY.as_bytes()), 1);
        let backward = PymemcacheHash::new(&[greater, lesser]);
        assert_eq!(backward.pick(TIE_KEY.as_bytes()), 0);
    }

    #[test]
    fn the_order_of_the_servers_does_not_matter() {
        let forward = PymemcacheHash::new(&THREE_NODES);
        let mut reversed = THREE_NODES;
        reversed.reverse();
        let backward = PymemcacheHash::new(&reversed);
        for i in 0..2_000 {
            let key = format!("session:{i:08}");
            let a = THREE_NODES[forward.pick(key.as_bytes())];
            let b = reversed[backward.pick(key.as_bytes())];
            assert_eq!(a, b, "{key}");
        }
    }

    #[test]
    fn bracketed_and_zero_padded_servers_place_as_their_normal_names() {
        let written = PymemcacheHash::new(&["[::1]:011211", "[::2]:11211"]);
        let normal = PymemcacheHash::new(&["::1:11211", "::2:11211"]);
        for (i, key) in KEYS.iter().enumerate() {
            assert_eq!(
                written.pick(key.as_bytes()),
                normal.pick(key.as_bytes()),
                "{i}"
            );
        }
    }

    // Printed by `tests/pymemcache_vectors.py` with pymemcache 4.0.0; regenerate rather than
    // edit. A change here would send the sessions a Flask app wrote to the wrong server.
    const MURMUR3: [(&str, u32); 10] = [
        ("", 0x00000000),
        ("a", 0x3c2569b2),
        ("ab", 0x9bbfd75f),
        ("abc", 0xb3dd93fa),
        ("abcd", 0x43ed676a),
        ("abcde", 0xe89b9af6),
        ("127.0.0.1:11211-session:abc", 0x69fa5a9a),
        (
            "10.0.0.1:11211-session:tuj22O1gl1dyTRLn-ttLw0-RvGJ-NV-cunw1mIsw-Qk",
            0xe5dda8fb,
        ),
        ("héllo", 0x3fb8fb77),
        ("ü🙂✓", 0xca9ccf0c),
    ];
    const NODE_NAMES: [(&str, &str); 7] = [
        ("127.0.0.1:11211", "127.0.0.1:11211"),
        ("localhost:011212", "localhost:11212"),
        ("cache.internal", "cache.internal:11211"),
        ("[::1]:11213", "::1:11213"),
        ("[::1]", "::1:11211"),
        ("unix:/run/memcached.sock", "/run/memcached.sock"),
        ("/run/memcached.sock", "/run/memcached.sock"),
    ];
    const KEYS: [&str; 20] = [
        "session:tuj22O1gl1dyTRLn-ttLw0-RvGJ-NV-cunw1mIsw-Qk",
        "session:06NksSpAH9ZI9SDEklTBYP-rXdOXLw3cfABT0Q-xJsw",
        "session:7LD-dxuKQvhy2R4DdQKXC4kYAQp_4epoPcj43nESUbY",
        "session:XZFjU_6Woh-dkhFbbpH8-y0wLe-HV8XGcCIcdQ3OIp8",
        "session:msJSdyu5Mru6KD1SUT2rfHbE9P_Ss32-FCG1Mt1nba0",
        "session:DrgcIDoDgLXF6oGiMlvh7k3y9LJ0OlicdPnby8X7WaM",
        "session:sSKuKkrk5xwwlmX_7liDwxJsUGS-5QQrVlaf8KZNYXs",
        "session:L2-Hhkfo89MzpXEJNIes1LrbiXQjjMQWZ13aGHvWJAY",
        "session:Y2Z_IT83NYC0VG2GU8wqKFNoxi9nJ_qY9g7mh-4LneE",
        "session:QmOjNxABv06hjuFGDyhP9VBXdi0AxJ-m9xPBJZAHEh8",
        "session:0VYDMrlpDEfdhDVMD0hiUTmRUXMEg54XRHjeUDAW73Q",
        "session:zRWJfXRy0_nvFmv7-okxZgLjWbu8BPqrbiNMd6qnQWk",
        "session:PoI7a4G5zMVhA670Bfdfy3QjfGmqtjVA7eXbf2xQ4Wc",
        "session:NU1h1U3gLnl7RiQdCUKdbPbT18_izjI92yRNdi4I_zs",
        "session:SM0hf1PL33MA8OL0KQnJ_RgDv1K5qUDpoXXq60JkMzE",
        "session:E3L4j7g0UOMuIqHFGDhW2YV-i35EiW2isiAT4hYMBgY",
        "session:KAbdhtVfSDEXB8O9eBge3uGm82GGE89lE27AeAOB1P0",
        "session:L8IrrOOhSBwnHFVTpThrq6clqpyb0iWBaFdXVeHSaQo",
        "session:b_V3-M1eHWjstSgiW2Pemq6420OGTIvhCKc2TuDHsmY",
        "session:uuaEAnhp6tu7MN9c6gs9UvcLRCo8swMidayR4j85goA",
    ];
    const TWO_NODES: [&str; 2] = ["127.0.0.1:11211", "127.0.0.1:11212"];
    const TWO_PICKS: [usize; 20] = [1, 1, 1, 0, 1, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1];
    const THREE_NODES: [&str; 3] = ["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"];
    const THREE_PICKS: [usize; 20] = [0, 2, 2, 1, 0, 2, 2, 1, 0, 1, 1, 1, 1, 2, 0, 0, 2, 0, 2, 0];
    const TIE_KEY: &str = "session:tie";
    const TIE_NODES: [&str; 2] = ["10.0.200.158:11211", "10.1.5.235:11211"];
    const TIE_SCORE: u32 = 0x75d24686;
}
