//! Stored payload bytes -> session data: MessagePack and JSON (sniffed from the first
//! byte) and Flask's tagged JSON. Never panics; what decodes encodes again and reads back
//! the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sessionkit::Codec;

fuzz_target!(|data: &[u8]| {
    if let Ok(decoded) = Codec::MessagePack.decode(&data.to_vec().into()) {
        let encoded = Codec::MessagePack.encode(&decoded).unwrap();
        let again = Codec::MessagePack.decode(&encoded.into()).unwrap();
        assert_eq!(again, decoded);
        // JSON may refuse what it cannot hold (binary, extensions), never panic.
        let _ = Codec::Json.encode(&decoded);
    }
    sessionkit_core::__fuzz::tagged_json_round_trip(data);
});
