//! What a store hands back from a load.

use bytes::Bytes;

/// An opaque marker of one stored state of a record, used by [`SessionStore::save`] to
/// detect that someone else wrote the record since it was loaded.
///
/// Each store decides what it holds: a counter (SQL, memory), a CAS token (Memcached) or a
/// digest of the loaded bytes (Redis). It must change whenever the stored data changes, and
/// must not change on [`SessionStore::touch`].
///
/// [`SessionStore::save`]: crate::SessionStore::save
/// [`SessionStore::touch`]: crate::SessionStore::touch
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Version(u64);

impl Version {
    /// Wraps a store-specific version number.
    pub const fn new(value: u64) -> Self {
        Self(value)
    }

    /// The store-specific version number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// A record as loaded from a store: the encoded session data and its [`Version`].
///
/// ```
/// use bytes::Bytes;
/// use sessionkit_core::{Record, Version};
///
/// let record = Record::new(Bytes::from_static(b"\x80"), Version::new(7));
/// assert_eq!(record.version(), Version::new(7));
/// assert_eq!(record.payload().as_ref(), b"\x80");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    payload: Bytes,
    version: Version,
}

impl Record {
    /// A loaded record.
    pub fn new(payload: Bytes, version: Version) -> Self {
        Self { payload, version }
    }

    /// The stored bytes, as written by a [`Codec`](crate::Codec).
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// The version to pass back to [`SessionStore::save`](crate::SessionStore::save).
    pub fn version(&self) -> Version {
        self.version
    }

    /// The payload and the version.
    pub fn into_parts(self) -> (Bytes, Version) {
        (self.payload, self.version)
    }
}
