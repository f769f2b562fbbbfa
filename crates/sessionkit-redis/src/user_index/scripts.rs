//! The Lua scripts that keep a user's set beside the record: in the same script as the
//! write on one server, on the set alone on a cluster.
//!
//! Every script adds the session's id to the set and moves the set's expiry to at least
//! the record's (extend only: a set never expires before one of its members would). It
//! reads `PTTL` and compares, rather than `PEXPIRE ... GT` or `PEXPIRETIME`, which need
//! Redis 7: the store works from Redis 6.2 (`GETEX`). A set made by this `SADD` has no
//! expiry yet (`PTTL` -1), so it always gets one.

use crate::script::Script;

/// The Lua function every script below starts with: `index(set, member, ttl)` adds
/// `member` to `set`, moves the set's expiry to at least `ttl` ms from now, and returns
/// whether the member was new (1) or already there (0).
macro_rules! index_function {
    () => {
        r"
local function index(set, member, ttl)
  local added = redis.call('SADD', set, member)
  if redis.call('PTTL', set) < tonumber(ttl) then
    redis.call('PEXPIRE', set, ttl)
  end
  return added
end
"
    };
}

/// `create_for` on one server. KEYS: record, set. ARGV: payload, ttl, member. Returns 1
/// (created and bound) or 0 (a live record has the id: nothing written).
pub(super) static CREATE_FOR: Script = Script::new(concat!(
    index_function!(),
    r"
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
index(KEYS[2], ARGV[3], ARGV[2])
return 1
"
));

/// `save_for` on one server: the compare-and-set of `save`, then the binding. KEYS:
/// record, set. ARGV: expected digest, payload, ttl, member. Returns 1 (saved and bound), 0
/// (gone) or -1 (changed); nothing is written unless 1.
pub(super) static SAVE_FOR: Script = Script::new(concat!(
    index_function!(),
    r"
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if string.sub(redis.sha1hex(current), 1, 16) ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
index(KEYS[2], ARGV[4], ARGV[3])
return 1
"
));

/// `touch_for` on one server. KEYS: record, set. ARGV: ttl, member. Returns 1 (touched,
/// entry kept at least as long) or 0 (gone: nothing written).
pub(super) static TOUCH_FOR: Script = Script::new(concat!(
    index_function!(),
    r"
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 0 then return 0 end
index(KEYS[2], ARGV[2], ARGV[1])
return 1
"
));

/// The entry alone, for a cluster, where the set and the record are in different slots.
/// KEYS: set. ARGV: member, ttl. Returns 1 (the member is new) or 0 (it was there).
pub(super) static INDEX: Script = Script::new(concat!(
    index_function!(),
    r"
return index(KEYS[1], ARGV[1], ARGV[2])
"
));
