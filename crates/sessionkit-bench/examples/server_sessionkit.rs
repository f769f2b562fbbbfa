//! axum + sessionkit-axum + sessionkit-redis, with sessionkit's defaults (the expiry slides
//! on every read). `GET /` increments `refreshed`; `GET /read` only reads it; `GET /static`
//! never touches the session. With `POSTGRES_URL` set (the soak test), the sessions live
//! in PostgreSQL, in the table `SESSION_TABLE`, instead of Redis.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use sessionkit_axum::{Session, SessionError, SessionLayer};
use sessionkit_core::{SessionConfig, SessionStore, Sessions};
use sessionkit_redis::RedisStore;
use sessionkit_sql::{Postgres, SqlStoreBuilder};

async fn increment(session: Session) -> Result<String, SessionError> {
    let n: u64 = session.get("refreshed").await?.unwrap_or(0) + 1;
    session.insert("refreshed", &n).await?;
    Ok(n.to_string())
}

async fn read(session: Session) -> Result<String, SessionError> {
    Ok(session
        .get::<u64>("refreshed")
        .await?
        .unwrap_or(0)
        .to_string())
}

#[tokio::main]
async fn main() {
    let store: Arc<dyn SessionStore> = match std::env::var("POSTGRES_URL") {
        Ok(url) => {
            let store = SqlStoreBuilder::<Postgres>::connect(&url)
                .await
                .unwrap()
                .table(std::env::var("SESSION_TABLE").unwrap())
                .build()
                .unwrap();
            store.migrate().await.unwrap();
            Arc::new(store)
        }
        Err(_) => Arc::new(
            RedisStore::builder(std::env::var("REDIS_URL").unwrap())
                // `SESSION_NEAR_CACHE=off`: the same server without the near cache.
                .near_cache(std::env::var("SESSION_NEAR_CACHE").map_or(true, |v| v != "off"))
                .build()
                .await
                .unwrap(),
        ),
    };
    let sessions = Sessions::new(store, SessionConfig::default()).unwrap();
    let app = Router::new()
        .route("/", get(increment))
        .route("/read", get(read))
        .route("/static", get(|| async { "static" }))
        .layer(SessionLayer::new(sessions));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port()))
        .await
        .unwrap();
    axum::serve(listener, app).await.unwrap();
}

fn port() -> u16 {
    std::env::var("PORT").unwrap().parse().unwrap()
}
