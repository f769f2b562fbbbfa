//! axum-login and axum-messages on `TowerSessionsLayer`, through a real axum `Router`, on
//! memory and Redis: login, a protected route, logout, the auth-hash check, a flash message
//! across a redirect, the two logout races (a rotating request and a slower write), and
//! "log out everywhere" through the user index on axum-login's own user id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_login::{AuthManager, AuthSession, AuthUser, AuthnBackend, UserId, login_required};
use axum_messages::{Messages, MessagesManagerLayer};
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use sessionkit_core::{DynSessionStore, Id, MemoryStore, SessionConfig, SessionStore, Sessions};
use sessionkit_redis::RedisStore;
use sessionkit_tower_sessions::TowerSessionsLayer;
use tokio::sync::Notify;
use tower::ServiceExt;
use tower_sessions_core::Session;

#[derive(Clone)]
struct User {
    id: i64,
    name: String,
    password_hash: Vec<u8>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl AuthUser for User {
    type Id = i64;
    fn id(&self) -> i64 {
        self.id
    }
    fn session_auth_hash(&self) -> &[u8] {
        &self.password_hash
    }
}

#[derive(Debug, Clone, serde::Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

/// The user table; a password's "hash" is the password itself, enough for these tests.
#[derive(Debug, Clone, Default)]
struct Users(Arc<Mutex<HashMap<i64, User>>>);

impl Users {
    fn add(&self, id: i64, name: &str, password: &str) {
        let user = User {
            id,
            name: name.into(),
            password_hash: password.as_bytes().to_vec(),
        };
        self.0.lock().unwrap().insert(id, user);
    }
}

impl AuthnBackend for Users {
    type User = User;
    type Credentials = Credentials;
    type Error = std::convert::Infallible;

    async fn authenticate(&self, creds: Credentials) -> Result<Option<User>, Self::Error> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .values()
            .find(|u| u.name == creds.username && u.password_hash == creds.password.as_bytes())
            .cloned())
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<User>, Self::Error> {
        Ok(self.0.lock().unwrap().get(id).cloned())
    }
}

/// Two handlers pause between loading the session and writing it, for the races.
#[derive(Debug, Clone, Default)]
struct Pause {
    loaded: Arc<Notify>,
    resume: Arc<Notify>,
}

impl Pause {
    async fn hold(&self) {
        self.loaded.notify_one();
        self.resume.notified().await;
    }
}

type Auth = AuthSession<Users>;

async fn login(mut auth: Auth, messages: Messages, Form(creds): Form<Credentials>) -> Response {
    match auth.authenticate(creds).await.unwrap() {
        Some(user) => {
            auth.login(&user).await.unwrap();
            messages.success(format!("welcome, {}", user.name));
            Redirect::to("/protected").into_response()
        }
        None => {
            messages.error("wrong name or password");
            Redirect::to("/login").into_response()
        }
    }
}

async fn login_page(messages: Messages) -> String {
    let flashed: Vec<String> = messages.map(|m| m.message).collect();
    format!("login page; {}", flashed.join(","))
}

async fn protected(auth: Auth, messages: Messages) -> String {
    let flashed: Vec<String> = messages.map(|m| m.message).collect();
    format!("hello {}; {}", auth.user.unwrap().name, flashed.join(","))
}

async fn logout(mut auth: Auth, messages: Messages) -> Redirect {
    auth.logout().await.unwrap();
    messages.info("bye");
    Redirect::to("/login")
}

/// Loads the session, pauses, then writes: the slower request of the race.
async fn slow_write(State(pause): State<Pause>, session: Session) -> StatusCode {
    let _: Option<serde_json::Value> = session.get("axum-login.data").await.unwrap();
    pause.hold().await;
    session.insert("late", "write").await.unwrap();
    StatusCode::OK
}

/// Loads the session, pauses, then rotates its id (a login on top of a session).
async fn slow_rotate(State(pause): State<Pause>, session: Session) -> StatusCode {
    let _: Option<serde_json::Value> = session.get("axum-login.data").await.unwrap();
    pause.hold().await;
    session.cycle_id().await.unwrap();
    StatusCode::OK
}

struct TestApp {
    router: Router,
    users: Users,
    pause: Pause,
    store: DynSessionStore,
    sessions: Sessions,
}

async fn app(store: DynSessionStore) -> TestApp {
    let users = Users::default();
    users.add(1, "ada", "hunter2");
    let pause = Pause::default();
    // Sessions indexed by axum-login's user id, kept in the map under its data key.
    let mut config = SessionConfig::default();
    config.user_index = true;
    config.user_key = "axum-login.data/user_id".to_owned();
    let sessions = Sessions::new(Arc::clone(&store), config).unwrap();
    let backend = users.clone();
    let router = Router::new()
        .route("/protected", get(protected))
        .route_layer(login_required!(Users, login_url = "/login"))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/slow-write", post(slow_write))
        .route("/slow-rotate", post(slow_rotate))
        .with_state(pause.clone())
        .layer(MessagesManagerLayer)
        .layer(tower::layer::layer_fn(move |inner| {
            AuthManager::new(inner, backend.clone(), "axum-login.data")
        }))
        .layer(TowerSessionsLayer::new(sessions.clone()));
    TestApp {
        router,
        users,
        pause,
        store,
        sessions,
    }
}

#[derive(Debug, Clone, Copy)]
enum Backend {
    Memory,
    Redis,
}

impl Backend {
    async fn app(self) -> TestApp {
        let store: DynSessionStore = match self {
            Self::Memory => Arc::new(MemoryStore::new()),
            Self::Redis => Arc::new(
                RedisStore::builder("redis://127.0.0.1:6379")
                    .key_prefix(format!("ts-bridge-{}:", Id::random()))
                    .build()
                    .await
                    .expect("Redis on 127.0.0.1:6379: start it with ./scripts/services"),
            ),
        };
        app(store).await
    }
}

/// What a response said: its status, its `Location`, its body, and the session cookie it
/// set (`Some("")` when it removed it).
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    location: Option<String>,
    body: String,
    cookie: Option<String>,
}

impl TestApp {
    async fn send(&self, method: &str, uri: &str, cookie: Option<&str>, form: &str) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(cookie) = cookie.filter(|c| !c.is_empty()) {
            request = request.header(header::COOKIE, format!("session={cookie}"));
        }
        if !form.is_empty() {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let request = request.body(Body::from(form.to_owned())).unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        let cookie = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .find_map(|v| v.strip_prefix("session="))
            .map(|v| v.split(';').next().unwrap().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            location,
            body: String::from_utf8(body.to_vec()).unwrap(),
            cookie,
        }
    }

    /// Logs ada in; returns the session cookie.
    async fn log_in(&self) -> String {
        let reply = self
            .send("POST", "/login", None, "username=ada&password=hunter2")
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{reply:?}");
        assert_eq!(reply.location.as_deref(), Some("/protected"));
        reply.cookie.expect("login sets the session cookie")
    }

    async fn is_logged_in(&self, cookie: &str) -> bool {
        let reply = self.send("GET", "/protected", Some(cookie), "").await;
        match reply.status {
            StatusCode::OK => true,
            StatusCode::TEMPORARY_REDIRECT => false,
            other => panic!("unexpected {other}: {reply:?}"),
        }
    }

    async fn stored(&self, cookie: &str) -> bool {
        let id = Id::parse(cookie).expect("an unsigned sessionkit id");
        self.store.load(&id).await.unwrap().is_some()
    }
}

async fn login_opens_the_protected_page_with_the_flash_message(backend: Backend) {
    let app = backend.app().await;
    assert!(
        !app.is_logged_in("").await,
        "not logged in without a cookie"
    );
    let cookie = app.log_in().await;
    // The flash message set before the redirect is shown once after it.
    let reply = app.send("GET", "/protected", Some(&cookie), "").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "hello ada; welcome, ada");
    let reply = app.send("GET", "/protected", Some(&cookie), "").await;
    assert_eq!(reply.body, "hello ada; ");
}

async fn login_rotates_the_session_id(backend: Backend) {
    let app = backend.app().await;
    // An anonymous session first (a failed login leaves a flash message in it).
    let reply = app
        .send("POST", "/login", None, "username=ada&password=wrong")
        .await;
    let anonymous = reply.cookie.expect("the flash message is stored");
    let reply = app
        .send(
            "POST",
            "/login",
            Some(&anonymous),
            "username=ada&password=hunter2",
        )
        .await;
    let logged_in = reply.cookie.expect("a new cookie");
    assert_ne!(logged_in, anonymous, "login moves the session to a new id");
    assert!(!app.stored(&anonymous).await, "the old record is deleted");
    assert!(app.is_logged_in(&logged_in).await);
}

async fn logout_deletes_the_session_and_flashes_on_a_fresh_one(backend: Backend) {
    let app = backend.app().await;
    let cookie = app.log_in().await;
    let reply = app.send("POST", "/logout", Some(&cookie), "").await;
    assert_eq!(reply.location.as_deref(), Some("/login"));
    let fresh = reply
        .cookie
        .expect("the flash message goes to a fresh session");
    assert_ne!(fresh, cookie);
    assert!(!app.stored(&cookie).await, "the logged-in record is gone");
    assert!(!app.is_logged_in(&cookie).await);
    let reply = app.send("GET", "/login", Some(&fresh), "").await;
    assert_eq!(reply.body, "login page; bye");
    assert!(!app.is_logged_in(&fresh).await);
}

async fn a_changed_password_hash_ends_the_session(backend: Backend) {
    let app = backend.app().await;
    let cookie = app.log_in().await;
    assert!(app.is_logged_in(&cookie).await);
    app.users.add(1, "ada", "a new password");
    assert!(!app.is_logged_in(&cookie).await);
    assert!(
        !app.stored(&cookie).await,
        "axum-login's flush deleted the record"
    );
}

async fn a_slower_write_does_not_undo_a_logout(backend: Backend) {
    let app = Arc::new(backend.app().await);
    let cookie = app.log_in().await;
    let slow = tokio::spawn({
        let (app, cookie) = (Arc::clone(&app), cookie.clone());
        async move { app.send("POST", "/slow-write", Some(&cookie), "").await }
    });
    app.pause.loaded.notified().await;
    app.send("POST", "/logout", Some(&cookie), "").await;
    app.pause.resume.notify_one();
    let reply = slow.await.unwrap();
    assert!(
        !app.stored(&cookie).await,
        "the slow write did not recreate the record"
    );
    assert!(!app.is_logged_in(&cookie).await);
    if let Some(new) = reply.cookie.clone().filter(|c| !c.is_empty()) {
        assert!(!app.is_logged_in(&new).await, "{reply:?}");
    }
}

async fn a_rotating_request_does_not_undo_a_logout(backend: Backend) {
    let app = Arc::new(backend.app().await);
    let cookie = app.log_in().await;
    let slow = tokio::spawn({
        let (app, cookie) = (Arc::clone(&app), cookie.clone());
        async move { app.send("POST", "/slow-rotate", Some(&cookie), "").await }
    });
    app.pause.loaded.notified().await;
    app.send("POST", "/logout", Some(&cookie), "").await;
    app.pause.resume.notify_one();
    let reply = slow.await.unwrap();
    assert!(!app.stored(&cookie).await);
    assert!(!app.is_logged_in(&cookie).await);
    if let Some(new) = reply.cookie.clone().filter(|c| !c.is_empty()) {
        assert!(
            !app.stored(&new).await,
            "the rotation stored nothing: {reply:?}"
        );
        assert!(!app.is_logged_in(&new).await);
    }
}

async fn axum_login_sessions_are_found_and_revoked_by_user_id(backend: Backend) {
    let app = backend.app().await;
    let phone = app.log_in().await;
    let laptop = app.log_in().await;
    let listed = app.sessions.user_sessions("1").await.unwrap();
    assert_eq!(listed.len(), 2, "both logins are indexed under ada's id");
    assert_eq!(app.sessions.revoke_user("1").await.unwrap(), 2);
    assert!(!app.is_logged_in(&phone).await);
    assert!(!app.is_logged_in(&laptop).await);
    // A logout unbinds: nothing is left to list.
    let again = app.log_in().await;
    app.send("POST", "/logout", Some(&again), "").await;
    assert!(app.sessions.user_sessions("1").await.unwrap().is_empty());
}

macro_rules! on_backend {
    ($module:ident, $backend:expr) => {
        mod $module {
            use super::*;

            #[tokio::test]
            async fn login_opens_the_protected_page_with_the_flash_message() {
                super::login_opens_the_protected_page_with_the_flash_message($backend).await
            }
            #[tokio::test]
            async fn login_rotates_the_session_id() {
                super::login_rotates_the_session_id($backend).await
            }
            #[tokio::test]
            async fn logout_deletes_the_session_and_flashes_on_a_fresh_one() {
                super::logout_deletes_the_session_and_flashes_on_a_fresh_one($backend).await
            }
            #[tokio::test]
            async fn a_changed_password_hash_ends_the_session() {
                super::a_changed_password_hash_ends_the_session($backend).await
            }
            #[tokio::test]
            async fn a_slower_write_does_not_undo_a_logout() {
                super::a_slower_write_does_not_undo_a_logout($backend).await
            }
            #[tokio::test]
            async fn a_rotating_request_does_not_undo_a_logout() {
                super::a_rotating_request_does_not_undo_a_logout($backend).await
            }
            #[tokio::test]
            async fn axum_login_sessions_are_found_and_revoked_by_user_id() {
                super::axum_login_sessions_are_found_and_revoked_by_user_id($backend).await
            }
        }
    };
}

on_backend!(memory, Backend::Memory);
on_backend!(redis, Backend::Redis);
