//! A network blip between the store and PostgreSQL or MariaDB (a proxy that swallows or
//! holds bytes without resetting anything): calls fail within the timeout, the same store
//! serves again within seconds of healing, and no reply ever reaches the wrong call. Only
//! the public API: the store over an sqlx pool that connects through the proxy.

use std::time::Duration;

use sessionkit_core::Id;
use sessionkit_sql::sqlx::mysql::MySqlPoolOptions;
use sessionkit_sql::sqlx::postgres::PgPoolOptions;
use sessionkit_sql::{MySqlStore, PostgresStore, sqlx};
use sessionkit_testkit::recovery::{replies_reach_their_calls, survives_a_blip};
use sessionkit_testkit::{Fault, FaultProxy};

const TIMEOUT: Duration = Duration::from_millis(300);
const MARGIN: Duration = Duration::from_millis(400);

fn unique_table() -> String {
    let random: String = Id::random()
        .to_string()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect();
    format!("sk_blip_{}", random.to_ascii_lowercase())
}

async fn postgres() -> ([FaultProxy; 1], PostgresStore) {
    let proxy = FaultProxy::start("127.0.0.1:5432".parse().unwrap())
        .await
        .unwrap();
    let url = format!("postgres://postgres@{}/test", proxy.addr());
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await
        .expect("PostgreSQL on 127.0.0.1:5432: start it with ./scripts/services");
    let store = PostgresStore::builder(pool)
        .table(unique_table())
        .timeout(TIMEOUT)
        .build()
        .unwrap();
    store.migrate().await.unwrap();
    ([proxy], store)
}

async fn mariadb() -> ([FaultProxy; 1], MySqlStore) {
    let proxy = FaultProxy::start("127.0.0.1:3306".parse().unwrap())
        .await
        .unwrap();
    let url = format!("mysql://root@{}/test", proxy.addr());
    let pool = MySqlPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await
        .expect("MariaDB on 127.0.0.1:3306: start it with ./scripts/services");
    let store = MySqlStore::builder(pool)
        .table(unique_table())
        .timeout(TIMEOUT)
        .build()
        .unwrap();
    store.migrate().await.unwrap();
    ([proxy], store)
}

fn drop_statement(table: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}"))
}

async fn drop_postgres_table(store: PostgresStore) {
    let statement = drop_statement(store.table().as_str());
    sqlx::query(statement).execute(store.pool()).await.unwrap();
}

async fn drop_mariadb_table(store: MySqlStore) {
    let statement = drop_statement(store.table().as_str());
    sqlx::query(statement).execute(store.pool()).await.unwrap();
}

#[tokio::test]
async fn postgres_recovers_from_a_blackhole() {
    let (proxies, store) = postgres().await;
    let blip = survives_a_blip(&store, &proxies, Fault::Blackhole, TIMEOUT, MARGIN).await;
    println!("{blip:?}");
    drop_postgres_table(store).await;
}

#[tokio::test]
async fn postgres_recovers_from_a_stall() {
    let (proxies, store) = postgres().await;
    let blip = survives_a_blip(&store, &proxies, Fault::Stall, TIMEOUT, MARGIN).await;
    println!("{blip:?}");
    drop_postgres_table(store).await;
}

#[tokio::test]
async fn postgres_never_pairs_a_reply_with_another_call() {
    let (proxies, store) = postgres().await;
    replies_reach_their_calls(&store, &proxies, TIMEOUT).await;
    drop_postgres_table(store).await;
}

#[tokio::test]
async fn mariadb_recovers_from_a_blackhole() {
    let (proxies, store) = mariadb().await;
    let blip = survives_a_blip(&store, &proxies, Fault::Blackhole, TIMEOUT, MARGIN).await;
    println!("{blip:?}");
    drop_mariadb_table(store).await;
}

#[tokio::test]
async fn mariadb_recovers_from_a_stall() {
    let (proxies, store) = mariadb().await;
    let blip = survives_a_blip(&store, &proxies, Fault::Stall, TIMEOUT, MARGIN).await;
    println!("{blip:?}");
    drop_mariadb_table(store).await;
}

/// Fails in most runs with sqlx 0.9: a pooled MySQL connection whose cancelled query lost
/// its reply is never closed (sqlx's on-release ping waits, without a deadline, for that
/// reply), so once every connection of the pool is stuck, every call times out.
#[tokio::test]
#[ignore = "sqlx MySQL pools keep connections whose reply was lost; the fix belongs in sessionkit-sql"]
async fn mariadb_never_pairs_a_reply_with_another_call() {
    let (proxies, store) = mariadb().await;
    replies_reach_their_calls(&store, &proxies, TIMEOUT).await;
    drop_mariadb_table(store).await;
}
