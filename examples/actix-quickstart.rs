//! The quickstart's three pages on actix-web: a refresh counter, a login form and a logout.
//!
//! ```sh
//! cargo run --features actix --example actix-quickstart                       # memory store
//! SESSION_TYPE=redis cargo run --features full --example actix-quickstart     # any compiled-in store
//! ```
//! Then open <http://127.0.0.1:3000/> and refresh; `/login` stores a user name, `/logout`
//! clears the session. `PORT` changes the port.

use actix_web::http::header::LOCATION;
use actix_web::{App, HttpResponse, HttpServer, web};
use serde::Deserialize;
use sessionkit::actix::{Session, SessionError};

/// `/`: counts this session's refreshes under the key `refreshed`.
async fn index(session: Session) -> Result<HttpResponse, SessionError> {
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
    Ok(html(format!(
        "<h1>sessionkit quickstart (actix-web)</h1>\
         <p>You have refreshed this page <b>{refreshed}</b> times in this session.</p>\
         <p>{who}</p>"
    )))
}

/// `GET /login`: the form.
async fn login_form() -> HttpResponse {
    html(
        "<h1>Log in</h1>\
         <form method=\"post\" action=\"/login\">\
         <input name=\"username\" placeholder=\"user name\" autofocus> \
         <button>Log in</button></form>"
            .to_owned(),
    )
}

#[derive(Deserialize)]
struct Login {
    username: String,
}

/// `POST /login`: stores the user name under `username`, on a new session id.
async fn login(session: Session, form: web::Form<Login>) -> Result<HttpResponse, SessionError> {
    session.cycle_id().await?;
    session.insert("username", form.username.trim()).await?;
    Ok(redirect_home())
}

/// `/logout`: clears the session (its record is deleted and its cookie removed).
async fn logout(session: Session) -> Result<HttpResponse, SessionError> {
    session.clear().await?;
    Ok(redirect_home())
}

fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body)
}

fn redirect_home() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, "/"))
        .finish()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let config = sessionkit::Config::from_env()?;
    let sessions = sessionkit::actix::middleware(&config).await?;

    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(sessions.clone())
            .route("/", web::get().to(index))
            .route("/login", web::get().to(login_form))
            .route("/login", web::post().to(login))
            .route("/logout", web::get().to(logout))
    })
    .bind(("127.0.0.1", port))?;
    println!(
        "sessionkit quickstart (actix-web) on {} sessions: open http://{}/",
        config.session_type(),
        server.addrs()[0]
    );
    server.run().await?;
    Ok(())
}
