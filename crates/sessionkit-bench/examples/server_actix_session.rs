//! actix-web + actix-session with its Redis store, with actix-session's defaults.

use actix_session::storage::RedisSessionStore;
use actix_session::{Session, SessionMiddleware};
use actix_web::cookie::Key;
use actix_web::{App, HttpServer, web};

async fn increment(session: Session) -> String {
    let n: u64 = session.get("refreshed").unwrap().unwrap_or(0) + 1;
    session.insert("refreshed", n).unwrap();
    n.to_string()
}

async fn read(session: Session) -> String {
    session
        .get::<u64>("refreshed")
        .unwrap()
        .unwrap_or(0)
        .to_string()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let store = RedisSessionStore::new(std::env::var("REDIS_URL").unwrap())
        .await
        .unwrap();
    let key = Key::generate();
    HttpServer::new(move || {
        App::new()
            .wrap(
                SessionMiddleware::builder(store.clone(), key.clone())
                    .cookie_secure(false)
                    .build(),
            )
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
