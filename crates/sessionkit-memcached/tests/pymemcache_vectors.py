"""Prints the test vectors pinned in src/pymemcache_hash.rs, computed by pymemcache itself.

Run with the interop environment (`./scripts/test` creates `.venv` at the repository root,
pymemcache pinned in tests/interop/requirements.txt):

    .venv/bin/python crates/sessionkit-memcached/tests/pymemcache_vectors.py

and paste its output over the constants at the end of src/pymemcache_hash.rs. It asserts
what the Rust side relies on: HashClient names nodes as pymemcache's normalize_server_spec
and _make_client_key do, and puts a key on the node RendezvousHash (murmur3_32 of
"<node>-<key>", seed 0, highest score wins, ties to the greater name) gives it.
"""

import base64
import hashlib

import pymemcache
from pymemcache.client.hash import HashClient
from pymemcache.client.murmur3 import murmur3_32
from pymemcache.client.rendezvous import RendezvousHash

assert pymemcache.__version__ == "4.0.0", pymemcache.__version__

# Published MurmurHash3_x86_32 values: pymemcache's pure-Python function is the standard one.
assert murmur3_32("") == 0
assert murmur3_32("", 1) == 0x514E28B7
assert murmur3_32("The quick brown fox jumps over the lazy dog") == 0x2E4FF723


def rust_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def session_key(i):
    """Flask-Session's key form: prefix + a 43-character base64url id (fixed ones here)."""
    digest = hashlib.sha256(f"pymemcache-vector-{i}".encode()).digest()
    return "session:" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def picks(servers, keys):
    """The index (in `servers`) of the node HashClient sends each key to; no connection is
    made (pymemcache connects on first use)."""
    client = HashClient(servers)
    names = list(client.clients)
    ring = RendezvousHash(names)
    out = []
    for key in keys:
        node = client._get_client(key)
        assert ring.get_node(key) == names[list(client.clients.values()).index(node)]
        out.append(list(client.clients.values()).index(node))
    return names, out


# Raw hashes: every tail length, text longer than a block, and characters beyond ASCII
# (pymemcache hashes characters, keeping the low byte of each code point).
hashed = [
    "",
    "a",
    "ab",
    "abc",
    "abcd",
    "abcde",
    "127.0.0.1:11211-session:abc",
    "10.0.0.1:11211-" + session_key(0),
    "héllo",
    "ü🙂✓",
]
print("const MURMUR3: [(&str, u32); %d] = [" % len(hashed))
for text in hashed:
    print("    (%s, 0x%08x)," % (rust_str(text), murmur3_32(text)))
print("];")

# Node names: what HashClient calls each server form.
specs = [
    "127.0.0.1:11211",
    "localhost:011212",
    "cache.internal",
    "[::1]:11213",
    "[::1]",
    "unix:/run/memcached.sock",
    "/run/memcached.sock",
]
print("const NODE_NAMES: [(&str, &str); %d] = [" % len(specs))
for spec in specs:
    (name,) = HashClient([spec]).clients
    print("    (%s, %s)," % (rust_str(spec), rust_str(name)))
print("];")
# A (host, port) tuple is named the same as its "host:port" string.
assert list(HashClient([("127.0.0.1", 11211)]).clients) == ["127.0.0.1:11211"]

keys = [session_key(i) for i in range(20)]
print("const KEYS: [&str; %d] = [" % len(keys))
for key in keys:
    print("    %s," % rust_str(key))
print("];")
for label, servers in [
    ("TWO", ["127.0.0.1:11211", "127.0.0.1:11212"]),
    ("THREE", ["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"]),
]:
    names, chosen = picks(servers, keys)
    assert names == servers
    print("const %s_NODES: [&str; %d] = [%s];" % (label, len(servers), ", ".join(map(rust_str, servers))))
    print("const %s_PICKS: [usize; %d] = %s;" % (label, len(chosen), chosen))

# A tie: two node names that score the same for one key. HashClient picks the greater name,
# in either order.
key = "session:tie"
seen = {}
for i in range(1_000_000):
    name = "10.%d.%d.%d:11211" % (i // 65536, i // 256 % 256, i % 256)
    score = murmur3_32(f"{name}-{key}")
    if score in seen:
        tied = sorted([seen[score], name])
        break
    seen[score] = name
for order in (tied, tied[::-1]):
    names, chosen = picks(order, [key])
    assert names[chosen[0]] == max(tied), (order, names[chosen[0]])
print("const TIE_KEY: &str = %s;" % rust_str(key))
print("const TIE_NODES: [&str; 2] = [%s, %s];" % (rust_str(tied[0]), rust_str(tied[1])))
print("const TIE_SCORE: u32 = 0x%08x;" % murmur3_32(f"{tied[0]}-{key}"))
