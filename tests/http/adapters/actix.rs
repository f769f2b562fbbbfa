//! The route table on actix-web, wrapped in `SessionMiddleware`, called with
//! `actix_web::test` on the test's own runtime.

use std::sync::Arc;

use actix_web::http::header::{CACHE_CONTROL, EXPIRES, HeaderValue, VARY};
use actix_web::{App, HttpResponse, test, web};
use http::{HeaderMap, HeaderName, Request, StatusCode};
use sessionkit::Sessions;
use sessionkit::actix::{Session, SessionError, SessionMiddleware};

use crate::adapters::{ErrorResponses, custom_error_body};
use crate::support::{Gate, TestResponse};

#[derive(Clone)]
pub(crate) struct ActixApp {
    middleware: SessionMiddleware,
    gate: Arc<Gate>,
}

impl ActixApp {
    pub(crate) fn new(sessions: Sessions, gate: Arc<Gate>, errors: ErrorResponses) -> Self {
        let mut middleware = SessionMiddleware::new(sessions);
        if errors == ErrorResponses::Custom {
            middleware = middleware.on_error(|error| {
                HttpResponse::ServiceUnavailable().body(custom_error_body(error))
            });
        }
        Self { middleware, gate }
    }

    pub(crate) async fn send(&self, request: Request<()>) -> TestResponse {
        // Building the app per request is what a worker does once; the sessions and the gate
        // are shared either way.
        let app = App::new()
            .app_data(web::Data::from(self.gate.clone()))
            .wrap(self.middleware.clone())
            .route("/noop", web::get().to(|| async { "ok" }))
            .route("/get/{key}", web::get().to(get_value))
            .route("/set/{key}/{value}", web::get().to(set_value))
            .route("/remove/{key}", web::get().to(remove))
            .route("/incr", web::get().to(incr))
            .route("/clear", web::get().to(clear))
            .route("/cycle", web::get().to(cycle))
            .route("/permanent/{on}", web::get().to(permanent))
            .route("/id", web::get().to(id))
            .route("/keys", web::get().to(keys))
            .route("/vary", web::get().to(vary_already_set))
            .route("/own_caching/{header}", web::get().to(own_caching))
            .route("/slow_set/{key}/{value}", web::get().to(slow_set))
            .route("/slow_read/{key}", web::get().to(slow_read))
            .route("/slow_cycle", web::get().to(slow_cycle))
            .route("/take/{key}", web::get().to(take))
            .route(
                "/clear_then_set/{key}/{value}",
                web::get().to(clear_then_set),
            )
            .route("/destroy", web::get().to(destroy))
            .route("/login/{user}", web::get().to(login))
            .route("/devices", web::get().to(devices))
            .route("/revoke_others", web::get().to(revoke_others));
        let service = test::init_service(app).await;

        let method = actix_web::http::Method::from_bytes(request.method().as_str().as_bytes())
            .expect("a method");
        let mut actix_request = test::TestRequest::default()
            .method(method)
            .uri(&request.uri().to_string());
        for (name, value) in request.headers() {
            let value = HeaderValue::from_bytes(value.as_bytes()).expect("a header value");
            actix_request = actix_request.append_header((name.as_str(), value));
        }
        let response = test::call_service(&service, actix_request.to_request()).await;

        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        let mut headers = HeaderMap::new();
        for (name, value) in response.headers() {
            headers.append(
                HeaderName::from_bytes(name.as_str().as_bytes()).unwrap(),
                http::HeaderValue::from_bytes(value.as_bytes()).unwrap(),
            );
        }
        let body = test::read_body(response).await;
        TestResponse {
            status,
            headers,
            body: String::from_utf8(body.to_vec()).unwrap(),
        }
    }
}

async fn get_value(session: Session, key: web::Path<String>) -> Result<String, SessionError> {
    Ok(session
        .get::<String>(&key)
        .await?
        .unwrap_or_else(|| "<none>".to_owned()))
}

async fn set_value(
    session: Session,
    path: web::Path<(String, String)>,
) -> Result<&'static str, SessionError> {
    let (key, value) = path.into_inner();
    session.insert(&key, &value).await?;
    Ok("set")
}

async fn remove(session: Session, key: web::Path<String>) -> Result<String, SessionError> {
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

async fn permanent(session: Session, on: web::Path<bool>) -> Result<&'static str, SessionError> {
    session.set_permanent(*on).await?;
    Ok("ok")
}

async fn id(session: Session) -> Result<String, SessionError> {
    Ok(session.id().await?.to_string())
}

async fn keys(session: Session) -> Result<String, SessionError> {
    Ok(session.keys().await?.join(","))
}

async fn vary_already_set(session: Session) -> Result<HttpResponse, SessionError> {
    let value = session.get::<String>("a").await?.unwrap_or_default();
    Ok(HttpResponse::Ok()
        .insert_header((VARY, "cookie"))
        .body(value))
}

/// Writes the session and sets the app's own caching header: `cache-control` or
/// `expires`.
async fn own_caching(
    session: Session,
    name: web::Path<String>,
) -> Result<HttpResponse, SessionError> {
    session.insert("a", &"1").await?;
    let own = match name.as_str() {
        "expires" => (EXPIRES, "Thu, 01 Jan 2099 00:00:00 GMT"),
        _ => (CACHE_CONTROL, "public, max-age=60"),
    };
    Ok(HttpResponse::Ok().insert_header(own).body("set"))
}

async fn slow_set(
    gate: web::Data<Gate>,
    session: Session,
    path: web::Path<(String, String)>,
) -> Result<&'static str, SessionError> {
    let (key, value) = path.into_inner();
    session.get::<String>(&key).await?;
    gate.entered.notify_one();
    gate.release.notified().await;
    session.insert(&key, &value).await?;
    Ok("set")
}

async fn slow_read(
    gate: web::Data<Gate>,
    session: Session,
    key: web::Path<String>,
) -> Result<String, SessionError> {
    let value = session.get::<String>(&key).await?;
    gate.entered.notify_one();
    gate.release.notified().await;
    Ok(value.unwrap_or_else(|| "<none>".to_owned()))
}

/// Loads the session, waits at the gate, then rotates the id; answers with the new id.
async fn slow_cycle(gate: web::Data<Gate>, session: Session) -> Result<String, SessionError> {
    session.get::<String>("user").await?;
    gate.entered.notify_one();
    gate.release.notified().await;
    session.cycle_id().await?;
    Ok(session.id().await?.to_string())
}

/// Flask's `session.pop(key)`.
async fn take(session: Session, key: web::Path<String>) -> Result<String, SessionError> {
    Ok(session
        .take::<String>(&key)
        .await?
        .unwrap_or_else(|| "<none>".to_owned()))
}

/// A logout followed by a flash message.
async fn clear_then_set(
    session: Session,
    path: web::Path<(String, String)>,
) -> Result<&'static str, SessionError> {
    let (key, value) = path.into_inner();
    session.clear().await?;
    session.insert(&key, &value).await?;
    Ok("set")
}

async fn destroy(session: Session) -> Result<&'static str, SessionError> {
    session.destroy().await?;
    Ok("destroyed")
}

/// Flask-Login's `login_user`: binds the session to `user` and moves it to a new id.
async fn login(session: Session, user: web::Path<String>) -> Result<&'static str, SessionError> {
    session.insert("_user_id", &user.into_inner()).await?;
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
