//! One error type for every failure, with a kind a program can branch on.
//!
//! The upstream API answers errors as `{"error": "...", "message": "..."}`;
//! [`Error`] keeps both strings, the HTTP status and `Retry-After`, and adds
//! the failures that never reach a server (bad input, network, timeout, abort).

use std::fmt;

use serde::{Deserialize, Serialize};

/// What went wrong, coarse enough to branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Bad input caught before any request was sent.
    InvalidRequest,
    /// The server rejected the request (400, and other 4xx without a kind of their own).
    BadRequest,
    /// Missing or invalid API key (401).
    Unauthorized,
    /// The plan does not allow it, or a plan limit was reached (403).
    Forbidden,
    /// The resource does not exist or belongs to another workspace (404).
    NotFound,
    /// Per-minute or monthly limit exceeded (429); see `retry_after`.
    RateLimited,
    /// The server failed (5xx).
    Server,
    /// The request could not be sent or its answer not received.
    Network,
    /// No answer within the configured time.
    Timeout,
    /// The caller aborted the request.
    Aborted,
    /// The server answered with a body that is not the documented JSON.
    Decode,
}

impl ErrorKind {
    /// Every kind, in the order the TypeScript union lists them.
    pub const ALL: [ErrorKind; 11] = [
        Self::InvalidRequest,
        Self::BadRequest,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::RateLimited,
        Self::Server,
        Self::Network,
        Self::Timeout,
        Self::Aborted,
        Self::Decode,
    ];

    /// The kind's wire name, as JS sees it in `error.kind` (`"rate_limited"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::BadRequest => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::RateLimited => "rate_limited",
            Self::Server => "server",
            Self::Network => "network",
            Self::Timeout => "timeout",
            Self::Aborted => "aborted",
            Self::Decode => "decode",
        }
    }

    /// The kind an HTTP error status maps to.
    pub fn from_status(status: u16) -> Self {
        match status {
            401 => Self::Unauthorized,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            429 => Self::RateLimited,
            500..=599 => Self::Server,
            _ => Self::BadRequest,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The upstream's error body: `{"error": "...", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    /// Short description (`"Rate limit exceeded"`).
    pub error: String,
    /// Longer explanation, when the server gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl ApiErrorBody {
    /// A body with only `error`.
    pub fn new(error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            message: None,
        }
    }

    /// A body with `error` and `message`.
    pub fn with_message(error: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            message: Some(message.into()),
        }
    }
}

/// Every failure of a call: its kind, the HTTP status when there was one, the
/// server's `error` (as `message`) and `message` (as `detail`), and the
/// `Retry-After` seconds when the server sent them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// HTTP status, when a response was received.
    pub status: Option<u16>,
    /// The server's `error` string, or our own description.
    pub message: String,
    /// The server's `message` string, when it sent one.
    pub detail: Option<String>,
    /// Seconds to wait before retrying, from `Retry-After`.
    pub retry_after: Option<u64>,
}

impl Error {
    /// An error of `kind` with no status.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            status: None,
            message: message.into(),
            detail: None,
            retry_after: None,
        }
    }

    /// Bad input, caught before sending.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message)
    }

    /// A body that does not decode as documented.
    pub fn decode(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Decode, message)
    }

    /// The error for a non-2xx answer: `body` is the raw response body and
    /// `retry_after` the raw `Retry-After` header, if any. A body that is not
    /// the documented error JSON still gives a useful message.
    pub fn from_response(status: u16, body: &[u8], retry_after: Option<&str>) -> Self {
        let body = serde_json::from_slice::<ApiErrorBody>(body).ok();
        Self::from_error_body(status, body, retry_after)
    }

    /// The error for a non-2xx answer whose body was already read: `body` is
    /// the documented error JSON when it was that, `None` for anything else.
    /// (The wasm client parses bodies with the engine's `JSON.parse`, so it
    /// comes here without a JSON library.)
    pub fn from_error_body(
        status: u16,
        body: Option<ApiErrorBody>,
        retry_after: Option<&str>,
    ) -> Self {
        let (message, detail) = match body {
            // An empty `error` says nothing: the status says more.
            Some(parsed) if !parsed.error.trim().is_empty() => (parsed.error, parsed.message),
            other => {
                let mut message = String::from("HTTP ");
                message.push_str(&status.to_string());
                message.push(' ');
                message.push_str(status_reason(status));
                (message, other.and_then(|parsed| parsed.message))
            }
        };
        Self {
            kind: ErrorKind::from_status(status),
            status: Some(status),
            message,
            detail,
            retry_after: retry_after.and_then(parse_retry_after),
        }
    }

    /// The upstream-format body for this error, as the BFF and sandbox answer it.
    pub fn to_body(&self) -> ApiErrorBody {
        ApiErrorBody {
            error: self.message.clone(),
            message: self.detail.clone(),
        }
    }
}

/// Parses `Retry-After` given in delta-seconds. (HTTP dates are not used by
/// this API; they are ignored rather than guessed at.)
pub fn parse_retry_after(raw: &str) -> Option<u64> {
    raw.trim().parse::<u64>().ok()
}

/// The reason phrase of the statuses this API uses, for messages.
pub fn status_reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_the_documented_statuses_to_kinds() {
        let cases = [
            (400, ErrorKind::BadRequest),
            (401, ErrorKind::Unauthorized),
            (403, ErrorKind::Forbidden),
            (404, ErrorKind::NotFound),
            (413, ErrorKind::BadRequest),
            (429, ErrorKind::RateLimited),
            (500, ErrorKind::Server),
            (502, ErrorKind::Server),
            (504, ErrorKind::Server),
        ];
        for (status, kind) in cases {
            assert_eq!(ErrorKind::from_status(status), kind, "{status}");
        }
    }

    #[test]
    fn keeps_the_upstream_error_message_and_retry_after() {
        let body = br#"{"error": "Rate limit exceeded", "message": "You exceeded 60 requests in 1 minute."}"#;
        let err = Error::from_response(429, body, Some("60"));
        assert_eq!(err.kind, ErrorKind::RateLimited);
        assert_eq!(err.status, Some(429));
        assert_eq!(err.message, "Rate limit exceeded");
        assert_eq!(
            err.detail.as_deref(),
            Some("You exceeded 60 requests in 1 minute.")
        );
        assert_eq!(err.retry_after, Some(60));
    }

    #[test]
    fn guide_401_body_decodes() {
        let err = Error::from_response(
            401,
            b"{\n\"error\": \"Invalid or missing API key\"\n}",
            None,
        );
        assert_eq!(err.kind, ErrorKind::Unauthorized);
        assert_eq!(err.message, "Invalid or missing API key");
        assert_eq!(err.detail, None);
        assert_eq!(err.retry_after, None);
    }

    #[test]
    fn a_non_json_error_body_still_says_what_happened() {
        let err = Error::from_response(502, b"<html>bad gateway</html>", Some("soon"));
        assert_eq!(err.kind, ErrorKind::Server);
        assert_eq!(err.message, "HTTP 502 Bad Gateway");
        assert_eq!(err.retry_after, None);
    }

    /// Found by `cargo xtask fuzz` (target `wire_decode`): `{"error": ""}`
    /// made an error with an empty message (and the BFF re-wrote it so).
    #[test]
    fn an_empty_upstream_error_is_described_by_its_status() {
        let err = Error::from_response(403, br#"{"error": ""}"#, None);
        assert_eq!(err.message, "HTTP 403 Forbidden");
        let err = Error::from_response(400, br#"{"error": " ", "message": "why"}"#, None);
        assert_eq!(
            (err.message.as_str(), err.detail.as_deref()),
            ("HTTP 400 Bad Request", Some("why"))
        );
    }

    #[test]
    fn kind_names_are_the_documented_snake_case() {
        assert_eq!(ErrorKind::InvalidRequest.as_str(), "invalid_request");
        assert_eq!(
            serde_json::to_string(&ErrorKind::RateLimited).unwrap(),
            "\"rate_limited\""
        );
    }
}
