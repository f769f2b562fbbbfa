//! Cookie attributes, default and configured, including removal cookies.

use crate::support::Ctx;

fn attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_owned())
        .collect()
}

pub(crate) async fn default_cookie_attributes(ctx: &Ctx) {
    let app = ctx.app().await;
    let set = app.get("/set/a/1", None).await.set_cookie().unwrap();
    assert!(set.starts_with("session="), "{set}");
    let attrs = attributes(&set);
    let max_age = format!("Max-Age={}", app.lifetime().as_secs());
    for expected in ["HttpOnly", "SameSite=Lax", "Path=/", max_age.as_str()] {
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

pub(crate) async fn configured_cookie_attributes(ctx: &Ctx) {
    let app = ctx
        .app_with(&[
            ("SESSION_COOKIE_NAME", "sid"),
            ("SESSION_COOKIE_DOMAIN", "example.com"),
            ("SESSION_COOKIE_PATH", "/app"),
            ("SESSION_COOKIE_HTTPONLY", "false"),
            ("SESSION_COOKIE_SECURE", "true"),
            ("SESSION_COOKIE_SAMESITE", "Strict"),
            ("SESSION_COOKIE_PARTITIONED", "true"),
        ])
        .await;

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

pub(crate) async fn host_prefixed_cookie_meets_the_browser_rules(ctx: &Ctx) {
    let app = ctx
        .app_with(&[
            ("SESSION_COOKIE_NAME", "__Host-session"),
            ("SESSION_COOKIE_SECURE", "true"),
        ])
        .await;
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

pub(crate) async fn other_cookies_are_ignored(ctx: &Ctx) {
    let app = ctx.app().await;
    let cookie = app.get("/set/a/1", None).await.cookie();
    let header = format!("theme=dark; {cookie}; other=x");
    assert_eq!(app.get("/get/a", Some(&header)).await.body, "1");
}

/// What sessionkit adds to a response that sets the session cookie.
const NOT_SHARED: &str = r#"private, no-cache="Set-Cookie""#;

pub(crate) async fn responses_setting_the_cookie_are_not_cacheable(ctx: &Ctx) {
    let app = ctx.app().await;
    let created = app.get("/set/a/1", None).await;
    assert!(created.set_cookie().is_some());
    assert_eq!(created.cache_control(), [NOT_SHARED]);
    let removed = app.get("/clear", Some(&created.cookie())).await;
    assert!(removed.removes_cookie());
    assert_eq!(removed.cache_control(), [NOT_SHARED], "removal cookies too");
}

pub(crate) async fn responses_without_a_cookie_get_no_cache_control(ctx: &Ctx) {
    let app = ctx.app_with(&[("SESSION_PERMANENT", "false")]).await;
    for path in ["/noop", "/get/a"] {
        let response = app.get(path, None).await;
        assert_eq!(response.set_cookie(), None, "{path}");
        assert!(response.cache_control().is_empty(), "{path}");
    }
    // A browser session that is only read sends no cookie back.
    let cookie = app.get("/set/a/1", None).await.cookie();
    let read = app.get("/get/a", Some(&cookie)).await;
    assert_eq!((read.body.as_str(), read.set_cookie()), ("1", None));
    assert!(read.cache_control().is_empty());
}

pub(crate) async fn the_apps_own_caching_headers_are_kept(ctx: &Ctx) {
    let app = ctx.app().await;
    let own = app.get("/own_caching/cache-control", None).await;
    assert!(own.set_cookie().is_some());
    assert_eq!(own.cache_control(), ["public, max-age=60"]);
    let expires = app.get("/own_caching/expires", None).await;
    assert!(expires.set_cookie().is_some());
    assert!(
        expires.cache_control().is_empty(),
        "Expires is the app's decision"
    );
}
