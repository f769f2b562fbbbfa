//! The `devices` example, driven as a browser would: two devices of one user see each
//! other, a password change ends the other one, "log out everywhere else" and the admin
//! endpoint end sessions. The example's file is included as a module, so what runs here is
//! exactly the example's router.

#[path = "../examples/devices.rs"]
#[allow(dead_code, unreachable_pub)]
mod example;
mod oneshot;

use axum::Router;
use http::StatusCode;
use oneshot::{Reply, send};
use sessionkit::Config;

async fn router() -> Router {
    let config = Config::builder()
        .session(|s| s.user_index = true)
        .build()
        .unwrap();
    example::app(sessionkit::axum::layer(&config).await.unwrap())
}

/// Logs in from a new device; returns its cookie.
async fn log_in(app: &Router, user: &str, password: &str) -> Reply {
    send(
        app,
        "POST",
        "/login",
        None,
        &format!("user={user}&password={password}"),
    )
    .await
}

#[tokio::test]
async fn a_password_change_logs_out_every_other_device() {
    let app = router().await;
    let phone = log_in(&app, "ada", "sesame").await;
    assert_eq!(phone.status, StatusCode::SEE_OTHER);
    let phone = phone.cookie.unwrap();
    let laptop = log_in(&app, "ada", "sesame").await.cookie.unwrap();

    let page = send(&app, "GET", "/", Some(&laptop), "").await.body;
    assert!(page.contains("on 2 devices"), "{page}");
    assert_eq!(page.matches("(this device)").count(), 1);

    let changed = send(
        &app,
        "POST",
        "/password",
        Some(&laptop),
        "old=sesame&new=s3cret",
    )
    .await;
    assert_eq!(changed.body, "password changed; 1 other sessions ended");
    let laptop = changed
        .cookie
        .expect("the changing device moves to a new id");

    let phone_page = send(&app, "GET", "/", Some(&phone), "").await.body;
    assert!(
        phone_page.contains("Log in"),
        "the phone is logged out: {phone_page}"
    );
    let page = send(&app, "GET", "/", Some(&laptop), "").await.body;
    assert!(page.contains("on 1 devices"), "{page}");

    assert_eq!(
        log_in(&app, "ada", "sesame").await.status,
        StatusCode::UNAUTHORIZED,
        "the old password is refused"
    );
    assert_eq!(
        log_in(&app, "ada", "s3cret").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn log_out_everywhere_else_and_the_admin_endpoint() {
    let app = router().await;
    let mut devices = Vec::new();
    for _ in 0..3 {
        devices.push(log_in(&app, "bob", "sesame").await.cookie.unwrap());
    }
    let ended = send(&app, "POST", "/logout-others", Some(&devices[0]), "").await;
    assert_eq!(ended.body, "2 other sessions ended");
    for other in &devices[1..] {
        let page = send(&app, "GET", "/", Some(other), "").await.body;
        assert!(page.contains("Log in"), "{page}");
    }
    let page = send(&app, "GET", "/", Some(&devices[0]), "").await.body;
    assert!(
        page.contains("Logged in as <b>bob</b> on 1 devices"),
        "{page}"
    );

    let again = log_in(&app, "bob", "sesame").await.cookie.unwrap();
    let admin = send(&app, "POST", "/admin/logout/bob", None, "").await;
    assert_eq!(admin.body, "2 sessions of bob ended");
    for cookie in [&devices[0], &again] {
        let page = send(&app, "GET", "/", Some(cookie), "").await.body;
        assert!(page.contains("Log in"), "{page}");
    }
}
