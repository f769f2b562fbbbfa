//! Checking that bytes hold one well-formed MessagePack value, without building it.

use rmp::Marker;
use rmp::decode::{RmpRead, ValueReadError, read_marker};

use super::MAX_DEPTH;
use crate::Error;

/// How many containers a session value may nest: the session map is the first of the
/// [`MAX_DEPTH`] levels.
const VALUE_DEPTH: usize = MAX_DEPTH - 1;

/// What the head of one value (its marker and any length) announces.
enum Head {
    /// A complete value: a scalar, or a string, binary or extension whose payload has been
    /// stepped over.
    Leaf,
    /// An array or map: this many values follow (two per map entry).
    Container(u64),
}

/// Returns the length in bytes of the MessagePack value at the start of `bytes`, after
/// checking every marker, every length against the bytes that remain and the nesting depth.
///
/// Iterative and allocation-free: each open container is one count of the values it still
/// holds, at most `VALUE_DEPTH` of them in a fixed array. A length that claims more than
/// the remaining bytes (a string, a binary, an extension, or a container announcing more
/// values than there are bytes left, each value taking at least one) is refused as soon as
/// it is read. String values are not checked for UTF-8 (rmpv, which validated them before,
/// kept invalid ones as raw bytes too); session keys are, by `msgpack::decode`.
///
/// # Errors
/// [`Error::Decode`] for truncated input, the reserved marker `0xc1`, a length beyond the
/// input, or containers nested more than `VALUE_DEPTH` deep.
pub(super) fn value_len(bytes: &[u8]) -> Result<usize, Error> {
    let mut rest = bytes;
    let mut pending = [0u64; VALUE_DEPTH];
    let mut open = 0;
    loop {
        if let Head::Container(values) = read_head(&mut rest)? {
            if open == VALUE_DEPTH {
                return Err(Error::decode(format!(
                    "session value nests deeper than {MAX_DEPTH} levels"
                )));
            }
            if values > remaining(rest) {
                return Err(Error::decode(format!(
                    "a container announces {values} values, but only {} bytes remain",
                    rest.len()
                )));
            }
            if values > 0 {
                pending[open] = values;
                open += 1;
                continue;
            }
        }
        // One value is complete: count it, and close every container it completes.
        loop {
            let Some(innermost) = open.checked_sub(1) else {
                return Ok(bytes.len() - rest.len());
            };
            pending[innermost] -= 1;
            if pending[innermost] > 0 {
                break;
            }
            open = innermost;
        }
    }
}

/// Reads one marker and its length, stepping over the payload of a leaf.
fn read_head(rest: &mut &[u8]) -> Result<Head, Error> {
    // The only failure of reading one byte is its absence.
    let marker = read_marker(rest).map_err(|_| Error::decode("truncated MessagePack value"))?;
    let payload = match marker {
        Marker::FixPos(_) | Marker::FixNeg(_) | Marker::Null | Marker::True | Marker::False => 0,
        Marker::U8 | Marker::I8 => 1,
        Marker::U16 | Marker::I16 => 2,
        Marker::U32 | Marker::I32 | Marker::F32 => 4,
        Marker::U64 | Marker::I64 | Marker::F64 => 8,
        Marker::FixStr(len) => u64::from(len),
        Marker::Str8 | Marker::Bin8 => u64::from(rest.read_data_u8().map_err(truncated)?),
        Marker::Str16 | Marker::Bin16 => u64::from(rest.read_data_u16().map_err(truncated)?),
        Marker::Str32 | Marker::Bin32 => u64::from(rest.read_data_u32().map_err(truncated)?),
        // An extension's payload is its type byte and its data.
        Marker::FixExt1 => 1 + 1,
        Marker::FixExt2 => 1 + 2,
        Marker::FixExt4 => 1 + 4,
        Marker::FixExt8 => 1 + 8,
        Marker::FixExt16 => 1 + 16,
        Marker::Ext8 => 1 + u64::from(rest.read_data_u8().map_err(truncated)?),
        Marker::Ext16 => 1 + u64::from(rest.read_data_u16().map_err(truncated)?),
        Marker::Ext32 => 1 + u64::from(rest.read_data_u32().map_err(truncated)?),
        Marker::FixArray(len) => return Ok(Head::Container(u64::from(len))),
        Marker::Array16 => {
            let len = rest.read_data_u16().map_err(truncated)?;
            return Ok(Head::Container(u64::from(len)));
        }
        Marker::Array32 => {
            let len = rest.read_data_u32().map_err(truncated)?;
            return Ok(Head::Container(u64::from(len)));
        }
        Marker::FixMap(len) => return Ok(Head::Container(2 * u64::from(len))),
        Marker::Map16 => {
            let len = rest.read_data_u16().map_err(truncated)?;
            return Ok(Head::Container(2 * u64::from(len)));
        }
        Marker::Map32 => {
            let len = rest.read_data_u32().map_err(truncated)?;
            return Ok(Head::Container(2 * u64::from(len)));
        }
        Marker::Reserved => return Err(Error::decode("reserved MessagePack marker 0xc1")),
    };
    if payload > remaining(rest) {
        return Err(Error::decode(format!(
            "a value announces {payload} bytes, but only {} remain",
            rest.len()
        )));
    }
    // In range: `payload` is at most `rest.len()`, a usize.
    *rest = &rest[payload as usize..];
    Ok(Head::Leaf)
}

/// The bytes left, as a `u64` to compare with MessagePack lengths.
fn remaining(rest: &[u8]) -> u64 {
    u64::try_from(rest.len()).unwrap_or(u64::MAX)
}

/// The error for a length cut off by the end of the input.
fn truncated(error: ValueReadError) -> Error {
    Error::Decode(Box::new(error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Codec, ErrorKind};
    use bytes::Bytes;

    /// One value of every marker type, each followed by exactly its payload.
    const EVERY_MARKER: &[&[u8]] = &[
        b"\x05",                                 // positive fixint
        b"\xff",                                 // negative fixint
        b"\xc0",                                 // nil
        b"\xc2",                                 // false
        b"\xc3",                                 // true
        b"\xc4\x02ab",                           // bin 8
        b"\xc5\x00\x02ab",                       // bin 16
        b"\xc6\x00\x00\x00\x02ab",               // bin 32
        b"\xc7\x02\x05ab",                       // ext 8
        b"\xc8\x00\x02\x05ab",                   // ext 16
        b"\xc9\x00\x00\x00\x02\x05ab",           // ext 32
        b"\xca\x3f\x80\x00\x00",                 // float 32
        b"\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00", // float 64
        b"\xcc\xff",                             // uint 8
        b"\xcd\xff\xff",                         // uint 16
        b"\xce\xff\xff\xff\xff",                 // uint 32
        b"\xcf\xff\xff\xff\xff\xff\xff\xff\xff", // uint 64
        b"\xd0\x80",                             // int 8
        b"\xd1\x80\x00",                         // int 16
        b"\xd2\x80\x00\x00\x00",                 // int 32
        b"\xd3\x80\x00\x00\x00\x00\x00\x00\x00", // int 64
        b"\xd4\x05a",                            // fixext 1
        b"\xd5\x05ab",                           // fixext 2
        b"\xd6\x05abcd",                         // fixext 4
        b"\xd7\xffabcdefgh",                     // fixext 8 (a timestamp's type)
        b"\xd8\x05abcdefghabcdefgh",             // fixext 16
        b"\xd9\x02hi",                           // str 8
        b"\xda\x00\x02hi",                       // str 16
        b"\xdb\x00\x00\x00\x02hi",               // str 32
        b"\xdc\x00\x02\x01\x02",                 // array 16
        b"\xdd\x00\x00\x00\x02\x01\x02",         // array 32
        b"\xde\x00\x01\xa1k\x01",                // map 16
        b"\xdf\x00\x00\x00\x01\xa1k\x01",        // map 32
        b"\xa2hi",                               // fixstr
        b"\x92\x01\xc0",                         // fixarray
        b"\x81\xa1k\xc0",                        // fixmap
        b"\x90",                                 // empty fixarray
        b"\x80",                                 // empty fixmap
        b"\xa0",                                 // empty fixstr
        b"\x92\x91\x90\x81\xa1k\x92\x80\xa0",    // containers closing together
    ];

    /// `{"a": value}` as a session payload.
    fn session_with(value: &[u8]) -> Bytes {
        let mut bytes = b"\x81\xa1a".to_vec();
        bytes.extend_from_slice(value);
        bytes.into()
    }

    fn decode_error(payload: &[u8]) -> String {
        let err = Codec::MessagePack
            .decode(&Bytes::copy_from_slice(payload))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{payload:?}");
        std::error::Error::source(&err).unwrap().to_string()
    }

    #[test]
    fn every_marker_type_is_accepted_and_kept_byte_for_byte() {
        for value in EVERY_MARKER {
            let mut followed = value.to_vec();
            followed.push(0xc0);
            assert_eq!(value_len(&followed).unwrap(), value.len(), "{value:?}");

            let payload = session_with(value);
            let data = Codec::MessagePack.decode(&payload).unwrap();
            assert_eq!(
                Codec::MessagePack.encode(&data).unwrap(),
                payload,
                "{value:?}"
            );
        }
    }

    #[test]
    fn truncated_values_are_refused() {
        for value in EVERY_MARKER {
            for cut in 0..value.len() {
                assert!(
                    value_len(&value[..cut]).is_err(),
                    "{value:?} cut to {cut} bytes was accepted"
                );
                decode_error(&session_with(&value[..cut]));
            }
        }
    }

    #[test]
    fn forged_huge_lengths_are_refused_at_their_header() {
        // Each claims u32::MAX bytes or items, then offers plenty that would parse: the
        // length itself must be refused, not discovered short after reading on.
        let forged: &[&[u8]] = &[
            b"\xdb\xff\xff\xff\xff", // str 32
            b"\xc6\xff\xff\xff\xff", // bin 32
            b"\xc9\xff\xff\xff\xff", // ext 32
            b"\xdd\xff\xff\xff\xff", // array 32
            b"\xdf\xff\xff\xff\xff", // map 32
        ];
        for head in forged {
            let mut value = head.to_vec();
            value.extend(std::iter::repeat_n(0xc0u8, 100_000));
            let message = decode_error(&session_with(&value));
            assert!(message.contains("but only"), "{head:?}: {message}");
        }
        let mut session = b"\xdf\xff\xff\xff\xff".to_vec();
        session.extend(std::iter::repeat_n(0xc0u8, 100_000));
        let message = decode_error(&session);
        assert!(
            message.contains("announces 4294967295 entries"),
            "{message}"
        );
    }

    #[test]
    fn the_reserved_marker_is_refused() {
        // rmpv, which validated values before, read it as nil; MessagePack never uses it.
        let message = decode_error(&session_with(b"\x91\xc1"));
        assert!(message.contains("0xc1"), "{message}");
    }

    #[test]
    fn non_string_map_keys_inside_values_are_accepted() {
        // {"a": {1: "one", nil: [true], [1]: {}, 1.0: nil}}
        let value = b"\x84\x01\xa3one\xc0\x91\xc3\x91\x01\x80\xcb\x3f\xf0\0\0\0\0\0\0\xc0";
        let data = Codec::MessagePack.decode(&session_with(value)).unwrap();
        assert!(data.contains_key("a"));
        let int_keyed: std::collections::BTreeMap<u8, String> = Codec::MessagePack
            .decode(&session_with(b"\x81\x01\xa3one"))
            .unwrap()
            .get("a")
            .unwrap()
            .unwrap();
        assert_eq!(int_keyed[&1], "one");
    }

    #[test]
    fn agrees_with_rmpv_on_every_single_byte_mutation() {
        let mut sample: Vec<u8> = b"\x93".to_vec();
        sample.extend_from_slice(b"\x84\xa1x\xdc\x00\x02\xcd\x01\x00\xd3\x80\0\0\0\0\0\0\0");
        sample.extend_from_slice(b"\x01\xd7\xff\0\0\0\0\0\0\0\x01\xc4\x01z\xc8\x00\x01\x05q");
        sample.extend_from_slice(b"\xc3\xcb\x3f\xf0\0\0\0\0\0\0");
        sample.extend_from_slice(b"\xa2hi\xc0");
        assert_eq!(value_len(&sample).unwrap(), sample.len());
        for at in 0..sample.len() {
            for byte in 0..=u8::MAX {
                let mut mutated = sample.clone();
                mutated[at] = byte;
                let ours = value_len(&mutated).ok();
                let mut reader = &mutated[..];
                let theirs = rmpv::decode::read_value_ref(&mut reader)
                    .ok()
                    .map(|_| mutated.len() - reader.len());
                if byte == 0xc1 {
                    // rmpv reads the reserved marker as nil; it is refused here.
                    assert!(ours.is_none() || ours == theirs, "{mutated:?}");
                } else {
                    assert_eq!(ours, theirs, "byte {at} set to {byte:#04x}: {mutated:?}");
                }
            }
        }
    }
}
