//! The webhook receiver: `POST {mount}/webhooks/incoming` (`--webhook-path`).
//!
//! Conferbot (or the sandbox) POSTs the documented flat body
//! (`{"event","chatSessionId","responseId","botId","visitorId","timestamp"}`,
//! [`WebhookDelivery`]) signed with `x-webhook-signature`, the hex
//! HMAC-SHA256 of the raw body under the webhook secret. A delivery is
//! accepted only when, in this order:
//! - the body is at most 64 KiB (else `413`);
//! - a secret is configured (else `503`: unsigned deliveries are never taken);
//! - `x-webhook-signature` verifies against the raw body (else `401`);
//! - the body is a delivery and names a documented event, the same as
//!   `x-webhook-event` when sent (else `400`);
//! - `x-webhook-timestamp` (Unix seconds or ISO 8601) is present, agrees with
//!   the body's signed `timestamp` when there is one, and is within
//!   `--webhook-tolerance` of now (else `401`: a replay or a forged header).
//!
//! Accepted deliveries drop the cached reads they make stale, then go to the
//! event log and every SSE stream, and are answered `200 {"data": {"id"}}` at
//! once. A sender's retry of a delivery that got through (same signature) is
//! answered `200` again without a second event. No API key, no CSRF header:
//! the signature is the authentication. If the shared state (Redis) is down,
//! the answer is `503` and the sender retries later.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use conferbot::protocol::webhooks::{EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use conferbot::timestamp::parse_webhook_timestamp;
use conferbot::{verify_webhook_signature, WebhookDelivery};
use serde_json::json;

use crate::app::AppState;
use crate::error::{json_response, BffError};
use crate::events::Published;
use crate::invalidation::Invalidation;
use crate::proxy::read_body;
use crate::secret::WebhookSecret;

/// Why a delivery was refused, as the metrics label it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// No secret configured.
    Disabled,
    /// Over the size limit, or unreadable.
    TooLarge,
    /// Missing or wrong signature.
    Signature,
    /// Not a delivery.
    Malformed,
    /// An event that is not documented.
    UnknownEvent,
    /// A missing, malformed or disagreeing timestamp.
    Timestamp,
    /// A timestamp outside the tolerance (a replay).
    Stale,
    /// The shared state is down.
    Unavailable,
}

impl Rejection {
    /// The `reason` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::TooLarge => "too_large",
            Self::Signature => "signature",
            Self::Malformed => "malformed",
            Self::UnknownEvent => "unknown_event",
            Self::Timestamp => "timestamp",
            Self::Stale => "stale",
            Self::Unavailable => "unavailable",
        }
    }
}

/// Axum handler for `POST` on the receiver's path.
pub async fn receive(State(state): State<Arc<AppState>>, request: Request) -> Response {
    state.metrics.webhook_received();
    let (parts, body) = request.into_parts();
    let outcome = async {
        let raw = read_body(body)
            .await
            .map_err(|err| (Rejection::TooLarge, err))?;
        let secret = state
            .webhook_secret
            .as_ref()
            .ok_or((Rejection::Disabled, BffError::WebhooksDisabled))?;
        let delivery = verify(
            &parts.headers,
            &raw,
            secret,
            state.webhook_tolerance,
            now_secs(),
        )?;
        accept(&state, &parts.headers, delivery).await
    }
    .await;
    match outcome {
        Ok(response) => response,
        Err((reason, err)) => {
            state.metrics.webhook_rejected(reason.as_str());
            tracing::warn!(reason = reason.as_str(), error = %err, "webhook delivery refused");
            err.into_response()
        }
    }
}

/// Invalidates, publishes and answers.
async fn accept(
    state: &AppState,
    headers: &HeaderMap,
    delivery: WebhookDelivery,
) -> Result<Response, (Rejection, BffError)> {
    let unavailable = |_| (Rejection::Unavailable, BffError::SharedStateUnavailable);
    state
        .cache
        .invalidate(&Invalidation::of_delivery(&delivery))
        .await
        .map_err(unavailable)?;
    let event = delivery.event.as_str().to_owned();
    let data =
        serde_json::to_string(&delivery).map_err(|_| (Rejection::Malformed, BffError::Internal))?;
    let signature = header(headers, SIGNATURE_HEADER)
        .unwrap_or_default()
        .to_ascii_lowercase();
    // A retry is identical byte for byte, so the signature names the delivery.
    let window = state.webhook_tolerance * 2;
    let published = state
        .events
        .publish(&event, data, &signature, window)
        .await
        .map_err(|_| (Rejection::Unavailable, BffError::SharedStateUnavailable))?;
    let body = match published {
        Published::Event(id) => {
            state.metrics.webhook_accepted(&event);
            tracing::info!(event, id, "webhook delivery accepted");
            json!({"data": {"received": true, "id": id}})
        }
        Published::Duplicate => {
            state.metrics.webhook_duplicate();
            json!({"data": {"received": true, "duplicate": true}})
        }
    };
    Ok(json_response(StatusCode::OK, &body))
}

/// Checks a delivery's signature, event and timestamp (`now` in Unix seconds).
pub fn verify(
    headers: &HeaderMap,
    raw: &Bytes,
    secret: &WebhookSecret,
    tolerance: Duration,
    now: i64,
) -> Result<WebhookDelivery, (Rejection, BffError)> {
    let unauthorized = |reason, why| (reason, BffError::WebhookUnauthorized(why));
    let signature = header(headers, SIGNATURE_HEADER).ok_or_else(|| {
        unauthorized(
            Rejection::Signature,
            "the x-webhook-signature header is missing",
        )
    })?;
    if !verify_webhook_signature(raw, signature, secret.as_bytes()) {
        return Err(unauthorized(
            Rejection::Signature,
            "x-webhook-signature is not the HMAC-SHA256 of the body under the webhook secret",
        ));
    }
    let delivery: WebhookDelivery = serde_json::from_slice(raw).map_err(|err| {
        (
            Rejection::Malformed,
            BffError::InvalidRequest(format!(
                "the body must be a delivery like {{\"event\": \"response.created\", \"botId\": \"64f8a2b3c1d4e5f6a7b8c9d0\", \"responseId\": \"…\", \"chatSessionId\": \"sess_…\", \"timestamp\": \"2024-12-15T09:30:00.000Z\"}} ({err})"
            )),
        )
    })?;
    let named = header(headers, EVENT_HEADER).unwrap_or(delivery.event.as_str());
    if !delivery.event.is_known() || named != delivery.event.as_str() {
        let why = conferbot::WebhookEvent::parse_known(named)
            .and_then(|_| conferbot::WebhookEvent::parse_known(delivery.event.as_str()))
            .err()
            .map_or_else(
                || "x-webhook-event does not name the body's event".to_owned(),
                |err| err.message,
            );
        return Err((Rejection::UnknownEvent, BffError::InvalidRequest(why)));
    }
    let stamped = header(headers, TIMESTAMP_HEADER)
        .and_then(parse_webhook_timestamp)
        .ok_or_else(|| {
            unauthorized(
                Rejection::Timestamp,
                "x-webhook-timestamp must be Unix seconds or ISO 8601",
            )
        })?;
    // The header is not signed; the body's timestamp is. They must agree.
    let signed = delivery
        .timestamp
        .as_deref()
        .and_then(parse_webhook_timestamp);
    if signed.is_some_and(|signed| signed != stamped) {
        return Err(unauthorized(
            Rejection::Timestamp,
            "x-webhook-timestamp does not match the signed body's timestamp",
        ));
    }
    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    if now.abs_diff(stamped) > tolerance.unsigned_abs() {
        return Err(unauthorized(
            Rejection::Stale,
            "the delivery's timestamp is outside the tolerance (a replay, or a clock far off)",
        ));
    }
    Ok(delivery)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use conferbot::sign_webhook_body;

    use super::*;

    const NOW: i64 = 1_725_186_600;
    const MINUTES_5: Duration = Duration::from_secs(300);

    fn secret() -> WebhookSecret {
        WebhookSecret::new("whsec_test").unwrap()
    }

    fn signed(body: &str, timestamp: &str, event: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let signature = sign_webhook_body(body.as_bytes(), b"whsec_test");
        headers.insert("x-webhook-signature", signature.parse().unwrap());
        headers.insert("x-webhook-timestamp", timestamp.parse().unwrap());
        if let Some(event) = event {
            headers.insert("x-webhook-event", event.parse().unwrap());
        }
        headers
    }

    fn check(headers: &HeaderMap, body: &str) -> Result<WebhookDelivery, Rejection> {
        verify(
            headers,
            &Bytes::from(body.to_owned()),
            &secret(),
            MINUTES_5,
            NOW,
        )
        .map_err(|(r, _)| r)
    }

    /// A documented flat body of `event` stamped `at` (Unix seconds).
    fn flat(event: &str, at: i64) -> String {
        let iso = conferbot::timestamp::format_iso8601_ms(at * 1_000);
        format!(
            r#"{{"event":"{event}","chatSessionId":"sess_abc123def456","responseId":"65a1b2c3d4e5f6a7b8c9d0e1","botId":"64f8a2b3c1d4e5f6a7b8c9d0","visitorId":"visitor_xyz789","timestamp":"{iso}"}}"#
        )
    }

    fn iso(at: i64) -> String {
        conferbot::timestamp::format_iso8601_ms(at * 1_000)
    }

    #[test]
    fn accepts_the_documented_delivery_with_either_header_style() {
        let body = flat("response.created", NOW);
        let delivery = check(&signed(&body, &iso(NOW), Some("response.created")), &body).unwrap();
        assert_eq!(delivery.bot_id.as_deref(), Some("64f8a2b3c1d4e5f6a7b8c9d0"));
        assert!(check(&signed(&body, &NOW.to_string(), None), &body).is_ok());
    }

    #[test]
    fn refuses_each_kind_of_bad_delivery() {
        let body = flat("response.created", NOW);
        let mut forged = signed(&body, &iso(NOW), None);
        forged.insert("x-webhook-signature", "00ff".parse().unwrap());
        assert_eq!(check(&forged, &body).unwrap_err(), Rejection::Signature);
        let mut unsigned = signed(&body, &iso(NOW), None);
        unsigned.remove("x-webhook-signature");
        assert_eq!(check(&unsigned, &body).unwrap_err(), Rejection::Signature);
        let mut undated = signed(&body, &iso(NOW), None);
        undated.remove("x-webhook-timestamp");
        assert_eq!(check(&undated, &body).unwrap_err(), Rejection::Timestamp);
        let moved = signed(&body, &iso(NOW + 60), None);
        assert_eq!(check(&moved, &body).unwrap_err(), Rejection::Timestamp);

        let old = NOW - 301;
        let stale = flat("response.created", old);
        assert_eq!(
            check(&signed(&stale, &iso(old), None), &stale).unwrap_err(),
            Rejection::Stale
        );

        let unknown = flat("bot.deleted", NOW);
        assert_eq!(
            check(&signed(&unknown, &iso(NOW), None), &unknown).unwrap_err(),
            Rejection::UnknownEvent
        );
        let mismatch = signed(&body, &iso(NOW), Some("response.updated"));
        assert_eq!(
            check(&mismatch, &body).unwrap_err(),
            Rejection::UnknownEvent
        );
        assert_eq!(
            check(&signed("[1]", &iso(NOW), None), "[1]").unwrap_err(),
            Rejection::Malformed
        );
        // The old wrapped shape with a numeric timestamp is not a delivery.
        let wrapped = format!(r#"{{"event":"response.created","timestamp":{NOW},"data":{{}}}}"#);
        assert_eq!(
            check(&signed(&wrapped, &NOW.to_string(), None), &wrapped).unwrap_err(),
            Rejection::Malformed
        );
    }
}
