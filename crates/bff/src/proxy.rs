//! The handler for everything under the mount: each policy in turn.
//!
//! allowlist ([`routing`]) → CSRF for writes ([`csrf`]) → body limit and
//! re-validation → reads through the cache ([`cache`]), writes straight to
//! the [`Forwarder`] (then invalidating what they change) → a rebuilt answer
//! ([`headers`]). One log line and one metrics sample per request.
//!
//! [`routing`]: crate::routing
//! [`csrf`]: crate::csrf
//! [`cache`]: crate::cache
//! [`headers`]: crate::headers
//! [`Forwarder`]: crate::forward::Forwarder

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use conferbot::{Method, NewWebhook, Operation};
use http_body_util::{BodyExt, Limited};
use tokio::time::Instant;

use crate::app::AppState;
use crate::error::BffError;
use crate::invalidation::Invalidation;
use crate::metrics::{CacheStatus, UNMATCHED};
use crate::routing;
use crate::upstream::UpstreamAnswer;
use crate::{csrf, headers};

/// Largest request body accepted (64 KiB); larger ones are answered `413`.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What one request came to, for the answer, the log line and the metrics.
struct Outcome {
    route: &'static str,
    cache: Option<CacheStatus>,
    result: Result<Arc<UpstreamAnswer>, BffError>,
}

/// Axum handler for `{mount}` and everything below it.
pub async fn proxy(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // Kept for the log line (a reference-counted copy); only formatted when
    // the line is enabled.
    let uri = request.uri().clone();
    let outcome = handle(&state, request).await;
    let response = match &outcome.result {
        Ok(answer) => headers::answer_response(answer, outcome.cache),
        Err(err) => err.clone().into_response(),
    };
    let status = response.status().as_u16();
    state.metrics.request(outcome.route, status);
    tracing::info!(
        %method,
        // The path only: queries are the browser's text and are not logged.
        path = log_path(uri.path()),
        route = outcome.route,
        status,
        cache = outcome.cache.map(CacheStatus::as_str),
        error = outcome.result.as_ref().err().map(tracing::field::display),
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

async fn handle(state: &Arc<AppState>, request: Request) -> Outcome {
    let resolved = routing::refuse_absolute_form(request.version(), request.uri())
        .and_then(|()| routing::resolve(&state.mount, request.method(), request.uri()));
    let target = match resolved {
        Ok(target) => target,
        Err(err) => return failed(UNMATCHED, err),
    };
    let route = target.operation.name();
    let method = target.operation.method();
    if method != Method::Get {
        if let Err(err) = csrf::check(request.headers(), &state.allowed_origins) {
            return failed(route, err);
        }
    }
    let raw_body = match read_body(request.into_body()).await {
        Ok(body) => body,
        Err(err) => return failed(route, err),
    };
    let body = match request_body(target.operation, &raw_body) {
        Ok(body) => body,
        Err(err) => return failed(route, err),
    };
    if method == Method::Get {
        let forwarder = Arc::clone(&state.forwarder);
        let key = target.clone();
        let (result, cache) = state
            .cache
            .get_or_fetch(key, move || async move {
                forwarder.forward(&target, None).await
            })
            .await;
        state.metrics.cache(cache);
        return Outcome {
            route,
            cache: Some(cache),
            result,
        };
    }
    let result = state.forwarder.forward(&target, body.as_ref()).await;
    if result.as_ref().is_ok_and(UpstreamAnswer::is_success) {
        // The write is done; if the shared cache cannot be told, its stale
        // entries still expire within the TTL.
        let stale = Invalidation::of_write(target.operation);
        if let Err(err) = state.cache.invalidate(&stale).await {
            tracing::warn!(route, error = %err, "could not invalidate the shared cache");
        }
    }
    Outcome {
        route,
        cache: None,
        result: result.map(Arc::new),
    }
}

fn failed(route: &'static str, err: BffError) -> Outcome {
    Outcome {
        route,
        cache: None,
        result: Err(err),
    }
}

/// Reads the whole body, refusing more than [`MAX_BODY_BYTES`] (a declared
/// `content-length` over the limit is refused before reading).
pub(crate) async fn read_body(body: Body) -> Result<Bytes, BffError> {
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => {
            Err(BffError::PayloadTooLarge(MAX_BODY_BYTES))
        }
        Err(_) => Err(BffError::BodyUnreadable),
    }
}

/// The body forwarded for `operation`: a re-serialized, validated
/// [`NewWebhook`] for create (so only known fields pass), nothing otherwise.
fn request_body(operation: Operation, raw: &Bytes) -> Result<Option<Bytes>, BffError> {
    if operation != Operation::CreateWebhook {
        return Ok(None);
    }
    let hook: NewWebhook = serde_json::from_slice(raw).map_err(|err| {
        BffError::InvalidRequest(format!(
            "the body must be JSON like {{\"url\": \"https://example.com/hook\", \"events\": [\"response.created\"]}} ({err})"
        ))
    })?;
    hook.validate()
        .map_err(|err| BffError::InvalidRequest(err.message))?;
    let bytes = serde_json::to_vec(&hook).map_err(|_| BffError::Internal)?;
    Ok(Some(Bytes::from(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_bodies_are_validated_and_reserialized_with_known_fields_only() {
        let raw = Bytes::from_static(
            br#"{"url":"https://example.com/h","events":["response.created"],"secret":"x","admin":true}"#,
        );
        let body = request_body(Operation::CreateWebhook, &raw)
            .unwrap()
            .unwrap();
        assert_eq!(
            body,
            r#"{"url":"https://example.com/h","events":["response.created"]}"#
        );
        for bad in [
            &b"not json"[..],
            br#"{"url":"ftp://x","events":["response.created"]}"#,
            br#"{"url":"https://x.com","events":["nope"]}"#,
            br#"{"events":["response.created"]}"#,
        ] {
            let err = request_body(Operation::CreateWebhook, &Bytes::from_static(bad)).unwrap_err();
            assert_eq!(err.status(), 400, "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(request_body(Operation::DeleteWebhook, &raw).unwrap(), None);
    }

    #[test]
    fn logged_paths_are_cut_at_200_characters() {
        assert_eq!(log_path("/api"), "/api");
        let long = "é".repeat(300);
        assert_eq!(log_path(&long).chars().count(), 200);
    }

    #[tokio::test]
    async fn bodies_over_64_kib_are_refused() {
        let big = Body::from(vec![b'x'; MAX_BODY_BYTES + 1]);
        assert_eq!(
            read_body(big).await,
            Err(BffError::PayloadTooLarge(MAX_BODY_BYTES))
        );
        let fits = Body::from(vec![b'x'; MAX_BODY_BYTES]);
        assert_eq!(read_body(fits).await.unwrap().len(), MAX_BODY_BYTES);
    }
}
