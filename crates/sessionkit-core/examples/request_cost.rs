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
//!
//! `--count N read|write` runs exactly `N` requests of one workload instead, for an
//! instruction count that does not depend on the machine's speed (`CALLGRIND=1
//! scripts/cost-ab REV` runs it under `valgrind --tool=callgrind` with two values of `N` and
//! takes the difference, so setup and warm-up cancel out).

use std::sync::Arc;
use std::time::{Duration, Instant};

use sessionkit_core::{MemoryStore, SessionConfig, Sessions};

/// How long each workload runs.
enum Budget {
    Time(Duration),
    Count(u64, String),
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let budget = match args.as_slice() {
        [flag, n, workload] if flag == "--count" => {
            Budget::Count(n.parse().expect("a number of requests"), workload.clone())
        }
        [seconds] => Budget::Time(Duration::from_secs_f64(
            seconds.parse().expect("seconds per workload"),
        )),
        _ => Budget::Time(Duration::from_secs(2)),
    };
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

        match budget {
            Budget::Count(n, workload) => {
                for i in 0..n {
                    match workload.as_str() {
                        "read" => read(&sessions, &cookie).await,
                        "write" => write(&sessions, &cookie, i).await,
                        other => panic!("unknown workload {other}: read or write"),
                    }
                }
                println!("{workload}_requests={n}");
            }
            Budget::Time(budget) => {
                let read = per_request(budget, || read(&sessions, &cookie)).await;
                let mut n = 0u64;
                let write = per_request(budget, || {
                    n += 1;
                    write(&sessions, &cookie, n)
                })
                .await;
                println!("read_ns={read:.0} write_ns={write:.0}");
            }
        }
    });
}

/// A request that reads a key and writes nothing.
async fn read(sessions: &Sessions, cookie: &str) {
    let session = sessions.start([cookie.as_bytes()]);
    let user: Option<String> = session.get("_user_id").await.unwrap();
    assert!(user.is_some());
    sessions.finish(&session).await.unwrap();
}

/// A request that changes a key, so its end saves.
async fn write(sessions: &Sessions, cookie: &str, n: u64) {
    let session = sessions.start([cookie.as_bytes()]);
    session.insert("count", &n).await.unwrap();
    sessions.finish(&session).await.unwrap();
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
