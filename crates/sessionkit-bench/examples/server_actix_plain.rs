//! actix-web with no session middleware: the framework's own cost.

use actix_web::{App, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT").unwrap().parse().unwrap();
    HttpServer::new(|| {
        App::new()
            .route("/", web::get().to(|| async { 1u64.to_string() }))
            .route("/read", web::get().to(|| async { 1u64.to_string() }))
            .route("/static", web::get().to(|| async { "static" }))
    })
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
