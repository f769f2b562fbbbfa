//! Reading a JSON payload straight into MessagePack values, as serde_json parses it: no tree
//! of the whole payload is built.

use std::collections::BTreeMap;
use std::fmt;

use bytes::Bytes;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The top-level JSON object: each key with its value as MessagePack bytes. A repeated key
/// keeps its last value.
pub(super) struct JsonEntries(pub(super) BTreeMap<String, Bytes>);

impl<'de> Deserialize<'de> for JsonEntries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EntriesVisitor)
    }
}

/// Visits the top-level object, transcoding one value at a time.
struct EntriesVisitor;

impl<'de> Visitor<'de> for EntriesVisitor {
    type Value = JsonEntries;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of session keys")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonEntries, A::Error> {
        let mut entries = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let mut value = Vec::new();
            map.next_value_seed(Transcode(&mut value))?;
            entries.insert(key, Bytes::from(value));
        }
        Ok(JsonEntries(entries))
    }
}

/// Appends the next JSON value to the buffer as MessagePack: the bytes rmp-serde writes for
/// the same `serde_json::Value` (smallest integer and length forms, floats as float 64,
/// object keys sorted, a repeated key keeping its last value), so a JSON session reads the
/// same as one whose values were inserted as `serde_json::Value`. Nesting is bounded by
/// serde_json's recursion limit, which this follows.
struct Transcode<'a>(&'a mut Vec<u8>);

impl<'de> DeserializeSeed<'de> for Transcode<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Transcode<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        rmp::encode::write_nil(self.0).expect(VEC_WRITE);
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        rmp::encode::write_bool(self.0, v).expect(VEC_WRITE);
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        rmp::encode::write_uint(self.0, v).expect(VEC_WRITE);
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        // serde_json's `Value` keeps a non-negative integer as unsigned.
        match u64::try_from(v) {
            Ok(unsigned) => rmp::encode::write_uint(self.0, unsigned).expect(VEC_WRITE),
            Err(_) => rmp::encode::write_sint(self.0, v).expect(VEC_WRITE),
        };
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        rmp::encode::write_f64(self.0, v).expect(VEC_WRITE);
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        rmp::encode::write_str(self.0, v).expect(VEC_WRITE);
        Ok(())
    }

    /// Writes the items, then moves the array header (known only now) in front of them.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let start = self.0.len();
        let mut len = 0u32;
        while seq.next_element_seed(Transcode(self.0))?.is_some() {
            len = len
                .checked_add(1)
                .ok_or_else(|| de::Error::custom("a JSON array too long for MessagePack"))?;
        }
        let items_end = self.0.len();
        rmp::encode::write_array_len(self.0, len).expect(VEC_WRITE);
        let header_len = self.0.len() - items_end;
        self.0[start..].rotate_right(header_len);
        Ok(())
    }

    /// Writes the values, then rewrites them in key order behind the map header.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let start = self.0.len();
        let mut fields = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let from = self.0.len();
            map.next_value_seed(Transcode(self.0))?;
            fields.insert(key, from - start..self.0.len() - start);
        }
        let len = u32::try_from(fields.len())
            .map_err(|_| de::Error::custom("a JSON object too large for MessagePack"))?;
        let values = self.0.split_off(start);
        rmp::encode::write_map_len(self.0, len).expect(VEC_WRITE);
        for (key, range) in fields {
            rmp::encode::write_str(self.0, &key).expect(VEC_WRITE);
            self.0.extend_from_slice(&values[range]);
        }
        Ok(())
    }
}

const VEC_WRITE: &str = "writing to a Vec cannot fail";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_the_bytes_rmp_serde_writes_for_a_json_value() {
        let documents = [
            r#"{"n": null, "t": true, "f": false}"#,
            r#"{"small": 5, "zero": 0, "minus_zero": -0, "neg": -33, "byte": 200}"#,
            r#"{"max": 18446744073709551615, "min": -9223372036854775808}"#,
            r#"{"float": 1.5, "whole_float": 2.0, "tiny": 1e-300, "neg": -0.0}"#,
            r#"{"s": "Zoë ✓ \"quoted\" \\ \u0001 \ud83d\ude00", "empty": ""}"#,
            r#"{"long": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#,
            r#"{"a": [], "o": {}, "deep": [[[{"x": [1, {"y": null}]}]]]}"#,
            r#"{"unsorted": {"b": 1, "a": 2, "c": {"z": 0, "y": [3, 2, 1]}}}"#,
            r#"{"repeated": {"k": 1, "j": 0, "k": 2}, "top": 1, "top": 2}"#,
        ];
        let long_array = format!("{{\"a\": [{}]}}", vec!["7"; 70_000].join(","));
        let wide_object = format!(
            "{{\"o\": {{{}}}}}",
            (0..70_000)
                .map(|i| format!("\"k{i}\": {i}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        for document in documents
            .iter()
            .copied()
            .chain([&*long_array, &*wide_object])
        {
            let JsonEntries(ours) = serde_json::from_str(document).unwrap();
            let tree: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(document).unwrap();
            assert_eq!(ours.len(), tree.len(), "{document}");
            for (key, value) in tree {
                let expected = rmp_serde::to_vec_named(&value).unwrap();
                assert_eq!(ours[&key].as_ref(), expected, "{key} in {document}");
            }
        }
    }

    #[test]
    fn only_an_object_is_a_session() {
        for document in ["[1]", "1", "\"s\"", "null", "{\"a\": 1} 2", "{\"a\": "] {
            assert!(
                serde_json::from_str::<JsonEntries>(document).is_err(),
                "{document}"
            );
        }
    }
}
