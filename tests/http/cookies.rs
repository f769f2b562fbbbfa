//! Cookie attributes, default and configured, including removal cookies.

use sessionkit::{SameSite, SessionConfig};

use crate::support::TestApp;

fn attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_owned())
        .collect()
}

#[tokio::test]
async fn default_cookie_attributes() {
    let app = TestApp::new();
    let set = app.get("/set/a/1", None).await.set_cookie().unwrap();
    assert!(set.starts_with("session="), "{set}");
    let attrs = attributes(&set);
    for expected in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2678400"] {
        assert!(
            attrs.iter().any(|a| a == expected),
            "{set} lacks {expected}"
        );
    }
    assert!(attrs.iter().any(|a| a.starts_with("Expires=")), "{set}");
    assert!(
        !attrs
            .iter()
            .any(|a| a == "Secure" || a.starts_with("Domain") || a == "Partitioned")
    );
}

#[tokio::test]
async fn configured_cookie_attributes() {
    let mut config = SessionConfig::default();
    config.cookie.name = "sid".into();
    config.cookie.domain = Some("example.com".into());
    config.cookie.path = "/app".into();
    config.cookie.http_only = false;
    config.cookie.secure = true;
    config.cookie.same_site = SameSite::Strict;
    config.cookie.partitioned = true;
    let app = TestApp::with_config(config);

    let created = app.get("/set/a/1", None).await;
    let set = created.set_cookie().unwrap();
    assert!(set.starts_with("sid="), "{set}");
    let attrs = attributes(&set);
    for expected in [
        "Secure",
        "SameSite=Strict",
        "Partitioned",
        "Path=/app",
        "Domain=example.com",
    ] {
        assert!(
            attrs.iter().any(|a| a == expected),
            "{set} lacks {expected}"
        );
    }
    assert!(!attrs.iter().any(|a| a == "HttpOnly"), "{set}");

    let removal = app
        .get("/clear", Some(&created.cookie()))
        .await
        .set_cookie()
        .unwrap();
    assert!(removal.starts_with("sid=;"), "{removal}");
    let removal_attrs = attributes(&removal);
    for expected in [
        "Secure",
        "SameSite=Strict",
        "Partitioned",
        "Path=/app",
        "Domain=example.com",
        "Max-Age=0",
    ] {
        assert!(
            removal_attrs.iter().any(|a| a == expected),
            "{removal} lacks {expected}"
        );
    }
}

#[tokio::test]
async fn host_prefixed_cookie_meets_the_browser_rules() {
    let mut config = SessionConfig::default();
    config.cookie.name = "__Host-session".into();
    config.cookie.secure = true;
    let app = TestApp::with_config(config);
    let created = app.get("/set/a/1", None).await;
    let set = created.set_cookie().unwrap();
    let attrs = attributes(&set);
    assert!(set.starts_with("__Host-session="));
    assert!(
        attrs.iter().any(|a| a == "Secure") && attrs.iter().any(|a| a == "Path=/"),
        "{set}"
    );
    assert!(!attrs.iter().any(|a| a.starts_with("Domain")), "{set}");
    assert_eq!(app.get("/get/a", Some(&created.cookie())).await.body, "1");

    let removal = app
        .get("/clear", Some(&created.cookie()))
        .await
        .set_cookie()
        .unwrap();
    let attrs = attributes(&removal);
    assert!(removal.starts_with("__Host-session=;"), "{removal}");
    assert!(
        attrs.iter().any(|a| a == "Secure") && attrs.iter().any(|a| a == "Path=/"),
        "{removal}"
    );
}

#[tokio::test]
async fn other_cookies_are_ignored() {
    let app = TestApp::new();
    let cookie = app.get("/set/a/1", None).await.cookie();
    let header = format!("theme=dark; {cookie}; other=x");
    assert_eq!(app.get("/get/a", Some(&header)).await.body, "1");
}
