//! The webhook receiver's checks: signature, event and timestamp.
//!
//! Conferbot (or the sandbox) POSTs the documented flat body
//! (`{"event","chatSessionId","responseId","botId","visitorId","timestamp"}`,
//! [`WebhookDelivery`]) signed with `x-webhook-signature`, the hex
//! HMAC-SHA256 of the raw body under the webhook secret. A delivery is
//! accepted only when, in this order:
//! - the body is at most 64 KiB (else `413`; the server reads it so);
//! - a secret is configured (else `503`: unsigned deliveries are never taken);
//! - `x-webhook-signature` verifies against the raw body (else `401`);
//! - the body is a delivery and names a documented event, the same as
//!   `x-webhook-event` when sent (else `400`);
//! - the body carries its own, signed `timestamp` (ISO 8601, as documented),
//!   `x-webhook-timestamp` (Unix seconds or ISO 8601) is present and agrees
//!   with it, and it is within the tolerance of now (else `401`: a body
//!   without a signed time could be replayed forever under a fresh header).
//!
//! A delivery is named by what the signature proves, not by how the header
//! spells it: [`Accepted::dedup`] is the decoded MAC (the same bytes for
//! `abc…`, `ABC…` and `sha256=abc…`) and the signed timestamp. The event log
//! remembers it for twice the tolerance ([`dedup_window`]), so a sender's
//! retry, or a replay in another spelling, within the tolerance is answered
//! "duplicate" (on every replica: the shared log keeps the marker in Redis),
//! and one older than the tolerance is refused as stale.

use std::time::Duration;

use conferbot::protocol::webhooks::{EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use conferbot::timestamp::{parse_iso8601_secs, parse_webhook_timestamp};
use conferbot::{signature_mac, verify_webhook_signature, WebhookDelivery, WebhookEvent};
use serde_json::json;

use crate::error::{json_bytes, BffError};
use crate::event_log::Published;
use crate::invalidation::Invalidation;
use crate::request::HeaderLookup;

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

/// A refused delivery: the metrics label and the answer.
pub type Refused = (Rejection, BffError);

/// A delivery that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// The body, parsed.
    pub delivery: WebhookDelivery,
    /// The body as the SSE `data:` (compact JSON, unknown fields kept).
    pub data: String,
    /// What identifies the delivery for dedup: its decoded MAC in lower-case
    /// hex and its signed timestamp, `{mac}:{unix seconds}`.
    pub dedup: String,
    /// The cached reads it makes stale.
    pub stale: Invalidation,
}

impl Accepted {
    /// The event's name, the SSE `event:`.
    pub fn event(&self) -> &str {
        self.delivery.event.as_str()
    }
}

/// How long a delivery's identity is remembered: twice the tolerance, so a
/// replay inside the tolerance is always recognised.
pub fn dedup_window(tolerance: Duration) -> Duration {
    tolerance * 2
}

/// Checks a delivery's `raw` body and headers under `secret` (`None`: none
/// configured), `now` in Unix seconds.
pub fn verify<H: HeaderLookup + ?Sized>(
    headers: &H,
    raw: &[u8],
    secret: Option<&[u8]>,
    tolerance: Duration,
    now: i64,
) -> Result<Accepted, Refused> {
    let secret = secret.ok_or((Rejection::Disabled, BffError::WebhooksDisabled))?;
    let unauthorized = |reason, why| (reason, BffError::WebhookUnauthorized(why));
    let signature = headers.first_str(SIGNATURE_HEADER).ok_or_else(|| {
        unauthorized(
            Rejection::Signature,
            "the x-webhook-signature header is missing",
        )
    })?;
    if !verify_webhook_signature(raw, signature, secret) {
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
    let named = headers
        .first_str(EVENT_HEADER)
        .unwrap_or(delivery.event.as_str());
    if !delivery.event.is_known() || named != delivery.event.as_str() {
        let why = WebhookEvent::parse_known(named)
            .and_then(|_| WebhookEvent::parse_known(delivery.event.as_str()))
            .err()
            .map_or_else(
                || "x-webhook-event does not name the body's event".to_owned(),
                |err| err.message,
            );
        return Err((Rejection::UnknownEvent, BffError::InvalidRequest(why)));
    }
    let stamped = headers
        .first_str(TIMESTAMP_HEADER)
        .and_then(parse_webhook_timestamp)
        .ok_or_else(|| {
            unauthorized(
                Rejection::Timestamp,
                "x-webhook-timestamp must be Unix seconds or ISO 8601",
            )
        })?;
    // The header is not signed; the body's timestamp is: it must be there,
    // and agree with the header.
    let signed = delivery
        .timestamp
        .as_deref()
        .and_then(parse_iso8601_secs)
        .ok_or_else(|| {
            unauthorized(
                Rejection::Timestamp,
                "the body must carry its signed timestamp (ISO 8601, like \"2024-12-15T09:30:00.000Z\"): without one a delivery could be replayed under a fresh header",
            )
        })?;
    if signed != stamped {
        return Err(unauthorized(
            Rejection::Timestamp,
            "x-webhook-timestamp does not match the signed body's timestamp",
        ));
    }
    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    if now.abs_diff(signed) > tolerance.unsigned_abs() {
        return Err(unauthorized(
            Rejection::Stale,
            "the delivery's timestamp is outside the tolerance (a replay, or a clock far off)",
        ));
    }
    let data =
        serde_json::to_string(&delivery).map_err(|_| (Rejection::Malformed, BffError::Internal))?;
    // Verified above, so it decodes.
    let mac = signature_mac(signature).unwrap_or_default();
    Ok(Accepted {
        stale: Invalidation::of_delivery(&delivery),
        dedup: format!("{}:{signed}", lower_hex(&mac)),
        data,
        delivery,
    })
}

fn lower_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `200` body that tells the sender its delivery arrived: with the
/// event's id, or saying it was a duplicate (not published again).
pub fn receipt(published: Published) -> Vec<u8> {
    let body = match published {
        Published::Event(id) => json!({"data": {"received": true, "id": id}}),
        Published::Duplicate => json!({"data": {"received": true, "duplicate": true}}),
    };
    json_bytes(&body)
}

/// The refusal when the body could not be read whole (`413` or `400`).
pub fn unreadable(err: BffError) -> Refused {
    (Rejection::TooLarge, err)
}

/// The refusal when the shared state is down (`503`; the sender retries).
pub fn unavailable() -> Refused {
    (Rejection::Unavailable, BffError::SharedStateUnavailable)
}

#[cfg(test)]
mod tests {
    use conferbot::sign_webhook_body;

    use super::*;
    use crate::request::HeaderList;

    const NOW: i64 = 1_725_186_600;
    const MINUTES_5: Duration = Duration::from_secs(300);
    const SECRET: &[u8] = b"whsec_test";

    fn signed(body: &str, timestamp: &str, event: Option<&str>) -> Vec<(String, String)> {
        let mut headers = vec![
            (
                SIGNATURE_HEADER.to_owned(),
                sign_webhook_body(body.as_bytes(), SECRET),
            ),
            (TIMESTAMP_HEADER.to_owned(), timestamp.to_owned()),
        ];
        if let Some(event) = event {
            headers.push((EVENT_HEADER.to_owned(), event.to_owned()));
        }
        headers
    }

    fn set(headers: &mut Vec<(String, String)>, name: &str, value: Option<&str>) {
        headers.retain(|(n, _)| n != name);
        if let Some(value) = value {
            headers.push((name.to_owned(), value.to_owned()));
        }
    }

    fn check(headers: &[(String, String)], body: &str) -> Result<Accepted, Rejection> {
        let headers = HeaderList::new(headers.iter().cloned());
        verify(&headers, body.as_bytes(), Some(SECRET), MINUTES_5, NOW).map_err(|(r, _)| r)
    }

    /// A documented flat body of `event` stamped `at` (Unix seconds).
    fn flat(event: &str, at: i64) -> String {
        let iso = iso(at);
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
        let accepted = check(&signed(&body, &iso(NOW), Some("response.created")), &body).unwrap();
        assert_eq!(
            accepted.delivery.bot_id.as_deref(),
            Some("64f8a2b3c1d4e5f6a7b8c9d0")
        );
        assert_eq!(accepted.event(), "response.created");
        assert_eq!(accepted.data, body, "the flat body is passed on as it was");
        assert_eq!(
            accepted.dedup,
            format!("{}:{NOW}", sign_webhook_body(body.as_bytes(), SECRET))
        );
        assert!(!accepted.stale.is_empty());
        assert!(check(&signed(&body, &NOW.to_string(), None), &body).is_ok());
    }

    #[test]
    fn every_spelling_of_a_signature_names_one_delivery() {
        let body = flat("response.created", NOW);
        let plain = signed(&body, &iso(NOW), None);
        let first = check(&plain, &body).unwrap().dedup;
        let hex = sign_webhook_body(body.as_bytes(), SECRET);
        for spelling in [
            format!("sha256={hex}"),
            hex.to_uppercase(),
            format!("sha256={}", hex.to_uppercase()),
        ] {
            let mut headers = plain.clone();
            set(&mut headers, SIGNATURE_HEADER, Some(&spelling));
            assert_eq!(check(&headers, &body).unwrap().dedup, first, "{spelling}");
        }
        // Another delivery (another time) is another identity.
        let later = flat("response.created", NOW + 1);
        let other = check(&signed(&later, &iso(NOW + 1), None), &later).unwrap();
        assert_ne!(other.dedup, first);
    }

    #[test]
    fn a_body_without_its_own_timestamp_is_refused() {
        let bare = r#"{"event":"response.created","botId":"64f8a2b3c1d4e5f6a7b8c9d0"}"#;
        let headers = signed(bare, &iso(NOW), None);
        assert_eq!(check(&headers, bare).unwrap_err(), Rejection::Timestamp);
        let unix = r#"{"event":"response.created","timestamp":"1725186600"}"#;
        let headers = signed(unix, &NOW.to_string(), None);
        assert_eq!(check(&headers, unix).unwrap_err(), Rejection::Timestamp);
    }

    #[test]
    fn refuses_each_kind_of_bad_delivery() {
        let body = flat("response.created", NOW);
        let mut forged = signed(&body, &iso(NOW), None);
        set(&mut forged, SIGNATURE_HEADER, Some("00ff"));
        assert_eq!(check(&forged, &body).unwrap_err(), Rejection::Signature);
        let mut unsigned = signed(&body, &iso(NOW), None);
        set(&mut unsigned, SIGNATURE_HEADER, None);
        assert_eq!(check(&unsigned, &body).unwrap_err(), Rejection::Signature);
        let mut undated = signed(&body, &iso(NOW), None);
        set(&mut undated, TIMESTAMP_HEADER, None);
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

    #[test]
    fn without_a_secret_every_delivery_is_refused() {
        let body = flat("response.created", NOW);
        let headers = HeaderList::new(signed(&body, &iso(NOW), None));
        let (reason, err) = verify(&headers, body.as_bytes(), None, MINUTES_5, NOW).unwrap_err();
        assert_eq!((reason, err.status()), (Rejection::Disabled, 503));
    }

    #[test]
    fn receipts_and_dedup_window() {
        assert_eq!(
            receipt(Published::Event(7)),
            br#"{"data":{"id":7,"received":true}}"#
        );
        assert_eq!(
            receipt(Published::Duplicate),
            br#"{"data":{"duplicate":true,"received":true}}"#
        );
        assert_eq!(dedup_window(MINUTES_5), Duration::from_secs(600));
        assert_eq!(unavailable().1.status(), 503);
    }
}
