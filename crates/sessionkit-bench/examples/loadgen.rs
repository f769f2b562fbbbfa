//! The load generator: runs each server in turn against a private Redis, for several rounds,
//! and prints per endpoint: requests/s, p50/p99 latency, server CPU per request, Redis
//! commands per request, and the session overhead over the same framework without sessions;
//! then, per framework, sessionkit's ratios against its peer, taken within each round.
//!
//! Run it through `scripts/bench` (which builds everything in release mode first).
//! Settings: `ROUNDS` (3), `SECONDS` per run (5), `CONNECTIONS` (64), `SESSIONS` (1000),
//! `REDIS_SERVER` (the server program, `redis-server`; for Valkey 8.1 and its native
//! compare-and-set, `/tmp/sessionkit-valkey/valkey-server` from `scripts/services`),
//! `ENDPOINTS` (a comma-separated subset of `/,/read,/static`, all by default).

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sessionkit_bench::{Conn, Process, cpu_micros, free_port, ticks_per_second, wait_for_port};

/// Each server: its name in the report, its binary, its framework, and the near cache
/// setting of the sessionkit servers (`SESSION_NEAR_CACHE`, on by default).
const SERVERS: [(&str, &str, Framework, &str); 8] = [
    (
        "sessionkit (axum)",
        "server_sessionkit",
        Framework::Axum,
        "on",
    ),
    (
        "sessionkit (axum, no near cache)",
        "server_sessionkit",
        Framework::Axum,
        "off",
    ),
    (
        "tower-sessions",
        "server_tower_sessions",
        Framework::Axum,
        "on",
    ),
    (
        "sessionkit (actix-web)",
        "server_sessionkit_actix",
        Framework::Actix,
        "on",
    ),
    (
        "sessionkit (actix-web, no near cache)",
        "server_sessionkit_actix",
        Framework::Actix,
        "off",
    ),
    (
        "actix-session",
        "server_actix_session",
        Framework::Actix,
        "on",
    ),
    (
        "axum (no sessions)",
        "server_axum_plain",
        Framework::Axum,
        "on",
    ),
    (
        "actix-web (no sessions)",
        "server_actix_plain",
        Framework::Actix,
        "on",
    ),
];

const ENDPOINTS: [&str; 3] = ["/", "/read", "/static"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framework {
    Axum,
    Actix,
}

impl Framework {
    /// The same framework without sessions, whose cost the session overhead subtracts.
    fn plain(self) -> &'static str {
        match self {
            Self::Axum => "axum (no sessions)",
            Self::Actix => "actix-web (no sessions)",
        }
    }

    /// The framework `name` runs on.
    fn of(name: &str) -> Self {
        SERVERS
            .iter()
            .find(|(server, _, _, _)| *server == name)
            .map(|(_, _, framework, _)| *framework)
            .expect("a server of SERVERS")
    }
}

/// The endpoints to run (`ENDPOINTS`, comma-separated), as indexes into [`ENDPOINTS`].
fn endpoints() -> Vec<usize> {
    let Ok(chosen) = std::env::var("ENDPOINTS") else {
        return (0..ENDPOINTS.len()).collect();
    };
    chosen
        .split(',')
        .map(|path| {
            ENDPOINTS
                .iter()
                .position(|known| *known == path.trim())
                .unwrap_or_else(|| panic!("ENDPOINTS: {path:?} is not one of {ENDPOINTS:?}"))
        })
        .collect()
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `INFO commandstats` as command -> calls.
fn redis_calls(port: u16) -> BTreeMap<String, u64> {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string(), "info", "commandstats"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("cmdstat_")?;
            let (name, stats) = rest.split_once(':')?;
            let calls = stats
                .split(',')
                .find_map(|s| s.strip_prefix("calls="))?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .collect()
}

/// One connection's view of the sessions it owns.
struct Owned {
    cookies: Vec<String>,
    /// The count each session must hold now.
    expected: Vec<u64>,
}

/// What one timed run measured.
#[derive(Debug, Clone, Default)]
struct Run {
    requests: u64,
    seconds: f64,
    latencies_us: Vec<u32>,
    cpu_us: u64,
    redis_cpu_us: u64,
    redis: BTreeMap<String, u64>,
    cookie_changes: u64,
    errors: u64,
}

impl Run {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
    fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        sorted
            .get(((sorted.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0) as f64
    }
    fn cpu_per_request(&self) -> f64 {
        self.cpu_us as f64 / self.requests as f64
    }
    fn redis_cpu_per_request(&self) -> f64 {
        self.redis_cpu_us as f64 / self.requests as f64
    }
    fn redis_per_request(&self) -> f64 {
        self.redis.values().sum::<u64>() as f64 / self.requests as f64
    }
    /// Commands the server sent: commandstats also count what a script runs inside Redis;
    /// sessionkit's save script runs exactly one GET and one SET per successful save.
    fn redis_sent_per_request(&self) -> f64 {
        let scripts = self.redis.get("evalsha").copied().unwrap_or(0)
            + self.redis.get("eval").copied().unwrap_or(0);
        (self.redis.values().sum::<u64>() - 2 * scripts) as f64 / self.requests as f64
    }
}

#[allow(clippy::too_many_arguments)]
async fn timed_run(
    port: u16,
    redis_port: u16,
    redis_pid: u32,
    pid: u32,
    tps: u64,
    path: &'static str,
    owned: &mut [Owned],
    seconds: u64,
) -> Run {
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_before = cpu_micros(pid, tps);
    let redis_cpu_before = cpu_micros(redis_pid, tps);
    let redis_before = redis_calls(redis_port);
    let started = Instant::now();
    let mut tasks = Vec::new();
    let taken: Vec<Owned> = owned
        .iter_mut()
        .map(|o| Owned {
            cookies: std::mem::take(&mut o.cookies),
            expected: std::mem::take(&mut o.expected),
        })
        .collect();
    for mut mine in taken {
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(port).await;
            let mut run = Run::default();
            let mut next = 0;
            while !stop.load(Ordering::Relaxed) {
                let i = next % mine.cookies.len().max(1);
                next += 1;
                let cookie = mine.cookies.get(i).cloned();
                let sent = Instant::now();
                let (status, set_cookie, body) = conn.get(path, cookie.as_deref()).await;
                run.latencies_us.push(sent.elapsed().as_micros() as u32);
                run.requests += 1;
                if status != 200 {
                    run.errors += 1;
                }
                if let (Some(set), Some(sent_cookie)) = (&set_cookie, &cookie)
                    && set != sent_cookie
                {
                    run.cookie_changes += 1;
                }
                if path == "/" && !mine.cookies.is_empty() {
                    mine.expected[i] += 1;
                    if body.trim() != mine.expected[i].to_string() {
                        run.errors += 1;
                    }
                }
            }
            (mine, run)
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = Run::default();
    for (slot, task) in owned.iter_mut().zip(tasks) {
        let (mine, run) = task.await.unwrap();
        *slot = mine;
        total.requests += run.requests;
        total.latencies_us.extend(run.latencies_us);
        total.cookie_changes += run.cookie_changes;
        total.errors += run.errors;
    }
    total.seconds = started.elapsed().as_secs_f64();
    total.cpu_us = cpu_micros(pid, tps) - cpu_before;
    total.redis_cpu_us = cpu_micros(redis_pid, tps) - redis_cpu_before;
    let redis_after = redis_calls(redis_port);
    for (name, calls) in redis_after {
        let delta = calls - redis_before.get(&name).copied().unwrap_or(0);
        // The two INFO calls of the measurement itself are not the server's.
        let delta = if name == "info" {
            delta.saturating_sub(1)
        } else {
            delta
        };
        if delta > 0 {
            total.redis.insert(name, delta);
        }
    }
    total
}

#[tokio::main]
async fn main() {
    let rounds = setting("ROUNDS", 3);
    let seconds = setting("SECONDS", 5) as u64;
    let connections = setting("CONNECTIONS", 64);
    let sessions = setting("SESSIONS", 1000);
    let endpoints = endpoints();
    let tps = ticks_per_second();
    let examples = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();

    // A private Redis, so nothing else shows in its statistics.
    let redis_server = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
    let redis_port = free_port();
    let _redis = Process(
        Command::new(&redis_server)
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &redis_port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{redis_server}: {e} (./scripts/services installs it)")),
    );
    wait_for_port(redis_port).await;
    let redis_pid = _redis.0.id();
    let redis_url = format!("redis://127.0.0.1:{redis_port}");

    println!(
        "{rounds} rounds x {} servers x {} endpoints, {seconds} s each, {connections} connections, {sessions} sessions; {} cores; {redis_server}",
        SERVERS.len(),
        endpoints.len(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    let mut results: BTreeMap<(usize, &str, usize), Run> = BTreeMap::new();
    let mut lost = 0u64;
    for round in 0..rounds {
        for (name, binary, _, near_cache) in SERVERS.iter() {
            let port = free_port();
            let process = Process(
                Command::new(examples.join(binary))
                    .env("PORT", port.to_string())
                    .env("SESSION_NEAR_CACHE", near_cache)
                    .env("REDIS_URL", &redis_url)
                    .stdout(Stdio::null())
                    .spawn()
                    .unwrap_or_else(|e| panic!("start {binary}: {e} (run scripts/bench)")),
            );
            wait_for_port(port).await;
            let pid = process.0.id();

            // Pre-create the sessions: one `GET /` each, without a cookie.
            let mut owned: Vec<Owned> = (0..connections)
                .map(|_| Owned {
                    cookies: Vec::new(),
                    expected: Vec::new(),
                })
                .collect();
            let mut conn = Conn::open(port).await;
            for i in 0..sessions {
                let (_, cookie, body) = conn.get("/", None).await;
                if let Some(cookie) = cookie {
                    let slot = &mut owned[i % connections];
                    slot.cookies.push(cookie);
                    slot.expected.push(body.trim().parse().unwrap_or(1));
                }
            }
            drop(conn);

            for &e in &endpoints {
                let path = ENDPOINTS[e];
                // A short warm-up, then the timed run.
                let _ = timed_run(port, redis_port, redis_pid, pid, tps, path, &mut owned, 1).await;
                let run = timed_run(
                    port, redis_port, redis_pid, pid, tps, path, &mut owned, seconds,
                )
                .await;
                results.insert((round, name, e), run);
            }

            // Every increment landed in its own session.
            let mut conn = Conn::open(port).await;
            for mine in &owned {
                for (cookie, expected) in mine.cookies.iter().zip(&mine.expected) {
                    let (_, _, body) = conn.get("/read", Some(cookie)).await;
                    if body.trim() != expected.to_string() {
                        lost += 1;
                    }
                }
            }
            eprintln!("round {} {name}: done", round + 1);
            drop(process);
        }
    }

    report(&results, &endpoints, rounds, lost);
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[values.len() / 2]
}

fn report(
    results: &BTreeMap<(usize, &str, usize), Run>,
    endpoints: &[usize],
    rounds: usize,
    lost: u64,
) {
    for &e in endpoints {
        let path = ENDPOINTS[e];
        println!("\n## GET {path}\n");
        println!(
            "| server | req/s | p50 µs | p99 µs | CPU µs/req | session overhead µs/req | Redis cmds/req (sent) | Redis CPU µs/req | errors |"
        );
        println!("|---|---|---|---|---|---|---|---|---|");
        for (name, _, framework, _) in SERVERS {
            let runs: Vec<&Run> = (0..rounds).map(|r| &results[&(r, name, e)]).collect();
            let plain = framework.plain();
            let overhead: Vec<f64> = (0..rounds)
                .map(|r| {
                    results[&(r, name, e)].cpu_per_request()
                        - results[&(r, plain, e)].cpu_per_request()
                })
                .collect();
            println!(
                "| {name} | {:.0} | {:.0} | {:.0} | {:.1} | {:.1} | {:.2} ({:.2}) | {:.1} | {} |",
                median(runs.iter().map(|r| r.rps()).collect()),
                median(runs.iter().map(|r| r.percentile(0.5)).collect()),
                median(runs.iter().map(|r| r.percentile(0.99)).collect()),
                median(runs.iter().map(|r| r.cpu_per_request()).collect()),
                median(overhead),
                median(runs.iter().map(|r| r.redis_per_request()).collect()),
                median(runs.iter().map(|r| r.redis_sent_per_request()).collect()),
                median(runs.iter().map(|r| r.redis_cpu_per_request()).collect()),
                runs.iter().map(|r| r.errors).sum::<u64>(),
            );
        }
        if path != "/static" {
            let ratio = |f: &dyn Fn(usize) -> f64| median((0..rounds).map(f).collect());
            let over = |r: usize, name: &str| {
                let plain = Framework::of(name).plain();
                results[&(r, name, e)].cpu_per_request() - results[&(r, plain, e)].cpu_per_request()
            };
            let rps = |r: usize, name: &str| results[&(r, name, e)].rps();
            // Each ratio is taken within one round (the same machine state), then the median
            // over the rounds.
            let vs_best_peer = ratio(&|r| {
                over(r, "sessionkit (axum)")
                    / over(r, "tower-sessions").min(over(r, "actix-session"))
            });
            let vs_actix_session =
                ratio(&|r| over(r, "sessionkit (axum)") / over(r, "actix-session"));
            let vs_tower_rps = ratio(&|r| rps(r, "sessionkit (axum)") / rps(r, "tower-sessions"));
            let vs_actix_rps = ratio(&|r| rps(r, "sessionkit (axum)") / rps(r, "actix-session"));
            println!(
                "\nmedian per-round ratios, axum: sessionkit overhead / better peer's = {vs_best_peer:.2} (target <= 0.5), \
                 / actix-session's = {vs_actix_session:.2}; \
                 req/s vs tower-sessions = {vs_tower_rps:.2} (target >= 1.2); req/s vs actix-session = {vs_actix_rps:.2}"
            );
            let actix_rps = ratio(&|r| rps(r, "sessionkit (actix-web)") / rps(r, "actix-session"));
            let actix_over =
                ratio(&|r| over(r, "sessionkit (actix-web)") / over(r, "actix-session"));
            let actix_p50 = ratio(&|r| {
                results[&(r, "sessionkit (actix-web)", e)].percentile(0.5)
                    / results[&(r, "actix-session", e)].percentile(0.5)
            });
            println!(
                "median per-round ratios, actix-web: sessionkit / actix-session: req/s = {actix_rps:.2}, \
                 session overhead = {actix_over:.2}, p50 = {actix_p50:.2}"
            );
            for (cache, off) in [
                ("sessionkit (axum)", "sessionkit (axum, no near cache)"),
                (
                    "sessionkit (actix-web)",
                    "sessionkit (actix-web, no near cache)",
                ),
            ] {
                let over_ratio = ratio(&|r| over(r, cache) / over(r, off));
                let over_peer = ratio(&|r| over(r, off) / over(r, "actix-session"));
                let rps_ratio = ratio(&|r| rps(r, cache) / rps(r, off));
                let redis_cpu = ratio(&|r| {
                    results[&(r, cache, e)].redis_cpu_per_request()
                        / results[&(r, "actix-session", e)].redis_cpu_per_request()
                });
                println!(
                    "median per-round ratios, {cache}: near cache on / off: session overhead = {over_ratio:.2}, \
                     req/s = {rps_ratio:.2}; off: overhead / actix-session's = {over_peer:.2}; \
                     on: Redis CPU per request / actix-session's = {redis_cpu:.2}"
                );
            }
            for (name, _, _, _) in SERVERS {
                let breakdown = &results[&(0, name, e)].redis;
                if !breakdown.is_empty() {
                    let per: Vec<String> = breakdown
                        .iter()
                        .map(|(cmd, n)| {
                            format!(
                                "{cmd} {:.2}",
                                *n as f64 / results[&(0, name, e)].requests as f64
                            )
                        })
                        .collect();
                    println!(
                        "- {name} Redis commands per request (round 1): {}",
                        per.join(", ")
                    );
                }
            }
        }
    }
    println!("\nlost increments or sessions that fell back to a new one: {lost}");
}
