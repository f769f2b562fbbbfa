//! The middleware and the extractor in an actix-web app, in-process. The whole request
//! lifecycle runs in the root HTTP suite (`tests/http`) on every backend; these check what
//! is particular to actix-web.

use std::sync::Arc;
use std::time::SystemTime;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, COOKIE, RETRY_AFTER, SET_COOKIE, VARY};
use actix_web::{App, HttpResponse, test, web};
use sessionkit_actix::{Session, SessionError, SessionMiddleware};
use sessionkit_core::{
    DynSessionStore, Error, Id, MemoryStore, Record, SessionConfig, SessionStore, Version,
};

async fn incr(session: Session) -> Result<String, SessionError> {
    let n: u64 = session.get("n").await?.unwrap_or(0) + 1;
    session.insert("n", &n).await?;
    Ok(n.to_string())
}

fn app(
    middleware: SessionMiddleware,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .wrap(middleware)
        .route("/incr", web::get().to(incr))
        .route("/noop", web::get().to(|| async { "ok" }))
}

fn memory() -> SessionMiddleware {
    SessionMiddleware::from_store(Arc::new(MemoryStore::new()), SessionConfig::default()).unwrap()
}

fn set_cookie<B>(response: &ServiceResponse<B>) -> Option<String> {
    let value = response.headers().get(SET_COOKIE)?;
    Some(
        value
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned(),
    )
}

#[actix_web::test]
async fn the_session_lives_across_requests_with_cookie_cache_control_and_vary() {
    let service = test::init_service(app(memory())).await;
    let first =
        test::call_service(&service, test::TestRequest::get().uri("/incr").to_request()).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers().get(VARY).unwrap(), "Cookie");
    assert_eq!(
        first.headers().get(CACHE_CONTROL).unwrap(),
        r#"private, no-cache="Set-Cookie""#
    );
    let cookie = set_cookie(&first).expect("a session cookie");
    assert_eq!(test::read_body(first).await, "1");

    let second = test::TestRequest::get()
        .uri("/incr")
        .insert_header((COOKIE, cookie.as_str()))
        .to_request();
    let second = test::call_service(&service, second).await;
    assert_eq!(set_cookie(&second).as_deref(), Some(cookie.as_str()));
    assert_eq!(test::read_body(second).await, "2");
}

#[actix_web::test]
async fn a_route_that_never_touches_the_session_gets_nothing() {
    let service = test::init_service(app(memory())).await;
    let response =
        test::call_service(&service, test::TestRequest::get().uri("/noop").to_request()).await;
    assert!(response.headers().get(SET_COOKIE).is_none());
    assert!(response.headers().get(VARY).is_none());
}

#[actix_web::test]
async fn the_extractor_without_the_middleware_is_a_500_that_says_so() {
    let service = test::init_service(App::new().route("/incr", web::get().to(incr))).await;
    let response = service
        .call(test::TestRequest::get().uri("/incr").to_request())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = test::read_body(response).await;
    assert!(
        String::from_utf8_lossy(&body).contains("no SessionMiddleware"),
        "{body:?}"
    );
}

/// Every call fails as an unreachable server does.
#[derive(Debug)]
struct Down;

fn down() -> Error {
    Error::Unavailable {
        backend: "down",
        source: "connection refused".into(),
    }
}

#[async_trait::async_trait]
impl SessionStore for Down {
    async fn create(&self, _: &Id, _: &[u8], _: SystemTime) -> Result<(), Error> {
        Err(down())
    }
    async fn load(&self, _: &Id) -> Result<Option<Record>, Error> {
        Err(down())
    }
    async fn load_and_touch(&self, _: &Id, _: SystemTime) -> Result<Option<Record>, Error> {
        Err(down())
    }
    async fn save(&self, _: &Id, _: &[u8], _: SystemTime, _: Version) -> Result<(), Error> {
        Err(down())
    }
    async fn touch(&self, _: &Id, _: SystemTime) -> Result<(), Error> {
        Err(down())
    }
    async fn delete(&self, _: &Id) -> Result<(), Error> {
        Err(down())
    }
    async fn delete_if(&self, _: &Id, _: Version) -> Result<(), Error> {
        Err(down())
    }
}

fn failing() -> SessionMiddleware {
    let store: DynSessionStore = Arc::new(Down);
    SessionMiddleware::from_store(store, SessionConfig::default()).unwrap()
}

#[actix_web::test]
async fn a_store_outage_is_a_503_with_retry_after_and_an_empty_body() {
    let service = test::init_service(app(failing())).await;
    // No cookie: the handler's write is fine, the write-back at the end fails.
    let writing =
        test::call_service(&service, test::TestRequest::get().uri("/incr").to_request()).await;
    // A cookie: the handler's load fails.
    let loading = test::TestRequest::get()
        .uri("/incr")
        .insert_header((COOKIE, format!("session={}", Id::random())))
        .to_request();
    let loading = test::call_service(&service, loading).await;
    for response in [writing, loading] {
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers().get(RETRY_AFTER).unwrap(), "1");
        assert!(response.headers().get(SET_COOKIE).is_none());
        assert!(test::read_body(response).await.is_empty());
    }
}

#[actix_web::test]
async fn the_apps_own_error_response_replaces_the_default() {
    let middleware = failing().on_error(|error| {
        HttpResponse::ServiceUnavailable().body(format!("custom: {}", error.is_unavailable()))
    });
    let service = test::init_service(app(middleware)).await;
    let loading = test::TestRequest::get()
        .uri("/incr")
        .insert_header((COOKIE, format!("session={}", Id::random())))
        .to_request();
    let writing = test::TestRequest::get().uri("/incr").to_request();
    for request in [loading, writing] {
        let response = test::call_service(&service, request).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(test::read_body(response).await, "custom: true");
    }
}
