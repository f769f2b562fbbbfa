//! What one request costs in process, on the memory store: a read (load a stored session,
//! read a key, finish without writing) and a write (load, change a key, finish with a
//! save). No server, no HTTP: what is left is the lifecycle itself, so a change to it
//! shows here first. `scripts/cost-ab REV` builds this at `REV` and here and runs both in
//! turns.
//!
//! ```sh
//! cargo run --release -p sessionkit-core --example request_cost -- 2
//! ```
//!
//! Prints `read_ns=<ns per request> write_ns=<ns per request>` after the given number of
//! seconds per workload (default 2).

use std::sync::Arc;
use std::time::{Duration, Instant};

use sessionkit_core::{MemoryStore, SessionConfig, Sessions};

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .map_or(2.0, |s| s.parse().expect("seconds per workload"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let sessions =
            Sessions::new(Arc::new(MemoryStore::new()), SessionConfig::default()).unwrap();
        let first = sessions.start([]);
        first.insert("_user_id", "42").await.unwrap();
        first.insert("count", &0u64).await.unwrap();
        let set_cookie = sessions.finish(&first).await.unwrap().set_cookie.unwrap();
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        let budget = Duration::from_secs_f64(seconds);

        let read = per_request(budget, || async {
            let session = sessions.start([cookie.as_bytes()]);
            let user: Option<String> = session.get("_user_id").await.unwrap();
            assert!(user.is_some());
            sessions.finish(&session).await.unwrap();
        })
        .await;
        let mut n = 0u64;
        let write = per_request(budget, || {
            n += 1;
            let (sessions, cookie) = (&sessions, &cookie);
            async move {
                let session = sessions.start([cookie.as_bytes()]);
                session.insert("count", &n).await.unwrap();
                sessions.finish(&session).await.unwrap();
            }
        })
        .await;
        println!("read_ns={read:.0} write_ns={write:.0}");
    });
}

/// Runs `request` in batches until `budget` has passed; returns nanoseconds per request.
async fn per_request<F, Fut>(budget: Duration, mut request: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    // Warm up: caches, allocator, branch predictors.
    for _ in 0..10_000 {
        request().await;
    }
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < budget {
        for _ in 0..1_000 {
            request().await;
        }
        done += 1_000;
    }
    start.elapsed().as_nanos() as f64 / done as f64
}
