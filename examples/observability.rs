//! The quickstart, observable: Prometheus metrics at `/metrics`, JSON logs with a span per
//! request (sessionkit's store-call and end-of-request spans nest in it), and an audit log
//! of session lifecycle events (logins, rotations, logouts, revocations, expiries).
//!
//! ```sh
//! cargo run --example observability
//! RUST_LOG=info,sessionkit=debug cargo run --example observability   # with sessionkit's spans
//! ```
//! Then open <http://127.0.0.1:3000/>, log in, refresh, log out, and read
//! <http://127.0.0.1:3000/metrics>. `PORT` changes the port; the store is chosen by
//! `SESSION_TYPE` and its keys, as everywhere.
//!
//! The exporter is `metrics-exporter-prometheus` without its own HTTP listener: the app
//! renders the scrape in an ordinary route. Any other `metrics` recorder works the same
//! way; sessionkit itself depends on the `metrics` facade only.

use std::time::{Duration, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Form, Request};
use axum::middleware::{self, Next};
use axum::response::{Html, Redirect, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde::Deserialize;
use sessionkit::Sessions;
use sessionkit::axum::{Session, SessionError, SessionLayer};
use tracing::Instrument as _;

/// The Prometheus recorder's settings: OpenTelemetry-style names rendered the way
/// Prometheus expects (`sessionkit_store_operation_duration_seconds`, counters with
/// `_total`), and histogram buckets for store latency and session size.
pub fn prometheus() -> PrometheusBuilder {
    const SECONDS: &[f64] = &[
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    ];
    const BYTES: &[f64] = &[64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0];
    PrometheusBuilder::new()
        .with_recommended_naming(true)
        .set_buckets_for_metric(
            Matcher::Full("sessionkit.store.operation.duration".to_owned()),
            SECONDS,
        )
        .expect("bucket bounds are not empty")
        .set_buckets_for_metric(Matcher::Full("sessionkit.session.size".to_owned()), BYTES)
        .expect("bucket bounds are not empty")
}

/// The quickstart's pages behind `layer`, `/metrics` rendering `metrics`, and a span per
/// request.
pub fn app(layer: SessionLayer, metrics: PrometheusHandle) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login_form).post(login))
        .route("/logout", get(logout))
        .layer(layer)
        .route("/metrics", get(move || async move { metrics.render() }))
        .layer(middleware::from_fn(request_span))
}

/// Writes every lifecycle event of `sessions` to the log, as an audit trail (target
/// `audit`): who logged in, was rotated, logged out, revoked or expired, and when. Never
/// a session id: the hint names the session.
pub fn audit(sessions: &Sessions) {
    let mut events = sessions.subscribe(1024);
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            tracing::info!(
                target: "audit",
                kind = ?event.kind,
                session = %event.hint,
                user = event.user.as_deref().unwrap_or("-"),
                at_unix = event.at.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64()),
                "session event"
            );
        }
    });
}

/// The request's span, under which sessionkit's spans nest (tower-http's `TraceLayer`
/// does the same with more detail).
async fn request_span(request: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = request.uri().path(),
    );
    next.run(request).instrument(span).await
}

/// `/`: counts this session's refreshes under the key `refreshed`.
async fn index(session: Session) -> Result<Html<String>, SessionError> {
    let refreshed: u64 = session.get("refreshed").await?.unwrap_or(0) + 1;
    session.insert("refreshed", &refreshed).await?;
    let who = match session.get::<String>("_user_id").await? {
        Some(name) => format!(
            "Logged in as <b>{}</b>. <a href=\"/logout\">Log out</a>",
            escape(&name)
        ),
        None => "Not logged in. <a href=\"/login\">Log in</a>".to_owned(),
    };
    Ok(Html(format!(
        "<h1>sessionkit observability</h1>\
         <p>You have refreshed this page <b>{refreshed}</b> times in this session.</p>\
         <p>{who}</p><p><a href=\"/metrics\">Metrics</a></p>"
    )))
}

/// `GET /login`: the form.
async fn login_form() -> Html<&'static str> {
    Html(
        "<h1>Log in</h1>\
         <form method=\"post\" action=\"/login\">\
         <input name=\"username\" placeholder=\"user name\" autofocus> \
         <button>Log in</button></form>",
    )
}

#[derive(Deserialize)]
struct Login {
    username: String,
}

/// `POST /login`: stores the user name under Flask-Login's `_user_id` (the key events
/// report the user from), on a new session id.
async fn login(session: Session, Form(form): Form<Login>) -> Result<Redirect, SessionError> {
    session.cycle_id().await?;
    session.insert("_user_id", form.username.trim()).await?;
    Ok(Redirect::to("/"))
}

/// `/logout`: clears the session (its record is deleted and its cookie removed).
async fn logout(session: Session) -> Result<Redirect, SessionError> {
    session.clear().await?;
    Ok(Redirect::to("/"))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .init();
    // Installed before the sessions are built, so the metrics' descriptions reach it.
    let metrics = prometheus().install_recorder()?;
    let upkeep = metrics.clone();
    tokio::spawn(async move {
        // Histogram windows and idle series are maintained by the app when the exporter
        // has no listener of its own.
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });

    let config = sessionkit::Config::from_env()?;
    let layer = sessionkit::axum::layer(&config).await?;
    audit(layer.sessions());
    let app = app(layer, metrics);

    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    tracing::info!(
        store = %config.session_type(),
        address = %listener.local_addr()?,
        "sessionkit observability example: open / and /metrics"
    );
    axum::serve(listener, app).await?;
    Ok(())
}
