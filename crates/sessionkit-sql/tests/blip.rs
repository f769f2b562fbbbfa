//! A network blip between the store and PostgreSQL or MariaDB (a route that holds bytes
//! without resetting anything, then delivers them late, as TCP does once a dropped route
//! comes back): calls fail within the timeout, the same store serves again within seconds
//! of healing, and every reply reaches its own call. A connection whose call timed out is
//! dropped, never returned to the pool. Only the public API: the store over an sqlx pool
//! that connects through the proxy.
//!
//! Not tested here: a middlebox that destroys bytes of a live connection (the proxy's
//! `Blackhole`). sqlx pings every connection it takes back into its pool, without a
//! deadline; a ping sent into such a hole waits for ever and keeps its pool slot, so the
//! pool can starve. Real TCP retransmits instead; the README's SQL section says so.

use std::time::Duration;

use sessionkit_core::Id;
use sessionkit_sql::sqlx::mysql::MySqlPoolOptions;
use sessionkit_sql::sqlx::postgres::PgPoolOptions;
use sessionkit_sql::{MySqlStore, PostgresStore, sqlx};
use sessionkit_testkit::recovery::{serves_through_latency, survives_a_blip};
use sessionkit_testkit::{Fault, FaultProxy};

const TIMEOUT: Duration = Duration::from_secs(1);
const MARGIN: Duration = Duration::from_millis(500);

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
    let proxy = FaultProxy::start("127.0.0.1:15432".parse().unwrap())
        .await
        .unwrap();
    let url = format!("postgres://sessionkit@{}/test", proxy.addr());
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await
        .expect("PostgreSQL on 127.0.0.1:15432: start it with ./scripts/services");
    let store = PostgresStore::builder(pool)
        .table(unique_table())
        .timeout(TIMEOUT)
        .build()
        .unwrap();
    store.migrate().await.unwrap();
    ([proxy], store)
}

async fn mariadb() -> ([FaultProxy; 1], MySqlStore) {
    let proxy = FaultProxy::start("127.0.0.1:13306".parse().unwrap())
        .await
        .unwrap();
    let url = format!("mysql://sessionkit@{}/test", proxy.addr());
    let pool = MySqlPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await
        .expect("MariaDB on 127.0.0.1:13306: start it with ./scripts/services");
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
async fn postgres_recovers_from_a_stall() {
    let (proxies, store) = postgres().await;
    let blip = survives_a_blip(&store, &proxies, Fault::Stall, TIMEOUT, MARGIN).await;
    println!("{blip:?}");
    drop_postgres_table(store).await;
}

#[tokio::test]
async fn postgres_serves_through_latency_below_the_timeout() {
    let (proxies, store) = postgres().await;
    serves_through_latency(&store, &proxies, TIMEOUT / 20, TIMEOUT).await;
    drop_postgres_table(store).await;
}

#[tokio::test]
async fn mariadb_serves_through_latency_below_the_timeout() {
    let (proxies, store) = mariadb().await;
    serves_through_latency(&store, &proxies, TIMEOUT / 20, TIMEOUT).await;
    drop_mariadb_table(store).await;
}

#[tokio::test]
async fn mariadb_recovers_from_a_stall() {
    let (proxies, store) = mariadb().await;
    let blip = survives_a_blip(&store, &proxies, Fault::Stall, TIMEOUT, MARGIN).await;
    println!("{blip:?}");
    drop_mariadb_table(store).await;
}
