//! What the store benchmarks share: the session they store.

use sessionkit::{Codec, SessionData};

/// A small logged-in session, encoded as sessionkit stores it.
pub(crate) fn payload() -> Vec<u8> {
    let mut data = SessionData::new();
    data.insert("_permanent", &true).unwrap();
    data.insert("refreshed", &41u32).unwrap();
    data.insert("username", "ada.lovelace").unwrap();
    data.insert("csrf_token", "c2b1f0a8e7d6c5b4a3928170f6e5d4c3b2a19080")
        .unwrap();
    Codec::MessagePack.encode(&data).unwrap()
}
