//! Webhook deliveries: signed POSTs to every subscribed webhook, retried with
//! exponential backoff, and logged so tests can see each attempt.
//!
//! Deliveries run on their own tasks: the event that caused them is answered
//! at once, as upstream, and a slow receiver slows nothing else.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use conferbot::protocol::webhooks::{
    CONTENT_TYPE, EVENT_HEADER, MAX_RETRIES, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use conferbot::{sign_webhook_body, Webhook, WebhookDelivery};
use serde::{Deserialize, Serialize};

use crate::clock::iso_ms;
use crate::state::{lock, SandboxState};

/// Attempts kept in the log; older ones are forgotten first.
const LOG_CAPACITY: usize = 10_000;

/// One attempt to deliver one event to one webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    /// The webhook's id.
    pub webhook_id: String,
    /// Where it was POSTed.
    pub url: String,
    /// The event's name (`"response.created"`).
    pub event: String,
    /// 1 for the first attempt, up to `1 + MAX_RETRIES`.
    pub attempt: u32,
    /// The receiver's status, when it answered.
    pub status: Option<u16>,
    /// Why no answer came (connection refused, timeout), when none did.
    pub error: Option<String>,
    /// Whether the receiver answered 2xx.
    pub delivered: bool,
    /// When the attempt finished, ISO 8601.
    pub at: String,
}

/// Delivery attempts, oldest first, bounded.
#[derive(Debug, Clone, Default)]
pub struct DeliveryLog {
    attempts: VecDeque<DeliveryAttempt>,
}

impl DeliveryLog {
    /// Appends `attempt`, forgetting the oldest beyond the capacity.
    pub fn push(&mut self, attempt: DeliveryAttempt) {
        if self.attempts.len() >= LOG_CAPACITY {
            self.attempts.pop_front();
        }
        self.attempts.push_back(attempt);
    }

    /// Every logged attempt, oldest first.
    pub fn attempts(&self) -> Vec<DeliveryAttempt> {
        self.attempts.iter().cloned().collect()
    }

    /// Forgets every attempt.
    pub fn clear(&mut self) {
        self.attempts.clear();
    }
}

/// One signed delivery, ready to send (and resend byte for byte).
#[derive(Debug, Clone)]
struct Delivery {
    webhook: Webhook,
    event: String,
    body: Bytes,
    timestamp: String,
}

/// Sends `body` to every webhook of workspace `ws` subscribed to its event,
/// on background tasks, with `x-webhook-timestamp` the body's own ISO 8601
/// timestamp. Returns how many webhooks it goes to.
pub fn dispatch(state: &Arc<SandboxState>, ws: usize, body: &WebhookDelivery) -> usize {
    let hooks = lock(&state.world)
        .workspace(ws)
        .map(|w| w.subscribers(&body.event))
        .unwrap_or_default();
    let timestamp = body
        .timestamp
        .clone()
        .unwrap_or_else(|| iso_ms(state.clock.now_ms()));
    let bytes = match serde_json::to_vec(body) {
        Ok(bytes) => Bytes::from(bytes),
        Err(err) => {
            tracing::error!(%err, "could not encode a webhook body");
            return 0;
        }
    };
    for webhook in &hooks {
        let delivery = Delivery {
            webhook: webhook.clone(),
            event: body.event.as_str().to_owned(),
            body: bytes.clone(),
            timestamp: timestamp.clone(),
        };
        tokio::spawn(deliver(Arc::clone(state), delivery));
    }
    hooks.len()
}

/// Tries once, then up to [`MAX_RETRIES`] more times after `backoff`, ×2, ×4.
async fn deliver(state: Arc<SandboxState>, delivery: Delivery) {
    let mut wait = state.config.delivery_backoff;
    for attempt in 1..=1 + MAX_RETRIES {
        let logged = send(&state, &delivery, attempt).await;
        let delivered = logged.delivered;
        lock(&state.deliveries).push(logged);
        if delivered {
            return;
        }
        if attempt <= MAX_RETRIES {
            tokio::time::sleep(wait).await;
            wait = wait.saturating_mul(2);
        }
    }
    tracing::warn!(
        url = %delivery.webhook.url,
        event = %delivery.event,
        "webhook delivery failed after {} attempts",
        1 + MAX_RETRIES
    );
}

async fn send(state: &SandboxState, delivery: &Delivery, attempt: u32) -> DeliveryAttempt {
    let secret = delivery.webhook.secret.as_deref().unwrap_or_default();
    let signature = sign_webhook_body(&delivery.body, secret.as_bytes());
    let result = state
        .http
        .post(&delivery.webhook.url)
        .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
        .header(SIGNATURE_HEADER, signature)
        .header(EVENT_HEADER, &delivery.event)
        .header(TIMESTAMP_HEADER, &delivery.timestamp)
        .body(delivery.body.clone())
        .send()
        .await;
    let (status, error) = match result {
        Ok(response) => (Some(response.status().as_u16()), None),
        Err(err) => (None, Some(err.to_string())),
    };
    let delivered = status.is_some_and(|s| (200..300).contains(&s));
    tracing::debug!(url = %delivery.webhook.url, attempt, ?status, ?error, "webhook delivery");
    DeliveryAttempt {
        webhook_id: delivery.webhook.id.clone(),
        url: delivery.webhook.url.clone(),
        event: delivery.event.clone(),
        attempt,
        status,
        error,
        delivered,
        at: iso_ms(state.clock.now_ms()),
    }
}
