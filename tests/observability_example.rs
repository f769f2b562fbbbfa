//! The `observability` example, driven as a browser and a Prometheus server would: a
//! visit, refreshes, a login and a logout, then a scrape of `/metrics` that shows each of
//! them, the store calls' latency and the memory store's size; and the audit trail of
//! lifecycle events. The example's file is included as a module, so what runs here is
//! exactly the example's router and exporter settings.

#[path = "../examples/observability.rs"]
#[allow(dead_code, unreachable_pub)]
mod example;
mod oneshot;

use http::StatusCode;
use oneshot::send;
use sessionkit::{Config, SessionEventKind};

/// The value of the sample `series` (name and labels, exactly as rendered) in `scrape`.
fn value(scrape: &str, series: &str) -> f64 {
    scrape
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in\n{scrape}"))
        .parse()
        .unwrap()
}

// A current-thread runtime: the recorder is installed for this thread only, so the test
// neither needs nor disturbs a global one.
#[tokio::test(flavor = "current_thread")]
async fn a_scrape_after_a_few_requests_shows_what_they_did() {
    let recorder = example::prometheus().build_recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    let layer = sessionkit::axum::layer(&Config::builder().build().unwrap())
        .await
        .unwrap();
    let mut audit = layer.sessions().subscribe(16);
    let app = example::app(layer, recorder.handle());

    let visit = send(&app, "GET", "/", None, "").await;
    assert!(visit.body.contains("<b>1</b> times"), "{}", visit.body);
    let cookie = visit.cookie.unwrap();
    for _ in 0..2 {
        send(&app, "GET", "/", Some(&cookie), "").await;
    }
    let login = send(&app, "POST", "/login", Some(&cookie), "username=ada").await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let member = login.cookie.unwrap();
    let page = send(&app, "GET", "/", Some(&member), "").await.body;
    assert!(page.contains("Logged in as <b>ada</b>"), "{page}");
    let logout = send(&app, "GET", "/logout", Some(&member), "").await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER);

    let scrape = send(&app, "GET", "/metrics", None, "").await;
    assert_eq!(scrape.status, StatusCode::OK);
    assert_eq!(scrape.cookie, None, "a scrape never starts a session");
    let scrape = scrape.body;
    assert!(
        scrape.contains("# HELP sessionkit_session_created_total New sessions stored"),
        "{scrape}"
    );
    assert_eq!(value(&scrape, "sessionkit_session_created_total"), 1.0);
    assert_eq!(value(&scrape, "sessionkit_session_saved_total"), 3.0);
    assert_eq!(value(&scrape, "sessionkit_session_rotated_total"), 1.0);
    assert_eq!(value(&scrape, "sessionkit_session_deleted_total"), 1.0);
    let creates = r#"sessionkit_store_operation_duration_seconds_count{backend="memory",operation="create",outcome="ok"}"#;
    assert_eq!(value(&scrape, creates), 2.0, "the visit and the login");
    let saves = r#"sessionkit_store_operation_duration_seconds_bucket{backend="memory",operation="save",outcome="ok",le="+Inf"}"#;
    assert_eq!(value(&scrape, saves), 3.0);
    assert!(
        value(
            &scrape,
            r#"sessionkit_session_size_bytes_count{operation="save"}"#
        ) >= 3.0
    );
    assert_eq!(
        value(&scrape, "sessionkit_memory_sessions"),
        0.0,
        "logged out"
    );
    assert!(!scrape.contains(&cookie[8..]) && !scrape.contains(&member[8..]));

    let kinds: Vec<SessionEventKind> = std::iter::from_fn(|| audit.try_recv())
        .map(|event| event.kind)
        .collect();
    assert!(
        matches!(
            &kinds[..],
            [
                SessionEventKind::Created,
                SessionEventKind::Rotated { .. },
                SessionEventKind::Destroyed
            ]
        ),
        "{kinds:?}"
    );
}
