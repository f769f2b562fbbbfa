//! The mapping between sessionkit's MessagePack values and tower-sessions' JSON values.
//!
//! | MessagePack (Python)                 | JSON seen by a tower-sessions handler              |
//! |--------------------------------------|----------------------------------------------------|
//! | nil, bool, int, float, str           | `null`, bool, number, string                       |
//! | array, map with string keys          | array, object                                      |
//! | binary (`bytes`)                     | array of numbers 0-255 (serde's `Vec<u8>` shape)   |
//! | timestamp, ext -1 (`datetime`)       | RFC 3339 string in UTC, nanoseconds kept            |
//! | NaN or infinite float, other ext types, non-string map keys, invalid UTF-8 | not shown |
//!
//! Nothing is silently changed: a key is written back only when a tower-sessions handler
//! changed its value, so a binary or timestamp value that was only read keeps its
//! MessagePack type, and a key that JSON cannot show stays hidden and untouched. A value a
//! handler writes is stored as serde encodes `serde_json::Value` (arrays stay arrays,
//! strings stay strings).

use rmpv::Value as Pack;
use serde_json::{Map, Number, Value as Json};
use sessionkit_core::Timestamp;

/// MessagePack's extension type for timestamps.
const TIMESTAMP_EXT: i8 = -1;

/// The JSON form of a MessagePack value, or `None` when JSON has no faithful form for it.
pub(crate) fn to_json(value: &Pack) -> Option<Json> {
    Some(match value {
        Pack::Nil => Json::Null,
        Pack::Boolean(b) => Json::Bool(*b),
        Pack::Integer(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Json::Number(u.into()),
            (None, Some(i)) => Json::Number(i.into()),
            (None, None) => return None,
        },
        Pack::F32(f) => Json::Number(Number::from_f64(f64::from(*f))?),
        Pack::F64(f) => Json::Number(Number::from_f64(*f)?),
        Pack::String(s) => Json::String(s.as_str()?.to_owned()),
        Pack::Binary(bytes) => Json::Array(bytes.iter().map(|b| Json::from(*b)).collect()),
        Pack::Array(items) => Json::Array(items.iter().map(to_json).collect::<Option<_>>()?),
        Pack::Map(entries) => {
            let mut object = Map::with_capacity(entries.len());
            for (key, value) in entries {
                object.insert(key.as_str()?.to_owned(), to_json(value)?);
            }
            Json::Object(object)
        }
        Pack::Ext(TIMESTAMP_EXT, bytes) => {
            Json::String(Timestamp::from_ext_bytes(bytes)?.to_rfc3339())
        }
        Pack::Ext(..) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sessionkit_core::SessionData;

    /// Stores `value` as sessionkit does and reads it back as the bridge does.
    fn through_session<T: serde::Serialize + ?Sized>(value: &T) -> Option<Json> {
        let mut data = SessionData::new();
        data.insert("k", value).unwrap();
        to_json(&data.get::<Pack>("k").unwrap().unwrap())
    }

    #[test]
    fn scalars_arrays_and_string_keyed_maps_map_one_to_one() {
        let value = json!({"n": -3, "big": u64::MAX, "f": 1.5, "s": "é", "b": true,
                           "z": null, "list": [1, "two", [3.0]]});
        assert_eq!(through_session(&value), Some(value));
    }

    #[test]
    fn binary_reads_as_an_array_of_bytes() {
        let bytes = serde_bytes::Bytes::new(&[0, 1, 255]);
        let json = through_session(bytes).unwrap();
        assert_eq!(json, json!([0, 1, 255]));
        // A tower-sessions handler reads it back as `Vec<u8>`.
        assert_eq!(
            serde_json::from_value::<Vec<u8>>(json).unwrap(),
            vec![0, 1, 255]
        );
    }

    #[test]
    fn timestamps_read_as_rfc3339_with_nanoseconds() {
        let stamp = Timestamp::new(1_700_000_000, 123_456_789);
        assert_eq!(
            through_session(&stamp),
            Some(json!("2023-11-14T22:13:20.123456789Z"))
        );
    }

    #[test]
    fn values_json_cannot_hold_are_hidden_not_changed() {
        assert_eq!(to_json(&Pack::F64(f64::NAN)), None);
        assert_eq!(to_json(&Pack::F32(f32::INFINITY)), None);
        assert_eq!(to_json(&Pack::Ext(5, vec![1, 2])), None);
        assert_eq!(
            to_json(&Pack::Map(vec![(Pack::from(1), Pack::from(2))])),
            None
        );
        let invalid_utf8 = rmpv::decode::read_value(&mut &[0xa2, 0xff, 0xfe][..]).unwrap();
        assert_eq!(to_json(&invalid_utf8), None);
        // Hidden anywhere inside means the whole value is hidden.
        assert_eq!(
            to_json(&Pack::Array(vec![Pack::from(1), Pack::Ext(5, vec![])])),
            None
        );
    }
}
