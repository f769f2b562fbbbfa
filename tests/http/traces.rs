//! Traces of a whole scenario (a visit, a login, a write, a rotation, a logout): the spans
//! of store calls and of the end of each request carry their fields, nest under the
//! request's span, and never show a session id or a stored value; at `info`, sessionkit
//! says nothing.

use tracing::{Instrument as _, Level};

use sessionkit::Id;

use crate::support::{CapturedLogs, Ctx, TestApp, TestResponse};

/// `GET path` inside a span standing for the web framework's request span (named by
/// `step`: the path would show the value the test looks for).
async fn request(app: &TestApp, step: &str, path: &str, cookie: Option<&str>) -> TestResponse {
    let span = tracing::info_span!("request", step);
    app.get(path, cookie).instrument(span).await
}

/// The scenario; returns the ids the browser held and the value it stored.
async fn scenario(app: &TestApp) -> (Vec<Id>, String) {
    let secret = format!("secret-{}", &Id::random().to_string()[..12]);
    let visit = request(app, "visit", "/set/cart/book", None).await;
    let login = request(app, "login", "/login/ada", Some(&visit.cookie())).await;
    let write_path = format!("/set/note/{secret}");
    let write = request(app, "write", &write_path, Some(&login.cookie())).await;
    assert_eq!(
        write.set_cookie().map(|_| write.cookie()),
        Some(login.cookie())
    );
    let rotation = request(app, "rotation", "/cycle", Some(&login.cookie())).await;
    let logout = request(app, "logout", "/clear", Some(&rotation.cookie())).await;
    assert!(logout.removes_cookie());
    let ids = [&visit, &login, &rotation]
        .iter()
        .map(|r| r.cookie_id())
        .collect();
    (ids, secret)
}

pub(crate) async fn spans_of_a_login_write_rotation_and_logout_hold_no_id_and_no_value(ctx: &Ctx) {
    let app = ctx.app().await;
    let logs = CapturedLogs::at(Level::TRACE);
    let (ids, secret) = scenario(&app).await;
    // A span's line is written when its last handle drops, which an adapter may do just
    // after the response is out (seen on actix-web with the logout's spans): wait for the
    // last request's end, with a bound.
    let bound = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !logs.text().contains("action=Deleted") && std::time::Instant::now() < bound {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let text = logs.text();

    for id in &ids {
        let id = id.to_string();
        assert!(!text.contains(&id), "a whole session id in the traces");
        assert!(
            !text.contains(&id[..12]),
            "a piece of a session id in the traces"
        );
    }
    assert!(!text.contains(&secret), "a stored value in the traces");

    // Quotes around text values depend on the formatter: compare without them.
    let plain = text.replace('"', "");
    let store_spans: Vec<&str> = plain
        .lines()
        .filter(|l| l.contains("sessionkit.store{") && l.contains("close"))
        .collect();
    let finish_spans: Vec<&str> = plain
        .lines()
        .filter(|l| l.contains("sessionkit.finish{") && l.contains("close"))
        .collect();
    let backend = format!("backend={}", ctx.backend.name());
    for operation in ["create", "load", "save", "delete_if"] {
        let operation = format!("operation={operation} ");
        assert!(
            store_spans.iter().any(|l| l.contains(&operation)),
            "no {operation} span:\n{plain}"
        );
    }
    for span in &store_spans {
        for field in [&backend as &str, "attempt=1", "outcome=", "session="] {
            assert!(span.contains(field), "{field} missing: {span}");
        }
        assert!(
            span.contains("request{step="),
            "not nested in the request's span: {span}"
        );
        // The session is named by its hint: 8 characters, no piece of any id.
        let hint = span
            .split("session=")
            .nth(1)
            .and_then(|rest| rest.split([' ', '}']).next())
            .unwrap();
        assert_eq!(hint.len(), 8, "{span}");
        assert!(
            ids.iter().all(|id| !id.to_string().contains(hint)),
            "{span}"
        );
    }
    let writes = store_spans
        .iter()
        .filter(|l| l.contains("operation=create ") || l.contains("operation=save "));
    for write in writes {
        assert!(
            write.contains("size="),
            "a write span without its size: {write}"
        );
    }
    for action in ["Created", "Cycled", "Saved", "Deleted"] {
        let action = format!("action={action}");
        assert!(
            finish_spans.iter().any(|l| l.contains(&action)),
            "no end of request with {action}:\n{plain}"
        );
    }
    assert!(
        finish_spans
            .iter()
            .filter(|l| l.contains("action=Saved") || l.contains("action=Cycled"))
            .all(|l| l.contains("merge_attempts=1")),
        "{plain}"
    );
    assert!(
        finish_spans.iter().all(|l| l.contains("request{step=")),
        "{plain}"
    );
    // A store span of the end of a request nests in its `sessionkit.finish`.
    assert!(
        store_spans
            .iter()
            .any(|l| l.contains("sessionkit.finish{") && l.contains("operation=save ")),
        "{plain}"
    );
}

pub(crate) async fn info_is_quiet_in_normal_operation(ctx: &Ctx) {
    let app = ctx.app().await;
    let logs = CapturedLogs::at(Level::INFO);
    scenario(&app).await;
    let text = logs.text();
    let ours: Vec<&str> = text.lines().filter(|l| l.contains("sessionkit")).collect();
    assert!(ours.is_empty(), "{ours:#?}");
}
