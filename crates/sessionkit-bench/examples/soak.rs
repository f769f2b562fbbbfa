//! The soak test (`scripts/soak`): the benchmark's sessionkit server on axum, over Redis and
//! then over PostgreSQL, with `SESSIONS` sessions (10,000) refreshed by `CONNECTIONS` (64)
//! concurrent clients for `SOAK_SECONDS` (120) each. Every request must be a 200 carrying the
//! session's next count; afterwards every session must hold exactly as many increments as
//! it was sent. The server's resident memory is read every 5 s; after a warm-up of a fifth
//! of the run it must stay flat. Exits non-zero when any of that fails.
//!
//! Settings: `SOAK_SECONDS` (120), `CONNECTIONS` (64), `SESSIONS` (10000), `BACKENDS`
//! (`redis,postgres`), `POSTGRES_URL` (the test database of `scripts/services`).

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sessionkit_bench::{Conn, Process, free_port, rss_kib, wait_for_port};

/// Growth of the server's memory after warm-up that still counts as flat: allocator
/// slack and connection buffers, not a per-request leak (a leak of even 16 bytes a request
/// would pass this within the run's million requests).
const FLAT_KIB: u64 = 16 * 1024;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What one backend's run found.
#[derive(Default)]
struct Found {
    requests: u64,
    /// Answers other than 200, and 5xx among them.
    not_ok: u64,
    server_errors: u64,
    /// Answers whose count was not the session's next one, or that set another cookie (a
    /// fallback to a new session).
    wrong_count: u64,
    new_session: u64,
    /// Sessions that, read at the end, hold another count than the increments sent.
    lost: u64,
    rss_kib: Vec<(Duration, u64)>,
}

#[tokio::main]
async fn main() {
    let seconds = setting("SOAK_SECONDS", 120) as u64;
    let connections = setting("CONNECTIONS", 64);
    let sessions = setting("SESSIONS", 10_000);
    let backends = std::env::var("BACKENDS").unwrap_or_else(|_| "redis,postgres".into());
    let postgres = std::env::var("POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://sessionkit@127.0.0.1:15432/test".into());
    let examples = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    println!(
        "{sessions} sessions, {connections} clients, {seconds} s per backend; {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );

    let mut failed = false;
    for backend in backends.split(',') {
        // A private Redis for the Redis run; PostgreSQL's test database, in a table of
        // this run's own, for the other.
        let redis_port = free_port();
        let _redis = (backend == "redis").then(|| {
            Process(
                Command::new("redis-server")
                    .args(["--bind", "127.0.0.1", "--port", &redis_port.to_string()])
                    .args(["--save", "", "--appendonly", "no"])
                    .stdout(Stdio::null())
                    .spawn()
                    .expect("redis-server (./scripts/services installs it)"),
            )
        });
        if backend == "redis" {
            wait_for_port(redis_port).await;
        }
        let port = free_port();
        let table = format!("soak_{}", std::process::id());
        let mut server = Command::new(examples.join("server_sessionkit"));
        server
            .env("PORT", port.to_string())
            .env("REDIS_URL", format!("redis://127.0.0.1:{redis_port}"))
            .stdout(Stdio::null());
        match backend {
            "redis" => {}
            "postgres" => {
                server
                    .env("POSTGRES_URL", &postgres)
                    .env("SESSION_TABLE", &table);
            }
            other => panic!("BACKENDS: unknown backend {other} (redis, postgres)"),
        }
        let process = Process(
            server
                .spawn()
                .expect("server_sessionkit (scripts/soak builds it)"),
        );
        wait_for_port(port).await;
        let found = soak(port, process.0.id(), seconds, connections, sessions).await;
        drop(process);
        if backend == "postgres" {
            drop_table(&postgres, &table);
        }
        failed |= report(backend, &found, seconds);
    }
    if failed {
        std::process::exit(1);
    }
}

async fn soak(port: u16, pid: u32, seconds: u64, connections: usize, sessions: usize) -> Found {
    // The sessions, each created by one `GET /` (count 1), dealt out to the clients.
    let mut owned: Vec<Vec<(String, u64)>> = vec![Vec::new(); connections];
    let mut conn = Conn::open(port).await;
    for i in 0..sessions {
        let (status, cookie, body) = conn.get("/", None).await;
        assert_eq!(status, 200, "creating session {i}: {body}");
        assert_eq!(body.trim(), "1");
        owned[i % connections].push((cookie.expect("a session cookie"), 1));
    }
    drop(conn);

    let stop = Arc::new(AtomicBool::new(false));
    let requests = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = owned
        .into_iter()
        .map(|mut mine| {
            let stop = stop.clone();
            let requests = requests.clone();
            tokio::spawn(async move {
                let mut found = Found::default();
                let mut conn = Conn::open(port).await;
                let mut next = 0;
                while !stop.load(Ordering::Relaxed) {
                    let len = mine.len();
                    let (cookie, count) = &mut mine[next % len];
                    next += 1;
                    let (status, set_cookie, body) = conn.get("/", Some(cookie)).await;
                    found.requests += 1;
                    requests.fetch_add(1, Ordering::Relaxed);
                    if status != 200 {
                        found.not_ok += 1;
                        found.server_errors += u64::from(status >= 500);
                        continue;
                    }
                    *count += 1;
                    if body.trim() != count.to_string() {
                        found.wrong_count += 1;
                    }
                    if set_cookie.is_some_and(|set| set != *cookie) {
                        found.new_session += 1;
                    }
                }
                (mine, found)
            })
        })
        .collect();

    // Memory every 5 s until the end.
    let started = Instant::now();
    let mut rss = vec![(Duration::ZERO, rss_kib(pid))];
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tick.tick().await;
    while started.elapsed() < Duration::from_secs(seconds) {
        tick.tick().await;
        rss.push((started.elapsed(), rss_kib(pid)));
        eprintln!(
            "{:>4} s: {:>9} requests, server RSS {} KiB",
            started.elapsed().as_secs(),
            requests.load(Ordering::Relaxed),
            rss.last().unwrap().1
        );
    }
    stop.store(true, Ordering::Relaxed);

    let mut total = Found {
        rss_kib: rss,
        ..Found::default()
    };
    let mut conn = Conn::open(port).await;
    for client in clients {
        let (mine, found) = client.await.unwrap();
        total.requests += found.requests;
        total.not_ok += found.not_ok;
        total.server_errors += found.server_errors;
        total.wrong_count += found.wrong_count;
        total.new_session += found.new_session;
        // Every increment landed: `/read` shows the count sent.
        for (cookie, count) in mine {
            let (_, _, body) = conn.get("/read", Some(&cookie)).await;
            if body.trim() != count.to_string() {
                total.lost += 1;
            }
        }
    }
    total
}

/// Prints the run's figures; whether it failed.
fn report(backend: &str, found: &Found, seconds: u64) -> bool {
    let warm = found
        .rss_kib
        .iter()
        .find(|(at, _)| at.as_secs() >= seconds / 5)
        .or(found.rss_kib.last())
        .map_or(0, |(_, kib)| *kib);
    let start = found.rss_kib.first().map_or(0, |(_, kib)| *kib);
    let end = found.rss_kib.last().map_or(0, |(_, kib)| *kib);
    let peak_after_warm = found
        .rss_kib
        .iter()
        .filter(|(at, _)| at.as_secs() >= seconds / 5)
        .map(|(_, kib)| *kib)
        .max()
        .unwrap_or(end);
    println!(
        "\n## {backend}\n\n{} requests ({:.0}/s); not 200: {} (5xx: {}); wrong count: {}; new \
         session: {}; sessions missing an increment at the end: {}\nserver RSS: {start} KiB at \
         start, {warm} KiB after warm-up, {end} KiB at the end (highest after warm-up \
         {peak_after_warm} KiB)",
        found.requests,
        found.requests as f64 / seconds as f64,
        found.not_ok,
        found.server_errors,
        found.wrong_count,
        found.new_session,
        found.lost,
    );
    let flat = peak_after_warm <= warm + FLAT_KIB;
    if !flat {
        println!("FAIL: memory grew by more than {FLAT_KIB} KiB after warm-up");
    }
    let clean =
        found.not_ok == 0 && found.wrong_count == 0 && found.new_session == 0 && found.lost == 0;
    if !clean {
        println!("FAIL: errors, lost increments or new sessions");
    }
    !(flat && clean)
}

/// Drops the run's table (with `psql`, which `scripts/services` installs).
fn drop_table(url: &str, table: &str) {
    let status = Command::new("psql")
        .args([url, "-qXc", &format!("DROP TABLE IF EXISTS {table}")])
        .stdout(Stdio::null())
        .status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("could not drop table {table}: drop it by hand");
    }
}
