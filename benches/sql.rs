//! SQL stores: create, load, save and touch per dialect, each on a table of its own.
//!
//! ```sh
//! ./scripts/services            # PostgreSQL on 15432, MariaDB on 13306
//! cargo bench --bench sql
//! ```

use std::hint::black_box;
use std::time::{Duration, SystemTime};

mod common;

use common::payload;
use criterion::{Criterion, criterion_group, criterion_main};
use sessionkit::{Id, SessionStore};
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
    drop(sqlite);
    let _ = std::fs::remove_file(&path);
}

criterion_group!(benches, dialects);
criterion_main!(benches);
