//! What the lifecycle decided for one request.

/// What happened to the session at the end of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// The session was not accessed, or nothing needed writing.
    None,
    /// Unchanged; the expiry slid (folded into the load) and a permanent cookie was re-sent.
    Refreshed,
    /// A new session was stored under a fresh id.
    Created,
    /// The session's changes were saved.
    Saved,
    /// The record changed concurrently; this request's changes were merged onto it and saved.
    Merged,
    /// The data was moved to a new id and the old record deleted (`cycle_id`, or a logout
    /// followed by writes).
    Cycled,
    /// The session was emptied, cleared or destroyed and its record deleted (a logout).
    Deleted,
    /// The record had been deleted, revoked, moved or had expired meanwhile: nothing was
    /// written and no cookie is sent (the browser may hold a newer id by now).
    Gone,
}

/// The lifecycle's decision for one request: what it did, and the cookie to send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// What was done to the stored session.
    pub action: Action,
    /// The `Set-Cookie` header value to add to the response, if any.
    pub set_cookie: Option<String>,
    /// Whether the handler accessed the session (the response then varies by `Cookie`).
    pub accessed: bool,
}

impl Outcome {
    pub(crate) fn untouched() -> Self {
        Self {
            action: Action::None,
            set_cookie: None,
            accessed: false,
        }
    }

    pub(crate) fn new(action: Action, set_cookie: Option<String>) -> Self {
        Self {
            action,
            set_cookie,
            accessed: true,
        }
    }
}
