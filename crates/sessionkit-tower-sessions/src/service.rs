//! [`TowerSessionsService`]: the lifecycle around one request, through the bridge.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::COOKIE;
use http::{HeaderValue, Request, Response};
use sessionkit_core::{Error, Session, Sessions};
use tower_service::Service;

use crate::bridge::RequestStore;
use crate::headers::{Headers, error_response};

/// The service made by [`TowerSessionsLayer`](crate::TowerSessionsLayer).
#[derive(Debug, Clone)]
pub struct TowerSessionsService<S> {
    inner: S,
    sessions: Sessions,
}

impl<S> TowerSessionsService<S> {
    pub(crate) fn new(inner: S, sessions: Sessions) -> Self {
        Self { inner, sessions }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for TowerSessionsService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let cookies = request
            .headers()
            .get_all(COOKIE)
            .iter()
            .map(HeaderValue::as_bytes);
        let session = self.sessions.start(cookies);
        let bridge = RequestStore::new(session.clone(), self.sessions.config().lifetime);
        let detach = Detach(Arc::clone(&bridge));
        let handle = bridge.attach();
        request.extensions_mut().insert(handle.clone());
        request.extensions_mut().insert(session.clone());

        // The clone that was driven to readiness serves this request (tower's guidance).
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let sessions = self.sessions.clone();
        Box::pin(async move {
            let response = inner.call(request).await?;
            let response = write_back(&sessions, &session, &bridge, &handle, response).await;
            drop(detach);
            Ok(response)
        })
    }
}

/// Writes the handler's changes and the session, or answers the session error.
async fn write_back<B: Default>(
    sessions: &Sessions,
    session: &Session,
    bridge: &RequestStore,
    handle: &tower_sessions_core::Session,
    mut response: Response<B>,
) -> Response<B> {
    let answer = |error: &Error| {
        tracing::error!(?error, "could not store the session");
        error_response(error)
    };
    // A store error met by the handler (its load failed): nothing is written, and the
    // response says what the lifecycle says (503 for an outage), whatever the handler made
    // of the tower-sessions error it got.
    if let Some(error) = bridge.failure() {
        return answer(&error);
    }
    if let Err(error) = bridge.write_back(handle).await {
        return answer(&error);
    }
    let outcome = match sessions.finish(session).await {
        Ok(outcome) => outcome,
        Err(error) => return answer(&error),
    };
    if let Err(error) = outcome.apply_to(&mut Headers(response.headers_mut())) {
        return answer(&error);
    }
    response
}

/// Breaks the bridge's reference cycle when the request ends, however it ends.
struct Detach(Arc<RequestStore>);

impl Drop for Detach {
    fn drop(&mut self) {
        self.0.detach();
    }
}
