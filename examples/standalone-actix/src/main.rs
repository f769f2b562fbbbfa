//! sessionkit without the facade: `sessionkit-core` + `sessionkit-redis` +
//! `sessionkit-actix`, configured in code.
//!
//! ```sh
//! cargo run -p standalone-actix      # Redis on 127.0.0.1:6379; open http://127.0.0.1:3000/
//! ```

use std::sync::Arc;

use actix_web::{App, HttpServer, web};
use sessionkit_actix::{Session, SessionError, SessionMiddleware};
use sessionkit_core::{SessionConfig, Sessions};
use sessionkit_redis::RedisStore;

async fn index(session: Session) -> Result<String, SessionError> {
    let refreshed: u64 = session.get("refreshed").await?.unwrap_or(0) + 1;
    session.insert("refreshed", &refreshed).await?;
    Ok(format!("refreshed {refreshed} times\n"))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let store = RedisStore::builder(url)
        .key_prefix("session:")
        .build()
        .await?;
    let middleware =
        SessionMiddleware::new(Sessions::new(Arc::new(store), SessionConfig::default())?);
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(middleware.clone())
            .route("/", web::get().to(index))
    })
    .bind(("127.0.0.1", port))?;
    println!("standalone-actix: open http://{}/", server.addrs()[0]);
    server.run().await?;
    Ok(())
}
