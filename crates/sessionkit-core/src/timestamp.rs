//! [`Timestamp`]: a point in time as MessagePack's timestamp extension (type -1), the form
//! Python's msgspec gives timezone-aware `datetime` values in Flask-Session data.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The MessagePack extension type of timestamps.
pub(crate) const TIMESTAMP_EXT: i8 = -1;

/// rmp-serde's name for an extension value: a newtype around `(type, bytes)`.
const EXT_STRUCT: &str = "_ExtStruct";

/// A UTC point in time, stored as MessagePack's timestamp extension (type -1), exactly as
/// msgspec stores a timezone-aware Python `datetime` in Flask-Session data. Read it with
/// `session.get::<Timestamp>("last_login")`, write it with `insert`; Python sees a
/// `datetime` in UTC.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use sessionkit_core::{SessionData, Timestamp};
///
/// let at = Timestamp::from(UNIX_EPOCH + Duration::from_millis(1_700_000_000_123));
/// let mut data = SessionData::new();
/// data.insert("last_login", &at)?;
/// assert_eq!(data.get::<Timestamp>("last_login")?, Some(at));
/// assert_eq!(at.to_rfc3339(), "2023-11-14T22:13:20.123Z");
/// # Ok::<(), sessionkit_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

impl Timestamp {
    /// Seconds and nanoseconds since the unix epoch (`nanos` below one billion).
    ///
    /// # Panics
    /// When `nanos` is one billion or more.
    pub fn new(secs: i64, nanos: u32) -> Self {
        assert!(nanos < 1_000_000_000, "nanoseconds out of range");
        Self { secs, nanos }
    }

    /// Seconds since the unix epoch.
    pub fn secs(self) -> i64 {
        self.secs
    }

    /// Nanoseconds within the second.
    pub fn nanos(self) -> u32 {
        self.nanos
    }

    /// The extension's payload in the smallest of the three MessagePack forms.
    pub fn to_ext_bytes(self) -> Vec<u8> {
        if self.secs >= 0 && self.secs >> 34 == 0 {
            if self.nanos == 0 && self.secs <= i64::from(u32::MAX) {
                return (self.secs as u32).to_be_bytes().to_vec();
            }
            let packed = (u64::from(self.nanos) << 34) | self.secs as u64;
            return packed.to_be_bytes().to_vec();
        }
        let mut bytes = self.nanos.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.secs.to_be_bytes());
        bytes
    }

    /// Reads the extension's payload in any of the three forms.
    pub fn from_ext_bytes(bytes: &[u8]) -> Option<Self> {
        let (secs, nanos) = match bytes.len() {
            4 => (i64::from(u32::from_be_bytes(bytes.try_into().ok()?)), 0),
            8 => {
                let packed = u64::from_be_bytes(bytes.try_into().ok()?);
                ((packed & ((1 << 34) - 1)) as i64, (packed >> 34) as u32)
            }
            12 => (
                i64::from_be_bytes(bytes[4..].try_into().ok()?),
                u32::from_be_bytes(bytes[..4].try_into().ok()?),
            ),
            _ => return None,
        };
        (nanos < 1_000_000_000).then_some(Self { secs, nanos })
    }

    /// RFC 3339 in UTC with a `Z`, as msgspec writes a `datetime` in JSON; sub-second digits
    /// only when there are any.
    pub fn to_rfc3339(self) -> String {
        OffsetDateTime::from_unix_timestamp(self.secs)
            .and_then(|t| t.replace_nanosecond(self.nanos))
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| format!("{}.{:09}", self.secs, self.nanos))
    }
}

impl From<SystemTime> for Timestamp {
    fn from(time: SystemTime) -> Self {
        match time.duration_since(UNIX_EPOCH) {
            Ok(after) => Self {
                secs: after.as_secs() as i64,
                nanos: after.subsec_nanos(),
            },
            Err(before) => {
                let before = before.duration();
                let mut secs = -(before.as_secs() as i64);
                let mut nanos = before.subsec_nanos();
                if nanos > 0 {
                    secs -= 1;
                    nanos = 1_000_000_000 - nanos;
                }
                Self { secs, nanos }
            }
        }
    }
}

impl From<Timestamp> for SystemTime {
    fn from(at: Timestamp) -> Self {
        let nanos = Duration::from_nanos(u64::from(at.nanos));
        if at.secs >= 0 {
            UNIX_EPOCH + Duration::from_secs(at.secs as u64) + nanos
        } else {
            UNIX_EPOCH - Duration::from_secs(at.secs.unsigned_abs()) + nanos
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let bytes = serde_bytes::ByteBuf::from(self.to_ext_bytes());
        serializer.serialize_newtype_struct(EXT_STRUCT, &(TIMESTAMP_EXT, bytes))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ExtVisitor;

        impl<'de> Visitor<'de> for ExtVisitor {
            type Value = Timestamp;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a MessagePack timestamp (extension type -1)")
            }

            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                inner: D,
            ) -> Result<Timestamp, D::Error> {
                let (kind, bytes): (i8, serde_bytes::ByteBuf) = Deserialize::deserialize(inner)?;
                if kind != TIMESTAMP_EXT {
                    return Err(de::Error::custom(format!(
                        "extension type {kind} is not a timestamp"
                    )));
                }
                Timestamp::from_ext_bytes(&bytes)
                    .ok_or_else(|| de::Error::custom("malformed MessagePack timestamp"))
            }
        }

        deserializer.deserialize_newtype_struct(EXT_STRUCT, ExtVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionData;

    #[test]
    fn all_three_wire_forms_round_trip() {
        for at in [
            Timestamp::new(1_700_000_000, 0),           // 32-bit
            Timestamp::new(1_700_000_000, 123_456_000), // 64-bit
            Timestamp::new(-1, 500_000_000),            // 96-bit (before 1970)
            Timestamp::new(20_000_000_000, 1),          // 96-bit (beyond 34 bits)
        ] {
            let bytes = at.to_ext_bytes();
            assert_eq!(Timestamp::from_ext_bytes(&bytes), Some(at), "{bytes:?}");
        }
        assert_eq!(Timestamp::new(1, 0).to_ext_bytes().len(), 4);
        assert_eq!(Timestamp::new(1, 1).to_ext_bytes().len(), 8);
        assert_eq!(Timestamp::new(-1, 0).to_ext_bytes().len(), 12);
    }

    #[test]
    fn stored_as_extension_minus_one() {
        let mut data = SessionData::new();
        data.insert("at", &Timestamp::new(1_700_000_000, 0))
            .unwrap();
        let raw = crate::Codec::MessagePack.encode(&data).unwrap();
        // fixmap(1) "at" fixext4 type -1, then the 4 bytes.
        assert_eq!(&raw[..6], &[0x81, 0xa2, b'a', b't', 0xd6, 0xff]);
    }

    #[test]
    fn other_extensions_are_not_timestamps() {
        let mut data = SessionData::new();
        data.insert("x", &(1u8, 2u8)).unwrap();
        assert!(data.get::<Timestamp>("x").is_err());
    }

    #[test]
    fn rfc3339_like_msgspec() {
        assert_eq!(Timestamp::new(0, 0).to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::new(951_782_400, 0).to_rfc3339(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            Timestamp::new(1_700_000_000, 123_456_000).to_rfc3339(),
            "2023-11-14T22:13:20.123456Z"
        );
        assert_eq!(
            Timestamp::new(-86_400, 0).to_rfc3339(),
            "1969-12-31T00:00:00Z"
        );
    }

    #[test]
    fn system_time_conversions() {
        let now = SystemTime::now();
        assert_eq!(SystemTime::from(Timestamp::from(now)), now);
        let before = UNIX_EPOCH - Duration::from_millis(1500);
        assert_eq!(Timestamp::from(before), Timestamp::new(-2, 500_000_000));
        assert_eq!(SystemTime::from(Timestamp::from(before)), before);
    }
}
