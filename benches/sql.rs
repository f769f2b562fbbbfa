//! SQL stores: create, load, save and touch per dialect, each on a table of its own; and a
//! request that reads a session with sliding expiry, refreshing on every read and with the
//! default throttled refresh (`SESSION_REFRESH_STEP`).
//!
//! ```sh
//! ./scripts/services            # PostgreSQL on 15432, MariaDB on 13306
//! cargo bench --bench sql
//! ```

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

mod common;

use common::payload;
use criterion::{Criterion, criterion_group, criterion_main};
use sessionkit::{Id, SessionConfig, SessionStore, Sessions};
use sessionkit_sql::{MySqlStore, PostgresStore, SqlStore, SqliteStore, sqlx};
use tokio::runtime::Runtime;

fn expires() -> SystemTime {
    SystemTime::now() + Duration::from_secs(600)
}

fn table() -> String {
    format!(
        "bench_{}",
        Id::random().to_string().replace(['-', '_'], "")[..10].to_ascii_lowercase()
    )
}

/// The four operations against `store`.
fn bench_store<D: sessionkit_sql::Dialect>(
    c: &mut Criterion,
    rt: &Runtime,
    name: &str,
    store: &SqlStore<D>,
) where
    SqlStore<D>: SessionStore,
{
    let payload = payload();
    let id = Id::random();
    rt.block_on(store.create(&id, &payload, expires())).unwrap();
    let mut group = c.benchmark_group(format!("sql/{name}"));
    group.bench_function("create", |b| {
        b.to_async(rt).iter(|| async {
            store
                .create(&Id::random(), &payload, expires())
                .await
                .unwrap()
        });
    });
    group.bench_function("load", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(store.load(&id).await.unwrap().unwrap()) });
    });
    group.bench_function("load_and_touch", |b| {
        b.to_async(rt).iter(|| async {
            black_box(store.load_and_touch(&id, expires()).await.unwrap().unwrap())
        });
    });
    group.bench_function("load+save", |b| {
        b.to_async(rt).iter(|| async {
            let record = store.load(&id).await.unwrap().unwrap();
            store
                .save(&id, &payload, expires(), record.version())
                .await
                .unwrap();
        });
    });
    group.bench_function("touch", |b| {
        b.to_async(rt)
            .iter(|| async { store.touch(&id, expires()).await.unwrap() });
    });
    group.finish();
}

/// A request that reads a permanent session with sliding expiry, through the lifecycle:
/// `every read` moves the stored expiry on each read (`SESSION_REFRESH_STEP=0`, what every
/// read did before the throttled refresh); `throttled` is the default step (1% of the
/// lifetime), so a read within a step of the last refresh is a plain load.
fn bench_sliding_reads<S: SessionStore + Clone + 'static>(
    c: &mut Criterion,
    rt: &Runtime,
    name: &str,
    store: &S,
) {
    let mut group = c.benchmark_group(format!("sql/{name}/sliding read"));
    for (label, step) in [("every read", Some(Duration::ZERO)), ("throttled", None)] {
        let mut config = SessionConfig::default();
        config.refresh_step = step;
        let sessions = Sessions::new(Arc::new(store.clone()), config).unwrap();
        let cookie = rt.block_on(async {
            let first = sessions.start([]);
            first.insert("_user_id", "42").await.unwrap();
            let set_cookie = sessions.finish(&first).await.unwrap().set_cookie.unwrap();
            set_cookie.split(';').next().unwrap().to_owned()
        });
        group.bench_function(label, |b| {
            b.to_async(rt).iter(|| async {
                let session = sessions.start([cookie.as_bytes()]);
                let user: Option<String> = session.get("_user_id").await.unwrap();
                black_box(user.unwrap());
                black_box(sessions.finish(&session).await.unwrap());
            });
        });
    }
    group.finish();
}

fn dialects(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();

    let postgres_url = "postgres://sessionkit@127.0.0.1:15432/test";
    let connected = rt
        .block_on(PostgresStore::connect(postgres_url))
        .unwrap_or_else(|e| {
            panic!("PostgreSQL at {postgres_url} is needed: run ./scripts/services ({e:?})")
        });
    let postgres = PostgresStore::builder(connected.pool().clone())
        .table(table())
        .build()
        .unwrap();
    rt.block_on(postgres.migrate()).unwrap();
    bench_store(c, &rt, "postgres", &postgres);
    bench_sliding_reads(c, &rt, "postgres", &postgres);
    let drop_pg = sqlx::AssertSqlSafe(format!("DROP TABLE {}", postgres.table()));
    rt.block_on(sqlx::query(drop_pg).execute(postgres.pool()))
        .unwrap();

    let mysql_url = "mysql://sessionkit@127.0.0.1:13306/test";
    let connected = rt
        .block_on(MySqlStore::connect(mysql_url))
        .unwrap_or_else(|e| {
            panic!("MariaDB at {mysql_url} is needed: run ./scripts/services ({e:?})")
        });
    let mysql = MySqlStore::builder(connected.pool().clone())
        .table(table())
        .build()
        .unwrap();
    rt.block_on(mysql.migrate()).unwrap();
    bench_store(c, &rt, "mysql", &mysql);
    bench_sliding_reads(c, &rt, "mysql", &mysql);
    let drop_my = sqlx::AssertSqlSafe(format!("DROP TABLE {}", mysql.table()));
    rt.block_on(sqlx::query(drop_my).execute(mysql.pool()))
        .unwrap();

    let path = std::env::temp_dir().join(format!("{}.sqlite3", table()));
    let sqlite = rt
        .block_on(SqliteStore::connect(&format!(
            "sqlite://{}",
            path.display()
        )))
        .unwrap();
    rt.block_on(sqlite.migrate()).unwrap();
    bench_store(c, &rt, "sqlite", &sqlite);
    bench_sliding_reads(c, &rt, "sqlite", &sqlite);
    drop(sqlite);
    let _ = std::fs::remove_file(&path);
}

criterion_group!(benches, dialects);
criterion_main!(benches);
