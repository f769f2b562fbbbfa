//! axum with no session layer: the framework's own cost, for the overhead figures.

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() {
    let app = Router::new()
        .route("/", get(|| async { 1u64.to_string() }))
        .route("/read", get(|| async { 1u64.to_string() }))
        .route("/static", get(|| async { "static" }));
    let port: u16 = std::env::var("PORT").unwrap().parse().unwrap();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    axum::serve(listener, app).await.unwrap();
}
