//! Issue 19's proof: the quickstart app runs on Memcached with 200 logged-in browsers, each
//! with its own refresh count; it is then switched to Redis with `SESSION_MIGRATE_FROM`
//! naming the Memcached store, and every browser carries on logged in with its count, its
//! session moved to Redis on its first request. A browser that logs out during the
//! migration stays logged out: its old copy never comes back. The example's file is
//! included as a module, so what runs here is exactly the quickstart's router.

#[path = "../examples/quickstart.rs"]
#[allow(dead_code, unreachable_pub)]
mod example;
mod oneshot;
mod redis_keys;

use std::panic::AssertUnwindSafe;

use axum::Router;
use futures_util::FutureExt as _;
use futures_util::future::join_all;
use http::StatusCode;
use oneshot::{Reply, send};
use sessionkit::{Config, Id, SessionStore};
use sessionkit_memcached::MemcachedStore;
use sessionkit_redis::RedisStore;

const BROWSERS: usize = 200;
const REDIS: &str = "redis://127.0.0.1:6379";
const MEMCACHED: &str = "127.0.0.1:11211,127.0.0.1:11212";
/// The sessions' lifetime (`PERMANENT_SESSION_LIFETIME`), short so that what a failed run
/// leaves behind expires soon.
const LIFETIME: &str = "600";
/// The store timeout (`SESSION_STORE_TIMEOUT`): generous, because 200 browsers move at once
/// on a machine that also runs the rest of the suite, and this test is about where sessions
/// go, not about latency (the failure suites test the timeout).
const TIMEOUT: &str = "10";

/// One browser: its cookie, whose session it is and how often it refreshed `/`.
struct Browser {
    cookie: String,
    user: String,
    refreshed: u64,
}

impl Browser {
    fn id(&self) -> Id {
        self.cookie.split_once('=').unwrap().1.parse().unwrap()
    }
}

/// The quickstart over the store `pairs` configure.
async fn quickstart(pairs: &[(&str, &str)]) -> Router {
    let config = Config::from_pairs(pairs.iter().copied()).unwrap();
    let layer = sessionkit::axum::layer(&config).await.unwrap_or_else(|e| {
        panic!("Redis on 6379 and memcached on 11211/11212 are needed: ./scripts/services ({e:?})")
    });
    example::app(layer)
}

/// `GET /` as `browser`; checks that it is still logged in with its count, one more.
async fn refresh(app: &Router, browser: &mut Browser) -> Reply {
    let reply = send(app, "GET", "/", Some(&browser.cookie), "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    browser.refreshed += 1;
    assert_logged_in(&reply, browser);
    reply
}

fn assert_logged_in(reply: &Reply, browser: &Browser) {
    let expected = [
        format!("refreshed this page <b>{}</b> times", browser.refreshed),
        format!("Logged in as <b>{}</b>", browser.user),
    ];
    for text in &expected {
        assert!(
            reply.body.contains(text),
            "{}: {}",
            browser.user,
            reply.body
        );
    }
    if let Some(cookie) = &reply.cookie {
        assert_eq!(cookie, &browser.cookie, "the session keeps its id");
    }
}

/// The count the page shows.
fn count_in(reply: &Reply) -> u64 {
    let (_, rest) = reply.body.split_once("refreshed this page <b>").unwrap();
    rest.split_once("</b>").unwrap().0.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_from_memcached_to_redis_logs_nobody_out() {
    let prefix = format!("sk-migration-{}:", &Id::random().to_string()[..12]);
    // The two stores as the app sees them, read directly to check where sessions are.
    let memcached = MemcachedStore::builder(MEMCACHED.split(','))
        .key_prefix(&prefix)
        .build_and_ping()
        .await
        .expect("memcached on 11211 and 11212: ./scripts/services");
    let redis = RedisStore::builder(REDIS)
        .key_prefix(&prefix)
        .build()
        .await
        .expect("Redis on 6379: ./scripts/services");
    let outcome = AssertUnwindSafe(migrate_200_browsers(&prefix, &memcached, &redis))
        .catch_unwind()
        .await;
    // Whatever happened. (Sessions a failure leaves in Memcached expire with their
    // lifetime, ten minutes.)
    redis_keys::delete(REDIS, &prefix).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn migrate_200_browsers(prefix: &str, memcached: &MemcachedStore, redis: &RedisStore) {
    // Before: the quickstart on Memcached, 200 browsers logged in, each refreshing `/` a
    // different number of times.
    let before = quickstart(&[
        ("SESSION_TYPE", "memcached"),
        ("SESSION_MEMCACHED", MEMCACHED),
        ("SESSION_KEY_PREFIX", prefix),
        ("PERMANENT_SESSION_LIFETIME", LIFETIME),
        ("SESSION_STORE_TIMEOUT", TIMEOUT),
    ])
    .await;
    let logins = (0..BROWSERS).map(|i| {
        let before = &before;
        async move {
            let user = format!("user{i}");
            let login = send(before, "POST", "/login", None, &format!("username={user}")).await;
            assert_eq!(login.status, StatusCode::SEE_OTHER);
            let mut browser = Browser {
                cookie: login.cookie.expect("a session cookie"),
                user,
                refreshed: 0,
            };
            for _ in 0..=i % 4 {
                refresh(before, &mut browser).await;
            }
            browser
        }
    });
    let mut browsers = join_all(logins).await;
    drop(before);
    for browser in &browsers {
        assert!(memcached.load(&browser.id()).await.unwrap().is_some());
        assert!(redis.load(&browser.id()).await.unwrap().is_none());
    }

    // After: the same app on Redis, moving sessions from Memcached.
    let migrate_from =
        format!(r#"{{"SESSION_TYPE":"memcached","SESSION_MEMCACHED":"{MEMCACHED}"}}"#);
    let after = quickstart(&[
        ("SESSION_TYPE", "redis"),
        ("SESSION_REDIS", REDIS),
        ("SESSION_KEY_PREFIX", prefix),
        ("PERMANENT_SESSION_LIFETIME", LIFETIME),
        ("SESSION_STORE_TIMEOUT", TIMEOUT),
        ("SESSION_MIGRATE_FROM", &migrate_from),
    ])
    .await;

    // Every tenth browser logs out: half on its first request after the switch (its
    // session still in Memcached), half after one refresh (already moved).
    let (leaving, staying): (Vec<_>, Vec<_>) = browsers
        .iter_mut()
        .enumerate()
        .partition(|(i, _)| i % 10 == 0);
    let logouts = leaving.into_iter().map(|(i, browser)| {
        let after = &after;
        async move {
            if i % 20 == 0 {
                refresh(after, browser).await;
            }
            let logout = send(after, "GET", "/logout", Some(&browser.cookie), "").await;
            assert_eq!(logout.status, StatusCode::SEE_OTHER);
            i
        }
    });
    // The others come back, all at once; a few send two requests at the same moment,
    // both moving the same session.
    let returns = staying.into_iter().map(|(i, browser)| {
        let after = &after;
        async move {
            if i % 7 == 0 {
                let cookie = browser.cookie.clone();
                let (a, b) = tokio::join!(
                    send(after, "GET", "/", Some(&cookie), ""),
                    send(after, "GET", "/", Some(&cookie), "")
                );
                for reply in [&a, &b] {
                    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
                    assert!(
                        reply
                            .body
                            .contains(&format!("Logged in as <b>{}</b>", browser.user)),
                        "{}: {} {:?}",
                        browser.user,
                        reply.body,
                        reply.cookie
                    );
                }
                // Both requests counted; when both read the count before either wrote it,
                // the merge of their writes keeps one count (the same key set twice).
                let page = send(after, "GET", "/", Some(&cookie), "").await;
                let count = count_in(&page);
                assert!(
                    [browser.refreshed + 2, browser.refreshed + 3].contains(&count),
                    "{}: {count} after {}",
                    browser.user,
                    browser.refreshed
                );
                browser.refreshed = count;
                assert_logged_in(&page, browser);
            } else {
                refresh(after, browser).await;
                refresh(after, browser).await;
            }
        }
    });
    let (left, ()) = tokio::join!(join_all(logouts), async {
        join_all(returns).await;
    });

    for browser in &browsers {
        let id = browser.id();
        assert!(
            memcached.load(&id).await.unwrap().is_none(),
            "{}: the old copy is gone",
            browser.user
        );
        let in_redis = redis.load(&id).await.unwrap();
        if browser
            .user
            .trim_start_matches("user")
            .parse::<usize>()
            .unwrap()
            % 10
            == 0
        {
            assert!(in_redis.is_none(), "{}: logged out", browser.user);
        } else {
            assert!(in_redis.is_some(), "{}: moved to Redis", browser.user);
        }
    }
    for i in left {
        let browser = &browsers[i];
        let page = send(&after, "GET", "/", Some(&browser.cookie), "").await;
        assert!(
            page.body.contains("Not logged in") && page.body.contains("<b>1</b> times"),
            "{}: a logout during the migration stays a logout: {}",
            browser.user,
            page.body
        );
        assert_ne!(page.cookie.as_ref(), Some(&browser.cookie), "a new session");
    }

    for browser in &browsers {
        memcached.delete(&browser.id()).await.unwrap();
    }
}
