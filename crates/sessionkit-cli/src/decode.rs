//! A stored payload as JSON, for `show`: bytes and MessagePack extensions shown so that they
//! cannot be mistaken for strings or arrays.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use sessionkit::Codec;

/// The payload decoded as `codec` wrote it. MessagePack binary is `{"$bytes": base64}`, an
/// extension `{"$ext": [type, base64]}`, a string that is not UTF-8 `{"$bytes": ...}` too, a
/// map key that is not a string its JSON text. JSON payloads are shown as they are.
///
/// # Errors
/// A payload that is not what the codec writes.
pub(crate) fn to_json(codec: Codec, payload: &[u8]) -> Result<Value, String> {
    match codec {
        Codec::Json => serde_json::from_slice(payload).map_err(|e| format!("not JSON: {e}")),
        _ => {
            let mut reader = payload;
            let value = rmpv::decode::read_value(&mut reader)
                .map_err(|e| format!("not MessagePack: {e}"))?;
            Ok(from_msgpack(value))
        }
    }
}

fn bytes(data: &[u8]) -> Value {
    json!({ "$bytes": STANDARD.encode(data) })
}

fn from_msgpack(value: rmpv::Value) -> Value {
    use rmpv::Value as M;
    match value {
        M::Nil => Value::Null,
        M::Boolean(b) => Value::Bool(b),
        M::Integer(n) => n
            .as_i64()
            .map(Value::from)
            .or_else(|| n.as_u64().map(Value::from))
            .unwrap_or(Value::Null),
        M::F32(f) => float(f64::from(f)),
        M::F64(f) => float(f),
        M::String(s) => match s.into_str() {
            Some(text) => Value::String(text),
            None => Value::Null,
        },
        M::Binary(data) => bytes(&data),
        M::Array(items) => Value::Array(items.into_iter().map(from_msgpack).collect()),
        M::Map(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                let key = match key {
                    M::String(s) if s.is_str() => s.into_str().unwrap_or_default(),
                    other => from_msgpack(other).to_string(),
                };
                map.insert(key, from_msgpack(value));
            }
            Value::Object(map)
        }
        M::Ext(kind, data) => json!({ "$ext": [kind, STANDARD.encode(data)] }),
    }
}

/// A finite float as a number; NaN and infinities (which JSON lacks) as `{"$float": "NaN"}`.
fn float(f: f64) -> Value {
    serde_json::Number::from_f64(f)
        .map(Value::Number)
        .unwrap_or_else(|| json!({ "$float": f.to_string() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_and_extensions_are_tagged() {
        let value = rmpv::Value::Map(vec![
            ("s".into(), "text".into()),
            ("b".into(), rmpv::Value::Binary(vec![0, 1, 2])),
            ("e".into(), rmpv::Value::Ext(5, vec![255])),
            ("n".into(), 7.into()),
        ]);
        let mut payload = Vec::new();
        rmpv::encode::write_value(&mut payload, &value).unwrap();
        assert_eq!(
            to_json(Codec::MessagePack, &payload).unwrap(),
            json!({"s": "text", "b": {"$bytes": "AAEC"}, "e": {"$ext": [5, "/w=="]}, "n": 7})
        );
    }
}
