//! Codecs: how [`SessionData`] becomes the bytes a store keeps.

mod from_json;
mod json;
mod msgpack;
pub(crate) mod tagged_json;
mod validate;

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;

use crate::ConfigKey;
use crate::{Error, SessionData};

/// How deeply values may nest in a decoded payload: the session map and `MAX_DEPTH - 1`
/// containers below it are accepted, `MAX_DEPTH` levels of containers in all; deeper
/// payloads are refused, so hostile bytes cannot exhaust the stack of the code that later
/// reads them. (JSON stops one level earlier, at serde_json's own recursion limit.)
pub const MAX_DEPTH: usize = 128;

/// The serialization format of stored sessions (`SESSION_SERIALIZATION_FORMAT`).
///
/// Both formats write what Flask-Session 0.8 writes: a bare map of the session's keys.
/// [`Codec::decode`] reads either format whatever the configured one, so a deployment can
/// switch formats without logging anybody out. Formats that can run code (Python's pickle)
/// are refused, never executed or guessed at.
///
/// ```
/// use sessionkit_core::{Codec, SessionData};
///
/// let mut data = SessionData::new();
/// data.insert("refreshed", &3)?;
/// let bytes = Codec::MessagePack.encode(&data)?;
/// assert_eq!(bytes, b"\x81\xa9refreshed\x03");
/// let json = Codec::Json.encode(&data)?;
/// assert_eq!(json, br#"{"refreshed":3}"#);
///
/// let back = Codec::MessagePack.decode(&json.into())?;
/// assert_eq!(back.get::<u8>("refreshed")?, Some(3));
/// # Ok::<(), sessionkit_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Codec {
    /// MessagePack (`msgpack`), the default: compact, and keeps bytes and 64-bit integers.
    #[default]
    MessagePack,
    /// JSON (`json`): readable in `redis-cli`; bytes are written as base64 strings.
    Json,
}

impl Codec {
    /// Encodes `data` in this format.
    ///
    /// # Errors
    /// [`Error::Encode`] when a value cannot be written in this format (JSON has no binary,
    /// non-string map keys or non-finite floats).
    pub fn encode(self, data: &SessionData) -> Result<Vec<u8>, Error> {
        match self {
            Self::MessagePack => Ok(msgpack::encode(data)),
            Self::Json => json::encode(data),
        }
    }

    /// Decodes a stored payload in either format; the format is recognised from the first
    /// byte. The decoded data counts as unmodified.
    ///
    /// # Errors
    /// [`Error::Decode`] for anything that is not a map of string keys in MessagePack or
    /// JSON: truncated or trailing bytes, nesting deeper than [`MAX_DEPTH`], or a Python
    /// pickle.
    pub fn decode(self, payload: &Bytes) -> Result<SessionData, Error> {
        match Format::sniff(payload)? {
            Format::MessagePack => msgpack::decode(payload),
            Format::Json => json::decode(payload),
        }
    }

    /// The configuration name of this format.
    pub fn name(self) -> &'static str {
        match self {
            Self::MessagePack => "msgpack",
            Self::Json => "json",
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Codec {
    type Err = Error;

    /// Parses `msgpack` or `json` (case-insensitive), the values of
    /// `SESSION_SERIALIZATION_FORMAT`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "msgpack" | "messagepack" => Ok(Self::MessagePack),
            "json" => Ok(Self::Json),
            _ => Err(Error::config(
                ConfigKey::SerializationFormat,
                s,
                "expected `msgpack` or `json`",
            )),
        }
    }
}

/// The wire format of a payload, recognised from its first byte.
enum Format {
    MessagePack,
    Json,
}

impl Format {
    fn sniff(payload: &[u8]) -> Result<Self, Error> {
        match payload {
            [] => Err(Error::decode("empty session payload")),
            // Pickle protocols 2 to 5 start with PROTO (0x80) and the protocol number. An
            // empty MessagePack map is the single byte 0x80, so the second byte decides.
            [0x80, 1..=5, ..] => Err(Error::decode(
                "refusing a Python pickle payload; only MessagePack and JSON are read",
            )),
            [0x80..=0x8f | 0xde | 0xdf, ..] => Ok(Self::MessagePack),
            [b'{' | b' ' | b'\t' | b'\r' | b'\n', ..] => Ok(Self::Json),
            _ => Err(Error::decode(
                "session payload is neither a MessagePack map nor a JSON object",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use std::collections::BTreeMap;

    fn sample() -> SessionData {
        let mut data = SessionData::new();
        data.insert("refreshed", &41u32).unwrap();
        data.insert("name", "Zoë ✓").unwrap();
        data.insert(
            "nested",
            &serde_json::json!({"a": [1, {"b": null}], "c": 1.5}),
        )
        .unwrap();
        data.insert("big", &u64::MAX).unwrap();
        data.insert("neg", &i64::MIN).unwrap();
        data.mark_unmodified();
        data
    }

    #[test]
    fn both_formats_round_trip() {
        for codec in [Codec::MessagePack, Codec::Json] {
            let bytes = codec.encode(&sample()).unwrap();
            let back = codec.decode(&bytes.into()).unwrap();
            assert_eq!(back, sample(), "{codec}");
            assert!(!back.is_modified());
        }
    }

    #[test]
    fn msgpack_keeps_binary_values() {
        let mut data = SessionData::new();
        data.insert("blob", &serde_bytes::Bytes::new(&[0, 159, 255]))
            .unwrap();
        let bytes = Codec::MessagePack.encode(&data).unwrap();
        let back = Codec::MessagePack.decode(&bytes.into()).unwrap();
        let blob: serde_bytes::ByteBuf = back.get("blob").unwrap().unwrap();
        assert_eq!(blob.as_ref(), &[0, 159, 255]);
    }

    #[test]
    fn json_writes_binary_as_base64() {
        let mut data = SessionData::new();
        data.insert("blob", &serde_bytes::Bytes::new(b"hi\xff"))
            .unwrap();
        let json = Codec::Json.encode(&data).unwrap();
        assert_eq!(json, br#"{"blob":"aGn/"}"#);
    }

    #[test]
    fn json_writes_timestamps_as_rfc3339() {
        let mut data = SessionData::new();
        data.insert("at", &crate::Timestamp::new(1_700_000_000, 5_000))
            .unwrap();
        let json = Codec::Json.encode(&data).unwrap();
        assert_eq!(json, br#"{"at":"2023-11-14T22:13:20.000005Z"}"#);
    }

    #[test]
    fn unknown_extensions_survive_msgpack_unchanged() {
        // {"x": ext(42, b"abc")} as another program (msgspec's Ext) would write it.
        let bytes = Bytes::from_static(b"\x81\xa1x\xc7\x03\x2aabc");
        let mut data = Codec::MessagePack.decode(&bytes).unwrap();
        data.insert("y", &1).unwrap();
        let written = Codec::MessagePack.encode(&data).unwrap();
        assert!(
            written.windows(6).any(|w| w == b"\xc7\x03\x2aabc"),
            "{written:?}"
        );
    }

    #[test]
    fn json_refuses_what_it_cannot_hold() {
        let mut data = SessionData::new();
        data.insert("nan", &f64::NAN).unwrap();
        let err = Codec::Json.encode(&data).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Encode);

        let mut data = SessionData::new();
        let mut int_keys = BTreeMap::new();
        int_keys.insert(1u8, "one");
        data.insert("map", &int_keys).unwrap();
        assert_eq!(
            Codec::Json.encode(&data).unwrap_err().kind(),
            ErrorKind::Encode
        );
    }

    #[test]
    fn decode_reads_either_format_whatever_the_setting() {
        let packed: Bytes = Codec::MessagePack.encode(&sample()).unwrap().into();
        let json: Bytes = Codec::Json.encode(&sample()).unwrap().into();
        assert_eq!(Codec::Json.decode(&packed).unwrap(), sample());
        assert_eq!(Codec::MessagePack.decode(&json).unwrap(), sample());
    }

    #[test]
    fn empty_map_is_an_empty_session() {
        let data = Codec::MessagePack
            .decode(&Bytes::from_static(&[0x80]))
            .unwrap();
        assert!(data.is_empty());
        assert_eq!(Codec::MessagePack.encode(&data).unwrap(), vec![0x80]);
    }

    #[test]
    fn pickle_is_refused() {
        // pickle.dumps({'a': 1}, protocol=4)
        let pickle = b"\x80\x04\x95\n\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s.";
        for proto in 1..=5u8 {
            let mut bytes = pickle.to_vec();
            bytes[1] = proto;
            let err = Codec::MessagePack.decode(&bytes.into()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Decode);
            assert!(
                std::error::Error::source(&err)
                    .unwrap()
                    .to_string()
                    .contains("pickle")
            );
        }
    }

    #[test]
    fn garbage_is_a_decode_error() {
        let cases: &[&[u8]] = &[
            b"",
            b"\x00",
            b"\x93\x01\x02\x03",              // an array, not a map
            b"\x81\xa1a",                     // truncated value
            b"\x81\x01\x02",                  // integer key
            b"\x81\xa1a\x01\x00",             // trailing byte
            b"\x81\xa2\xff\xfe\x01",          // key not UTF-8
            b"\xdf\xff\xff\xff\xff\xa1a\x01", // claims 4 billion entries
            b"{\"a\": ",                      // truncated JSON
            b"[1, 2]",                        // JSON array
            b"{\"a\": 1} x",                  // trailing JSON
        ];
        for case in cases {
            let err = Codec::MessagePack
                .decode(&Bytes::from_static(case))
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Decode, "{case:?}");
        }
    }

    #[test]
    fn deeply_nested_msgpack_is_refused_without_recursing() {
        // {"a": [[[[...]]]]} nested a million levels deep.
        let depth = 1_000_000;
        let mut bytes = vec![0x81, 0xa1, b'a'];
        bytes.extend(std::iter::repeat_n(0x91u8, depth));
        bytes.push(0xc0);
        let err = Codec::MessagePack.decode(&bytes.into()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
    }

    #[test]
    fn nesting_up_to_the_limit_is_accepted() {
        let nested = |levels: usize, leaf: &[u8]| {
            let mut bytes = vec![0x81, 0xa1, b'a'];
            bytes.extend(std::iter::repeat_n(0x91u8, levels));
            bytes.extend_from_slice(leaf);
            Bytes::from(bytes)
        };
        for leaf in [&b"\xc0"[..], b"\xa3abc", b"\xc4\x01x"] {
            let data = Codec::MessagePack
                .decode(&nested(MAX_DEPTH - 1, leaf))
                .unwrap();
            assert!(data.contains_key("a"));
            let err = Codec::MessagePack
                .decode(&nested(MAX_DEPTH + 1, leaf))
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Decode);
        }
    }

    #[test]
    fn nesting_just_past_the_limit_is_refused_in_both_formats() {
        // The session map plus `containers` arrays: MAX_DEPTH levels are the most accepted
        // (JSON: MAX_DEPTH - 1, serde_json's limit).
        let msgpack = |containers: usize, leaf: &[u8]| {
            let mut bytes = vec![0x81, 0xa1, b'a'];
            bytes.extend(std::iter::repeat_n(0x91u8, containers));
            bytes.extend_from_slice(leaf);
            Bytes::from(bytes)
        };
        let json = |containers: usize| {
            let body = format!("{}1{}", "[".repeat(containers), "]".repeat(containers));
            Bytes::from(format!("{{\"a\": {body}}}"))
        };
        for leaf in [
            &b"\xc0"[..],
            b"\x01",
            b"\xa3abc",
            b"\xd4\x05x",
            b"\x90",
            b"\x80",
        ] {
            let below_limit = if leaf == b"\x90" || leaf == b"\x80" {
                MAX_DEPTH - 2 // an empty container is a level of its own
            } else {
                MAX_DEPTH - 1
            };
            Codec::MessagePack
                .decode(&msgpack(below_limit, leaf))
                .unwrap();
            let err = Codec::MessagePack
                .decode(&msgpack(below_limit + 1, leaf))
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Decode, "{leaf:?}");
        }
        Codec::Json.decode(&json(MAX_DEPTH - 2)).unwrap();
        let err = Codec::Json.decode(&json(MAX_DEPTH - 1)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
    }

    #[test]
    fn deeply_nested_json_is_refused() {
        let depth = 100_000;
        let json = format!("{{\"a\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
        let err = Codec::Json.decode(&json.into()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
    }

    #[test]
    fn format_names_parse() {
        assert_eq!("msgpack".parse::<Codec>().unwrap(), Codec::MessagePack);
        assert_eq!("JSON".parse::<Codec>().unwrap(), Codec::Json);
        let err = "pickle".parse::<Codec>().unwrap_err();
        assert!(err.to_string().contains("SESSION_SERIALIZATION_FORMAT"));
    }
}
