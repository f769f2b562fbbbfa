//! MessagePack: a bare map of string keys, as Flask-Session 0.8 writes it with msgspec.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::validate::value_len;
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
/// value is fully validated (markers, lengths, nesting depth) by [`value_len`], which walks
/// the bytes without building the value; nothing is copied.
pub(super) fn decode(payload: &Bytes) -> Result<SessionData, Error> {
    let mut rest: &[u8] = payload;
    let len = rmp::decode::read_map_len(&mut rest).map_err(|e| Error::Decode(Box::new(e)))?;
    // Each entry takes at least two bytes: a forged count is refused before any is read.
    if 2 * u64::from(len) > rest.len() as u64 {
        return Err(Error::decode(format!(
            "the session map announces {len} entries, but only {} bytes remain",
            rest.len()
        )));
    }
    let mut entries = BTreeMap::new();
    for _ in 0..len {
        let (key, after_key) = rmp::decode::read_str_from_slice(rest)
            .map_err(|e| Error::decode(format!("session key is not a UTF-8 string: {e}")))?;
        let value_len = value_len(after_key)?;
        let start = payload.len() - after_key.len();
        entries.insert(key.to_owned(), payload.slice(start..start + value_len));
        rest = &after_key[value_len..];
    }
    if !rest.is_empty() {
        return Err(Error::decode(format!(
            "{} trailing bytes after the session map",
            rest.len()
        )));
    }
    Ok(SessionData::from_encoded_entries(entries))
}
