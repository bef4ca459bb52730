//! Turning an upstream answer into the client's: what of it may go back.
//!
//! Success bodies must be JSON, error bodies are re-written in the API's error
//! format (keeping the upstream's `error`/`message`, or describing the status
//! when the body is not the documented JSON), other statuses are refused, and
//! an answer that holds the key or the webhook secret, in any spelling a
//! client could decode ([`crate::secret_scan`]), is withheld whatever its
//! status.

use crate::error::{json_bytes, BffError};
use crate::secret_scan::SecretScanner;

/// Why an answer that repeated a secret was withheld.
const WITHHELD: &str = "the Conferbot API answer was withheld because it repeated the credentials";

/// What goes back as the body of a checked answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckedBody {
    /// The upstream's own bytes (a JSON success).
    AsSent,
    /// The error re-written in the API's format.
    Rewritten(Vec<u8>),
}

/// An upstream answer that may go back to the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The upstream's status.
    pub status: u16,
    /// Its body, or the re-written one.
    pub body: CheckedBody,
    /// `Retry-After` in seconds, when the upstream sent a number.
    pub retry_after: Option<u64>,
}

/// Decides what of an answer (`status`, the whole `raw` body, `Retry-After`)
/// may go back to the browser.
pub fn check(
    status: u16,
    raw: &[u8],
    retry_after: Option<u64>,
    secrets: &SecretScanner,
) -> Result<Checked, BffError> {
    if secrets.occurs_in_answer(raw) {
        return Err(BffError::BadUpstreamAnswer(WITHHELD));
    }
    if (200..300).contains(&status) {
        // JSON is UTF-8 (RFC 8259); serde_json skips the strings it ignores
        // without checking that, so the text is checked first.
        let json = std::str::from_utf8(raw)
            .is_ok_and(|text| serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok());
        if !json {
            return Err(BffError::BadUpstreamAnswer(
                "the Conferbot API answered with a body that is not JSON",
            ));
        }
        return Ok(Checked {
            status,
            body: CheckedBody::AsSent,
            retry_after,
        });
    }
    if !(400..600).contains(&status) {
        return Err(BffError::BadUpstreamAnswer(
            "the Conferbot API answered with an unexpected status",
        ));
    }
    let error = conferbot::Error::from_response(status, raw, None);
    let body = json_bytes(&error.to_body());
    // Built from strings already scanned; checked again as it will leave.
    if secrets.occurs_in_answer(&body) {
        return Err(BffError::BadUpstreamAnswer(WITHHELD));
    }
    Ok(Checked {
        status,
        body: CheckedBody::Rewritten(body),
        retry_after,
    })
}

/// The upstream's `Retry-After` value, when it is a number of seconds.
pub fn retry_after(value: Option<&[u8]>) -> Option<u64> {
    value
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(conferbot::error::parse_retry_after)
}

/// The answer was longer than [`crate::settings::MAX_ANSWER_BYTES`].
pub fn too_long() -> BffError {
    BffError::BadUpstreamAnswer("the Conferbot API answered more than the BFF passes on")
}

/// The answer's body ended early.
pub fn cut_off() -> BffError {
    BffError::BadUpstreamAnswer("the Conferbot API answer was cut off")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretScanner {
        SecretScanner::new(["sk-test-key", "whsec_test_secret"])
    }

    /// Found by `cargo xtask fuzz` (target `upstream_answer`): a success
    /// with bytes that are not UTF-8 inside a string passed the JSON check.
    #[test]
    fn a_success_that_is_not_utf8_is_not_json() {
        let raw = b"{\"data\":[{\"status\":\"activ\xd1\xd1e\"}]}";
        assert_eq!(
            check(200, raw, None, &key()),
            Err(BffError::BadUpstreamAnswer(
                "the Conferbot API answered with a body that is not JSON"
            ))
        );
        assert!(check(200, "{\"status\":\"activé\"}".as_bytes(), None, &key()).is_ok());
    }

    #[test]
    fn success_bodies_must_be_json_and_must_not_echo_the_key() {
        let ok = check(200, b"{\"data\":[]}", None, &key()).unwrap();
        assert_eq!(ok.body, CheckedBody::AsSent);
        for bad in [&b"<html>"[..], b"{\"data\":[", b"{\"k\":\"sk-test-key\"}"] {
            assert!(matches!(
                check(200, bad, None, &key()),
                Err(BffError::BadUpstreamAnswer(_))
            ));
        }
        // An error that echoes the key is withheld too, in any spelling.
        assert!(check(401, b"{\"error\":\"sk-test-key\"}", None, &key()).is_err());
        let escaped = br#"{"error":"bad","message":"sk\u002dtest-key"}"#;
        assert!(check(401, escaped, None, &key()).is_err());
        let secret = br#"{"data":{"secret":"whsec\u005ftest_secret"}}"#;
        assert!(check(201, secret, None, &key()).is_err());
    }

    #[test]
    fn error_bodies_are_rewritten_in_the_api_format() {
        let raw = b"{\"error\":\"Rate limit exceeded\",\"message\":\"m\",\"debug\":\"x\"}";
        let answer = check(429, raw, Some(7), &key()).unwrap();
        assert_eq!((answer.status, answer.retry_after), (429, Some(7)));
        assert_eq!(
            answer.body,
            CheckedBody::Rewritten(
                b"{\"error\":\"Rate limit exceeded\",\"message\":\"m\"}".to_vec()
            )
        );
        let html = check(500, b"<h1>oops</h1>", None, &key()).unwrap();
        assert_eq!(
            html.body,
            CheckedBody::Rewritten(b"{\"error\":\"HTTP 500 Internal Server Error\"}".to_vec())
        );
        assert!(matches!(
            check(302, b"", None, &key()),
            Err(BffError::BadUpstreamAnswer(_))
        ));
    }

    #[test]
    fn retry_after_takes_seconds_only() {
        assert_eq!(retry_after(Some(b" 7 ")), Some(7));
        assert_eq!(retry_after(Some(b"Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(retry_after(None), None);
    }
}
