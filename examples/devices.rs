//! "Your devices" and "log out everywhere": a user's sessions listed and revoked, a
//! password change that signs out every other device, and an admin endpoint that logs a
//! user out everywhere. Sessions are indexed by Flask-Login's `_user_id`
//! (`SESSION_USER_INDEX=true`, set here unless the environment says otherwise).
//!
//! ```sh
//! cargo run --example devices
//! ```
//! Open <http://127.0.0.1:3000/> in two browsers (or a normal and a private window), log in
//! as the same name (first password: `sesame`), and watch each list the other; change the
//! password in one and the other is logged out. `PORT` changes the port; the store is
//! chosen by `SESSION_TYPE` and its keys, as everywhere.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::StatusCode;
use serde::Deserialize;
use sessionkit::axum::{Session, SessionError, SessionLayer};
use sessionkit::{Config, ConfigKey, Sessions, UserSession};

/// The app's state: its users' passwords (a stand-in for a user table) and the sessions,
/// for the admin endpoint.
#[derive(Debug, Clone)]
pub struct App {
    passwords: Arc<Mutex<HashMap<String, String>>>,
    sessions: Sessions,
}

/// The router over `layer` (whose sessions must index users).
pub fn app(layer: SessionLayer) -> Router {
    let state = App {
        passwords: Arc::default(),
        sessions: layer.sessions().clone(),
    };
    Router::new()
        .route("/", get(index))
        .route("/login", post(login))
        .route("/password", post(change_password))
        .route("/logout-others", post(logout_others))
        .route("/logout", get(logout))
        .route("/admin/logout/{user}", post(admin_logout))
        .with_state(state)
        .layer(layer)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

fn seconds(at: Option<SystemTime>) -> String {
    at.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or_else(|| "?".to_owned(), |d| d.as_secs().to_string())
}

fn device_rows(devices: &[UserSession]) -> String {
    devices
        .iter()
        .map(|d| {
            format!(
                "<li>{}{} - created {}, last active {}, {} bytes</li>",
                d.hint,
                if d.current { " (this device)" } else { "" },
                seconds(d.created_at),
                seconds(d.last_active),
                d.size
            )
        })
        .collect()
}

async fn index(session: Session) -> Result<Html<String>, SessionError> {
    let Some(user) = session.get::<String>("_user_id").await? else {
        return Ok(Html(
            "<form method=\"post\" action=\"/login\">\
             <input name=\"user\" placeholder=\"name\"> \
             <input name=\"password\" type=\"password\" placeholder=\"sesame\"> \
             <button>Log in</button></form>"
                .to_owned(),
        ));
    };
    let devices = session.user_sessions().await?;
    Ok(Html(format!(
        "<p>Logged in as <b>{}</b> on {} devices:</p><ul>{}</ul>\
         <form method=\"post\" action=\"/logout-others\"><button>Log out everywhere else</button></form>\
         <form method=\"post\" action=\"/password\">\
         <input name=\"old\" type=\"password\" placeholder=\"current password\"> \
         <input name=\"new\" type=\"password\" placeholder=\"new password\"> \
         <button>Change password</button></form>\
         <p><a href=\"/logout\">Log out</a></p>",
        escape(&user),
        devices.len(),
        device_rows(&devices)
    )))
}

#[derive(Deserialize)]
struct Credentials {
    user: String,
    password: String,
}

async fn login(
    State(app): State<App>,
    session: Session,
    Form(form): Form<Credentials>,
) -> Result<Response, SessionError> {
    let user = form.user.trim().to_owned();
    let accepted = {
        let mut passwords = app.passwords.lock().expect("passwords");
        let expected = passwords
            .entry(user.clone())
            .or_insert_with(|| "sesame".to_owned());
        *expected == form.password
    };
    if user.is_empty() || !accepted {
        return Ok((StatusCode::UNAUTHORIZED, "wrong name or password").into_response());
    }
    // A new id at login (session fixation), and the session bound to the user.
    session.cycle_id().await?;
    session.insert("_user_id", &user).await?;
    Ok(Redirect::to("/").into_response())
}

#[derive(Deserialize)]
struct PasswordChange {
    old: String,
    new: String,
}

/// A password change ends every other session of the user (OWASP ASVS 7.4.3) and moves
/// this one to a new id.
async fn change_password(
    State(app): State<App>,
    session: Session,
    Form(form): Form<PasswordChange>,
) -> Result<Response, SessionError> {
    let Some(user) = session.get::<String>("_user_id").await? else {
        return Ok((StatusCode::UNAUTHORIZED, "log in first").into_response());
    };
    {
        let mut passwords = app.passwords.lock().expect("passwords");
        if passwords.get(&user) != Some(&form.old) || form.new.is_empty() {
            return Ok((StatusCode::FORBIDDEN, "wrong password").into_response());
        }
        passwords.insert(user, form.new);
    }
    let revoked = session.revoke_other_sessions().await?;
    session.cycle_id().await?;
    Ok(format!("password changed; {revoked} other sessions ended").into_response())
}

async fn logout_others(session: Session) -> Result<String, SessionError> {
    let revoked = session.revoke_other_sessions().await?;
    Ok(format!("{revoked} other sessions ended"))
}

async fn logout(session: Session) -> Result<Redirect, SessionError> {
    session.clear().await?;
    Ok(Redirect::to("/"))
}

/// What an admin (or a job) does when an account is compromised. A real app checks that
/// the caller is an admin.
async fn admin_logout(
    State(app): State<App>,
    Path(user): Path<String>,
) -> Result<String, SessionError> {
    let revoked = app.sessions.revoke_user(&user).await?;
    Ok(format!("{revoked} sessions of {user} ended"))
}

/// The configuration from the environment, with the user index on unless the environment
/// sets `SESSION_USER_INDEX` itself.
pub fn config() -> Result<Config, sessionkit::Error> {
    let mut builder = sessionkit::ConfigBuilder::from_env()?;
    if std::env::var_os(ConfigKey::UserIndex.as_str()).is_none() {
        builder = builder.with_config(ConfigKey::UserIndex, "true")?;
    }
    builder.build()
}

#[allow(dead_code)] // a test includes this file for `app` and `config`
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let layer = sessionkit::axum::layer(&config()?).await?;
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("devices example: open http://{}/", listener.local_addr()?);
    axum::serve(listener, app(layer)).await?;
    Ok(())
}
