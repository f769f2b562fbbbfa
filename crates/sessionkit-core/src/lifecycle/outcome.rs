//! What the lifecycle decided for one request, and how it is written into the response.

use std::borrow::Cow;
use std::fmt;

use crate::{Error, ResponseHeaders};

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

/// The lifecycle's decision for one request: what it did and the cookie to send; a web
/// adapter writes it into the response with [`Outcome::apply_to`].
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
    /// Writes the outcome into the response's headers: what every web adapter does once the
    /// session is finished.
    ///
    /// - `Set-Cookie`, when there is a cookie to send (added to any the app set).
    /// - `Cache-Control: private, no-cache="Set-Cookie"` with that cookie, unless the app
    ///   set `Cache-Control` or `Expires` itself: a response carrying the session cookie
    ///   must not be stored by a shared cache and replayed to other users (the class of
    ///   Flask's CVE-2023-30861), and an application's own caching decision is left alone.
    /// - `Vary: Cookie` when the handler accessed the session, unless the response already
    ///   varies by `Cookie` (or by `*`).
    ///
    /// ```
    /// # use std::borrow::Cow;
    /// # use sessionkit_core::{BoxError, ResponseHeaders};
    /// # #[derive(Default)]
    /// # struct Headers(Vec<(&'static str, Vec<u8>)>);
    /// # impl ResponseHeaders for Headers {
    /// #     fn values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
    /// #         self.0.iter().filter(move |(n, _)| *n == name).map(|(_, v)| v.as_slice())
    /// #     }
    /// #     fn insert(&mut self, name: &'static str, value: &'static str) {
    /// #         self.0.retain(|(n, _)| *n != name);
    /// #         self.0.push((name, value.as_bytes().to_vec()));
    /// #     }
    /// #     fn append(&mut self, name: &'static str, value: Cow<'static, str>) -> Result<(), BoxError> {
    /// #         self.0.push((name, value.into_owned().into_bytes()));
    /// #         Ok(())
    /// #     }
    /// # }
    /// use sessionkit_core::{MemoryStore, SessionConfig, Sessions};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let sessions = Sessions::new(std::sync::Arc::new(MemoryStore::new()), SessionConfig::default())?;
    /// let session = sessions.start([]);
    /// session.insert("user", &"ada").await?;
    /// let outcome = sessions.finish(&session).await?;
    ///
    /// let mut headers = Headers::default(); // the framework's header map, seen as ResponseHeaders
    /// outcome.apply_to(&mut headers)?;
    /// let names: Vec<&str> = headers.0.iter().map(|(name, _)| *name).collect();
    /// assert_eq!(names, ["cache-control", "set-cookie", "vary"]);
    /// # Ok::<(), sessionkit_core::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`Error::Encode`] when the framework refuses the cookie as a header value; the
    /// adapter then answers with an error response instead.
    pub fn apply_to(self, headers: &mut impl ResponseHeaders) -> Result<(), Error> {
        if let Some(cookie) = self.set_cookie {
            let has_cache_headers = headers.values("cache-control").next().is_some()
                || headers.values("expires").next().is_some();
            if !has_cache_headers {
                headers.insert("cache-control", SET_COOKIE_CACHE_CONTROL);
            }
            headers
                .append("set-cookie", Cow::Owned(cookie))
                .map_err(Error::Encode)?;
        }
        if self.accessed && !varies_by_cookie(headers) {
            headers
                .append("vary", Cow::Borrowed("Cookie"))
                .map_err(Error::Encode)?;
        }
        Ok(())
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

/// Whether the response already says it varies by `Cookie` (or by everything).
fn varies_by_cookie(headers: &impl ResponseHeaders) -> bool {
    headers
        .values("vary")
        .filter_map(|v| std::str::from_utf8(v).ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|v| v == "*" || v.eq_ignore_ascii_case("cookie"))
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
    use crate::BoxError;

    /// A header list in order, as a framework keeps it.
    #[derive(Default)]
    struct Headers(Vec<(&'static str, String)>);

    impl Headers {
        fn with(pairs: &[(&'static str, &str)]) -> Self {
            Self(pairs.iter().map(|(n, v)| (*n, (*v).to_owned())).collect())
        }
        fn get_all(&self, name: &str) -> Vec<&str> {
            self.0
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
                .collect()
        }
    }

    impl ResponseHeaders for Headers {
        fn values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
            self.0
                .iter()
                .filter(move |(n, _)| *n == name)
                .map(|(_, v)| v.as_bytes())
        }
        fn insert(&mut self, name: &'static str, value: &'static str) {
            self.0.retain(|(n, _)| *n != name);
            self.0.push((name, value.to_owned()));
        }
        fn append(&mut self, name: &'static str, value: Cow<'static, str>) -> Result<(), BoxError> {
            if value.contains('\n') {
                return Err("not a header value".into());
            }
            self.0.push((name, value.into_owned()));
            Ok(())
        }
    }

    fn with_cookie(set_cookie: Option<&str>) -> Outcome {
        Outcome::new(Action::Saved, set_cookie.map(str::to_owned))
    }

    #[test]
    fn a_cookie_comes_with_cache_control_unless_the_app_has_caching_headers() {
        let mut plain = Headers::default();
        with_cookie(Some("session=abc; Path=/"))
            .apply_to(&mut plain)
            .unwrap();
        assert_eq!(plain.get_all("cache-control"), [SET_COOKIE_CACHE_CONTROL]);
        assert_eq!(plain.get_all("set-cookie"), ["session=abc; Path=/"]);

        for own in ["cache-control", "expires"] {
            let mut headers = Headers::with(&[(own, "x")]);
            with_cookie(Some("session=abc"))
                .apply_to(&mut headers)
                .unwrap();
            assert_eq!(
                headers.get_all("cache-control").len(),
                usize::from(own == "cache-control")
            );
        }
    }

    #[test]
    fn no_cookie_no_cache_control_and_untouched_adds_nothing() {
        let mut headers = Headers::default();
        with_cookie(None).apply_to(&mut headers).unwrap();
        assert_eq!(headers.get_all("cache-control"), Vec::<&str>::new());
        assert_eq!(headers.get_all("vary"), ["Cookie"]);

        let mut headers = Headers::default();
        Outcome::untouched().apply_to(&mut headers).unwrap();
        assert!(headers.0.is_empty());
    }

    #[test]
    fn vary_cookie_is_added_once() {
        for already in ["cookie", "Accept, Cookie", "*"] {
            let mut headers = Headers::with(&[("vary", already)]);
            with_cookie(None).apply_to(&mut headers).unwrap();
            assert_eq!(headers.get_all("vary"), [already]);
        }
        let mut headers = Headers::with(&[("vary", "Accept")]);
        with_cookie(None).apply_to(&mut headers).unwrap();
        assert_eq!(headers.get_all("vary"), ["Accept", "Cookie"]);
    }

    #[test]
    fn a_cookie_the_framework_refuses_is_an_encode_error() {
        let mut headers = Headers::default();
        let err = with_cookie(Some("session=a\nb"))
            .apply_to(&mut headers)
            .unwrap_err();
        assert!(matches!(err, Error::Encode(_)), "{err:?}");
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
