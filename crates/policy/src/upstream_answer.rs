//! Turning an upstream answer into the client's: what of it may go back.
//!
//! Success bodies must be JSON, error bodies are re-written in the API's error
//! format (keeping the upstream's `error`/`message`, or describing the status
//! when the body is not the documented JSON), other statuses are refused, and
//! an answer that echoes the key is withheld whatever its status.

use std::fmt;

use memchr::memmem::Finder;

use crate::error::{json_bytes, BffError};

/// Finds the API key in upstream answers (SIMD substring search, built once
/// per key and reused for every answer). It holds the key's bytes, so it
/// never formats them.
#[derive(Clone)]
pub struct KeyScanner(Finder<'static>);

impl KeyScanner {
    /// A scanner for `key`.
    pub fn new(key: &str) -> Self {
        Self(Finder::new(key.as_bytes()).into_owned())
    }

    /// Whether `haystack` contains the key (never true for an empty key).
    pub fn occurs_in(&self, haystack: &[u8]) -> bool {
        !self.0.needle().is_empty() && self.0.find(haystack).is_some()
    }
}

impl fmt::Debug for KeyScanner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

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
    key: &KeyScanner,
) -> Result<Checked, BffError> {
    if key.occurs_in(raw) {
        return Err(BffError::BadUpstreamAnswer(
            "the Conferbot API answer was withheld because it repeated the credentials",
        ));
    }
    if (200..300).contains(&status) {
        if serde_json::from_slice::<serde::de::IgnoredAny>(raw).is_err() {
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
    Ok(Checked {
        status,
        body: CheckedBody::Rewritten(json_bytes(&error.to_body())),
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

    fn key() -> KeyScanner {
        KeyScanner::new("sk-test-key")
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
        // An error that echoes the key is withheld too.
        assert!(check(401, b"{\"error\":\"sk-test-key\"}", None, &key()).is_err());
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
    fn the_scanner_finds_the_key_and_never_shows_it() {
        let scanner = KeyScanner::new("sk-live-123");
        assert!(scanner.occurs_in(br#"{"echo":"sk-live-123"}"#));
        assert!(!scanner.occurs_in(br#"{"data":[]}"#));
        assert!(!scanner.occurs_in(b"sk-live-12"));
        assert!(!scanner.occurs_in(b""));
        assert!(!KeyScanner::new("").occurs_in(b"anything"));
        assert_eq!(format!("{scanner:?}"), "[redacted]");
    }

    #[test]
    fn retry_after_takes_seconds_only() {
        assert_eq!(retry_after(Some(b" 7 ")), Some(7));
        assert_eq!(retry_after(Some(b"Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(retry_after(None), None);
    }
}
