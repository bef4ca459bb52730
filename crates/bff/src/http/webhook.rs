//! The webhook receiver: `POST {mount}/webhooks/incoming` (`--webhook-path`).
//!
//! The policy checks each delivery ([`conferbot_policy::webhook::verify`]:
//! size, secret, signature, event, timestamp, in that order) and says what it
//! makes stale. An accepted delivery drops those cached reads, then goes to
//! the event log and every SSE stream, and is answered `200 {"data": {"id"}}`
//! at once. A sender's retry or a replay of a delivery that got through (the
//! same MAC and signed timestamp, however the signature is spelled) is
//! answered `200` "duplicate" without a second event. No API key, no CSRF
//! header: the signature is the authentication. If the shared state (Redis)
//! is down, the answer is `503` and the sender retries later.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::response::Response;
use conferbot_policy::event_log::Published;
use conferbot_policy::route::require_method;
use conferbot_policy::webhook::{
    dedup_window, receipt, unavailable, unreadable, verify, Accepted, Refused,
};
use conferbot_policy::BffError;

use super::respond::{self, read_body, Headers};
use crate::context::AppState;
use crate::secret::WebhookSecret;

/// Axum handler for the receiver's path: `POST` only (`405` otherwise).
pub(crate) async fn receive(State(state): State<Arc<AppState>>, request: Request) -> Response {
    if let Err(err) = require_method(request.method().as_str(), conferbot::Method::Post) {
        return respond::error(&err);
    }
    state.metrics.webhook_received();
    let (parts, body) = request.into_parts();
    let outcome = async {
        let raw = read_body(body).await.map_err(unreadable)?;
        let accepted = verify(
            &Headers(&parts.headers),
            &raw,
            state.webhook_secret.as_ref().map(WebhookSecret::as_bytes),
            state.webhook_tolerance,
            now_secs(),
        )?;
        accept(&state, accepted).await
    }
    .await;
    match outcome {
        Ok(response) => response,
        Err((reason, err)) => {
            state.metrics.webhook_rejected(reason.as_str());
            tracing::warn!(reason = reason.as_str(), error = %err, "webhook delivery refused");
            respond::error(&err)
        }
    }
}

/// Invalidates, publishes and answers.
async fn accept(state: &AppState, accepted: Accepted) -> Result<Response, Refused> {
    state
        .cache
        .invalidate(&accepted.stale)
        .await
        .map_err(|_: BffError| unavailable())?;
    let event = accepted.event().to_owned();
    let window = dedup_window(state.webhook_tolerance);
    let published = state
        .events
        .publish(&event, accepted.data, &accepted.dedup, window)
        .await
        .map_err(|_| unavailable())?;
    match published {
        Published::Event(id) => {
            state.metrics.webhook_accepted(&event);
            tracing::info!(event, id, "webhook delivery accepted");
        }
        Published::Duplicate => state.metrics.webhook_duplicate(),
    }
    Ok(respond::json(200, receipt(published)))
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
