//! Forged and malformed cookies: treated as no session, never a store lookup, never a panic.

use http::{HeaderValue, Request, header};
use sessionkit::Id;

use crate::support::{Ctx, TestApp};

/// Sends `GET /get/a` with the raw `Cookie` header and checks that the request was served
/// as a new, empty session without touching the store.
async fn assert_no_session(app: &TestApp, cookie: &[u8], what: &str) {
    let before = app.store.total_calls();
    let request = Request::get("/get/a")
        .header(
            header::COOKIE,
            HeaderValue::from_bytes(cookie).expect("a valid header"),
        )
        .body(())
        .unwrap();
    let response = app.send(request).await;
    assert_eq!(response.status, 200, "{what}");
    assert_eq!(response.body, "<none>", "{what}");
    assert_eq!(response.set_cookie(), None, "{what}");
    assert_eq!(app.store.total_calls(), before, "{what} reached the store");
}

pub(crate) async fn malformed_cookies_never_reach_the_store(ctx: &Ctx) {
    let app = ctx.app().await;
    // A real session exists, so a lookup of anything would be observable.
    let real = app.get("/set/a/1", None).await.cookie();
    let real_value = real.split_once('=').unwrap().1;

    let random_printable: String = (0..30)
        .map(|i| (b'!' + (i * 7 % 90) as u8) as char)
        .filter(|c| *c != ';')
        .collect();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            format!("session={random_printable}").into_bytes(),
            "random printable bytes",
        ),
        (
            (b"session="
                .iter()
                .copied()
                .chain((0x80..=0xff).cycle().take(43)))
            .collect(),
            "random high bytes",
        ),
        (
            format!("session={}", "A".repeat(10 * 1024)).into_bytes(),
            "a 10 KB value",
        ),
        ("session=ñandú-ünïcödé-値".as_bytes().to_vec(), "non-ASCII"),
        (b"session=".to_vec(), "an empty value"),
        (b"session".to_vec(), "a name without value"),
        (
            format!("session={}", &real_value[..42]).into_bytes(),
            "a truncated id",
        ),
        (
            format!("session={real_value}=").into_bytes(),
            "an id with padding",
        ),
        (
            format!(
                "session={}",
                real_value.replace(|c: char| c.is_ascii_lowercase(), "+")
            )
            .into_bytes(),
            "a foreign alphabet",
        ),
    ];
    for (cookie, what) in cases {
        assert_no_session(&app, &cookie, what).await;
    }
}

pub(crate) async fn duplicated_session_cookies_are_refused(ctx: &Ctx) {
    let app = ctx.app().await;
    let first = app.get("/set/a/1", None).await.cookie();
    let second = app.get("/set/a/2", None).await.cookie();
    // Two valid, stored sessions: an attacker on a sibling domain could plant one of them.
    let header = format!("{first}; {second}");
    assert_no_session(&app, header.as_bytes(), "two different session cookies").await;
}

pub(crate) async fn a_junk_duplicate_cookie_does_not_lock_the_user_out(ctx: &Ctx) {
    let app = ctx.app().await;
    let real = app.get("/set/a/1", None).await.cookie();
    let unknown = format!("session={}", Id::random());
    // Junk that a sibling subdomain could plant, before or after the real cookie. An id
    // that parses but is not stored is not junk: it cannot be told apart from ours.
    for junk in ["session=planted", "session=", "session=\"x\""] {
        for header in [format!("{junk}; {real}"), format!("{real}; {junk}")] {
            assert_eq!(app.get("/get/a", Some(&header)).await.body, "1", "{header}");
        }
    }
    let two_valid = format!("{unknown}; {real}");
    assert_eq!(app.get("/get/a", Some(&two_valid)).await.body, "<none>");
}

pub(crate) async fn an_unsigned_or_wrongly_signed_duplicate_is_junk(ctx: &Ctx) {
    let app = ctx.app_with(&signed(SERVER_KEY)).await;
    let real = app.get("/set/a/1", None).await.cookie();
    let elsewhere = ctx.app_with(&signed(OTHER_KEY)).await;
    let wrongly_signed = elsewhere.get("/set/a/2", None).await.cookie();
    let unsigned = format!("session={}", Id::random());
    for junk in [unsigned, wrongly_signed] {
        let header = format!("{junk}; {real}");
        assert_eq!(app.get("/get/a", Some(&header)).await.body, "1", "{header}");
    }
}

const SERVER_KEY: &str = "server key: at least 32 bytes long";
const OTHER_KEY: &str = "another server's key, 32+ bytes long";

fn signed(key: &str) -> [(&str, &str); 2] {
    [("SESSION_USE_SIGNER", "true"), ("SECRET_KEY", key)]
}

pub(crate) async fn wrong_signatures_never_reach_the_store(ctx: &Ctx) {
    let app = ctx.app_with(&signed(SERVER_KEY)).await;
    let real = app.get("/set/a/1", None).await.cookie();
    let id = Id::parse(real.split_once('=').unwrap().1.split_once('.').unwrap().0).unwrap();
    let mut flipped = real.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    assert_no_session(&app, &flipped, "a flipped signature byte").await;
    assert_no_session(&app, format!("session={id}").as_bytes(), "the bare id").await;
    assert_no_session(
        &app,
        format!("session={id}.").as_bytes(),
        "an empty signature",
    )
    .await;
}
