//! Store failures: a typed error within the configured time, answered with 503. Run on
//! every adapter, over a store that fails on purpose.

use std::future::pending;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use http::{Request, StatusCode, header};
use sessionkit::{Error, Id, Record, SessionConfig, SessionStore, Sessions, Version};

use crate::adapters::{Adapter, ErrorResponses, Server};
use crate::support::{Gate, TestResponse};

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

/// The suite's routes on `adapter` over a store that fails as `failure` says.
fn app(adapter: Adapter, failure: Failure, timeout: Duration, custom: bool) -> Server {
    let mut config = SessionConfig::default();
    config.store_timeout = timeout;
    let sessions = Sessions::new(Arc::new(BrokenStore(failure)), config).unwrap();
    let errors = if custom {
        ErrorResponses::Custom
    } else {
        ErrorResponses::Default
    };
    Server::new(adapter, sessions, Arc::new(Gate::default()), errors)
}

async fn get_with_cookie(server: Server, path: &str) -> TestResponse {
    let request = Request::get(path)
        .header(header::COOKIE, format!("session={}", Id::random()))
        .body(())
        .unwrap();
    server.send(request).await
}

async fn get(server: Server, path: &str) -> TestResponse {
    server.send(Request::get(path).body(()).unwrap()).await
}

pub(crate) async fn unreachable_store_during_load_is_a_503(adapter: Adapter) {
    let server = app(adapter, Failure::Down, Duration::from_secs(1), false);
    let response = get_with_cookie(server, "/get/a").await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers[header::RETRY_AFTER], "1");
    assert_eq!(response.set_cookie(), None);
}

pub(crate) async fn a_handler_error_and_a_failed_write_back_answer_alike(adapter: Adapter) {
    let in_handler = get_with_cookie(
        app(adapter, Failure::Down, Duration::from_secs(1), false),
        "/get/a",
    )
    .await;
    let server = app(adapter, Failure::WritesFail, Duration::from_secs(1), false);
    let writing = get(server, "/set/a/1").await;
    for response in [&in_handler, &writing] {
        assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers[header::RETRY_AFTER], "1");
        assert_eq!(response.body, "", "same empty body either way");
    }
}

pub(crate) async fn unreachable_store_when_writing_is_a_503(adapter: Adapter) {
    let server = app(adapter, Failure::WritesFail, Duration::from_secs(1), false);
    let response = get(server, "/set/a/1").await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response.set_cookie(),
        None,
        "no cookie for a session that was not stored"
    );
}

/// Runs on a runtime whose clock is paused.
pub(crate) async fn hanging_store_fails_within_the_configured_timeout(adapter: Adapter) {
    let timeout = Duration::from_millis(300);
    let started = tokio::time::Instant::now();
    let response = get_with_cookie(app(adapter, Failure::Hangs, timeout, false), "/get/a").await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    // The runtime's clock is paused and only moves to the next timer: the request ended
    // exactly when the store timeout fired.
    assert_eq!(started.elapsed(), timeout);
}

pub(crate) async fn app_supplied_error_response_replaces_the_default(adapter: Adapter) {
    let server = app(adapter, Failure::Down, Duration::from_secs(1), true);
    let response = get_with_cookie(server, "/get/a").await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.body, "custom: unavailable=true");
    let server = app(adapter, Failure::WritesFail, Duration::from_secs(1), true);
    let response = get(server, "/set/a/1").await;
    assert_eq!(response.body, "custom: unavailable=true");
}

pub(crate) async fn requests_that_never_touch_the_session_work_while_the_store_is_down(
    adapter: Adapter,
) {
    let server = app(adapter, Failure::Down, Duration::from_secs(1), false);
    let response = get_with_cookie(server, "/noop").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, "ok");
}

pub(crate) async fn store_errors_are_counted_by_backend_operation_and_kind(adapter: Adapter) {
    let recorder = sessionkit_testkit::MetricsRecorder::install();
    let failed = |operation, kind| {
        recorder.counter(
            "sessionkit.store.errors",
            &[
                ("backend", "custom"),
                ("operation", operation),
                ("error.type", kind),
            ],
        )
    };
    let down = app(adapter, Failure::Down, Duration::from_secs(1), false);
    get_with_cookie(down.clone(), "/noop").await;
    assert_eq!(failed("load", "unavailable"), 0, "no store call, no error");
    get_with_cookie(down, "/get/a").await;
    assert_eq!(failed("load", "unavailable"), 1);
    let writes_fail = app(adapter, Failure::WritesFail, Duration::from_secs(1), false);
    get(writes_fail, "/set/a/1").await;
    assert_eq!(failed("create", "unavailable"), 1);
    assert_eq!(failed("load", "unavailable"), 1, "each failure once");
    let unavailable = [
        ("backend", "custom"),
        ("operation", "create"),
        ("outcome", "unavailable"),
    ];
    let durations = recorder.histogram("sessionkit.store.operation.duration", &unavailable);
    assert_eq!(durations.len(), 1, "a failed call is timed too");
}

/// Runs on a runtime whose clock is paused.
pub(crate) async fn a_timed_out_store_call_is_counted_as_a_timeout(adapter: Adapter) {
    let recorder = sessionkit_testkit::MetricsRecorder::install();
    let timeout = Duration::from_millis(300);
    get_with_cookie(app(adapter, Failure::Hangs, timeout, false), "/get/a").await;
    let labels = [
        ("backend", "custom"),
        ("operation", "load"),
        ("error.type", "timeout"),
    ];
    assert_eq!(recorder.counter("sessionkit.store.errors", &labels), 1);
    let labels = [
        ("backend", "custom"),
        ("operation", "load"),
        ("outcome", "timeout"),
    ];
    let durations = recorder.histogram("sessionkit.store.operation.duration", &labels);
    assert_eq!(
        durations,
        [timeout.as_secs_f64()],
        "timed by the paused clock"
    );
}
