//! axum + tower-sessions + tower-sessions-redis-store, with tower-sessions' defaults.

use axum::Router;
use axum::routing::get;
use tower_sessions::{Session, SessionManagerLayer};
use tower_sessions_redis_store::RedisStore;
use tower_sessions_redis_store::fred::prelude::{ClientLike, Config, Pool};

async fn increment(session: Session) -> String {
    let n: u64 = session.get("refreshed").await.unwrap().unwrap_or(0) + 1;
    session.insert("refreshed", n).await.unwrap();
    n.to_string()
}

async fn read(session: Session) -> String {
    session
        .get::<u64>("refreshed")
        .await
        .unwrap()
        .unwrap_or(0)
        .to_string()
}

#[tokio::main]
async fn main() {
    let config = Config::from_url(&std::env::var("REDIS_URL").unwrap()).unwrap();
    let pool = Pool::new(config, None, None, None, 6).unwrap();
    pool.connect();
    pool.wait_for_connect().await.unwrap();
    let layer = SessionManagerLayer::new(RedisStore::new(pool)).with_secure(false);
    let app = Router::new()
        .route("/", get(increment))
        .route("/read", get(read))
        .route("/static", get(|| async { "static" }))
        .layer(layer);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port()))
        .await
        .unwrap();
    axum::serve(listener, app).await.unwrap();
}

fn port() -> u16 {
    std::env::var("PORT").unwrap().parse().unwrap()
}
