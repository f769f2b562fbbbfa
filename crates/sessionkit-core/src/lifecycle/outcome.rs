//! What the lifecycle decided for one request.

use std::fmt;

/// `Cache-Control` for a response that sets the session cookie: no shared cache may store
/// it, and no cache may reuse its `Set-Cookie` without revalidating.
const SET_COOKIE_CACHE_CONTROL: &str = "private, no-cache=\"Set-Cookie\"";

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

/// The lifecycle's decision for one request: what it did, the cookie to send, and (through
/// [`Outcome::cache_control`]) the caching header that must go with it.
///
/// Its `Debug` shows the cookie without its value (the session id).
#[derive(Clone, PartialEq, Eq)]
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
    /// The `Cache-Control` value a web adapter adds to the response, if any.
    ///
    /// A response that carries the session `Set-Cookie` must not be stored by a shared
    /// cache and replayed to other users with that cookie (the class of Flask's
    /// CVE-2023-30861). So when there is a `set_cookie` and the application set no caching
    /// headers of its own, this is `private, no-cache="Set-Cookie"`; otherwise `None`.
    /// `has_cache_headers` says whether the response already has `Cache-Control` or
    /// `Expires`: an application's own caching decision is left alone.
    ///
    /// ```
    /// use sessionkit_core::{MemoryStore, SessionConfig, Sessions};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let sessions = Sessions::new(std::sync::Arc::new(MemoryStore::new()), SessionConfig::default())?;
    /// let session = sessions.start([]);
    /// session.insert("user", &"ada").await?;
    /// let outcome = sessions.finish(&session).await?;
    /// assert!(outcome.set_cookie.is_some());
    /// assert_eq!(outcome.cache_control(false), Some(r#"private, no-cache="Set-Cookie""#));
    /// assert_eq!(outcome.cache_control(true), None);
    /// # Ok::<(), sessionkit_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn cache_control(&self, has_cache_headers: bool) -> Option<&'static str> {
        (self.set_cookie.is_some() && !has_cache_headers).then_some(SET_COOKIE_CACHE_CONTROL)
    }

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

impl fmt::Debug for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `name=<value>; attributes`: the value is the session id, shown as a length only.
        let set_cookie = self.set_cookie.as_deref().map(|cookie| {
            let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            format!("{name}=<{} bytes>;{attributes}", value.len())
        });
        f.debug_struct("Outcome")
            .field("action", &self.action)
            .field("set_cookie", &set_cookie)
            .field("accessed", &self.accessed)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(set_cookie: Option<&str>) -> Outcome {
        Outcome::new(Action::Saved, set_cookie.map(str::to_owned))
    }

    #[test]
    fn cache_control_only_with_a_cookie_and_no_caching_headers() {
        let cookie = with_cookie(Some("session=abc; Path=/"));
        assert_eq!(cookie.cache_control(false), Some(SET_COOKIE_CACHE_CONTROL));
        assert_eq!(cookie.cache_control(true), None);
        assert_eq!(with_cookie(None).cache_control(false), None);
        assert_eq!(Outcome::untouched().cache_control(false), None);
    }

    #[test]
    fn debug_hides_the_cookie_value() {
        let id = crate::Id::random().to_string();
        let outcome = with_cookie(Some(&format!("session={id}; HttpOnly; Path=/")));
        let debug = format!("{outcome:?}");
        assert!(!debug.contains(&id[..10]), "{debug}");
        assert!(
            debug.contains("session=<43 bytes>; HttpOnly; Path=/"),
            "{debug}"
        );
    }
}
