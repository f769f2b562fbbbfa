//! sessionkit without the facade: `sessionkit-core` + `sessionkit-redis` +
//! `sessionkit-axum`, configured in code.
//!
//! ```sh
//! cargo run -p standalone-redis      # Redis on 127.0.0.1:6379; open http://127.0.0.1:3000/
//! ```

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use sessionkit_axum::{Session, SessionError, SessionLayer};
use sessionkit_core::{SessionConfig, Sessions};
use sessionkit_redis::RedisStore;

async fn index(session: Session) -> Result<String, SessionError> {
    let refreshed: u64 = session.get("refreshed").await?.unwrap_or(0) + 1;
    session.insert("refreshed", &refreshed).await?;
    Ok(format!("refreshed {refreshed} times\n"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let store = RedisStore::builder(url)
        .key_prefix("session:")
        .build()
        .await?;
    let sessions = Sessions::new(Arc::new(store), SessionConfig::default())?;
    let app = Router::new()
        .route("/", get(index))
        .layer(SessionLayer::new(sessions));
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("standalone-redis: open http://{}/", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
