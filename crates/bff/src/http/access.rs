//! Who may come in, and who they are: a service and two middlewares, each a
//! thin driver of the policy.
//!
//! - [`Admit`] (every request), in one service: [`check_host`], the `Host`
//!   must be an allowed host ([`conferbot_policy::host`], `--allow-host`),
//!   against DNS rebinding; then [`identify`], the client, from the connection's
//!   address and, behind `--trusted-proxy`, `X-Forwarded-For`
//!   ([`conferbot_policy::client`]); put in the request's extensions as a
//!   [`Client`].
//! - [`authorize`] (the API and the events, with `--auth-url`): the
//!   forward-auth subrequest ([`crate::forward_auth`]) and the policy's
//!   decision ([`conferbot_policy::auth::decide`]); a named user becomes the
//!   client.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::HOST;
use axum::middleware::Next;
use axum::response::Response;
use conferbot_policy::auth::{decide, Original};
use conferbot_policy::client::{client_ip, ClientId};
use conferbot_policy::BffError;
use futures_util::future::Either;
use tower::Service;

use super::respond::{self, Headers};
use crate::context::AppState;

/// Who a request is from, and the address it came from (after trusted
/// proxies), as [`identify`] and [`authorize`] found.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    /// The identity fairness and spend caps count by.
    pub(crate) id: ClientId,
    /// The client's address, when known.
    pub(crate) ip: Option<IpAddr>,
}

impl Client {
    /// The client of a request, or [`ClientId::unknown`] when [`identify`]
    /// did not run (a router served without connection info).
    pub(crate) fn of(request: &axum::http::request::Parts) -> ClientId {
        request
            .extensions
            .get::<Client>()
            .map_or_else(ClientId::unknown, |c| c.id.clone())
    }
}

/// [`check_host`], then [`identify`], around `inner` (the router's front
/// door), for every request.
///
/// A tower service rather than `axum::middleware::from_fn`, whose future is
/// boxed, with the whole request's future moved into it, and whose `Next`
/// clones the boxed inner service, for every request.
#[derive(Clone)]
pub(crate) struct Admit<S> {
    state: Arc<AppState>,
    inner: S,
}

impl<S> Admit<S> {
    /// `inner`, behind the host check and the client's identification.
    pub(crate) fn new(state: Arc<AppState>, inner: S) -> Self {
        Self { state, inner }
    }
}

impl<S> Service<Request> for Admit<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        if let Err(err) = check_host(&self.state, &request) {
            tracing::warn!(error = %err, "request for a host not allowed refused");
            return Either::Left(ready(Ok(respond::error(&err))));
        }
        identify(&self.state, &mut request);
        Either::Right(self.inner.call(request))
    }
}

/// Why a request's host is refused: not allowed (`403`), or none
/// named (`400`). Every `Host` value counts, and HTTP/2's
/// `:authority` too.
fn check_host(state: &AppState, request: &Request) -> Result<(), BffError> {
    let mut hosts = request.headers().get_all(HOST).iter().peekable();
    if hosts.peek().is_none() {
        let authority = request.uri().authority().map(|a| a.as_str());
        state.hosts.check(authority)
    } else {
        hosts.try_for_each(|value| state.hosts.check(Some(value.to_str().unwrap_or(""))))
    }
}

/// Finds who the request is from and records it.
fn identify(state: &AppState, request: &mut Request) {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let client = match peer {
        Some(peer) => {
            let ip = client_ip(peer, &Headers(request.headers()), &state.trusted_proxies);
            Client {
                id: ClientId::ip(ip),
                ip: Some(ip),
            }
        }
        None => Client {
            id: ClientId::unknown(),
            ip: None,
        },
    };
    request.extensions_mut().insert(client);
}

/// Middleware (with `--auth-url`): asks the authorisation service, and lets
/// the request through, naming its user as the client, or answers its
/// refusal. CORS preflights (`OPTIONS`) carry no credentials and are answered
/// by the CORS layer outside this one.
pub(crate) async fn authorize(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(auth) = &state.auth else {
        return next.run(request).await;
    };
    let client = request.extensions().get::<Client>().cloned();
    let ip = client
        .as_ref()
        .and_then(|c| c.ip)
        .map(|ip| ip.to_string())
        .unwrap_or_default();
    let uri = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let host = request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let original = Original {
        method: request.method().as_str(),
        uri: &uri,
        host: host.as_deref(),
        proto: "http",
        client_ip: &ip,
    };
    let outcome = auth.ask(request.headers(), &original).await;
    match decide(&outcome) {
        Ok(user) => {
            if let Some(user) = user {
                let ip = client.and_then(|c| c.ip);
                request.extensions_mut().insert(Client { id: user, ip });
            }
            next.run(request).await
        }
        Err(err) => {
            if !matches!(err, BffError::AuthRefused(_)) {
                tracing::warn!(error = %err, "forward-auth failed");
            }
            respond::error(&err)
        }
    }
}
