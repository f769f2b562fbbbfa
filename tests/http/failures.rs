//! Store failures: a typed error within the configured time, answered with 503.

use std::future::pending;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, Response, StatusCode, header};
use sessionkit::axum::{Session, SessionError, SessionLayer};
use sessionkit::{Error, Id, Record, SessionConfig, SessionStore, Version};

use crate::support::{TestResponse, send};

/// Which calls fail, and how.
#[derive(Debug, Clone, Copy)]
enum Failure {
    /// Every call reports the backend unreachable.
    Down,
    /// Every call hangs forever.
    Hangs,
    /// Loads work (nothing is stored); writes report the backend unreachable.
    WritesFail,
}

#[derive(Debug)]
struct BrokenStore(Failure);

impl BrokenStore {
    async fn fail<T>(&self) -> Result<T, Error> {
        if let Failure::Hangs = self.0 {
            pending::<()>().await;
        }
        Err(Error::Unavailable {
            backend: "broken",
            source: Box::new(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "refused",
            )),
        })
    }

    async fn read(&self) -> Result<Option<Record>, Error> {
        match self.0 {
            Failure::WritesFail => Ok(None),
            _ => self.fail().await,
        }
    }
}

#[async_trait]
impl SessionStore for BrokenStore {
    async fn create(&self, _: &Id, _: &[u8], _: SystemTime) -> Result<(), Error> {
        self.fail().await
    }
    async fn load(&self, _: &Id) -> Result<Option<Record>, Error> {
        self.read().await
    }
    async fn load_and_touch(&self, _: &Id, _: SystemTime) -> Result<Option<Record>, Error> {
        self.read().await
    }
    async fn save(&self, _: &Id, _: &[u8], _: SystemTime, _: Version) -> Result<(), Error> {
        self.fail().await
    }
    async fn touch(&self, _: &Id, _: SystemTime) -> Result<(), Error> {
        self.fail().await
    }
    async fn delete(&self, _: &Id) -> Result<(), Error> {
        self.fail().await
    }

    async fn delete_if(&self, _: &Id, _: Version) -> Result<(), Error> {
        self.fail().await
    }
}

fn app(failure: Failure, timeout: Duration, custom: bool) -> Router {
    let mut config = SessionConfig::default();
    config.store_timeout = timeout;
    let mut layer: SessionLayer =
        SessionLayer::from_store(Arc::new(BrokenStore(failure)), config).unwrap();
    if custom {
        layer = layer.on_error(|error| {
            let mut response = Response::new(Body::from(format!(
                "custom: unavailable={}",
                error.is_unavailable()
            )));
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            response
        });
    }
    Router::new()
        .route(
            "/get",
            get(|session: Session| async move {
                Ok::<_, SessionError>(session.get::<String>("a").await?.unwrap_or_default())
            }),
        )
        .route(
            "/set",
            get(|session: Session| async move {
                session.insert("a", "1").await?;
                Ok::<_, SessionError>("set")
            }),
        )
        .route("/noop", get(|| async { "ok" }))
        .layer(layer)
}

async fn get_with_cookie(router: Router, path: &str) -> TestResponse {
    let request = Request::get(path)
        .header(header::COOKIE, format!("session={}", Id::random()))
        .body(Body::empty())
        .unwrap();
    send(router, request).await
}

#[tokio::test]
async fn unreachable_store_during_load_is_a_503() {
    let response = get_with_cookie(app(Failure::Down, Duration::from_secs(1), false), "/get").await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers[header::RETRY_AFTER], "1");
    assert_eq!(response.set_cookie(), None);
}

#[tokio::test]
async fn a_handler_error_and_a_failed_write_back_answer_alike() {
    let in_handler =
        get_with_cookie(app(Failure::Down, Duration::from_secs(1), false), "/get").await;
    let router = app(Failure::WritesFail, Duration::from_secs(1), false);
    let writing = send(router, Request::get("/set").body(Body::empty()).unwrap()).await;
    for response in [&in_handler, &writing] {
        assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers[header::RETRY_AFTER], "1");
        assert_eq!(response.body, "", "same empty body either way");
    }
}

#[tokio::test]
async fn unreachable_store_when_writing_is_a_503() {
    let router = app(Failure::WritesFail, Duration::from_secs(1), false);
    let response = send(router, Request::get("/set").body(Body::empty()).unwrap()).await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response.set_cookie(),
        None,
        "no cookie for a session that was not stored"
    );
}

#[tokio::test(start_paused = true)]
async fn hanging_store_fails_within_the_configured_timeout() {
    let timeout = Duration::from_millis(300);
    let started = tokio::time::Instant::now();
    let response = get_with_cookie(app(Failure::Hangs, timeout, false), "/get").await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    // The runtime's clock is paused and only moves to the next timer: the request ended
    // exactly when the store timeout fired.
    assert_eq!(started.elapsed(), timeout);
}

#[tokio::test]
async fn app_supplied_error_response_replaces_the_default() {
    let response = get_with_cookie(app(Failure::Down, Duration::from_secs(1), true), "/get").await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.body, "custom: unavailable=true");
    let router = app(Failure::WritesFail, Duration::from_secs(1), true);
    let response = send(router, Request::get("/set").body(Body::empty()).unwrap()).await;
    assert_eq!(response.body, "custom: unavailable=true");
}

#[tokio::test]
async fn requests_that_never_touch_the_session_work_while_the_store_is_down() {
    let response =
        get_with_cookie(app(Failure::Down, Duration::from_secs(1), false), "/noop").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, "ok");
}
