//! One request to an example's router, as a browser would send it, for the tests that drive
//! the examples (`mod oneshot;` in each).

use axum::Router;
use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// What a request got back.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    /// The `name=value` part of the `Set-Cookie` header, if one was sent.
    pub(crate) cookie: Option<String>,
    pub(crate) body: String,
}

/// Sends `method path` with `cookie` (a `name=value` pair) and `form` (URL-encoded, sent
/// only if not empty).
pub(crate) async fn send(
    app: &Router,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: &str,
) -> Reply {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    if !form.is_empty() {
        request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(form.to_owned())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        cookie,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}
