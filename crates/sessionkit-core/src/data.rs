//! Session data: string keys to self-describing values, with per-key change tracking.

use std::collections::BTreeMap;
use std::collections::btree_map;

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Error;

/// What one request did to one key, as recorded by [`SessionData`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// The key was set to a new value.
    Set,
    /// The key was removed.
    Removed,
}

/// The contents of a session: a map from string keys to self-describing values.
///
/// Values go in and come out through serde: anything `Serialize` can be inserted and read
/// back as any `Deserialize` type of the same shape. Each value is held as MessagePack
/// (structs as maps with named fields), which is also how it is stored, so loading and
/// saving a session never re-encodes values the request did not touch.
///
/// Mutations are tracked per key. Inserting a value equal to the current one, or removing an
/// absent key, changes nothing. The lifecycle uses the tracked changes to merge a request's
/// writes onto a record that a concurrent request changed meanwhile.
///
/// ```
/// use sessionkit_core::SessionData;
///
/// let mut data = SessionData::new();
/// data.insert("refreshed", &1u32)?;
/// data.insert("user", &serde_json::json!({"name": "ada", "roles": ["admin"]}))?;
/// assert_eq!(data.get::<u32>("refreshed")?, Some(1));
/// assert!(data.is_modified());
///
/// data.insert("refreshed", &1u32)?; // equal value: no new change
/// assert_eq!(data.len(), 2);
/// # Ok::<(), sessionkit_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionData {
    entries: BTreeMap<String, Bytes>,
    changes: BTreeMap<String, Change>,
    cleared: bool,
}

impl SessionData {
    /// An empty, unmodified session.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds unmodified data from already encoded entries (used by codecs).
    pub(crate) fn from_encoded_entries(entries: BTreeMap<String, Bytes>) -> Self {
        Self {
            entries,
            changes: BTreeMap::new(),
            cleared: false,
        }
    }

    /// Reads `key` as a `T`.
    ///
    /// # Errors
    /// [`Error::Decode`] when the stored value does not have the shape of `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.entries
            .get(key)
            .map(|raw| decode_value(raw))
            .transpose()
    }

    /// Sets `key` to `value`. Setting a value equal to the current one is not a change.
    ///
    /// # Errors
    /// [`Error::Encode`] when `value` cannot be serialized (for example a map with
    /// non-string keys that serde cannot represent).
    pub fn insert<T: Serialize + ?Sized>(
        &mut self,
        key: impl Into<String>,
        value: &T,
    ) -> Result<(), Error> {
        self.insert_within(key.into(), value, usize::MAX)
    }

    /// Like [`insert`](Self::insert), refusing a value that would make the MessagePack
    /// encoding of the whole session longer than `limit` bytes; nothing changes then.
    pub(crate) fn insert_within<T: Serialize + ?Sized>(
        &mut self,
        key: String,
        value: &T,
        limit: usize,
    ) -> Result<(), Error> {
        let encoded = encode_value(value)?;
        let old = self.entries.get(&key);
        if old == Some(&encoded) {
            return Ok(());
        }
        let before = self.encoded_len();
        let size = match old {
            Some(old) => before - old.len() + encoded.len(),
            None => {
                before - map_header_len(self.entries.len())
                    + map_header_len(self.entries.len() + 1)
                    + str_header_len(key.len())
                    + key.len()
                    + encoded.len()
            }
        };
        if size > limit {
            return Err(Error::TooLarge { size, limit });
        }
        self.changes.insert(key.clone(), Change::Set);
        self.entries.insert(key, encoded);
        Ok(())
    }

    /// Sets `key` without recording a change: a value the lifecycle adds for itself (the
    /// creation time), which a merge must not carry over a concurrent writer's own.
    pub(crate) fn set_untracked<T: Serialize + ?Sized>(
        &mut self,
        key: &str,
        value: &T,
    ) -> Result<(), Error> {
        let encoded = encode_value(value)?;
        self.entries.insert(key.to_owned(), encoded);
        Ok(())
    }

    /// The length of this data encoded as MessagePack, the default format (JSON differs).
    pub fn encoded_len(&self) -> usize {
        map_header_len(self.entries.len())
            + self
                .entries
                .iter()
                .map(|(k, v)| str_header_len(k.len()) + k.len() + v.len())
                .sum::<usize>()
    }

    /// Removes `key`, returning whether it was present.
    pub fn remove(&mut self, key: &str) -> bool {
        if self.entries.remove(key).is_none() {
            return false;
        }
        self.changes.insert(key.to_owned(), Change::Removed);
        true
    }

    /// Removes `key` and returns its value as a `T` (Flask's `session.pop`). When the value
    /// does not decode as `T`, the key is left in place and the error returned.
    ///
    /// # Errors
    /// [`Error::Decode`] when the stored value does not have the shape of `T`.
    pub fn take<T: DeserializeOwned>(&mut self, key: &str) -> Result<Option<T>, Error> {
        let value = self.get(key)?;
        self.remove(key);
        Ok(value)
    }

    /// Removes every key. The lifecycle deletes a session that is empty after a clear.
    pub fn clear(&mut self) {
        if self.entries.is_empty() && self.changes.is_empty() {
            return;
        }
        self.entries.clear();
        self.changes.clear();
        self.cleared = true;
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// The keys, in sorted order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.entries.keys().map(String::as_str)
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether anything changed since this data was created or loaded.
    pub fn is_modified(&self) -> bool {
        self.cleared || !self.changes.is_empty()
    }

    /// Whether [`SessionData::clear`] emptied this data since it was loaded.
    #[cfg(test)]
    fn was_cleared(&self) -> bool {
        self.cleared
    }

    /// The keys set or removed since this data was loaded (after the last clear).
    #[cfg(test)]
    fn changes(&self) -> impl Iterator<Item = (&str, Change)> + '_ {
        self.changes.iter().map(|(k, c)| (k.as_str(), *c))
    }

    /// Forgets the tracked changes: the data now counts as freshly loaded.
    pub fn mark_unmodified(&mut self) {
        self.changes.clear();
        self.cleared = false;
    }

    /// Replays this data's changes onto `current`, a newer copy of the same session written
    /// by someone else, and returns the result with the same changes pending.
    ///
    /// Keys this data set or removed take this data's value; every other key keeps the value
    /// in `current`. After a [`clear`](SessionData::clear) nothing of `current` survives.
    ///
    pub(crate) fn rebase(&self, current: SessionData) -> SessionData {
        let mut entries = if self.cleared {
            BTreeMap::new()
        } else {
            current.entries
        };
        for (key, change) in &self.changes {
            match change {
                Change::Set => {
                    let value = self.entries[key].clone();
                    entries.insert(key.clone(), value);
                }
                Change::Removed => {
                    entries.remove(key);
                }
            }
        }
        SessionData {
            entries,
            changes: self.changes.clone(),
            cleared: self.cleared,
        }
    }

    /// The encoded entries, for codecs.
    pub(crate) fn encoded_entries(&self) -> btree_map::Iter<'_, String, Bytes> {
        self.entries.iter()
    }
}

/// The bytes of a MessagePack map header for `len` entries.
fn map_header_len(len: usize) -> usize {
    match len {
        0..16 => 1,
        16..65_536 => 3,
        _ => 5,
    }
}

/// The bytes of a MessagePack string header for `len` bytes.
fn str_header_len(len: usize) -> usize {
    match len {
        0..32 => 1,
        32..256 => 2,
        256..65_536 => 3,
        _ => 5,
    }
}

/// Encodes one value as MessagePack with named struct fields.
fn encode_value<T: Serialize + ?Sized>(value: &T) -> Result<Bytes, Error> {
    rmp_serde::to_vec_named(value)
        .map(Bytes::from)
        .map_err(|e| Error::Encode(Box::new(e)))
}

/// Decodes one MessagePack value.
fn decode_value<T: DeserializeOwned>(raw: &[u8]) -> Result<T, Error> {
    rmp_serde::from_slice(raw).map_err(|e| Error::Decode(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct User {
        name: String,
        admin: bool,
    }

    fn loaded(pairs: &[(&str, i64)]) -> SessionData {
        let mut data = SessionData::new();
        for (k, v) in pairs {
            data.insert(*k, v).unwrap();
        }
        data.mark_unmodified();
        data
    }

    #[test]
    fn typed_round_trip() {
        let mut data = SessionData::new();
        let user = User {
            name: "ada".into(),
            admin: true,
        };
        data.insert("user", &user).unwrap();
        assert_eq!(data.get::<User>("user").unwrap(), Some(user));
        assert_eq!(data.get::<User>("missing").unwrap(), None);
    }

    #[test]
    fn structs_are_stored_as_maps_with_field_names() {
        let mut data = SessionData::new();
        data.insert(
            "user",
            &User {
                name: "ada".into(),
                admin: false,
            },
        )
        .unwrap();
        let raw = &data.entries["user"];
        assert_eq!(raw[0], 0x82, "a fixmap of two entries, not an array");
        let as_map: BTreeMap<String, serde_json::Value> = rmp_serde::from_slice(raw).unwrap();
        assert!(as_map.contains_key("name") && as_map.contains_key("admin"));
    }

    #[test]
    fn wrong_type_is_a_decode_error() {
        let mut data = SessionData::new();
        data.insert("n", "text").unwrap();
        let err = data.get::<u64>("n").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Decode);
    }

    #[test]
    fn inserting_an_equal_value_is_not_a_change() {
        let mut data = loaded(&[("a", 1)]);
        data.insert("a", &1i64).unwrap();
        assert!(!data.is_modified());
        data.insert("a", &2i64).unwrap();
        assert!(data.is_modified());
        assert_eq!(data.changes().collect::<Vec<_>>(), vec![("a", Change::Set)]);
    }

    #[test]
    fn removing_an_absent_key_is_not_a_change() {
        let mut data = loaded(&[("a", 1)]);
        assert!(!data.remove("b"));
        assert!(!data.is_modified());
        assert!(data.remove("a"));
        assert_eq!(
            data.changes().collect::<Vec<_>>(),
            vec![("a", Change::Removed)]
        );
    }

    #[test]
    fn take_pops_the_value() {
        let mut data = loaded(&[("a", 7)]);
        assert_eq!(data.take::<i64>("a").unwrap(), Some(7));
        assert!(!data.contains_key("a"));
        assert_eq!(data.take::<i64>("a").unwrap(), None);
    }

    #[test]
    fn take_of_the_wrong_type_keeps_the_key() {
        let mut data = loaded(&[("a", 7)]);
        assert!(data.take::<String>("a").is_err());
        assert!(data.contains_key("a"));
        assert!(!data.is_modified());
    }

    #[test]
    fn clear_of_empty_data_is_not_a_change() {
        let mut data = SessionData::new();
        data.clear();
        assert!(!data.is_modified());
        let mut data = loaded(&[("a", 1)]);
        data.clear();
        assert!(data.is_modified() && data.was_cleared() && data.is_empty());
    }

    #[test]
    fn rebase_keeps_other_keys_and_applies_own_changes() {
        let base = loaded(&[("a", 1), ("b", 2), ("c", 3)]);
        let mut mine = base.clone();
        mine.insert("a", &10i64).unwrap();
        mine.remove("b");

        let mut theirs = base;
        theirs.insert("b", &20i64).unwrap();
        theirs.insert("c", &30i64).unwrap();
        theirs.insert("d", &40i64).unwrap();
        theirs.mark_unmodified();

        let merged = mine.rebase(theirs);
        assert_eq!(merged.get::<i64>("a").unwrap(), Some(10));
        assert_eq!(merged.get::<i64>("b").unwrap(), None, "own removal wins");
        assert_eq!(merged.get::<i64>("c").unwrap(), Some(30));
        assert_eq!(merged.get::<i64>("d").unwrap(), Some(40));
        assert!(merged.is_modified());
    }

    #[test]
    fn rebase_after_clear_drops_everything_else() {
        let base = loaded(&[("a", 1)]);
        let mut mine = base.clone();
        mine.clear();
        mine.insert("flash", "bye").unwrap();
        let mut theirs = base;
        theirs.insert("b", &2i64).unwrap();
        let merged = mine.rebase(theirs);
        assert_eq!(merged.keys().collect::<Vec<_>>(), vec!["flash"]);
    }

    #[test]
    fn encoded_len_is_the_messagepack_length() {
        let mut data = SessionData::new();
        assert_eq!(
            data.encoded_len(),
            crate::Codec::MessagePack.encode(&data).unwrap().len()
        );
        for i in 0..40 {
            data.insert(format!("key{i}{}", "k".repeat(i * 9)), &"v".repeat(i * 7))
                .unwrap();
            let encoded = crate::Codec::MessagePack.encode(&data).unwrap();
            assert_eq!(data.encoded_len(), encoded.len(), "after {i}");
        }
    }

    #[test]
    fn insert_within_refuses_growth_past_the_limit_and_changes_nothing() {
        let mut data = loaded(&[("a", 1)]);
        let limit = data.encoded_len() + 10;
        let err = data
            .insert_within("b".into(), &"x".repeat(20), limit)
            .unwrap_err();
        assert!(
            matches!(err, Error::TooLarge { limit: l, .. } if l == limit),
            "{err:?}"
        );
        assert!(!data.contains_key("b") && !data.is_modified());
        data.insert_within("b".into(), "xy", limit).unwrap();
        assert!(data.encoded_len() <= limit);
        // Replacing a value with a smaller one is always allowed.
        data.insert_within("b".into(), "", limit).unwrap();
    }

    #[test]
    fn full_integer_range_survives() {
        let mut data = SessionData::new();
        data.insert("max", &u64::MAX).unwrap();
        data.insert("min", &i64::MIN).unwrap();
        assert_eq!(data.get::<u64>("max").unwrap(), Some(u64::MAX));
        assert_eq!(data.get::<i64>("min").unwrap(), Some(i64::MIN));
    }
}
