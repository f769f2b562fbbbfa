//! axum-login's flow on sessionkit: a user table in SQLite, a login form, a protected page
//! and logout, with flash messages from axum-messages. The only sessionkit-specific line
//! is the session layer; the store comes from `SESSION_TYPE` and the other Flask-Session
//! keys (memory when unset).
//!
//! ```sh
//! cargo run -p axum-login-example
//! SESSION_TYPE=redis SESSION_REDIS=redis://127.0.0.1:6379 cargo run -p axum-login-example
//! ```
//! Open <http://127.0.0.1:3000/>, log in as `ferris` / `hunter42`. `PORT` changes the port,
//! `USERS_DB` the user database (default: in memory).

use std::fmt;

use axum::Router;
use axum::extract::{Form, Query};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_login::{AuthManager, AuthSession, AuthUser, AuthnBackend, UserId, login_required};
use axum_messages::{Messages, MessagesManagerLayer};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;

/// A row of the user table.
#[derive(Clone)]
struct User {
    id: i64,
    username: String,
    password_hash: Vec<u8>,
}

// Not the hash: Debug output ends up in logs.
impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A user row as sqlx reads it (no derive macros: a tuple).
type Row = (i64, String, Vec<u8>);

impl From<Row> for User {
    fn from((id, username, password_hash): Row) -> Self {
        Self {
            id,
            username,
            password_hash,
        }
    }
}

impl AuthUser for User {
    type Id = i64;

    fn id(&self) -> i64 {
        self.id
    }

    /// Changing the password changes this, which ends every session of the user.
    fn session_auth_hash(&self) -> &[u8] {
        &self.password_hash
    }
}

/// The form's fields.
#[derive(Clone, Deserialize)]
struct Credentials {
    username: String,
    password: String,
    next: Option<String>,
}

/// Users in SQLite.
#[derive(Debug, Clone)]
struct Backend {
    db: SqlitePool,
}

/// A salted SHA-256, to keep the example small: use a password hash (argon2, through the
/// `password-auth` crate as axum-login's own example does) in a real application.
fn hash(username: &str, password: &str) -> Vec<u8> {
    Sha256::digest(format!("{username}\0{password}")).to_vec()
}

impl AuthnBackend for Backend {
    type User = User;
    type Credentials = Credentials;
    type Error = sqlx::Error;

    async fn authenticate(&self, creds: Credentials) -> Result<Option<User>, sqlx::Error> {
        let row: Option<Row> =
            sqlx::query_as("SELECT id, username, password_hash FROM users WHERE username = ?")
                .bind(&creds.username)
                .fetch_optional(&self.db)
                .await?;
        let given = hash(&creds.username, &creds.password);
        Ok(row
            .map(User::from)
            .filter(|user| user.password_hash == given))
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<User>, sqlx::Error> {
        let row: Option<Row> =
            sqlx::query_as("SELECT id, username, password_hash FROM users WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.db)
                .await?;
        Ok(row.map(User::from))
    }
}

type Auth = AuthSession<Backend>;

fn flashed(messages: Messages) -> String {
    messages
        .map(|m| format!("<p><i>{}</i></p>", m.message))
        .collect()
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

async fn login_page(messages: Messages, Query(Next { next }): Query<Next>) -> Html<String> {
    let next = next.unwrap_or_default().replace('"', "");
    Html(format!(
        "{}<form method=\"post\" action=\"/login\">\
         <input name=\"username\" placeholder=\"ferris\"> \
         <input name=\"password\" type=\"password\" placeholder=\"hunter42\"> \
         <input type=\"hidden\" name=\"next\" value=\"{next}\"> \
         <button>Log in</button></form>",
        flashed(messages)
    ))
}

async fn login(mut auth: Auth, messages: Messages, Form(creds): Form<Credentials>) -> Response {
    let next = creds
        .next
        .clone()
        .filter(|n| n.starts_with('/') && !n.starts_with("//"));
    let user = match auth.authenticate(creds).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            messages.error("Wrong username or password.");
            return Redirect::to("/login").into_response();
        }
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    if auth.login(&user).await.is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    messages.success(format!("Welcome, {}!", user.username));
    Redirect::to(next.as_deref().unwrap_or("/")).into_response()
}

async fn protected(auth: Auth, messages: Messages) -> Html<String> {
    let name = auth.user.map(|u| u.username).unwrap_or_default();
    Html(format!(
        "{}<p>Logged in as <b>{name}</b>.</p>\
         <form method=\"post\" action=\"/logout\"><button>Log out</button></form>",
        flashed(messages)
    ))
}

async fn logout(mut auth: Auth, messages: Messages) -> Response {
    match auth.logout().await {
        Ok(_) => {
            messages.info("You are logged out.");
            Redirect::to("/login").into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db_url = std::env::var("USERS_DB").unwrap_or_else(|_| "sqlite::memory:".into());
    let db = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1) // one in-memory database, shared
        .connect(&db_url)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS users \
         (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash BLOB NOT NULL)",
    )
    .execute(&db)
    .await?;
    sqlx::query("INSERT OR IGNORE INTO users (username, password_hash) VALUES (?, ?)")
        .bind("ferris")
        .bind(hash("ferris", "hunter42"))
        .execute(&db)
        .await?;

    let backend = Backend { db };
    let app = Router::new()
        .route("/", get(protected))
        .route("/logout", post(logout))
        .route_layer(login_required!(Backend, login_url = "/login"))
        .route("/login", get(login_page).post(login))
        .layer(MessagesManagerLayer)
        // axum-login's service, inside the session layer (its `AuthManagerLayerBuilder`
        // takes tower-sessions' own layer, which sessionkit's replaces).
        .layer(tower_layer::layer_fn(move |inner| {
            AuthManager::new(inner, backend.clone(), "axum-login.data")
        }))
        // The one sessionkit line: SESSION_TYPE and the other keys choose the store.
        .layer(sessionkit::tower_sessions::layer_from_env().await?);

    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
