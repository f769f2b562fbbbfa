//! JSON: a bare object, as Flask-Session 0.8 writes it with msgspec's JSON encoder.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use rmpv::ValueRef;
use serde_json::{Map, Number, Value};

use super::from_json::JsonEntries;
use crate::timestamp::TIMESTAMP_EXT;
use crate::{Error, SessionData, Timestamp};

/// Converts every value to JSON and writes one object.
pub(super) fn encode(data: &SessionData) -> Result<Vec<u8>, Error> {
    let mut object = Map::new();
    for (key, raw) in data.encoded_entries() {
        let value =
            rmpv::decode::read_value_ref(&mut &raw[..]).map_err(|e| Error::Encode(Box::new(e)))?;
        object.insert(key.clone(), to_json(&value)?);
    }
    serde_json::to_vec(&object).map_err(|e| Error::Encode(Box::new(e)))
}

/// Parses one JSON object (serde_json bounds nesting at 128 levels), writing each value as
/// MessagePack, the in-memory form of [`SessionData`], as it is parsed.
pub(super) fn decode(payload: &Bytes) -> Result<SessionData, Error> {
    let JsonEntries(entries) =
        serde_json::from_slice(payload).map_err(|e| Error::Decode(Box::new(e)))?;
    Ok(SessionData::from_encoded_entries(entries))
}

/// The JSON of a MessagePack scalar (nil, boolean, integer, float, string); `None` for
/// binary, containers and extensions, which each JSON form writes its own way.
///
/// # Errors
/// [`Error::Encode`] for a string that is not UTF-8 or a float JSON cannot hold.
pub(super) fn scalar(value: &ValueRef<'_>) -> Result<Option<Value>, Error> {
    Ok(Some(match value {
        ValueRef::Nil => Value::Null,
        ValueRef::Boolean(b) => Value::Bool(*b),
        ValueRef::Integer(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Value::Number(u.into()),
            (None, Some(i)) => Value::Number(i.into()),
            (None, None) => unreachable!("a MessagePack integer is an i64 or a u64"),
        },
        ValueRef::F32(f) => finite(f64::from(*f))?,
        ValueRef::F64(f) => finite(*f)?,
        ValueRef::String(s) => match s.as_str() {
            Some(s) => Value::String(s.to_owned()),
            None => return Err(Error::encode("string value is not valid UTF-8")),
        },
        _ => return Ok(None),
    }))
}

fn to_json(value: &ValueRef<'_>) -> Result<Value, Error> {
    if let Some(scalar) = scalar(value)? {
        return Ok(scalar);
    }
    Ok(match value {
        ValueRef::Binary(b) => Value::String(STANDARD.encode(b)),
        ValueRef::Array(items) => {
            Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?)
        }
        ValueRef::Map(pairs) => {
            let mut object = Map::new();
            for (k, v) in pairs {
                let ValueRef::String(k) = k else {
                    return Err(Error::encode("JSON object keys must be strings"));
                };
                let Some(k) = k.as_str() else {
                    return Err(Error::encode("JSON object keys must be strings"));
                };
                object.insert(k.to_owned(), to_json(v)?);
            }
            Value::Object(object)
        }
        // A timestamp is written as msgspec writes a datetime in JSON: RFC 3339 text.
        ValueRef::Ext(TIMESTAMP_EXT, bytes) => match Timestamp::from_ext_bytes(bytes) {
            Some(at) => Value::String(at.to_rfc3339()),
            None => return Err(Error::encode("malformed MessagePack timestamp")),
        },
        ValueRef::Ext(tag, _) => {
            return Err(Error::encode(format!(
                "MessagePack extension type {tag} has no JSON form"
            )));
        }
        _ => unreachable!("scalars are written above"),
    })
}

fn finite(f: f64) -> Result<Value, Error> {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| Error::encode("JSON cannot hold NaN or infinite floats"))
}
