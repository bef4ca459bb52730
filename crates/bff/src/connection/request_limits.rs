//! The limits of each request, as tower layers around the whole app:
//! - at most `--max-requests` answered at once: tower's global concurrency
//!   limit, with load shedding in front of it, so that one more is answered
//!   `503` with `Retry-After` at once instead of queueing without bound;
//! - `--request-timeout` from the head to the answer (tower's timeout; a
//!   slow-dripped body is what makes a request that long): `408`;
//! - `--body-timeout` between two parts of a body (tower-http's
//!   `TimeoutBody`, on requests that have a body; the handler's body read fails and is answered `408`, see
//!   `crate::http::respond::read_body`).
//!
//! An event stream counts as a request only until its answer starts: its
//! own caps hold it (`crate::http::events`).

use std::convert::Infallible;
use std::future::{self, Ready};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use axum::response::Response;
use axum::BoxError;
use conferbot_policy::settings::ConnectionSettings;
use conferbot_policy::BffError;
use futures_util::future::{Either, Map};
use futures_util::FutureExt;
use http_body::Body as _;
use tokio::sync::Semaphore;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::{Service, ServiceBuilder};
use tower_http::timeout::TimeoutBody;

use super::App;
use crate::http::respond;

/// `app` with the request limits of `settings`, as the service the
/// connections call.
///
/// Why around the router and not a router layer: a router layer is boxed
/// into every route and cloned, box and all, for every request; around it
/// the stack is cloned as it is (a few reference counts).
pub(crate) fn limit<S>(app: S, settings: &ConnectionSettings) -> impl App
where
    S: App,
{
    // One semaphore for every route: the limit is the BFF's, not a route's.
    let in_flight = Arc::new(Semaphore::new(settings.max_requests));
    let body_timeout = settings.body_timeout;
    let limited = ServiceBuilder::new()
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::with_semaphore(in_flight))
        .timeout(settings.request_timeout)
        .map_request(move |request: Request<Body>| {
            request.map(|body| with_timeout(body, body_timeout))
        })
        .service(app);
    Refusals {
        inner: limited,
        refused: None,
    }
}

/// The layers' refusals as answers ([`refusal`]).
///
/// Not axum's `HandleErrorLayer`: it boxes the future of the whole stack
/// below it, and clones that stack, for every request.
#[derive(Clone)]
struct Refusals<S> {
    inner: S,
    /// A refusal of `poll_ready`, answered to the next call.
    refused: Option<BffError>,
}

/// The stack's future, its error turned into an answer.
type Refused<F> = Map<F, fn(Result<Response, BoxError>) -> Result<Response, Infallible>>;

impl<S> Service<Request<Body>> for Refusals<S>
where
    S: Service<Request<Body>, Response = Response, Error = BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, Refused<S::Future>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Load shedding makes the stack always ready; should it fail all
        // the same, the request it was polled for is answered the refusal.
        if let Err(err) = ready!(self.inner.poll_ready(cx)) {
            self.refused = Some(refusal(&err));
        }
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if let Some(err) = self.refused.take() {
            return Either::Left(future::ready(Ok(respond::error(&err))));
        }
        let answer: fn(Result<Response, BoxError>) -> Result<Response, Infallible> =
            |result| Ok(result.unwrap_or_else(|err| respond::error(&refusal(&err))));
        Either::Right(self.inner.call(request).map(answer))
    }
}

/// `body` with `--body-timeout` between two of its parts (tower-http's
/// [`TimeoutBody`]). A request without a body has no part to wait for, and
/// no timer is armed for it.
fn with_timeout(body: Body, timeout: Duration) -> Body {
    if body.is_end_stream() {
        body
    } else {
        Body::new(TimeoutBody::new(timeout, body))
    }
}

/// What a layer's refusal is: shed (`503`), too slow (`408`).
fn refusal(err: &BoxError) -> BffError {
    if err.is::<tower::load_shed::error::Overloaded>() {
        BffError::Overloaded("requests being answered")
    } else if err.is::<tower::timeout::error::Elapsed>() {
        BffError::RequestTimeout
    } else {
        tracing::warn!(error = %err, "a request layer failed");
        BffError::Internal
    }
}
