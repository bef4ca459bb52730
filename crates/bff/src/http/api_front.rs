//! The router's front door for the API: when nothing sits between the
//! router and the API's handler (no `--auth-url`, no `--allow-origin`), a
//! request under the mount goes straight to [`super::proxy::proxy`]; any
//! other request (the events, health, the webhook, metrics, static files)
//! goes through the router.
//!
//! Why: routing cost every API request its path parameters (the `{*rest}`
//! of the mount's route, percent-decoded into a map), its matched path and
//! a clone of its route: a tenth of the instructions of an answer from the
//! cache (callgrind, release BFF). Which paths are the API's is the
//! policy's ([`Mounts::classify`], as the router's routes are): the mount
//! and anything under `{mount}/`, but the events and webhook paths.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::response::Response;
use axum::Router;
use conferbot_policy::route::{Mounts, Route};
use futures_util::future::Either;
use tower::Service;

use super::proxy;
use crate::context::AppState;

/// The router, with the API's requests answered without routing.
#[derive(Clone)]
pub(crate) struct ApiFront {
    state: Arc<AppState>,
    /// The API's paths; `None` when a layer sits between the router and
    /// the API's handler (then every request goes through the router).
    paths: Option<Arc<Mounts>>,
    router: Router,
}

impl ApiFront {
    /// `router` behind the front door for the API of `paths`.
    pub(crate) fn new(state: Arc<AppState>, paths: Mounts, router: Router) -> Self {
        Self {
            state,
            paths: Some(Arc::new(paths)),
            router,
        }
    }

    /// `router` alone: every request is routed.
    pub(crate) fn routed(state: Arc<AppState>, router: Router) -> Self {
        Self {
            state,
            paths: None,
            router,
        }
    }

    /// Whether `path` goes straight to the API's handler: the router would
    /// give it to that handler, with no layer in between.
    fn is_api(&self, path: &str) -> bool {
        self.paths
            .as_ref()
            .is_some_and(|paths| paths.classify(path) == Route::Api)
    }
}

/// The API handler's answer, boxed (its future is large and unnameable).
type Answer = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl Service<Request<Body>> for ApiFront {
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Answer, <Router as Service<Request<Body>>>::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Service::<Request<Body>>::poll_ready(&mut self.router, cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if self.is_api(request.uri().path()) {
            let state = Arc::clone(&self.state);
            Either::Left(Box::pin(async move {
                Ok(proxy::proxy(State(state), request).await)
            }))
        } else {
            Either::Right(self.router.call(request))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BffConfig;
    use crate::secret::ApiKey;

    #[test]
    fn the_api_paths_are_the_routers() {
        let bff = crate::Bff::new(BffConfig::new(ApiKey::new("k").unwrap())).unwrap();
        let paths = conferbot_policy::Settings::default().mounts();
        assert_eq!(paths.mount, "/api/conferbot");
        let webhook = paths.webhook.clone();
        let front = ApiFront::new(bff.state(), paths, Router::new());
        for path in [
            "/api/conferbot",
            "/api/conferbot/",
            "/api/conferbot/external/v1/chatbots",
            "/api/conferbot//x",
            "/api/conferbot/events/more",
            "/api/conferbot/eventsx",
        ] {
            assert!(front.is_api(path), "{path}");
        }
        let routed = ApiFront::routed(bff.state(), Router::new());
        assert!(!routed.is_api("/api/conferbot/external/v1/chatbots"));
        for path in [
            "/api/conferbot/events",
            &webhook,
            "/api/conferbotx",
            "/api/conferbo",
            "/healthz",
            "/",
            "/api",
        ] {
            assert!(!front.is_api(path), "{path}");
        }
    }
}
