//! The value of a user's index record: the ids bound to the user, one line each.
//!
//! ```text
//! skidx1
//! <id> <expires> <bound> <tag>
//! <id> <expires> <bound> <tag>
//! ```
//!
//! The first line names the format. Each member line holds, separated by one space: the
//! session id (43 characters of base64url, as in the session's own key), when the entry
//! may be forgotten (unix seconds: the latest expiry any `_for` call wrote for it, rounded
//! up), when it was last bound by a write that had yet to reach the session record (unix
//! milliseconds), and the random tag of that write (8 hex digits). Lines end with `\n`.
//! About 80 bytes a member, so memcached's default 1 MiB item holds some 13,000.
//!
//! Parsing is all or nothing: a value that breaks any rule is corrupt, and the caller
//! treats it as empty (see [`Members::parse`]).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sessionkit_core::Id;

/// The first line of every index record.
const HEADER: &[u8] = b"skidx1";

/// One session bound to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Member {
    pub(crate) id: Id,
    /// Unix seconds after which the entry is no longer needed.
    pub(crate) expires: u64,
    /// Unix milliseconds of the last binding write (create or save) that added or refreshed
    /// the entry.
    pub(crate) bound: u64,
    /// The random tag of that write: it removes the entry after failing only if the entry
    /// still carries its tag.
    pub(crate) tag: u32,
}

/// The members of one user's index record, in the order they were first added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Members(Vec<Member>);

/// Why a stored value is not an index record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Corrupt {
    line: usize,
    what: &'static str,
}

impl Members {
    /// Reads a stored value.
    ///
    /// # Errors
    /// [`Corrupt`] for anything this module did not write: a missing or unknown header, a
    /// line without exactly four fields, a field out of its form, an id listed twice.
    pub(crate) fn parse(value: &[u8]) -> Result<Self, Corrupt> {
        let value = value.strip_suffix(b"\n").unwrap_or(value);
        let mut lines = value.split(|&b| b == b'\n');
        if lines.next() != Some(HEADER) {
            return Err(Corrupt {
                line: 1,
                what: "not an index record (unknown header)",
            });
        }
        let mut members: Vec<Member> = Vec::new();
        for (index, line) in lines.enumerate() {
            let corrupt = |what| Corrupt {
                line: index + 2,
                what,
            };
            let member =
                parse_line(line).ok_or_else(|| corrupt("not `<id> <expires> <bound> <tag>`"))?;
            if members.iter().any(|m| m.id == member.id) {
                return Err(corrupt("an id listed twice"));
            }
            members.push(member);
        }
        Ok(Self(members))
    }

    /// The stored form.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER.len() + 1 + self.0.len() * 80);
        out.extend_from_slice(HEADER);
        out.push(b'\n');
        for m in &self.0 {
            out.extend_from_slice(
                format!("{} {} {} {:08x}\n", m.id, m.expires, m.bound, m.tag).as_bytes(),
            );
        }
        out
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Member> {
        self.0.iter()
    }

    pub(crate) fn get(&self, id: &Id) -> Option<&Member> {
        self.0.iter().find(|m| m.id == *id)
    }

    /// When the last member's entry may be forgotten: the record's own expiry.
    pub(crate) fn latest_expiry(&self) -> Option<SystemTime> {
        self.0
            .iter()
            .map(|m| m.expires)
            .max()
            .map(|secs| UNIX_EPOCH + Duration::from_secs(secs))
    }

    /// Adds `member`, or refreshes the entry of its id: the later of the two expiries (an
    /// entry's expiry never moves back), and the new binding time and tag.
    pub(crate) fn bind(&mut self, member: Member) {
        match self.0.iter_mut().find(|m| m.id == member.id) {
            Some(existing) => {
                *existing = Member {
                    expires: existing.expires.max(member.expires),
                    ..member
                };
            }
            None => self.0.push(member),
        }
    }

    /// Moves the expiry of `id`'s entry to `expires` if that is later; whether it changed.
    pub(crate) fn extend(&mut self, id: &Id, expires: u64) -> bool {
        match self.0.iter_mut().find(|m| m.id == *id) {
            Some(m) if m.expires < expires => {
                m.expires = expires;
                true
            }
            _ => false,
        }
    }

    /// Removes the entries `remove` picks; whether any was.
    pub(crate) fn remove_if(&mut self, mut remove: impl FnMut(&Member) -> bool) -> bool {
        let before = self.0.len();
        self.0.retain(|m| !remove(m));
        self.0.len() != before
    }

    /// Removes the entries that may be forgotten by `now`; whether any was.
    pub(crate) fn drop_expired(&mut self, now: SystemTime) -> bool {
        let now = unix_secs(now);
        self.remove_if(|m| m.expires < now)
    }
}

fn parse_line(line: &[u8]) -> Option<Member> {
    let text = std::str::from_utf8(line).ok()?;
    let mut fields = text.split(' ');
    let id = Id::parse(fields.next()?)?;
    let expires = decimal(fields.next()?)?;
    let bound = decimal(fields.next()?)?;
    let tag = fields.next()?;
    if tag.len() != 8 || fields.next().is_some() {
        return None;
    }
    let tag = u32::from_str_radix(tag, 16).ok()?;
    Some(Member {
        id,
        expires,
        bound,
        tag,
    })
}

/// Plain decimal digits only (`u64::from_str` would also take a leading `+`).
fn decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `at` in whole unix seconds, rounded up.
pub(crate) fn unix_secs(at: SystemTime) -> u64 {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    since.as_secs() + u64::from(since.subsec_nanos() > 0)
}

/// `at` in unix milliseconds, rounded down.
pub(crate) fn unix_millis(at: SystemTime) -> u64 {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

impl fmt::Display for Corrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.what)
    }
}

impl std::error::Error for Corrupt {}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(expires: u64) -> Member {
        Member {
            id: Id::random(),
            expires,
            bound: 1_700_000_000_123,
            tag: 0x00ab_cdef,
        }
    }

    #[test]
    fn round_trips() {
        let mut members = Members::default();
        members.bind(member(1_700_000_600));
        members.bind(member(1_700_000_900));
        let encoded = members.encode();
        assert!(encoded.starts_with(b"skidx1\n"), "{encoded:?}");
        assert!(String::from_utf8_lossy(&encoded).contains(" 00abcdef\n"));
        assert_eq!(Members::parse(&encoded).unwrap(), members);
        assert_eq!(Members::parse(b"skidx1\n").unwrap(), Members::default());
        assert_eq!(Members::parse(b"skidx1").unwrap(), Members::default());
    }

    #[test]
    fn anything_else_is_corrupt() {
        let good = Members(vec![member(5)]).encode();
        let good = String::from_utf8(good).unwrap();
        let line = good.lines().nth(1).unwrap().to_owned();
        let id = line.split(' ').next().unwrap().to_owned();
        for bad in [
            String::new(),
            "skidx2\n".to_owned(),
            "garbage".to_owned(),
            format!("skidx1\n{line} extra\n"),
            format!("skidx1\n{id} 5 6\n"),
            format!("skidx1\n{id} +5 6 00000000\n"),
            format!("skidx1\n{id} 5 -6 00000000\n"),
            format!("skidx1\n{id} 5 6 0000000g\n"),
            format!("skidx1\n{id} 5 6 000000000\n"),
            format!("skidx1\n{id}x 5 6 00000000\n"),
            format!("skidx1\n{id} 99999999999999999999999 6 00000000\n"),
            format!("skidx1\n{line}\n{line}\n"),
            format!("skidx1\n\n{line}\n"),
            format!("skidx1\n{line}\r\n"),
        ] {
            assert!(Members::parse(bad.as_bytes()).is_err(), "{bad:?} parsed");
        }
        assert!(Members::parse(&[0xff, 0xfe, b'\n']).is_err());
        assert!(Members::parse(b"skidx1\n\xff\n").is_err());
    }

    #[test]
    fn binding_again_never_moves_the_expiry_back() {
        let mut members = Members::default();
        let first = member(100);
        members.bind(first);
        members.bind(Member {
            expires: 50,
            tag: 7,
            bound: 9,
            ..first
        });
        let entry = members.get(&first.id).unwrap();
        assert_eq!((entry.expires, entry.tag, entry.bound), (100, 7, 9));
        assert!(!members.extend(&first.id, 80));
        assert!(members.extend(&first.id, 120));
        assert_eq!(members.get(&first.id).unwrap().expires, 120);
        assert_eq!(members.iter().count(), 1);
    }

    #[test]
    fn expired_entries_drop_and_the_latest_expiry_is_the_records() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let mut members = Members::default();
        members.bind(member(999));
        members.bind(member(1_000));
        members.bind(member(2_000));
        assert_eq!(
            members.latest_expiry(),
            Some(UNIX_EPOCH + Duration::from_secs(2_000))
        );
        assert!(members.drop_expired(now));
        assert_eq!(members.iter().count(), 2, "an entry expiring now is kept");
        assert!(!members.drop_expired(now));
    }

    #[test]
    fn times_round_the_safe_way() {
        let at = UNIX_EPOCH + Duration::from_millis(1_500);
        assert_eq!(unix_secs(at), 2);
        assert_eq!(unix_secs(UNIX_EPOCH + Duration::from_secs(3)), 3);
        assert_eq!(unix_millis(at), 1_500);
    }
}
