//! The only way out to the upstream API: requests built from scratch from a
//! [`Target`], with the key injected here and nowhere else.
//!
//! No browser header is ever copied: the request carries `accept`,
//! `content-type` for bodies, and `x-api-key`. Redirects are not followed
//! (an upstream redirect must not send the key elsewhere) and no proxy from
//! the environment is used. Answers are checked before they go back: success
//! bodies must be JSON, error bodies are re-written in the API's error format,
//! and an answer that echoes the key is refused.

use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use bytes::Bytes;
use conferbot::{ObjectId, Operation};
use tokio::time::Instant;

use crate::error::BffError;
use crate::routing::Target;
use crate::secret::{ApiKey, KeyScanner};
use crate::transport::Transport;

/// The header the upstream authenticates with (the core's fact).
pub use conferbot::API_KEY_HEADER;

/// Largest upstream answer passed on (the biggest page is far smaller).
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// A checked upstream answer: status, JSON body, and `Retry-After` if sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamAnswer {
    /// The upstream's status.
    pub status: StatusCode,
    /// JSON: the upstream's own for successes, the API error format otherwise.
    pub body: Bytes,
    /// `Retry-After` in seconds, when the upstream sent a number.
    pub retry_after: Option<u64>,
}

impl UpstreamAnswer {
    /// Whether the upstream said 2xx.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }
}

/// The upstream client: base URL, key and timeout.
#[derive(Debug, Clone)]
pub struct Upstream {
    transport: Transport,
    base: String,
    /// `accept` and the key (marked sensitive), on every request.
    headers: HeaderMap,
    timeout: Duration,
    /// Looks for the key in every answer.
    key: KeyScanner,
}

/// Why the upstream client could not be built.
#[derive(Debug)]
pub struct ClientError(String);

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClientError {}

impl Upstream {
    /// A client for the API at `base` (`https://…/api/v1`), giving up after
    /// `timeout` for a whole call.
    pub fn new(base: &str, key: ApiKey, timeout: Duration) -> Result<Self, ClientError> {
        let key_header = key.header_value().ok_or_else(|| {
            ClientError("the API key holds characters a header cannot carry".into())
        })?;
        let mut headers = HeaderMap::new();
        headers.insert(API_KEY_HEADER, key_header);
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        let scheme = base.split_once("://").map_or("", |(scheme, _)| scheme);
        let transport = Transport::new(&scheme.to_ascii_lowercase(), headers.clone(), timeout)
            .map_err(ClientError)?;
        Ok(Self {
            transport,
            base: base.trim_end_matches('/').to_owned(),
            headers,
            timeout,
            key: key.scanner(),
        })
    }

    /// Sends `target` (with the re-serialized `body` for writes that take one)
    /// and returns the checked answer and how long the call took.
    pub async fn send(
        &self,
        target: &Target,
        body: Option<&Bytes>,
    ) -> (Result<UpstreamAnswer, BffError>, Duration) {
        let started = Instant::now();
        let result = self.call(target, body).await;
        (result, started.elapsed())
    }

    async fn call(
        &self,
        target: &Target,
        body: Option<&Bytes>,
    ) -> Result<UpstreamAnswer, BffError> {
        let ids: Vec<&ObjectId> = target.ids.iter().collect();
        let url = target
            .operation
            .url(&self.base, &ids, target.page)
            .map_err(|_| BffError::Internal)?;
        let raw = self
            .transport
            .send(
                http_method(target.operation),
                url,
                &self.headers,
                body.cloned(),
                self.timeout,
                MAX_ANSWER_BYTES,
            )
            .await?;
        self.check(raw.status, raw.body, raw.retry_after)
    }

    /// Decides what of an answer may go back to the browser.
    fn check(
        &self,
        status: StatusCode,
        raw: Bytes,
        retry_after: Option<u64>,
    ) -> Result<UpstreamAnswer, BffError> {
        if self.key.occurs_in(&raw) {
            return Err(BffError::BadUpstreamAnswer(
                "the Conferbot API answer was withheld because it repeated the credentials",
            ));
        }
        if status.is_success() {
            if serde_json::from_slice::<serde::de::IgnoredAny>(&raw).is_err() {
                return Err(BffError::BadUpstreamAnswer(
                    "the Conferbot API answered with a body that is not JSON",
                ));
            }
            return Ok(UpstreamAnswer {
                status,
                body: raw,
                retry_after,
            });
        }
        if !(status.is_client_error() || status.is_server_error()) {
            return Err(BffError::BadUpstreamAnswer(
                "the Conferbot API answered with an unexpected status",
            ));
        }
        // Keep the upstream's `error`/`message` (or describe the status when
        // the body is not the documented JSON), and nothing else.
        let error = conferbot::Error::from_response(status.as_u16(), &raw, None);
        let body = serde_json::to_vec(&error.to_body()).map_err(|_| BffError::Internal)?;
        Ok(UpstreamAnswer {
            status,
            body: Bytes::from(body),
            retry_after,
        })
    }
}

fn http_method(operation: Operation) -> Method {
    match operation.method() {
        conferbot::Method::Get => Method::GET,
        conferbot::Method::Post => Method::POST,
        conferbot::Method::Delete => Method::DELETE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream() -> Upstream {
        Upstream::new(
            "http://127.0.0.1:9/api/v1",
            ApiKey::new("sk-test-key").unwrap(),
            Duration::from_secs(1),
        )
        .unwrap()
    }

    #[test]
    fn success_bodies_must_be_json_and_must_not_echo_the_key() {
        let up = upstream();
        let ok = up.check(StatusCode::OK, Bytes::from_static(b"{\"data\":[]}"), None);
        assert_eq!(ok.unwrap().body, "{\"data\":[]}");
        let html = up.check(StatusCode::OK, Bytes::from_static(b"<html>"), None);
        assert!(matches!(html, Err(BffError::BadUpstreamAnswer(_))));
        let cut = up.check(StatusCode::OK, Bytes::from_static(b"{\"data\":["), None);
        assert!(matches!(cut, Err(BffError::BadUpstreamAnswer(_))));
        let echo = up.check(
            StatusCode::OK,
            Bytes::from_static(b"{\"k\":\"sk-test-key\"}"),
            None,
        );
        assert!(matches!(echo, Err(BffError::BadUpstreamAnswer(_))));
    }

    #[test]
    fn error_bodies_are_rewritten_in_the_api_format() {
        let up = upstream();
        let raw = Bytes::from_static(
            b"{\"error\":\"Rate limit exceeded\",\"message\":\"m\",\"debug\":\"x\"}",
        );
        let answer = up
            .check(StatusCode::TOO_MANY_REQUESTS, raw, Some(7))
            .unwrap();
        assert_eq!(answer.status, 429);
        assert_eq!(answer.retry_after, Some(7));
        assert_eq!(
            answer.body,
            "{\"error\":\"Rate limit exceeded\",\"message\":\"m\"}"
        );
        let html = up
            .check(
                StatusCode::INTERNAL_SERVER_ERROR,
                Bytes::from_static(b"<h1>oops</h1>"),
                None,
            )
            .unwrap();
        assert_eq!(html.body, "{\"error\":\"HTTP 500 Internal Server Error\"}");
        let redirect = up.check(StatusCode::FOUND, Bytes::new(), None);
        assert!(matches!(redirect, Err(BffError::BadUpstreamAnswer(_))));
    }

    #[tokio::test]
    async fn an_unreachable_upstream_is_a_502() {
        let target = Target {
            operation: Operation::GetUsage,
            ids: vec![],
            page: None,
        };
        let (result, _) = upstream().send(&target, None).await;
        assert_eq!(result, Err(BffError::UpstreamUnreachable));
    }
}
