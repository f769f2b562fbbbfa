//! The `sessionkit` binary against real servers (`bash scripts/services` starts them):
//! sessions are written with the library, then checked, listed, shown, deleted, revoked,
//! purged, counted and copied through the tool. Every test works under a key prefix or
//! table of its own and removes what it wrote.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use sessionkit::{Config, DynSessionStore, Id};

const REDIS_URL: &str = "redis://127.0.0.1:6379";
const POSTGRES_URL: &str = "postgres://sessionkit@127.0.0.1:15432/test";
const HOUR: Duration = Duration::from_secs(3600);

/// A store for one test: its keys, and the library's store over them.
struct Fixture {
    keys: Vec<(String, String)>,
    store: DynSessionStore,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    RedisPrefix(String),
    PostgresTable,
}

/// A name no other test (or run) uses.
fn unique(kind: &str) -> String {
    format!(
        "cli_{kind}_{}",
        &Id::random().hint().replace(['-', '_'], "x")
    )
}

async fn connect(keys: &[(String, String)], what: &str) -> DynSessionStore {
    let mut pairs = keys.to_vec();
    // The library's own sweep would race `purge-expired`.
    pairs.push(("SESSION_CLEANUP_INTERVAL".into(), "0".into()));
    // Reads here must see the tool's writes at once, not after an invalidation.
    pairs.push(("SESSION_NEAR_CACHE".into(), "false".into()));
    let config = Config::from_pairs(pairs).expect("test configuration");
    sessionkit::connect(&config).await.unwrap_or_else(|e| {
        panic!("{what} is not reachable ({e}): start the test servers with `bash scripts/services`")
    })
}

fn pairs(keys: &[(&str, &str)]) -> Vec<(String, String)> {
    keys.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn sqlite(extra: &[(&str, &str)]) -> Fixture {
    let file = std::env::temp_dir().join(format!("{}.db", unique("sqlite")));
    let url = format!("sqlite://{}", file.display());
    let mut keys = pairs(&[("SESSION_TYPE", "sqlite"), ("SESSION_SQL_URL", &url)]);
    keys.extend(pairs(extra));
    let store = connect(&keys, "SQLite").await;
    Fixture {
        keys,
        store,
        cleanup: Cleanup::File(file),
    }
}

async fn redis(extra: &[(&str, &str)]) -> Fixture {
    let prefix = format!("{}:", unique("redis"));
    let mut keys = pairs(&[
        ("SESSION_TYPE", "redis"),
        ("SESSION_REDIS", REDIS_URL),
        ("SESSION_KEY_PREFIX", &prefix),
        ("SESSION_STORE_TIMEOUT", "10"),
    ]);
    keys.extend(pairs(extra));
    let store = connect(&keys, "Redis on 127.0.0.1:6379").await;
    Fixture {
        keys,
        store,
        cleanup: Cleanup::RedisPrefix(prefix),
    }
}

async fn postgres() -> Fixture {
    let table = unique("pg");
    let keys = pairs(&[
        ("SESSION_TYPE", "postgres"),
        ("SESSION_SQL_URL", POSTGRES_URL),
        ("SESSION_SQL_TABLE", &table),
        ("SESSION_STORE_TIMEOUT", "10"),
    ]);
    let store = connect(&keys, "PostgreSQL on 127.0.0.1:15432").await;
    Fixture {
        keys,
        store,
        cleanup: Cleanup::PostgresTable,
    }
}

impl Fixture {
    /// Runs the tool with this store's keys as its whole environment.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_sessionkit"))
            .env_clear()
            .envs(self.keys.iter().map(|(k, v)| (k, v)))
            .args(args)
            .output()
            .expect("the sessionkit binary runs")
    }

    /// Runs the tool and expects success; returns its standard output.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "sessionkit {args:?} failed: {}\n{}",
            stderr(&output),
            stdout(&output)
        );
        stdout(&output)
    }

    /// Writes `keys` as an env file and returns its path.
    fn env_file(&self) -> PathBuf {
        let path = std::env::temp_dir().join(format!("{}.env", unique("env")));
        let text: String = self
            .keys
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect();
        std::fs::write(&path, format!("# written by the cli tests\n{text}")).expect("env file");
        path
    }

    /// A session with a string, an integer, bytes and a MessagePack extension, bound to
    /// `user`, living `ttl`.
    async fn create(&self, user: &str, ttl: Duration) -> Id {
        let id = Id::random();
        let payload = payload(user);
        let expires = SystemTime::now() + ttl;
        match self.store.user_index() {
            Some(index) => index.create_for(&id, &payload, expires, Some(user)).await,
            None => self.store.create(&id, &payload, expires).await,
        }
        .expect("create");
        id
    }

    async fn exists(&self, id: &Id) -> bool {
        self.store.load(id).await.expect("load").is_some()
    }

    async fn cleanup(self) {
        match self.cleanup {
            Cleanup::File(file) => {
                drop(self.store);
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                }
            }
            Cleanup::RedisPrefix(prefix) => delete_redis_prefix(&prefix),
            Cleanup::PostgresTable => {
                let table = &self
                    .keys
                    .iter()
                    .find(|(k, _)| k == "SESSION_SQL_TABLE")
                    .unwrap()
                    .1;
                let store = sessionkit_sql::SqlStoreBuilder::<sessionkit_sql::Postgres>::connect(
                    POSTGRES_URL,
                )
                .await
                .expect("PostgreSQL for the clean-up")
                .table(table.as_str())
                .build()
                .expect("table name");
                store.drop_table().await.expect("drop the test table");
            }
        }
    }
}

fn payload(user: &str) -> Vec<u8> {
    let value = rmpv::Value::Map(vec![
        ("_user_id".into(), user.into()),
        ("n".into(), 7.into()),
        ("blob".into(), rmpv::Value::Binary(vec![0, 1, 2])),
        ("ext".into(), rmpv::Value::Ext(3, vec![255])),
    ]);
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, &value).expect("encode");
    bytes
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn delete_redis_prefix(prefix: &str) {
    let client = redis::Client::open(REDIS_URL).expect("Redis URL");
    let mut conn = client.get_connection().expect("Redis for the clean-up");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(&mut conn)
        .expect("KEYS");
    for chunk in keys.chunks(1000) {
        let _: () = redis::cmd("DEL").arg(chunk).query(&mut conn).expect("DEL");
    }
}

fn redis_key_count(prefix: &str) -> usize {
    let client = redis::Client::open(REDIS_URL).expect("Redis URL");
    let mut conn = client.get_connection().expect("Redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(&mut conn)
        .expect("KEYS");
    keys.len()
}

/// The JSON objects of `list --json`.
fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn check_makes_a_round_trip_on_sqlite_and_redis() {
    for fixture in [sqlite(&[]).await, redis(&[]).await] {
        let out = fixture.ok(&["check"]);
        assert!(out.contains("configuration: ok"), "{out}");
        assert!(out.contains("store: ok"), "{out}");
        assert!(out.contains("listing: available"), "{out}");
        fixture.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn check_names_the_misconfigured_key_and_never_echoes_the_secret() {
    let fixture = sqlite(&[]).await;
    let bad = Command::new(env!("CARGO_BIN_EXE_sessionkit"))
        .env_clear()
        .env("SESSION_TYPE", "redis")
        .env(
            "SESSION_REDIS",
            "rediz://admin:hunter2secret@127.0.0.1:6379",
        )
        .arg("check")
        .output()
        .expect("runs");
    assert!(!bad.status.success());
    let err = stderr(&bad);
    assert!(err.contains("SESSION_REDIS"), "the key is not named: {err}");
    assert!(
        !err.contains("hunter2secret"),
        "the password was echoed: {err}"
    );
    assert!(!stdout(&bad).contains("hunter2secret"));

    // A misspelt key in an env file is named, not ignored.
    let file = std::env::temp_dir().join(format!("{}.env", unique("typo")));
    std::fs::write(
        &file,
        "SESSION_TYPE=redis\nSESSION_REDIS_URL=redis://:pw1234567@x\n",
    )
    .unwrap();
    let typo = fixture.run(&["--env-file", file.to_str().unwrap(), "check"]);
    assert!(!typo.status.success());
    assert!(
        stderr(&typo).contains("SESSION_REDIS_URL"),
        "{}",
        stderr(&typo)
    );
    assert!(!stderr(&typo).contains("pw1234567"), "{}", stderr(&typo));
    std::fs::remove_file(file).unwrap();
    fixture.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_store_has_nothing_to_list_from_another_process() {
    let fixture = sqlite(&[]).await;
    let output = Command::new(env!("CARGO_BIN_EXE_sessionkit"))
        .env_clear()
        .env("SESSION_TYPE", "memory")
        .arg("list")
        .output()
        .expect("runs");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("nothing to list"),
        "{}",
        stderr(&output)
    );
    fixture.cleanup().await;
}

/// list (text, JSON, --limit, --older-than), show by hint (bytes and extensions tagged),
/// delete by hint with --yes.
async fn list_show_delete(fixture: Fixture) {
    // Lifetime 31 days (the default): two sessions just written, one written 2 hours ago
    // as far as its expiry tells.
    let lifetime = Duration::from_secs(31 * 86_400);
    let fresh = fixture.create("ada", lifetime).await;
    let other = fixture.create("bob", lifetime).await;
    let old = fixture.create("cy", lifetime - 2 * HOUR).await;

    let text = fixture.ok(&["list"]);
    for id in [fresh, other, old] {
        assert!(
            text.contains(&id.hint()),
            "{} not listed: {text}",
            id.hint()
        );
        assert!(
            !text.contains(&id.to_string()),
            "a whole id was printed without --full-ids"
        );
    }
    let lines = json_lines(&fixture.ok(&["list", "--json", "--full-ids"]));
    assert_eq!(lines.len(), 3, "{lines:?}");
    let line = lines.iter().find(|l| l["hint"] == fresh.hint()).unwrap();
    assert_eq!(line["id"], fresh.to_string());
    assert_eq!(line["size"], payload("ada").len());
    let left = line["expires_in_secs"].as_u64().unwrap();
    let full = lifetime.as_secs();
    assert!((full - 100..=full).contains(&left), "{left}");
    assert_eq!(
        json_lines(&fixture.ok(&["list", "--json", "--limit", "2"])).len(),
        2
    );
    let older = json_lines(&fixture.ok(&["list", "--json", "--older-than", "1h"]));
    let older: Vec<_> = older.iter().map(|l| l["hint"].as_str().unwrap()).collect();
    assert_eq!(
        older,
        [old.hint()],
        "--older-than 1h listed a fresh session"
    );

    let shown: serde_json::Value =
        serde_json::from_str(&fixture.ok(&["show", &fresh.hint()])).unwrap();
    assert_eq!(shown["data"]["_user_id"], "ada");
    assert_eq!(shown["data"]["n"], 7);
    assert_eq!(shown["data"]["blob"], serde_json::json!({"$bytes": "AAEC"}));
    assert_eq!(
        shown["data"]["ext"],
        serde_json::json!({"$ext": [3, "/w=="]})
    );
    let by_id: serde_json::Value =
        serde_json::from_str(&fixture.ok(&["show", &fresh.to_string()])).unwrap();
    assert_eq!(by_id, shown);

    let out = fixture.ok(&["delete", &other.hint(), "--yes"]);
    assert!(out.contains("deleted"), "{out}");
    assert!(!fixture.exists(&other).await, "delete left the session");
    assert!(
        fixture.exists(&fresh).await,
        "delete removed another session"
    );
    let again = fixture.run(&["show", &other.hint()]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("no live session"),
        "{}",
        stderr(&again)
    );
    fixture.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_show_delete_on_sqlite() {
    list_show_delete(sqlite(&[]).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_show_delete_on_redis() {
    list_show_delete(redis(&[]).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn show_with_a_cookie_id_hashes_it_when_ids_are_hashed() {
    let fixture = sqlite(&[("SESSION_HASH_IDS", "true")]).await;
    let cookie = Id::random();
    fixture
        .store
        .create(&cookie.hashed(), &payload("ada"), SystemTime::now() + HOUR)
        .await
        .unwrap();
    let shown: serde_json::Value =
        serde_json::from_str(&fixture.ok(&["show", "--cookie", &cookie.to_string()])).unwrap();
    assert_eq!(shown["hint"], cookie.hashed().hint());
    assert_eq!(shown["data"]["_user_id"], "ada");
    fixture.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn revoke_by_user_keeps_the_excepted_session_and_other_users() {
    for fixture in [
        sqlite(&[("SESSION_USER_INDEX", "true")]).await,
        redis(&[("SESSION_USER_INDEX", "true")]).await,
    ] {
        let ada: Vec<Id> = [
            fixture.create("ada", HOUR).await,
            fixture.create("ada", HOUR).await,
            fixture.create("ada", HOUR).await,
        ]
        .into();
        let bob = fixture.create("bob", HOUR).await;
        let listed = json_lines(&fixture.ok(&["list", "--user", "ada", "--json"]));
        assert_eq!(listed.len(), 3, "{listed:?}");

        let keep = ada[0].hint();
        let out = fixture.ok(&["revoke", "--user", "ada", "--except", &keep, "--yes"]);
        assert!(out.contains("revoked 2"), "{out}");
        assert!(
            fixture.exists(&ada[0]).await,
            "the excepted session was revoked"
        );
        assert!(!fixture.exists(&ada[1]).await && !fixture.exists(&ada[2]).await);
        assert!(
            fixture.exists(&bob).await,
            "another user's session was revoked"
        );
        let left = json_lines(&fixture.ok(&["list", "--user", "ada", "--json"]));
        assert_eq!(left.len(), 1);
        assert_eq!(left[0]["hint"], keep);

        let out = fixture.ok(&["revoke", "--user", "ada", "--yes"]);
        assert!(out.contains("revoked 1"), "{out}");
        assert!(!fixture.exists(&ada[0]).await);
        fixture.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn purge_expired_deletes_expired_rows_on_sql_only() {
    let fixture = sqlite(&[]).await;
    let live = fixture.create("ada", HOUR).await;
    for _ in 0..3 {
        // A row written with an expiry already past: there until swept.
        fixture
            .store
            .create(
                &Id::random(),
                b"\x80",
                SystemTime::now() - Duration::from_secs(5),
            )
            .await
            .unwrap();
    }
    let out = fixture.ok(&["purge-expired", "--yes"]);
    assert!(out.contains("purged 3 expired record(s)"), "{out}");
    assert!(fixture.exists(&live).await, "a live session was purged");
    let again = fixture.ok(&["purge-expired", "--yes"]);
    assert!(again.contains("purged 0"), "{again}");
    fixture.cleanup().await;

    let redis = redis(&[]).await;
    let out = redis.ok(&["purge-expired", "--yes"]);
    assert!(out.contains("expires records by itself"), "{out}");
    redis.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stats_counts_sessions_sizes_and_expiries() {
    let fixture = sqlite(&[]).await;
    for _ in 0..4 {
        fixture.create("ada", HOUR / 2).await;
    }
    fixture.create("bob", 48 * HOUR).await;
    let stats: serde_json::Value = serde_json::from_str(&fixture.ok(&["stats", "--json"])).unwrap();
    let size = payload("ada").len() as u64;
    assert_eq!(stats["count"], 5);
    assert_eq!(stats["bytes"], 5 * size);
    assert_eq!(stats["complete"], true);
    assert_eq!(stats["sizes"]["< 256 B"], 5);
    assert_eq!(stats["expiries"]["within 1 hour"], 4);
    assert_eq!(stats["expiries"]["within 7 days"], 1);
    let text = fixture.ok(&["stats"]);
    assert!(text.contains("sessions: 5"), "{text}");
    fixture.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn destructive_commands_require_yes_off_a_terminal() {
    let fixture = sqlite(&[("SESSION_USER_INDEX", "true")]).await;
    let id = fixture.create("ada", HOUR).await;
    let to = sqlite(&[]).await;
    let (from_file, to_file) = (fixture.env_file(), to.env_file());
    let hint = id.hint();
    for args in [
        vec!["delete", hint.as_str()],
        vec!["revoke", "--user", "ada"],
        vec!["purge-expired"],
        vec![
            "copy",
            "--from",
            from_file.to_str().unwrap(),
            "--to",
            to_file.to_str().unwrap(),
        ],
    ] {
        let output = fixture.run(&args);
        assert!(
            !output.status.success(),
            "{args:?} went ahead without --yes"
        );
        assert!(
            stderr(&output).contains("pass --yes"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert!(
        fixture.exists(&id).await,
        "a command without --yes deleted the session"
    );
    assert!(!to.exists(&id).await, "copy without --yes wrote");
    for file in [from_file, to_file] {
        std::fs::remove_file(file).unwrap();
    }
    fixture.cleanup().await;
    to.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_moves_10000_sessions_from_postgres_to_redis() {
    const COUNT: usize = 10_000;
    let from = postgres().await;
    let to = redis(&[]).await;
    let prefix = match &to.cleanup {
        Cleanup::RedisPrefix(prefix) => prefix.clone(),
        _ => unreachable!(),
    };
    // Seeded concurrently, 100 at a time.
    let mut ids = Vec::with_capacity(COUNT);
    for _ in 0..COUNT / 100 {
        let mut batch = tokio::task::JoinSet::new();
        for _ in 0..100 {
            let store = from.store.clone();
            batch.spawn(async move {
                let id = Id::random();
                let expires = SystemTime::now() + HOUR;
                store
                    .create(&id, &payload("ada"), expires)
                    .await
                    .expect("seed");
                id
            });
        }
        ids.extend(batch.join_all().await);
    }
    // Five the target already has, newer: never overwritten.
    for id in &ids[..5] {
        to.store
            .create(id, b"\x81\xa3new\xc3", SystemTime::now() + HOUR)
            .await
            .unwrap();
    }
    let (from_file, to_file) = (from.env_file(), to.env_file());
    let (from_arg, to_arg) = (from_file.to_str().unwrap(), to_file.to_str().unwrap());

    let dry = from.ok(&["copy", "--from", from_arg, "--to", to_arg, "--dry-run"]);
    assert!(
        dry.contains(&format!(
            "{COUNT} scanned, {} to copy, 5 skipped-existing, 0 expired-skipped, 0 failed",
            COUNT - 5
        )),
        "{dry}"
    );
    assert_eq!(redis_key_count(&prefix), 5, "the dry run wrote");

    let resume = std::env::temp_dir().join(format!("{}.cursor", unique("resume")));
    let resume_arg = resume.to_str().unwrap();
    let output = from.run(&[
        "copy", "--from", from_arg, "--to", to_arg, "--resume", resume_arg, "--yes",
    ]);
    let (out, err) = (stdout(&output), stderr(&output));
    assert!(output.status.success(), "copy failed: {err}\n{out}");
    assert!(
        out.contains(&format!("copy complete: {COUNT} scanned, {} copied, 5 skipped-existing, 0 expired-skipped, 0 failed", COUNT - 5)),
        "{out}"
    );
    let progress_lines = err
        .lines()
        .filter(|l| l.starts_with("copy progress:"))
        .count();
    assert!(
        progress_lines >= 9,
        "{progress_lines} progress lines:\n{err}"
    );
    assert!(!resume.exists(), "the resume file outlived a complete copy");
    assert_eq!(redis_key_count(&prefix), COUNT);
    let kept = to.store.load(&ids[0]).await.unwrap().unwrap();
    assert_eq!(
        kept.payload().as_ref(),
        b"\x81\xa3new\xc3",
        "an existing record was overwritten"
    );
    let copied = to.store.load(&ids[COUNT - 1]).await.unwrap().unwrap();
    assert_eq!(copied.payload().as_ref(), payload("ada").as_slice());

    // Idempotent: again, everything is there already.
    let again = from.ok(&["copy", "--from", from_arg, "--to", to_arg, "--yes"]);
    assert!(
        again.contains(&format!("0 copied, {COUNT} skipped-existing")),
        "{again}"
    );

    for file in [from_file, to_file] {
        std::fs::remove_file(file).unwrap();
    }
    from.cleanup().await;
    to.cleanup().await;
}
