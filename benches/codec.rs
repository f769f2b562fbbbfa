//! Encoding and decoding session data: MessagePack vs JSON, for a typical session (10 keys,
//! about 300 bytes) and a 16 KiB one.
//!
//! ```sh
//! cargo bench --bench codec
//! ```

use std::hint::black_box;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde::Serialize;
use sessionkit::{Codec, SessionData};

#[derive(Serialize)]
struct Flash<'a> {
    category: &'a str,
    message: &'a str,
}

/// What a logged-in Flask-style session typically holds: about 300 bytes in MessagePack.
fn typical() -> SessionData {
    let mut data = SessionData::new();
    data.insert("_permanent", &true).unwrap();
    data.insert("_user_id", "7f3c9a52-41d2-4c1e-9d8b-5b0f4f1e2a77")
        .unwrap();
    data.insert("_fresh", &true).unwrap();
    data.insert("_id", &"d0e4f8".repeat(16)).unwrap();
    data.insert("csrf_token", "c2b1f0a8e7d6c5b4a3928170f6e5d4c3b2a19080")
        .unwrap();
    data.insert("refreshed", &1234u32).unwrap();
    data.insert("username", "ada.lovelace").unwrap();
    data.insert("locale", "en_GB").unwrap();
    data.insert("cart", &[101u32, 202, 303, 404]).unwrap();
    data.insert(
        "_flashes",
        &[Flash {
            category: "message",
            message: "Welcome back!",
        }],
    )
    .unwrap();
    data.mark_unmodified();
    data
}

/// A heavier session of about 16 KiB: the typical one plus a list of recent items.
fn large() -> SessionData {
    let mut data = typical();
    let recent: Vec<String> = (0..400).map(|i| format!("/products/{i:05}/view")).collect();
    data.insert("recent", &recent).unwrap();
    data.mark_unmodified();
    data
}

fn codec(c: &mut Criterion) {
    for (name, data) in [("typical", typical()), ("16KiB", large())] {
        let mut group = c.benchmark_group(format!("codec/{name}"));
        for codec in [Codec::MessagePack, Codec::Json] {
            let encoded = Bytes::from(codec.encode(&data).unwrap());
            group.throughput(Throughput::Bytes(encoded.len() as u64));
            group.bench_with_input(BenchmarkId::new("encode", codec), &data, |b, data| {
                b.iter(|| codec.encode(black_box(data)).unwrap());
            });
            group.bench_with_input(BenchmarkId::new("decode", codec), &encoded, |b, bytes| {
                b.iter(|| codec.decode(black_box(bytes)).unwrap());
            });
        }
        group.finish();
    }
}

criterion_group!(benches, codec);
criterion_main!(benches);
