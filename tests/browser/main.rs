//! The quickstart and counter examples in a real browser: headless Chromium driven through
//! chromedriver (WebDriver, with `fantoccini`), as a user would click through them. The
//! examples' files are included as modules, so what runs is exactly their routers.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`./scripts/test` installs them); a
//! browser that cannot start fails the test with the command to install it.

#[path = "../../examples/counter.rs"]
#[allow(dead_code, unreachable_pub)]
mod counter;
#[path = "../processes/mod.rs"]
#[allow(dead_code)]
mod processes;
#[path = "../../examples/quickstart.rs"]
#[allow(dead_code, unreachable_pub)]
mod quickstart;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use axum::Router;
use cookie::{Cookie, SameSite};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use sessionkit::Config;

const INSTALL: &str =
    "sudo apt-get install chromium chromium-driver (./scripts/test does it when run as root)";

/// A browser with a profile of its own (its own cookie jar), through its own chromedriver.
struct Browser {
    client: Client,
    driver: Child,
    _profile: TempDir,
}

/// A directory removed when dropped.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Browser {
    async fn start() -> Self {
        let port = processes::free_port();
        let mut driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("chromedriver does not start ({e}): {INSTALL}"));
        let status = format!("http://127.0.0.1:{port}/status");
        let mut ready = false;
        for _ in 0..200 {
            if reqwest::get(&status)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                ready = true;
                break;
            }
            if let Ok(Some(exit)) = driver.try_wait() {
                panic!("chromedriver exited ({exit}): {INSTALL}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(ready, "chromedriver did not answer within 10 s: {INSTALL}");

        let profile =
            std::env::temp_dir().join(format!("sessionkit-browser-{}-{port}", std::process::id()));
        let mut options = serde_json::Map::new();
        options.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(options)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| {
                panic!("Chromium does not start through chromedriver ({e}): {INSTALL}")
            });
        Self {
            client,
            driver,
            _profile: TempDir(profile),
        }
    }

    /// The text of the page at `url` (loaded, redirects followed).
    async fn open(&self, url: &str) -> String {
        self.client.goto(url).await.unwrap();
        self.text().await
    }

    async fn refresh(&self) -> String {
        self.client.refresh().await.unwrap();
        self.text().await
    }

    async fn text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Clicks the element `locator` finds, and waits for what that loads.
    async fn click(&self, locator: Locator<'_>) {
        self.client
            .find(locator)
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    async fn session_cookie(&self, name: &str) -> Option<Cookie<'static>> {
        self.client
            .get_all_cookies()
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.name() == name)
    }

    async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Serves `app` on loopback; returns its base URL, on `localhost` (a secure context for
/// cookies, so `Secure` and `__Host-` cookies work over plain HTTP, as in development).
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://localhost:{port}")
}

async fn counter(pairs: &[(&str, &str)]) -> String {
    let config = Config::from_pairs(pairs.iter().copied()).unwrap();
    serve(counter::app(
        sessionkit::axum::layer(&config).await.unwrap(),
    ))
    .await
}

async fn quickstart(pairs: &[(&str, &str)]) -> String {
    let config = Config::from_pairs(pairs.iter().copied()).unwrap();
    serve(quickstart::app(
        sessionkit::axum::layer(&config).await.unwrap(),
    ))
    .await
}

#[tokio::test]
async fn the_count_rises_on_refresh_and_a_second_tab_shares_the_session() {
    let site = counter(&[]).await;
    let browser = Browser::start().await;
    assert!(
        browser
            .open(&format!("{site}/"))
            .await
            .starts_with("refreshed 1 times")
    );
    assert!(browser.refresh().await.starts_with("refreshed 2 times"));
    assert!(browser.refresh().await.starts_with("refreshed 3 times"));

    // A second tab of the same browser: the same cookie jar, the same session.
    let first = browser.client.window().await.unwrap();
    let tab = browser.client.new_window(true).await.unwrap();
    browser.client.switch_to_window(tab.handle).await.unwrap();
    let after_set = browser.open(&format!("{site}/dbset/ada")).await;
    assert!(after_set.contains("name = ada"), "{after_set}");
    browser.client.switch_to_window(first).await.unwrap();
    let back = browser.refresh().await;
    assert!(back.starts_with("refreshed 5 times; name = ada"), "{back}");
    browser.close().await;
}

#[tokio::test]
async fn a_second_profile_starts_its_own_session_and_kill_ends_it() {
    let site = counter(&[]).await;
    let (one, two) = (Browser::start().await, Browser::start().await);
    one.open(&format!("{site}/dbset/ada")).await;
    assert!(one.refresh().await.contains("name = ada"));
    let other = two.open(&format!("{site}/")).await;
    assert!(
        other.starts_with("refreshed 1 times; name = (none"),
        "{other}"
    );

    assert_eq!(one.open(&format!("{site}/kill")).await, "session cleared");
    assert!(
        one.session_cookie("session").await.is_none(),
        "the cookie was removed"
    );
    let after = one.open(&format!("{site}/")).await;
    assert!(
        after.starts_with("refreshed 1 times; name = (none"),
        "{after}"
    );
    // The other profile's session is untouched.
    assert!(two.refresh().await.starts_with("refreshed 2 times"));
    one.close().await;
    two.close().await;
}

#[tokio::test]
async fn logging_in_and_out_through_the_quickstart_form() {
    let site = quickstart(&[]).await;
    let browser = Browser::start().await;
    assert!(
        browser
            .open(&format!("{site}/"))
            .await
            .contains("Not logged in")
    );
    let before = browser.session_cookie("session").await.unwrap();

    browser.open(&format!("{site}/login")).await;
    let input = browser
        .client
        .find(Locator::Css("input[name=username]"))
        .await
        .unwrap();
    input.send_keys("ada").await.unwrap();
    browser.click(Locator::Css("button")).await;
    let page = browser.text().await;
    assert!(page.contains("Logged in as ada"), "{page}");
    assert!(page.contains("refreshed this page 2 times"), "{page}");
    let after = browser.session_cookie("session").await.unwrap();
    assert_ne!(
        after.value(),
        before.value(),
        "a login moves the session to a new id"
    );

    browser.click(Locator::LinkText("Log out")).await;
    let page = browser.text().await;
    assert!(page.contains("Not logged in"), "{page}");
    assert!(page.contains("refreshed this page 1 times"), "{page}");
    browser.close().await;
}

#[tokio::test]
async fn the_cookie_as_the_browser_keeps_it_has_the_configured_attributes() {
    let site = quickstart(&[
        ("SESSION_COOKIE_NAME", "__Host-sid"),
        ("SESSION_COOKIE_SECURE", "true"),
        ("SESSION_COOKIE_SAMESITE", "Strict"),
        ("PERMANENT_SESSION_LIFETIME", "3600"),
    ])
    .await;
    let browser = Browser::start().await;
    browser.open(&format!("{site}/")).await;
    let cookie = browser
        .session_cookie("__Host-sid")
        .await
        .expect("the browser kept the __Host- cookie");
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(SameSite::Strict));
    assert_eq!(cookie.path(), Some("/"));
    assert_eq!(cookie.domain(), Some("localhost"), "a host-only cookie");
    let expires = cookie
        .expires_datetime()
        .expect("a permanent session's cookie expires");
    let in_secs = (SystemTime::from(expires)
        .duration_since(SystemTime::now())
        .unwrap())
    .as_secs();
    assert!((3500..=3600).contains(&in_secs), "expires in {in_secs} s");
    browser.close().await;
}

#[tokio::test]
async fn a_signed_cookie_edited_in_the_browser_is_no_session() {
    let site = counter(&[
        ("SESSION_USE_SIGNER", "true"),
        ("SECRET_KEY", "a key of at least 32 bytes, for tests"),
    ])
    .await;
    let browser = Browser::start().await;
    browser.open(&format!("{site}/dbset/ada")).await;
    assert!(browser.refresh().await.contains("name = ada"));
    let cookie = browser.session_cookie("session").await.unwrap();
    let value = cookie.value().to_owned();
    // The same id with a changed signature, written into the browser's jar.
    let last = value.chars().last().unwrap();
    let edited = format!(
        "{}{}",
        &value[..value.len() - 1],
        if last == 'A' { 'B' } else { 'A' }
    );
    browser.client.delete_cookie("session").await.unwrap();
    let mut forged = cookie.clone();
    forged.set_value(edited);
    browser.client.add_cookie(forged).await.unwrap();
    assert_ne!(
        browser.session_cookie("session").await.unwrap().value(),
        value,
        "the jar holds the edited cookie"
    );
    let page = browser.refresh().await;
    assert!(
        page.starts_with("refreshed 1 times; name = (none"),
        "{page}"
    );
    browser.close().await;
}
