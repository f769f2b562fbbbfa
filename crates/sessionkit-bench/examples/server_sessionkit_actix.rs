//! actix-web + sessionkit-actix + sessionkit-redis, with sessionkit's defaults (the expiry
//! slides on every read). The same routes as `server_sessionkit` (axum) and
//! `server_actix_session`: `GET /` increments `refreshed`; `GET /read` only reads it;
//! `GET /static` never touches the session.

use std::sync::Arc;

use actix_web::{App, HttpServer, web};
use sessionkit_actix::{Session, SessionError, SessionMiddleware};
use sessionkit_core::{SessionConfig, Sessions};
use sessionkit_redis::RedisStore;

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

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let store = RedisStore::builder(std::env::var("REDIS_URL").unwrap())
        // `SESSION_NEAR_CACHE=off`: the same server without the near cache.
        .near_cache(std::env::var("SESSION_NEAR_CACHE").map_or(true, |v| v != "off"))
        .build()
        .await
        .unwrap();
    let sessions = Sessions::new(Arc::new(store), SessionConfig::default()).unwrap();
    let middleware = SessionMiddleware::new(sessions);
    HttpServer::new(move || {
        App::new()
            .wrap(middleware.clone())
            .route("/", web::get().to(increment))
            .route("/read", web::get().to(read))
            .route("/static", web::get().to(|| async { "static" }))
    })
    .bind(("127.0.0.1", port()))?
    .run()
    .await
}

fn port() -> u16 {
    std::env::var("PORT").unwrap().parse().unwrap()
}
