//! The handler for everything under the mount: each policy in turn.
//!
//! allowlist ([`route::target`]) → CSRF for writes ([`csrf::check`]) → body
//! limit and re-validation ([`validate::request_body`]) → with a
//! `--monthly-budget`, the month learned first (one `getUsage`, through the
//! cache) → reads through the cache ([`is_cached`]), writes straight to the
//! [`Forwarder`] (then invalidating what they change,
//! [`Invalidation::of_write`]) → a rebuilt answer with `x-cache`, `age` and
//! `x-quota-queued-ms` → the quota headers and the hygiene, as on every
//! answer under the mount ([`super::quota::under_mount`]). One log line and
//! one metrics sample per request.
//!
//! [`Forwarder`]: crate::forward::Forwarder

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Uri, Version};
use axum::response::Response;
use bytes::Bytes;
use conferbot::Operation;
use conferbot_policy::cache_table::is_cached;
use conferbot_policy::client::ClientId;
use conferbot_policy::headers::CacheStatus;
use conferbot_policy::invalidation::Invalidation;
use conferbot_policy::{csrf, route, validate, BffError, RequestHead, Target};
use tokio::time::Instant;

use super::access::Client;
use super::respond::{self, read_body, Headers};
use crate::answer::{Outcome, Served, UpstreamAnswer};
use crate::context::AppState;
use crate::metrics::UNMATCHED;

/// What one request came to, for the answer, the log line and the metrics.
struct Reply {
    route: &'static str,
    cache: Option<CacheStatus>,
    age_ms: Option<u64>,
    result: Outcome,
}

/// Axum handler for `{mount}` and everything below it.
pub(crate) async fn proxy(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // Kept for the log line (a reference-counted copy); only formatted when
    // the line is enabled.
    let uri = request.uri().clone();
    let reply = handle(&state, request).await;
    let mut response = match &reply.result {
        Ok(answer) => respond::answer(answer, reply.cache, reply.age_ms),
        Err(err) => respond::error(err),
    };
    super::quota::under_mount(&state, &mut response);
    let status = response.status().as_u16();
    state.metrics.request(reply.route, status);
    // The access log (its own target and writer thread: crate::logging).
    tracing::info!(
        target: crate::logging::ACCESS_TARGET,
        %method,
        // The path only: queries are the browser's text and are not logged.
        path = log_path(uri.path()),
        route = reply.route,
        status,
        cache = reply.cache.map(CacheStatus::as_str),
        error = reply.result.as_ref().err().map(tracing::field::display),
        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "request"
    );
    response
}

/// `path` cut to its first 200 characters, so a hostile request cannot
/// flood the log.
fn log_path(path: &str) -> &str {
    path.char_indices()
        .nth(200)
        .and_then(|(end, _)| path.get(..end))
        .unwrap_or(path)
}

async fn handle(state: &Arc<AppState>, request: Request) -> Reply {
    let (parts, body) = request.into_parts();
    let head = RequestHead {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        absolute_form: absolute_form(parts.version, &parts.uri),
        headers: &Headers(&parts.headers),
    };
    let target = match route::target(&state.mount, &head) {
        Ok(target) => target,
        Err(err) => return failed(UNMATCHED, err),
    };
    let route = target.operation.name();
    if csrf::applies_to(target.operation.method()) {
        if let Err(err) = csrf::check(head.headers, &state.allowed_origins, &state.hosts) {
            return failed(route, err);
        }
    }
    let client = Client::of(&parts);
    let raw_body = match read_body(body).await {
        Ok(body) => body,
        Err(err) => return failed(route, err),
    };
    let body = match validate::request_body(target.operation, &raw_body, state.allow_local_webhooks)
    {
        Ok(body) => body.map(Bytes::from),
        Err(err) => return failed(route, err),
    };
    if target.operation != Operation::GetUsage && state.quota.needs_learning() {
        // A budget needs the month's use: one getUsage, cached like any read.
        let usage = Target {
            operation: Operation::GetUsage,
            ids: Vec::new(),
            page: None,
        };
        let _ = read(state, usage, client.clone()).await;
    }
    if is_cached(target.operation) {
        let served = read(state, target, client).await;
        state.metrics.cache(served.cache);
        return Reply {
            route,
            cache: Some(served.cache),
            age_ms: served.age_ms,
            result: served.outcome,
        };
    }
    let result = state
        .forwarder
        .forward(&target, body.as_ref(), &client)
        .await;
    if result.as_ref().is_ok_and(UpstreamAnswer::is_success) {
        // The write is done; if the shared cache cannot be told, its stale
        // entries still expire within the TTL.
        let stale = Invalidation::of_write(target.operation);
        if let Err(err) = state.cache.apply(&stale).await {
            tracing::warn!(route, error = %err, "could not invalidate the shared cache");
        }
    }
    Reply {
        route,
        cache: None,
        age_ms: None,
        result: result.map(Arc::new),
    }
}

/// A read through the cache, its upstream call (a miss, or the background
/// revalidation of a stale answer) a turn of `client`'s: a client that makes
/// answers be read again pays for it from its share and its monthly cap.
async fn read(state: &Arc<AppState>, target: Target, client: ClientId) -> Served {
    let forwarder = Arc::clone(&state.forwarder);
    let key = target.clone();
    state
        .cache
        .get_or_fetch(&key, move || async move {
            forwarder.forward(&target, None, &client).await
        })
        .await
}

/// Whether an HTTP/1 request target names a scheme or host
/// (`GET http://evil/... HTTP/1.1`), which the policy refuses. HTTP/2 always
/// carries the authority, so it is not absolute form there.
fn absolute_form(version: Version, uri: &Uri) -> bool {
    let http1 = matches!(
        version,
        Version::HTTP_09 | Version::HTTP_10 | Version::HTTP_11
    );
    http1 && (uri.scheme().is_some() || uri.authority().is_some())
}

fn failed(route: &'static str, err: BffError) -> Reply {
    Reply {
        route,
        cache: None,
        age_ms: None,
        result: Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_form_targets_are_told_over_http1_only() {
        let absolute: Uri = "http://evil.example/api/conferbot/external/v1/usage"
            .parse()
            .unwrap();
        assert!(absolute_form(Version::HTTP_11, &absolute));
        assert!(!absolute_form(Version::HTTP_2, &absolute));
        let origin_form: Uri = "/api/conferbot/external/v1/usage".parse().unwrap();
        assert!(!absolute_form(Version::HTTP_11, &origin_form));
    }

    #[test]
    fn logged_paths_are_cut_at_200_characters() {
        assert_eq!(log_path("/api"), "/api");
        let long = "é".repeat(300);
        assert_eq!(log_path(&long).chars().count(), 200);
    }
}
