//! Every value a session can hold survives each codec: MessagePack exactly; JSON and
//! Flask's tagged JSON for the values they can hold.

use std::collections::BTreeMap;

use bytes::Bytes;
use proptest::prelude::*;
use rmpv::Value;

use crate::codec::tagged_json::{self, Originals};
use crate::timestamp::TIMESTAMP_EXT;
use crate::{Codec, SessionData, Timestamp};

/// What the value generators may produce.
#[derive(Debug, Clone, Copy)]
struct Kinds {
    binary: bool,
    timestamps: bool,
}

fn scalar(kinds: Kinds) -> BoxedStrategy<Value> {
    let mut options: Vec<BoxedStrategy<Value>> = vec![
        Just(Value::Nil).boxed(),
        any::<bool>().prop_map(Value::Boolean).boxed(),
        any::<i64>().prop_map(Value::from).boxed(),
        any::<u64>().prop_map(Value::from).boxed(),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::F64)
            .boxed(),
        any::<String>().prop_map(Value::from).boxed(),
    ];
    if kinds.binary {
        options.push(
            proptest::collection::vec(any::<u8>(), 0..40)
                .prop_map(Value::Binary)
                .boxed(),
        );
    }
    if kinds.timestamps {
        // Whole seconds from 1970 on: what every format keeps (Flask's HTTP dates).
        options.push(
            (0i64..4_102_444_800)
                .prop_map(|secs| Value::Ext(TIMESTAMP_EXT, Timestamp::new(secs, 0).to_ext_bytes()))
                .boxed(),
        );
    }
    proptest::strategy::Union::new(options).boxed()
}

fn value(kinds: Kinds) -> impl Strategy<Value = Value> {
    scalar(kinds).prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(any::<String>(), inner, 0..6).prop_map(|map| {
                Value::Map(map.into_iter().map(|(k, v)| (Value::from(k), v)).collect())
            }),
        ]
    })
}

fn session(kinds: Kinds) -> impl Strategy<Value = BTreeMap<String, Value>> {
    proptest::collection::btree_map(any::<String>(), value(kinds), 0..8)
}

fn data_of(values: &BTreeMap<String, Value>) -> SessionData {
    let entries = values
        .iter()
        .map(|(key, value)| {
            let mut encoded = Vec::new();
            rmpv::encode::write_value(&mut encoded, value).unwrap();
            (key.clone(), Bytes::from(encoded))
        })
        .collect();
    SessionData::from_encoded_entries(entries)
}

fn values_of(data: &SessionData) -> BTreeMap<String, Value> {
    data.encoded_entries()
        .map(|(key, raw)| {
            let value = rmpv::decode::read_value(&mut &raw[..]).unwrap();
            (key.clone(), value)
        })
        .collect()
}

proptest! {
    #[test]
    fn messagepack_keeps_every_value(values in session(Kinds { binary: true, timestamps: true })) {
        let data = data_of(&values);
        let encoded = Codec::MessagePack.encode(&data).unwrap();
        let decoded = Codec::MessagePack.decode(&encoded.into()).unwrap();
        prop_assert_eq!(values_of(&decoded), values);
    }

    #[test]
    fn json_keeps_every_value_json_can_hold(values in session(Kinds { binary: false, timestamps: false })) {
        let data = data_of(&values);
        let encoded = Codec::Json.encode(&data).unwrap();
        let decoded = Codec::Json.decode(&encoded.into()).unwrap();
        prop_assert_eq!(values_of(&decoded), values);
    }

    #[test]
    fn flask_tagged_json_keeps_every_value_it_can_hold(values in session(Kinds { binary: true, timestamps: true })) {
        let data = data_of(&values);
        let json = tagged_json::encode(&data, &Originals::default()).unwrap();
        prop_assert!(json.is_ascii(), "Flask writes ASCII only: {}", json);
        let (decoded, originals) = tagged_json::decode(json.as_bytes()).unwrap();
        prop_assert_eq!(values_of(&decoded), values);
        // Read and written back unchanged: the same text.
        prop_assert_eq!(tagged_json::encode(&decoded, &originals).unwrap(), json);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Codec::MessagePack.decode(&bytes.clone().into());
        let _ = tagged_json::decode(&bytes);
    }
}
