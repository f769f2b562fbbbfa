//! Memcached's expiry rules: relative seconds up to 30 days, a unix timestamp beyond.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest expiry memcached reads as relative; a larger number is a unix time.
pub(crate) const MAX_RELATIVE: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// When an item expires, in the form the server will read correctly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exptime {
    /// Seconds from now, 1 to 2,592,000.
    Relative(u32),
    /// A unix timestamp, for expiries more than 30 days away.
    Absolute(SystemTime),
}

impl Exptime {
    /// The expiry of a record that lives until `expires_at`, seen at `now`.
    ///
    /// Rounded **up** to whole seconds and at least 1 second: the protocol's 0 means
    /// "never expires", which a session must never get by accident. Flask's default
    /// lifetime (31 days) is past the 30-day line and becomes an absolute time.
    pub(crate) fn until(expires_at: SystemTime, now: SystemTime) -> Self {
        let remaining = expires_at.duration_since(now).unwrap_or(Duration::ZERO);
        if remaining > MAX_RELATIVE {
            return Self::Absolute(expires_at);
        }
        let secs = remaining.as_nanos().div_ceil(1_000_000_000).max(1);
        Self::Relative(u32::try_from(secs).expect("at most 30 days of seconds"))
    }

    /// The number sent on the wire.
    pub(crate) fn wire(self) -> u64 {
        match self {
            Self::Relative(secs) => u64::from(secs),
            Self::Absolute(at) => {
                let secs = at
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or(Duration::ZERO)
                    .as_secs();
                // A unix time is always far above the 30-day line today; never send a number
                // the server could read as relative.
                secs.max(MAX_RELATIVE.as_secs() + 1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 24 * 60 * 60;

    #[test]
    fn short_lifetimes_are_relative_and_rounded_up() {
        let now = SystemTime::now();
        assert_eq!(
            Exptime::until(now + Duration::from_millis(1), now),
            Exptime::Relative(1)
        );
        assert_eq!(
            Exptime::until(now + Duration::from_millis(1500), now),
            Exptime::Relative(2)
        );
        assert_eq!(
            Exptime::until(now + Duration::from_secs(600), now),
            Exptime::Relative(600)
        );
    }

    #[test]
    fn never_zero_even_when_already_expired() {
        let now = SystemTime::now();
        assert_eq!(Exptime::until(now, now), Exptime::Relative(1));
        assert_eq!(Exptime::until(now - Duration::from_secs(60), now).wire(), 1);
    }

    #[test]
    fn thirty_days_exactly_is_still_relative() {
        let now = SystemTime::now();
        let e = Exptime::until(now + Duration::from_secs(30 * DAY), now);
        assert_eq!(e, Exptime::Relative(2_592_000));
        assert_eq!(e.wire(), 2_592_000);
    }

    #[test]
    fn beyond_thirty_days_is_an_absolute_unix_time() {
        let now = SystemTime::now();
        let flask_default = now + Duration::from_secs(31 * DAY);
        let e = Exptime::until(flask_default, now);
        assert_eq!(e, Exptime::Absolute(flask_default));
        let unix_now = now.duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(e.wire(), unix_now + 31 * DAY);
        // One second past the line flips to absolute too.
        let just_over = now + Duration::from_secs(30 * DAY + 1);
        assert!(matches!(
            Exptime::until(just_over, now),
            Exptime::Absolute(_)
        ));
    }
}
