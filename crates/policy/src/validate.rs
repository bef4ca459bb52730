//! Re-validation of what a request carries besides its path: the body's size,
//! and the one body the API takes (`createWebhook`), re-serialized with its
//! known fields only, its URL a public `https://` one
//! ([`crate::webhook_target`]). Ids and pages are re-validated by
//! [`crate::route`].

use conferbot::{NewWebhook, Operation};

use crate::error::BffError;
use crate::settings::MAX_BODY_BYTES;

/// Refuses a body of `len` bytes over [`MAX_BODY_BYTES`] (`413`). Servers
/// check a declared `content-length` before reading, and stop reading there.
pub fn body_size(len: usize) -> Result<(), BffError> {
    if len > MAX_BODY_BYTES {
        return Err(BffError::PayloadTooLarge(MAX_BODY_BYTES));
    }
    Ok(())
}

/// The body forwarded for `operation`: a re-serialized, validated
/// [`NewWebhook`] for create (so only known fields pass, and its URL is a
/// public `https://` one, or with `allow_local_webhooks` also `http://` and
/// loopback), nothing otherwise.
pub fn request_body(
    operation: Operation,
    raw: &[u8],
    allow_local_webhooks: bool,
) -> Result<Option<Vec<u8>>, BffError> {
    request_body_with(operation, raw, |url| {
        crate::webhook_target::check(url, allow_local_webhooks)
    })
}

/// [`request_body`] with the webhook URL checked by `check_url` (a server
/// whose platform parses URLs itself: the npm server half calls
/// [`crate::webhook_target::check_parsed`] with JS's `URL`).
pub fn request_body_with(
    operation: Operation,
    raw: &[u8],
    check_url: impl FnOnce(&str) -> Result<(), BffError>,
) -> Result<Option<Vec<u8>>, BffError> {
    if operation != Operation::CreateWebhook {
        return Ok(None);
    }
    let hook: NewWebhook = serde_json::from_slice(raw).map_err(|err| {
        BffError::InvalidRequest(format!(
            "the body must be JSON like {{\"url\": \"https://example.com/hook\", \"events\": [\"response.created\"]}} ({})",
            shortened(&err.to_string())
        ))
    })?;
    hook.validate()
        .map_err(|err| BffError::InvalidRequest(err.message))?;
    check_url(&hook.url)?;
    let bytes = serde_json::to_vec(&hook).map_err(|_| BffError::Internal)?;
    Ok(Some(bytes))
}

/// serde's explanation, cut at [`MAX_EXPLANATION`] characters: it quotes
/// the value it did not expect whole, and a body may be 64 KiB of one string.
fn shortened(explanation: &str) -> String {
    match explanation.char_indices().nth(MAX_EXPLANATION) {
        Some((end, _)) => format!("{}…", explanation.get(..end).unwrap_or_default()),
        None => explanation.to_owned(),
    }
}

/// The longest part of a decoding error an answer repeats.
const MAX_EXPLANATION: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_bodies_are_validated_and_reserialized_with_known_fields_only() {
        let raw = br#"{"url":"https://example.com/h","events":["response.created"],"secret":"x","admin":true}"#;
        let body = request_body(Operation::CreateWebhook, raw, false)
            .unwrap()
            .unwrap();
        assert_eq!(
            body,
            br#"{"url":"https://example.com/h","events":["response.created"]}"#
        );
        for bad in [
            &b"not json"[..],
            br#"{"url":"ftp://x","events":["response.created"]}"#,
            br#"{"url":"https://x.com","events":["nope"]}"#,
            br#"{"events":["response.created"]}"#,
            br#"{"url":"http://169.254.169.254/","events":["response.created"]}"#,
        ] {
            let err = request_body(Operation::CreateWebhook, bad, true).unwrap_err();
            assert_eq!(err.status(), 400, "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(
            request_body(Operation::DeleteWebhook, raw, false).unwrap(),
            None
        );
        let local = br#"{"url":"http://127.0.0.1:8787/in","events":["response.created"]}"#;
        assert!(request_body(Operation::CreateWebhook, local, false).is_err());
        assert!(request_body(Operation::CreateWebhook, local, true).is_ok());
    }

    /// Found with the `request_decision` fuzz target's bound on error
    /// bodies: serde's message quoted a 3,000-character string whole.
    #[test]
    fn a_decoding_error_repeats_a_bounded_part_of_the_body() {
        let raw = format!(
            r#"{{"url":"https://example.com/h","events":"{}"}}"#,
            "A".repeat(3_000)
        );
        let err = request_body(Operation::CreateWebhook, raw.as_bytes(), false).unwrap_err();
        let answer = err.answer();
        assert_eq!(answer.status, 400);
        assert!(
            answer.body.len() < 600,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        assert!(err.to_string().contains("invalid type: string"), "{err}");
    }

    #[test]
    fn bodies_over_64_kib_are_refused() {
        assert_eq!(body_size(MAX_BODY_BYTES), Ok(()));
        assert_eq!(
            body_size(MAX_BODY_BYTES + 1),
            Err(BffError::PayloadTooLarge(64 * 1024))
        );
    }
}
