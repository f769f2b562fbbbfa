//! MessagePack: a bare map of string keys, as Flask-Session 0.8 writes it with msgspec.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::MAX_DEPTH;
use crate::{Error, SessionData};

/// Writes the map header, then each key and its already encoded value.
pub(super) fn encode(data: &SessionData) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        5 + data
            .encoded_entries()
            .map(|(k, v)| 5 + k.len() + v.len())
            .sum::<usize>(),
    );
    let len = u32::try_from(data.len()).expect("fewer than 2^32 keys");
    rmp::encode::write_map_len(&mut out, len).expect("writing to a Vec cannot fail");
    for (key, value) in data.encoded_entries() {
        rmp::encode::write_str(&mut out, key).expect("writing to a Vec cannot fail");
        out.extend_from_slice(value);
    }
    out
}

/// Splits the top-level map into keys and slices of the payload holding each value. Every
/// value is fully validated (markers, lengths, nesting depth) but not copied.
pub(super) fn decode(payload: &Bytes) -> Result<SessionData, Error> {
    let mut rest: &[u8] = payload;
    let len = rmp::decode::read_map_len(&mut rest).map_err(|e| Error::Decode(Box::new(e)))?;
    let mut entries = BTreeMap::new();
    for _ in 0..len {
        let (key, after_key) = rmp::decode::read_str_from_slice(rest)
            .map_err(|e| Error::decode(format!("session key is not a UTF-8 string: {e}")))?;
        let mut value_reader = after_key;
        // The top-level map is one level. rmpv spends two units of depth per container (the
        // value and its items) and up to three on a leaf (string, binary, extension), so
        // this admits MAX_DEPTH - 1 nested containers below the map whatever the leaf, and
        // never more than MAX_DEPTH.
        rmpv::decode::read_value_ref_with_max_depth(&mut value_reader, 2 * MAX_DEPTH + 1)
            .map_err(|e| Error::Decode(Box::new(e)))?;
        let start = payload.len() - after_key.len();
        let end = payload.len() - value_reader.len();
        entries.insert(key.to_owned(), payload.slice(start..end));
        rest = value_reader;
    }
    if !rest.is_empty() {
        return Err(Error::decode(format!(
            "{} trailing bytes after the session map",
            rest.len()
        )));
    }
    Ok(SessionData::from_encoded_entries(entries))
}
