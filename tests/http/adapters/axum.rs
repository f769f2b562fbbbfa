//! The route table on axum, behind `SessionLayer`, called with tower's `oneshot`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::routing::get;
use http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use sessionkit::Sessions;
use sessionkit::axum::{Session, SessionError, SessionLayer};
use tower::ServiceExt;

use crate::adapters::{ErrorResponses, custom_error_body};
use crate::support::{Gate, TestResponse};

#[derive(Clone)]
pub(crate) struct AxumApp(Router);

impl AxumApp {
    pub(crate) fn new(sessions: Sessions, gate: Arc<Gate>, errors: ErrorResponses) -> Self {
        let mut layer: SessionLayer = SessionLayer::new(sessions);
        if errors == ErrorResponses::Custom {
            layer = layer.on_error(|error| {
                let mut response = Response::new(Body::from(custom_error_body(error)));
                *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                response
            });
        }
        Self(routes(gate).layer(layer))
    }

    pub(crate) async fn send(&self, request: Request<()>) -> TestResponse {
        let request = request.map(|()| Body::empty());
        let response = self.0.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        TestResponse {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }
}

fn routes(gate: Arc<Gate>) -> Router {
    Router::new()
        .route("/noop", get(|| async { "ok" }))
        .route("/get/{key}", get(get_value))
        .route("/set/{key}/{value}", get(set_value))
        .route("/remove/{key}", get(remove))
        .route("/incr", get(incr))
        .route("/clear", get(clear))
        .route("/cycle", get(cycle))
        .route("/permanent/{on}", get(permanent))
        .route("/id", get(id))
        .route("/keys", get(keys))
        .route("/vary", get(vary_already_set))
        .route("/own_caching/{header}", get(own_caching))
        .route("/slow_set/{key}/{value}", get(slow_set))
        .route("/slow_read/{key}", get(slow_read))
        .route("/slow_cycle", get(slow_cycle))
        .route("/take/{key}", get(take))
        .route("/clear_then_set/{key}/{value}", get(clear_then_set))
        .route("/destroy", get(destroy))
        .route("/login/{user}", get(login))
        .route("/devices", get(devices))
        .route("/revoke_others", get(revoke_others))
        .with_state(gate)
}
async fn get_value(session: Session, Path(key): Path<String>) -> Result<String, SessionError> {
    Ok(session
        .get::<String>(&key)
        .await?
        .unwrap_or_else(|| "<none>".to_owned()))
}

async fn set_value(
    session: Session,
    Path((key, value)): Path<(String, String)>,
) -> Result<&'static str, SessionError> {
    session.insert(&key, &value).await?;
    Ok("set")
}

async fn remove(session: Session, Path(key): Path<String>) -> Result<String, SessionError> {
    Ok(session.remove(&key).await?.to_string())
}

async fn incr(session: Session) -> Result<String, SessionError> {
    let n: u64 = session.get("refreshed").await?.unwrap_or(0) + 1;
    session.insert("refreshed", &n).await?;
    Ok(n.to_string())
}

async fn clear(session: Session) -> Result<&'static str, SessionError> {
    session.clear().await?;
    Ok("cleared")
}

async fn cycle(session: Session) -> Result<&'static str, SessionError> {
    session.cycle_id().await?;
    Ok("cycled")
}

async fn permanent(session: Session, Path(on): Path<bool>) -> Result<&'static str, SessionError> {
    session.set_permanent(on).await?;
    Ok("ok")
}

async fn id(session: Session) -> Result<String, SessionError> {
    Ok(session.id().await?.to_string())
}

async fn keys(session: Session) -> Result<String, SessionError> {
    Ok(session.keys().await?.join(","))
}

async fn vary_already_set(
    session: Session,
) -> Result<([(header::HeaderName, &'static str); 1], String), SessionError> {
    let value = session.get::<String>("a").await?.unwrap_or_default();
    Ok(([(header::VARY, "cookie")], value))
}

/// Writes the session and sets the app's own caching header: `cache-control` or
/// `expires`.
async fn own_caching(
    session: Session,
    Path(name): Path<String>,
) -> Result<([(header::HeaderName, &'static str); 1], &'static str), SessionError> {
    session.insert("a", &"1").await?;
    let own = match name.as_str() {
        "expires" => (header::EXPIRES, "Thu, 01 Jan 2099 00:00:00 GMT"),
        _ => (header::CACHE_CONTROL, "public, max-age=60"),
    };
    Ok(([own], "set"))
}

async fn slow_set(
    State(gate): State<Arc<Gate>>,
    session: Session,
    Path((key, value)): Path<(String, String)>,
) -> Result<&'static str, SessionError> {
    session.get::<String>(&key).await?;
    gate.entered.notify_one();
    gate.release.notified().await;
    session.insert(&key, &value).await?;
    Ok("set")
}

async fn slow_read(
    State(gate): State<Arc<Gate>>,
    session: Session,
    Path(key): Path<String>,
) -> Result<String, SessionError> {
    let value = session.get::<String>(&key).await?;
    gate.entered.notify_one();
    gate.release.notified().await;
    Ok(value.unwrap_or_else(|| "<none>".to_owned()))
}

/// Loads the session, waits at the gate, then rotates the id; answers with the new id.
async fn slow_cycle(
    State(gate): State<Arc<Gate>>,
    session: Session,
) -> Result<String, SessionError> {
    session.get::<String>("user").await?;
    gate.entered.notify_one();
    gate.release.notified().await;
    session.cycle_id().await?;
    Ok(session.id().await?.to_string())
}

/// Flask's `session.pop(key)`.
async fn take(session: Session, Path(key): Path<String>) -> Result<String, SessionError> {
    Ok(session
        .take::<String>(&key)
        .await?
        .unwrap_or_else(|| "<none>".to_owned()))
}

/// A logout followed by a flash message.
async fn clear_then_set(
    session: Session,
    Path((key, value)): Path<(String, String)>,
) -> Result<&'static str, SessionError> {
    session.clear().await?;
    session.insert(&key, &value).await?;
    Ok("set")
}

async fn destroy(session: Session) -> Result<&'static str, SessionError> {
    session.destroy().await?;
    Ok("destroyed")
}

/// Flask-Login's `login_user`: binds the session to `user` and moves it to a new id.
async fn login(session: Session, Path(user): Path<String>) -> Result<&'static str, SessionError> {
    session.insert("_user_id", &user).await?;
    session.cycle_id().await?;
    Ok("ok")
}

async fn devices(session: Session) -> Result<String, SessionError> {
    Ok(crate::adapters::describe_devices(
        &session.user_sessions().await?,
    ))
}

async fn revoke_others(session: Session) -> Result<String, SessionError> {
    Ok(session.revoke_other_sessions().await?.to_string())
}
