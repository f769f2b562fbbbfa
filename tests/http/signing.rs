//! Signed cookies (SESSION_USE_SIGNER) and key rotation with fallbacks.

use sessionkit::Id;

use crate::support::Ctx;

/// Keys of at least 32 bytes, as the default signer format requires.
const K1: &str = "k1: a signing key of 32 bytes or more";
const OLD: &str = "old: a signing key of 32 bytes or more";
const NEW: &str = "new: a signing key of 32 bytes or more";

fn signed<'a>(key: &'a str, fallbacks: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("SESSION_USE_SIGNER", "true"),
        ("SECRET_KEY", key),
        ("SECRET_KEY_FALLBACKS", fallbacks),
    ]
}

pub(crate) async fn signed_cookie_round_trips_and_the_store_key_is_the_bare_id(ctx: &Ctx) {
    let app = ctx.app_with(&signed(K1, "")).await;
    let response = app.get("/set/a/1", None).await;
    let cookie = response.cookie();
    let value = cookie.split_once('=').unwrap().1;
    let (id, signature) = value.split_once('.').expect("<id>.<signature>");
    assert_eq!(signature.len(), 43);
    let id = Id::parse(id).unwrap();
    assert!(
        app.store.data(&id).await.is_some(),
        "stored under the id without signature"
    );
    assert_eq!(app.get("/get/a", Some(&cookie)).await.body, "1");
}

pub(crate) async fn unsigned_or_wrongly_signed_cookies_are_refused_without_a_lookup(ctx: &Ctx) {
    let app = ctx.app_with(&signed(K1, "")).await;
    let cookie = app.get("/set/a/1", None).await.cookie();
    let (id, _) = cookie.split_once('.').unwrap();
    let before = app.store.total_calls();
    for forged in [
        id.to_owned(),
        format!("{id}.{}", "A".repeat(43)),
        format!("{cookie}x"),
    ] {
        let response = app.get("/get/a", Some(&forged)).await;
        assert_eq!(response.body, "<none>", "{forged}");
    }
    assert_eq!(
        app.store.total_calls(),
        before,
        "a forged cookie reached the store"
    );
}

pub(crate) async fn rotation_accepts_the_old_key_and_issues_the_new_one(ctx: &Ctx) {
    let old = ctx.app_with(&signed(OLD, "")).await;
    let cookie = old.get("/set/a/1", None).await.cookie();

    let rotated = ctx.app_sharing(&old, &signed(NEW, OLD));
    assert_eq!(
        rotated.get("/get/a", Some(&cookie)).await.body,
        "1",
        "old-key cookie accepted"
    );
    let reissued = rotated.get("/set/a/2", Some(&cookie)).await.cookie();
    assert_ne!(reissued, cookie, "re-signed with the new key");
    assert_eq!(
        reissued.split_once('.').unwrap().0,
        cookie.split_once('.').unwrap().0,
        "same id"
    );

    let new_only = ctx.app_sharing(&old, &signed(NEW, ""));
    assert_eq!(new_only.get("/get/a", Some(&reissued)).await.body, "2");
    assert_eq!(
        new_only.get("/get/a", Some(&cookie)).await.body,
        "<none>",
        "old key retired"
    );
}
