//! Flask's tagged JSON (`flask.json.tag.TaggedJSONSerializer`), the serializer of Flask's
//! default cookie sessions: JSON with sorted keys, compact separators and ASCII-only text,
//! where values JSON has no form for are wrapped in a one-key object naming their type.
//!
//! | Python | tagged JSON | in [`SessionData`] (MessagePack) |
//! |---|---|---|
//! | `tuple` | `{" t": [...]}` | array |
//! | `bytes` | `{" b": "<base64>"}` | binary |
//! | `Markup` | `{" m": "<html>"}` | string |
//! | `UUID` | `{" u": "<32 hex digits>"}` | string, hyphenated |
//! | `datetime` | `{" d": "<HTTP date>"}` | timestamp (whole seconds, as Flask keeps) |
//! | a dict whose one key is a tag | `{" di": {"<tag>__": ...}}` | map |
//!
//! Values this request did not change are written back exactly as they were read
//! ([`Originals`]), so a tuple, a `Markup` or a `UUID` that Python stored keeps its type
//! when Rust saves the session for another key. Values Rust writes take the JSON form of
//! their MessagePack shape (an array is a list; a string is a `str`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use rmpv::{Value as Pack, ValueRef};
use serde_json::{Map, Value};

use crate::timestamp::TIMESTAMP_EXT;
use crate::{Error, SessionData, Timestamp};

/// The tags Flask registers by default, by key.
const TAGS: [&str; 6] = [" di", " t", " b", " m", " u", " d"];

/// The tagged JSON of each key as it was read, with the MessagePack it became: a key whose
/// value is still that MessagePack is written back as it was read.
#[derive(Debug, Clone, Default)]
pub(crate) struct Originals(BTreeMap<String, (Bytes, Value)>);

/// Parses a session written by Flask's `TaggedJSONSerializer`.
///
/// # Errors
/// [`Error::Decode`] for anything but a JSON object (serde_json bounds nesting at 128
/// levels), a malformed tagged value, or a number JSON cannot hold.
pub(crate) fn decode(json: &[u8]) -> Result<(SessionData, Originals), Error> {
    let object: Map<String, Value> =
        serde_json::from_slice(json).map_err(|e| Error::Decode(Box::new(e)))?;
    let mut entries = BTreeMap::new();
    let mut originals = BTreeMap::new();
    for (key, tagged) in object {
        let mut encoded = Vec::new();
        rmpv::encode::write_value(&mut encoded, &untag(&tagged)?)
            .map_err(|e| Error::Decode(Box::new(e)))?;
        let encoded = Bytes::from(encoded);
        entries.insert(key.clone(), encoded.clone());
        originals.insert(key, (encoded, tagged));
    }
    Ok((
        SessionData::from_encoded_entries(entries),
        Originals(originals),
    ))
}

/// Writes `data` as Flask does: compact, keys sorted, non-ASCII escaped.
///
/// # Errors
/// [`Error::Encode`] for values tagged JSON has no form for: non-string map keys,
/// non-finite floats, MessagePack extensions other than timestamps.
pub(crate) fn encode(data: &SessionData, originals: &Originals) -> Result<String, Error> {
    let mut object = Map::new();
    for (key, raw) in data.encoded_entries() {
        let value = match originals.0.get(key) {
            Some((read, tagged)) if read == raw => tagged.clone(),
            _ => {
                let value = rmpv::decode::read_value_ref(&mut &raw[..])
                    .map_err(|e| Error::Encode(Box::new(e)))?;
                tag(&value)?
            }
        };
        object.insert(key.clone(), value);
    }
    let mut out = String::new();
    write(&mut out, &Value::Object(object));
    Ok(out)
}

/// A tagged JSON value as MessagePack (Flask's `_untag_scan`: the inside first).
fn untag(value: &Value) -> Result<Pack, Error> {
    Ok(match value {
        Value::Null => Pack::Nil,
        Value::Bool(b) => Pack::Boolean(*b),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Pack::from(u)
            } else if let Some(i) = n.as_i64() {
                Pack::from(i)
            } else {
                Pack::F64(
                    n.as_f64()
                        .ok_or_else(|| Error::decode("unreadable number"))?,
                )
            }
        }
        Value::String(s) => Pack::from(s.as_str()),
        Value::Array(items) => Pack::Array(items.iter().map(untag).collect::<Result<_, _>>()?),
        Value::Object(map) => {
            if map.len() == 1
                && let Some((key, inner)) = map.iter().next()
                && TAGS.contains(&key.as_str())
            {
                return untag_one(key, inner);
            }
            Pack::Map(
                map.iter()
                    .map(|(k, v)| Ok((Pack::from(k.as_str()), untag(v)?)))
                    .collect::<Result<_, Error>>()?,
            )
        }
    })
}

/// The value of the tag `key` wrapping `inner`.
fn untag_one(key: &str, inner: &Value) -> Result<Pack, Error> {
    let text = || {
        inner
            .as_str()
            .ok_or_else(|| Error::decode(format!("tag {key:?} holds no string")))
    };
    Ok(match key {
        " t" => match inner {
            Value::Array(items) => Pack::Array(items.iter().map(untag).collect::<Result<_, _>>()?),
            _ => return Err(Error::decode("tag \" t\" holds no list")),
        },
        " b" => Pack::Binary(
            STANDARD
                .decode(text()?)
                .map_err(|e| Error::Decode(Box::new(e)))?,
        ),
        " m" => Pack::from(text()?),
        " u" => Pack::from(hyphenated(text()?)?),
        " d" => {
            let at = httpdate::parse_http_date(text()?).map_err(|e| Error::Decode(Box::new(e)))?;
            Pack::Ext(TIMESTAMP_EXT, Timestamp::from(at).to_ext_bytes())
        }
        // " di": a dict whose one key is itself a tag, written as `"<tag>__"`.
        _ => match inner {
            Value::Object(map) if map.len() == 1 => {
                let (k, v) = map.iter().next().expect("one entry");
                let k = k.strip_suffix("__").unwrap_or(k);
                Pack::Map(vec![(Pack::from(k), untag(v)?)])
            }
            _ => return Err(Error::decode("tag \" di\" holds no one-key object")),
        },
    })
}

/// A UUID's 32 hex digits (Python's `UUID.hex`), hyphenated.
fn hyphenated(hex: &str) -> Result<String, Error> {
    let digits: String = hex.chars().filter(|c| *c != '-').collect();
    if digits.len() != 32 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::decode("tag \" u\" holds no UUID"));
    }
    let d = digits.to_ascii_lowercase();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &d[..8],
        &d[8..12],
        &d[12..16],
        &d[16..20],
        &d[20..]
    ))
}

/// MessagePack as tagged JSON (Flask's `tag`).
fn tag(value: &ValueRef<'_>) -> Result<Value, Error> {
    if let Some(scalar) = super::json::scalar(value)? {
        return Ok(scalar);
    }
    Ok(match value {
        ValueRef::Binary(b) => tagged(" b", Value::String(STANDARD.encode(b))),
        ValueRef::Array(items) => Value::Array(items.iter().map(tag).collect::<Result<_, _>>()?),
        ValueRef::Map(pairs) => {
            let mut object = Map::new();
            for (k, v) in pairs {
                let Some(k) = (match k {
                    ValueRef::String(k) => k.as_str(),
                    _ => None,
                }) else {
                    return Err(Error::encode("tagged JSON object keys must be strings"));
                };
                object.insert(k.to_owned(), tag(v)?);
            }
            match object.iter().next() {
                Some((k, v)) if object.len() == 1 && TAGS.contains(&k.as_str()) => {
                    let mut inner = Map::new();
                    inner.insert(format!("{k}__"), v.clone());
                    tagged(" di", Value::Object(inner))
                }
                _ => Value::Object(object),
            }
        }
        ValueRef::Ext(TIMESTAMP_EXT, bytes) => match Timestamp::from_ext_bytes(bytes) {
            Some(at) => tagged(" d", Value::String(http_date(at)?)),
            None => return Err(Error::encode("malformed MessagePack timestamp")),
        },
        ValueRef::Ext(tag, _) => {
            return Err(Error::encode(format!(
                "MessagePack extension type {tag} has no tagged JSON form"
            )));
        }
        _ => unreachable!("scalars are written above"),
    })
}

fn tagged(key: &str, value: Value) -> Value {
    let mut object = Map::new();
    object.insert(key.to_owned(), value);
    Value::Object(object)
}

/// A timestamp as an HTTP date (whole seconds, as werkzeug's `http_date` writes it).
fn http_date(at: Timestamp) -> Result<String, Error> {
    let secs = u64::try_from(at.secs())
        .map_err(|_| Error::encode("an HTTP date cannot be before 1970"))?;
    Ok(httpdate::fmt_http_date(
        UNIX_EPOCH + Duration::from_secs(secs),
    ))
}

/// Writes `value` as Python's `json.dumps(value, separators=(",", ":"), sort_keys=True)`
/// does with `ensure_ascii=True`.
fn write(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => python_float(out, f),
            _ => {
                let _ = write!(out, "{n}");
            }
        },
        Value::String(s) => string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Sorted by code point, as Python sorts `str` keys (a `serde_json::Map` keeps
            // insertion order when another crate turns on `preserve_order`).
            let mut pairs: Vec<(&String, &Value)> = map.iter().collect();
            pairs.sort_by(|a, b| a.0.chars().cmp(b.0.chars()));
            out.push('{');
            for (i, (k, v)) in pairs.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(out, k);
                out.push(':');
                write(out, v);
            }
            out.push('}');
        }
    }
}

/// A JSON string with every character outside printable ASCII escaped, as Python's
/// `ensure_ascii` writes it.
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// A float as Python's `repr` writes it: the shortest digits that read back the same,
/// positional from 1e-4 up to 1e16, otherwise `d.ddde±XX`.
fn python_float(out: &mut String, f: f64) {
    // Rust's `{:e}` gives the shortest round-trip digits too: `1.5e3`, `1e-7`.
    let scientific = format!("{f:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` always writes an exponent");
    let exponent: i32 = exponent.parse().expect("a decimal exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    out.push_str(sign);
    if (-4..16).contains(&exponent) {
        if exponent < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exponent - 1) as usize));
            out.push_str(&digits);
        } else {
            let point = exponent as usize + 1;
            if digits.len() <= point {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', point - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exponent < 0 { '-' } else { '+' },
            exponent.abs()
        );
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn round_trip(json: &str) -> String {
        let (data, originals) = decode(json.as_bytes()).unwrap();
        encode(&data, &originals).unwrap()
    }

    #[test]
    fn what_python_wrote_is_written_back_as_it_was() {
        // Written by Flask 3.1's session_json_serializer (see the interop tests).
        // {"t": (1, "a", [2]), "b": b"\x00\x01\xff", "m": Markup("<b>x</b>"), "u": UUID(...),
        //  "d": datetime(1994, 11, 6, 8, 49, 37, tzinfo=utc), "x": {" t": (1,)}}
        let json = r#"{"b":{" b":"AAH/"},"d":{" d":"Sun, 06 Nov 1994 08:49:37 GMT"},"m":{" m":"<b>x</b>"},"t":{" t":[1,"a",[2]]},"u":{" u":"12345678123456781234567812345678"},"x":{" di":{" t__":{" t":[1]}}}}"#;
        assert_eq!(round_trip(json), json);
    }

    #[test]
    fn tagged_values_read_as_their_rust_shapes() {
        let json = r#"{"b":{" b":"AAH/"},"d":{" d":"Sun, 06 Nov 1994 08:49:37 GMT"},"m":{" m":"<b>x</b>"},"t":{" t":[1,"a"]},"u":{" u":"12345678123456781234567812345678"},"x":{" di":{" t__":[1]}}}"#;
        let (data, _) = decode(json.as_bytes()).unwrap();
        assert_eq!(
            data.get::<serde_bytes::ByteBuf>("b")
                .unwrap()
                .unwrap()
                .into_vec(),
            vec![0, 1, 255]
        );
        assert_eq!(
            data.get::<Timestamp>("d").unwrap().unwrap(),
            Timestamp::from(at(784_111_777))
        );
        assert_eq!(data.get::<String>("m").unwrap().unwrap(), "<b>x</b>");
        assert_eq!(
            data.get::<(u8, String)>("t").unwrap().unwrap(),
            (1, "a".to_owned())
        );
        assert_eq!(
            data.get::<String>("u").unwrap().unwrap(),
            "12345678-1234-5678-1234-567812345678"
        );
        let x: BTreeMap<String, Vec<u8>> = data.get("x").unwrap().unwrap();
        assert_eq!(x[" t"], vec![1]);
    }

    #[test]
    fn values_rust_writes_take_the_tagged_form_of_their_shape() {
        let mut data = SessionData::new();
        data.insert("bytes", &serde_bytes::ByteBuf::from(vec![0u8, 1, 255]))
            .unwrap();
        data.insert("at", &Timestamp::from(at(784_111_777)))
            .unwrap();
        data.insert("text", "é\u{1F600}\"\\\n\u{7f}").unwrap();
        data.insert("floats", &[1.0, 0.5, 1e16, 1e15, 1.5e-5, 0.0001, -2.5e-7])
            .unwrap();
        data.insert("tagged_key", &BTreeMap::from([(" t", 1)]))
            .unwrap();
        data.insert("nested", &BTreeMap::from([("z", 1), ("a", 2)]))
            .unwrap();
        let json = encode(&data, &Originals::default()).unwrap();
        // What Python's json.dumps(..., separators=(",", ":"), sort_keys=True) writes for
        // the same values, tags included.
        assert_eq!(
            json,
            r#"{"at":{" d":"Sun, 06 Nov 1994 08:49:37 GMT"},"bytes":{" b":"AAH/"},"floats":[1.0,0.5,1e+16,1000000000000000.0,1.5e-05,0.0001,-2.5e-07],"nested":{"a":2,"z":1},"tagged_key":{" di":{" t__":1}},"text":"\u00e9\ud83d\ude00\"\\\n\u007f"}"#
        );
        let (back, _) = decode(json.as_bytes()).unwrap();
        assert_eq!(
            back.get::<String>("text").unwrap().unwrap(),
            "é\u{1F600}\"\\\n\u{7f}"
        );
        assert_eq!(back.get::<Vec<f64>>("floats").unwrap().unwrap()[2], 1e16);
    }

    #[test]
    fn a_changed_key_is_written_anew_and_the_others_as_read() {
        let json = r#"{"t":{" t":[1,2]},"u":{" t":[3]}}"#;
        let (mut data, originals) = decode(json.as_bytes()).unwrap();
        data.insert("u", &[4]).unwrap();
        assert_eq!(
            encode(&data, &originals).unwrap(),
            r#"{"t":{" t":[1,2]},"u":[4]}"#
        );
    }

    #[test]
    fn malformed_tags_do_not_decode() {
        for json in [
            r#"{"b":{" b":"not base64!"}}"#,
            r#"{"d":{" d":"yesterday"}}"#,
            r#"{"u":{" u":"xyz"}}"#,
            r#"{"t":{" t":1}}"#,
            r#"{"x":{" di":[]}}"#,
            r#"[1]"#,
            r#"{"a":"#,
        ] {
            assert!(decode(json.as_bytes()).is_err(), "{json}");
        }
    }
}
