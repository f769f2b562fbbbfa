//! Cookie parsing never panics, and never yields an id that was not in the input.

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;

use crate::cookies::SessionCookies;
use crate::{Id, SecretKey, SessionConfig, SignerFormat};

const FORMATS: [Option<SignerFormat>; 3] = [
    None,
    Some(SignerFormat::HmacSha256),
    Some(SignerFormat::Itsdangerous),
];

fn cookies(signed: Option<SignerFormat>) -> SessionCookies {
    let mut config = SessionConfig::default();
    if let Some(format) = signed {
        config.use_signer = true;
        config.signer_format = format;
        config.secret_key = Some(SecretKey::new("0123456789abcdef0123456789abcdef"));
    }
    SessionCookies::new(&config)
}

/// A piece of a generated `Cookie` header.
#[derive(Debug, Clone)]
enum Piece {
    Noise(Vec<u8>),
    Text(&'static str),
    /// `session=<value>` for the n-th id, as the cookie codec writes it.
    Session(usize),
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..30).prop_map(Piece::Noise),
        proptest::sample::select(&["session=", "; ", "\"", "=", ";session", " "][..])
            .prop_map(Piece::Text),
        (0usize..3).prop_map(Piece::Session),
    ]
}

fn id() -> impl Strategy<Value = Id> {
    any::<[u8; 32]>().prop_map(|raw| Id::parse(&URL_SAFE_NO_PAD.encode(raw)).unwrap())
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

proptest! {
    #[test]
    fn an_id_found_was_in_the_header(
        ids in proptest::collection::vec(id(), 3),
        pieces in proptest::collection::vec(piece(), 0..8),
    ) {
        for format in FORMATS {
            let cookies = cookies(format);
            let mut header = Vec::new();
            for piece in &pieces {
                match piece {
                    Piece::Noise(bytes) => header.extend_from_slice(bytes),
                    Piece::Text(text) => header.extend_from_slice(text.as_bytes()),
                    Piece::Session(n) => {
                        let set = cookies.set_cookie(&ids[*n], None, SystemTime::now());
                        header.extend_from_slice(set.split(';').next().unwrap().as_bytes());
                    }
                }
            }
            if let Some(found) = cookies.find_id([header.as_slice()]) {
                prop_assert!(ids.contains(&found), "{found:?} was never written");
                prop_assert!(contains(&header, &found.to_string()), "{found:?} not in the header");
            }
        }
    }

    #[test]
    fn arbitrary_headers_never_panic_and_yield_only_ids_they_hold(
        headers in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..100), 0..4),
    ) {
        for format in FORMATS {
            if let Some(id) = cookies(format).find_id(headers.iter().map(Vec::as_slice)) {
                let text = id.to_string();
                prop_assert!(headers.iter().any(|h| contains(h, &text)));
            }
        }
    }
}
