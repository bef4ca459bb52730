//! What every webhook delivery carries besides its body
//! (`shared/reference/conferbot-webhooks.md`). The body itself is
//! [`crate::WebhookDelivery`].

/// Hex HMAC-SHA256 of the raw body, keyed with the webhook's secret.
pub const SIGNATURE_HEADER: &str = "x-webhook-signature";
/// The event's name, e.g. `response.created`.
pub const EVENT_HEADER: &str = "x-webhook-event";
/// When the event was dispatched, ISO 8601.
pub const TIMESTAMP_HEADER: &str = "x-webhook-timestamp";
/// The `User-Agent` of every delivery.
pub const USER_AGENT: &str = "Conferbot-Webhooks/1.0";
/// The `Content-Type` of every delivery.
pub const CONTENT_TYPE: &str = "application/json";
/// Retries after a failed first attempt ("retried up to 3 times, with
/// exponential backoff between attempts").
pub const MAX_RETRIES: u32 = 3;
