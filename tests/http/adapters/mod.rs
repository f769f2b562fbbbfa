//! How each web adapter serves the suite: the same route table over the same `Sessions`,
//! driven in-process (axum through tower's `oneshot`, actix-web through
//! `actix_web::test`), so the cases run unchanged on both, on the test's own runtime and
//! clock.
//!
//! The route table, implemented once per adapter (every route is a `GET`; a session error
//! is the handler's `Err(SessionError)`):
//!
//! | Path | Handler |
//! |---|---|
//! | `/noop` | never touches the session; `ok` |
//! | `/get/{key}` | the string under `key`, or `<none>` |
//! | `/set/{key}/{value}` | inserts; `set` |
//! | `/remove/{key}` | removes; whether it was there |
//! | `/take/{key}` | Flask's `pop`; the value or `<none>` |
//! | `/incr` | increments `refreshed`; the new count |
//! | `/clear`, `/destroy`, `/cycle` | `clear()`, `destroy()`, `cycle_id()` |
//! | `/clear_then_set/{key}/{value}` | a logout followed by a flash message |
//! | `/permanent/{on}` | `set_permanent(on)` |
//! | `/id`, `/keys` | the session id; the keys joined by `,` |
//! | `/vary` | reads `a` and sets the app's own `Vary: cookie` |
//! | `/own_caching/{header}` | writes `a` and sets the app's own `Cache-Control` (or `Expires` when `header` is `expires`) |
//! | `/slow_set/{key}/{value}` | loads, notifies `Gate::entered`, waits for `Gate::release`, then inserts |
//! | `/slow_read/{key}` | loads, waits at the gate, answers what it loaded |
//! | `/slow_cycle` | loads, waits at the gate, rotates the id; answers the new id |
//! | `/login/{user}` | sets `_user_id` and rotates the id (Flask-Login's `login_user`) |
//! | `/devices` | the user's sessions, oldest first: hints joined by `,`, the current one with a `*` |
//! | `/revoke_others` | `revoke_other_sessions()`; how many |

mod actix;
mod axum;

use std::sync::Arc;

use http::Request;
use sessionkit::{Error, Sessions, UserSession};

use crate::support::{Gate, TestResponse};

/// The web framework a case runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Adapter {
    Axum,
    Actix,
}

/// How the app answers session errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorResponses {
    /// The adapter's default (503 with `Retry-After`, or 500; empty body).
    Default,
    /// The app's own: a 503 whose body is [`custom_error_body`].
    Custom,
}

/// The body of the app's own error response.
pub(crate) fn custom_error_body(error: &Error) -> String {
    format!("custom: unavailable={}", error.is_unavailable())
}

/// The route table on one adapter. Cheap to clone; clones share the sessions and the gate.
#[derive(Clone)]
pub(crate) enum Server {
    Axum(axum::AxumApp),
    Actix(actix::ActixApp),
}

impl Server {
    pub(crate) fn new(
        adapter: Adapter,
        sessions: Sessions,
        gate: Arc<Gate>,
        errors: ErrorResponses,
    ) -> Self {
        match adapter {
            Adapter::Axum => Self::Axum(axum::AxumApp::new(sessions, gate, errors)),
            Adapter::Actix => Self::Actix(actix::ActixApp::new(sessions, gate, errors)),
        }
    }

    /// Serves `request` and reads the whole response.
    pub(crate) async fn send(&self, request: Request<()>) -> TestResponse {
        match self {
            Self::Axum(app) => app.send(request).await,
            Self::Actix(app) => app.send(request).await,
        }
    }
}

/// The `/devices` answer: hints oldest first, joined by `,`, the current one with a `*`.
pub(crate) fn describe_devices(sessions: &[UserSession]) -> String {
    sessions
        .iter()
        .map(|s| {
            if s.current {
                format!("{}*", s.hint)
            } else {
                s.hint.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}
