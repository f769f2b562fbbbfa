//! Login and logout with a new session id at login (session fixation defence).
//!
//! ```sh
//! cargo run --example login
//! ```
//! Open <http://127.0.0.1:3000/>, log in with any name and the password `sesame`, watch the
//! session cookie change at login, then log out. `PORT` changes the port.

use axum::Router;
use axum::extract::Form;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use sessionkit::axum::{Session, SessionError};

async fn index(session: Session) -> Result<Html<String>, SessionError> {
    Ok(Html(match session.get::<String>("user").await? {
        Some(user) => format!(
            "<p>Logged in as <b>{}</b>.</p><p><a href=\"/logout\">Log out</a></p>",
            user.replace('<', "&lt;")
        ),
        None => "<form method=\"post\" action=\"/login\">\
                 <input name=\"user\" placeholder=\"name\"> \
                 <input name=\"password\" type=\"password\" placeholder=\"sesame\"> \
                 <button>Log in</button></form>"
            .to_owned(),
    }))
}

#[derive(Deserialize)]
struct Credentials {
    user: String,
    password: String,
}

async fn login(session: Session, Form(form): Form<Credentials>) -> Result<Response, SessionError> {
    if form.password != "sesame" {
        return Ok((
            http::StatusCode::UNAUTHORIZED,
            Html("<p>Wrong password. <a href=\"/\">Back</a></p>"),
        )
            .into_response());
    }
    // A new id for the authenticated session: an id planted before login is worthless.
    session.cycle_id().await?;
    session.insert("user", form.user.trim()).await?;
    Ok(Redirect::to("/").into_response())
}

async fn logout(session: Session) -> Result<Redirect, SessionError> {
    session.clear().await?;
    Ok(Redirect::to("/"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = Router::new()
        .route("/", get(index))
        .route("/login", axum::routing::post(login))
        .route("/logout", get(logout))
        .layer(sessionkit::axum::layer_from_env().await?);
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("login example: open http://{}/", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
