//! A refresh counter, a value set from the URL, and a way to kill the session.
//!
//! ```sh
//! cargo run --example counter
//! ```
//! Open <http://127.0.0.1:3000/> and refresh, <http://127.0.0.1:3000/dbset/ada> to store a
//! name, <http://127.0.0.1:3000/kill> to clear the session. `PORT` changes the port.

use axum::Router;
use axum::extract::Path;
use axum::response::Redirect;
use axum::routing::get;
use sessionkit::axum::{Session, SessionError, SessionLayer};

async fn index(session: Session) -> Result<String, SessionError> {
    let refreshed: u64 = session.get("refreshed").await?.unwrap_or(0) + 1;
    session.insert("refreshed", &refreshed).await?;
    let name: Option<String> = session.get("name").await?;
    Ok(format!(
        "refreshed {refreshed} times; name = {}\n",
        name.as_deref().unwrap_or("(none: visit /dbset/<name>)")
    ))
}

async fn dbset(session: Session, Path(name): Path<String>) -> Result<Redirect, SessionError> {
    session.insert("name", &name).await?;
    Ok(Redirect::to("/"))
}

async fn kill(session: Session) -> Result<&'static str, SessionError> {
    session.clear().await?;
    Ok("session cleared\n")
}

/// The counter's routes over `layer`.
pub fn app(layer: SessionLayer) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/dbset/{name}", get(dbset))
        .route("/kill", get(kill))
        .layer(layer)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = app(sessionkit::axum::layer_from_env().await?);
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("counter example: open http://{}/", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
