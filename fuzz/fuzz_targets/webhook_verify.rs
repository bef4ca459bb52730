//! The webhook receiver's checks (`conferbot_policy::webhook::verify`) on a
//! fuzzed delivery: headers and body, under a fixed secret.
//!
//! The input is a delivery as text (see `conferbot_fuzz::message`): the first
//! line (the request line) is ignored, then headers, a blank line, the raw
//! body. In header values `{sign}` and `{SIGN}` become the body's correct
//! signature under the secret (lower and upper case hex), so seeds and their
//! mutations reach past the signature. Checked:
//! - the signature decides alone whether the refusal is `signature`: a
//!   correct spelling (hex in either case, `sha256=`, whitespace) is never
//!   refused for it, anything else always is;
//! - an accepted delivery names a documented event (the header's, when
//!   sent), its body carries its signed ISO 8601 time and the header agrees,
//!   its SSE data reads back as the delivery, and every spelling of its
//!   signature is accepted as the same delivery (one dedup identity: a
//!   replay in another spelling is a duplicate);
//! - a correctly signed body is accepted iff its timestamp is in the window:
//!   when the only question left is the time, moving "now" to the edges of
//!   the window (± tolerance) accepts it, one second further refuses it as
//!   stale;
//! - without a secret, everything is refused as disabled.

#![no_main]

use std::time::Duration;

use conferbot::protocol::webhooks::{EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use conferbot::timestamp::{parse_iso8601_secs, parse_webhook_timestamp};
use conferbot::{sign_webhook_body, WebhookDelivery};
use conferbot_fuzz::message::Message;
use conferbot_policy::webhook::{verify, Accepted, Rejection};
use conferbot_policy::{HeaderList, Settings};
use libfuzzer_sys::fuzz_target;

/// The receiver's secret.
const SECRET: &[u8] = b"whsec_fuzz_0123456789";
/// 2024-12-15T09:30:00Z, the time of the reference's documented delivery.
const NOW: i64 = 1_734_255_000;

fuzz_target!(|data: &[u8]| {
    let message = Message::parse(data);
    let body = message.body.as_slice();
    let signature = sign_webhook_body(body, SECRET);
    let pairs: Vec<(String, String)> = message
        .headers
        .iter()
        .map(|(name, value)| {
            let value = value
                .replace("{sign}", &signature)
                .replace("{SIGN}", &signature.to_uppercase());
            (name.clone(), value)
        })
        .collect();
    let headers = HeaderList::new(pairs.clone());
    let tolerance = Settings::default().webhook_tolerance;
    let tol = i64::try_from(tolerance.as_secs()).expect("the default is small");

    let disabled = verify(&headers, body, None, tolerance, NOW);
    assert!(matches!(disabled, Err((Rejection::Disabled, _))));

    let result = verify(&headers, body, Some(SECRET), tolerance, NOW);
    let first = first_value(&pairs, SIGNATURE_HEADER);
    let correct = first.is_some_and(|s| spells(s, &signature));
    assert_eq!(
        matches!(result, Err((Rejection::Signature, _))),
        !correct,
        "signature {first:?}: {result:?}"
    );
    if let Err((reason, err)) = &result {
        let status = err.status();
        assert!(
            matches!(status, 400 | 401 | 413),
            "{reason:?} answered {status}"
        );
    }
    if let Ok(accepted) = &result {
        accepted_is_consistent(accepted, &pairs, body, tol);
        every_spelling_is_accepted(&pairs, body, &signature, tolerance);
    }
    if matches!(result, Ok(_) | Err((Rejection::Stale, _))) {
        let stamped = first_value(&pairs, TIMESTAMP_HEADER)
            .and_then(parse_webhook_timestamp)
            .expect("only the time was left to check");
        assert_eq!(result.is_ok(), NOW.abs_diff(stamped) <= tol.unsigned_abs());
        for (shift, inside) in [
            (-tol - 1, false),
            (-tol, true),
            (0, true),
            (tol, true),
            (tol + 1, false),
        ] {
            let Some(now) = stamped.checked_add(shift) else {
                continue;
            };
            let moved = verify(&headers, body, Some(SECRET), tolerance, now);
            match (inside, &moved) {
                (true, Ok(_)) | (false, Err((Rejection::Stale, _))) => {}
                _ => panic!("at now = stamp {shift:+} s: {moved:?}"),
            }
        }
    }
});

/// The first value of `name`, as the receiver reads it.
fn first_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Whether `header` is an accepted spelling of `signature` (lower-case hex).
fn spells(header: &str, signature: &str) -> bool {
    let trimmed = header.trim();
    let hex = trimmed.strip_prefix("sha256=").unwrap_or(trimmed);
    hex.eq_ignore_ascii_case(signature)
}

fn accepted_is_consistent(accepted: &Accepted, pairs: &[(String, String)], body: &[u8], tol: i64) {
    let delivery = &accepted.delivery;
    assert!(delivery.event.is_known(), "{:?}", delivery.event);
    assert_eq!(accepted.event(), delivery.event.as_str());
    if let Some(named) = first_value(pairs, EVENT_HEADER) {
        assert_eq!(named, delivery.event.as_str());
    }
    let stamped = first_value(pairs, TIMESTAMP_HEADER)
        .and_then(parse_webhook_timestamp)
        .expect("an accepted delivery has a timestamp header");
    assert!(NOW.abs_diff(stamped) <= tol.unsigned_abs());
    // The body carries its own, signed time (ISO 8601), and the header agrees.
    let signed = delivery
        .timestamp
        .as_deref()
        .and_then(parse_iso8601_secs)
        .expect("an accepted body has its signed timestamp");
    assert_eq!(signed, stamped, "the signed time and the header agree");
    let parsed: WebhookDelivery = serde_json::from_slice(body).expect("an accepted body decodes");
    assert_eq!(&parsed, delivery);
    let again: WebhookDelivery =
        serde_json::from_str(&accepted.data).expect("the SSE data reads back");
    assert_eq!(&again, delivery);
    assert!(!accepted.data.contains(['\n', '\r']), "one data: line");
    assert!(!accepted.dedup.is_empty());
}

/// The same delivery with its signature spelled every accepted way.
fn every_spelling_is_accepted(
    pairs: &[(String, String)],
    body: &[u8],
    signature: &str,
    tolerance: Duration,
) {
    let upper = signature.to_uppercase();
    let mut first: Option<String> = None;
    for spelling in [
        signature.to_owned(),
        upper.clone(),
        format!("sha256={signature}"),
        format!(" sha256={upper} "),
    ] {
        let mut respelled: Vec<(String, String)> = pairs
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case(SIGNATURE_HEADER))
            .cloned()
            .collect();
        respelled.push((SIGNATURE_HEADER.to_owned(), spelling.clone()));
        let headers = HeaderList::new(respelled);
        let result = verify(&headers, body, Some(SECRET), tolerance, NOW);
        match (&result, &first) {
            (Ok(accepted), Some(first)) => assert_eq!(
                accepted.dedup, *first,
                "{spelling} is another identity: a replay would be published twice"
            ),
            (Ok(accepted), None) => first = Some(accepted.dedup.clone()),
            (Err(_), _) => panic!("{spelling}: {result:?}"),
        }
    }
}
