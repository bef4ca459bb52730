//! The webhook receiver: `POST {mount}/webhooks/incoming` (`--webhook-path`).
//!
//! The policy checks each delivery ([`conferbot_policy::webhook::verify`]:
//! size, secret, signature, event, timestamp, in that order) and says what it
//! changes ([`Invalidation`]: by the patch rules, or stale with
//! `--cache-events drop`). An accepted delivery is applied to the cached
//! reads (a new response adds 1 to its chatbot's `responseCount` in place),
//! then goes to the event log and every SSE stream, and is answered `200
//! {"data": {"id"}}` at once. Applying and publishing are one step with the
//! dedup of deliveries (under the log's lock, or in one Redis script): a
//! sender's retry or a replay of a delivery that got through (the same MAC
//! and signed timestamp, however the signature is spelled), on this replica
//! or another, is answered `200` "duplicate" and neither applied nor
//! published twice. No API key, no CSRF header: the signature is the
//! authentication. If the shared state (Redis) is down, the answer is `503`
//! and the sender retries later.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::response::Response;
use conferbot_policy::event_log::Published;
use conferbot_policy::invalidation::Invalidation;
use conferbot_policy::route::require_method;
use conferbot_policy::settings::CacheEvents;
use conferbot_policy::shared_state::changes::held_changes;
use conferbot_policy::webhook::{
    dedup_window, receipt, unavailable, unreadable, verify, Accepted, Refused,
};

use super::respond::{self, read_body, Headers};
use crate::context::AppState;
use crate::secret::WebhookSecret;
use crate::state::events::Changes;

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

/// Applies, publishes and answers.
async fn accept(state: &AppState, accepted: Accepted) -> Result<Response, Refused> {
    let change = match state.cache_events {
        CacheEvents::Patch => accepted.stale.clone(),
        CacheEvents::Drop => Invalidation::dropping(&accepted.delivery),
    };
    let event = accepted.event().to_owned();
    let window = dedup_window(state.webhook_tolerance);
    let published = if let Some(cache) = state.cache.in_process() {
        let cache = Arc::clone(cache);
        let apply = Box::new(move || cache.apply(&change));
        state
            .events
            .publish(
                &event,
                accepted.data,
                &accepted.dedup,
                window,
                Changes::Local(apply),
            )
            .await
    } else if let Some((joined, shared)) = state.cache.shared() {
        joined.apply(&change);
        let held = shared
            .read_touched(&change)
            .await
            .map_err(|()| unavailable())?;
        let held = held_changes(&change, held.iter().map(|(k, a)| (k.as_str(), a.as_str())));
        let changes = Changes::Shared {
            held: &held,
            touched: change.operations,
        };
        state
            .events
            .publish(&event, accepted.data, &accepted.dedup, window, changes)
            .await
    } else {
        let none = Changes::Local(Box::new(|| {}));
        state
            .events
            .publish(&event, accepted.data, &accepted.dedup, window, none)
            .await
    }
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
