//! The classic Flask-Session example, in Rust: a refresh counter, a login form and a logout.
//!
//! ```sh
//! cargo run --example quickstart                                   # memory store
//! SESSION_TYPE=redis cargo run --features full --example quickstart  # any compiled-in store
//! ```
//! Then open <http://127.0.0.1:3000/> and refresh; `/login` stores a user name, `/logout`
//! clears the session. `PORT` changes the port.

use axum::Router;
use axum::extract::Form;
use axum::response::{Html, Redirect};
use axum::routing::get;
use serde::Deserialize;
use sessionkit::axum::{Session, SessionError, SessionLayer};

/// The quickstart's three pages over `layer`.
pub fn app(layer: SessionLayer) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login_form).post(login))
        .route("/logout", get(logout))
        .layer(layer)
}

/// `/`: counts this session's refreshes under the key `refreshed`.
async fn index(session: Session) -> Result<Html<String>, SessionError> {
    let refreshed: u64 = session.get("refreshed").await?.unwrap_or(0) + 1;
    session.insert("refreshed", &refreshed).await?;
    let user: Option<String> = session.get("username").await?;
    let who = match user {
        Some(name) => format!(
            "Logged in as <b>{}</b>. <a href=\"/logout\">Log out</a>",
            escape(&name)
        ),
        None => "Not logged in. <a href=\"/login\">Log in</a>".to_owned(),
    };
    Ok(Html(format!(
        "<h1>sessionkit quickstart</h1>\
         <p>You have refreshed this page <b>{refreshed}</b> times in this session.</p>\
         <p>{who}</p>"
    )))
}

/// `GET /login`: the form.
async fn login_form() -> Html<&'static str> {
    Html(
        "<h1>Log in</h1>\
         <form method=\"post\" action=\"/login\">\
         <input name=\"username\" placeholder=\"user name\" autofocus> \
         <button>Log in</button></form>",
    )
}

#[derive(Deserialize)]
struct Login {
    username: String,
}

/// `POST /login`: stores the user name under `username`, on a new session id.
async fn login(session: Session, Form(form): Form<Login>) -> Result<Redirect, SessionError> {
    session.cycle_id().await?;
    session.insert("username", form.username.trim()).await?;
    Ok(Redirect::to("/"))
}

/// `/logout`: clears the session (its record is deleted and its cookie removed).
async fn logout(session: Session) -> Result<Redirect, SessionError> {
    session.clear().await?;
    Ok(Redirect::to("/"))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let config = sessionkit::Config::from_env()?;
    let app = app(sessionkit::axum::layer(&config).await?);

    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!(
        "sessionkit quickstart on {} sessions: open http://{}/",
        config.session_type(),
        listener.local_addr()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}
