//! The only way out to the upstream API: requests built from scratch from a
//! [`Target`] by the policy ([`upstream_call`], and the headers of
//! [`ApiKey::upstream_headers`]), with the key injected here and nowhere else.
//!
//! No browser header is ever copied. Redirects are not followed (an upstream
//! redirect must not send the key elsewhere) and no proxy from the environment
//! is used. Answers are checked by the policy ([`upstream_answer::check`])
//! before they go back: success bodies must be JSON, error bodies are
//! re-written in the API's error format, and an answer that repeats the key
//! or the webhook secret, in any spelling a client could decode, is refused.
//!
//! - `transport`: how the requests travel (one client for both schemes).
//! - `roots`: which certificates it trusts ([`UpstreamCa`], or the public roots).

mod roots;
pub(crate) mod transport;

use std::time::Duration;

use axum::http::header::HOST;
use axum::http::{HeaderMap, Method};
use bytes::Bytes;
use conferbot_policy::headers::upstream_call;
use conferbot_policy::secret_scan::SecretScanner;
use conferbot_policy::settings::MAX_ANSWER_BYTES;
use conferbot_policy::upstream_answer;
use conferbot_policy::{BffError, ConfigError, Target};
use tokio::time::Instant;

use crate::answer::UpstreamAnswer;
use crate::secret::{ApiKey, WebhookSecret};
pub use roots::UpstreamCa;
use transport::Transport;

/// The upstream client: base URL, key and timeout.
#[derive(Debug, Clone)]
pub(crate) struct Upstream {
    transport: Transport,
    base: String,
    /// `host`, `accept` and the key (marked sensitive), for requests
    /// without a body.
    headers: HeaderMap,
    /// The same and `content-type`, for requests with one.
    body_headers: HeaderMap,
    timeout: Duration,
    /// Looks for the key and the webhook secret in every answer.
    secrets: SecretScanner,
}

impl Upstream {
    /// A client for the API at `base` (`https://…/api/v1`), giving up after
    /// `timeout` for a whole call, trusting `ca` (or the public roots);
    /// answers that repeat `key` or `webhook` are withheld; one connection
    /// pool per connection worker (`workers`), and one for the rest.
    pub(crate) fn new(
        base: &str,
        key: &ApiKey,
        webhook: Option<&WebhookSecret>,
        timeout: Duration,
        ca: Option<&UpstreamCa>,
        workers: usize,
    ) -> Result<Self, ConfigError> {
        let unfit = || ConfigError("the API key holds characters a header cannot carry".to_owned());
        let host = transport::host_header(base)?;
        let mut headers = key.upstream_headers(false).ok_or_else(unfit)?;
        let mut body_headers = key.upstream_headers(true).ok_or_else(unfit)?;
        headers.insert(HOST, host.clone());
        body_headers.insert(HOST, host);
        let transport = Transport::new(ca, workers)?;
        Ok(Self {
            transport,
            base: base.trim_end_matches('/').to_owned(),
            headers,
            body_headers,
            timeout,
            secrets: key.scanner(webhook),
        })
    }

    /// Sends `target` (with the re-serialized `body` for writes that take one)
    /// and returns the checked answer and how long the call took.
    pub(crate) async fn send(
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
        let call = upstream_call(&self.base, target)?;
        let headers = match body {
            Some(_) => &self.body_headers,
            None => &self.headers,
        };
        let raw = self
            .transport
            .send(
                http_method(call.method),
                call.url,
                headers,
                body.cloned(),
                self.timeout,
                MAX_ANSWER_BYTES,
            )
            .await?;
        let checked = upstream_answer::check(
            raw.status.as_u16(),
            &raw.body,
            raw.retry_after,
            &self.secrets,
        )?;
        let mut answer = UpstreamAnswer::checked(raw.status, raw.body, checked);
        answer.date = raw.date;
        Ok(answer)
    }
}

/// The table's method as an HTTP method.
pub(crate) fn http_method(method: conferbot::Method) -> Method {
    match method {
        conferbot::Method::Get => Method::GET,
        conferbot::Method::Post => Method::POST,
        conferbot::Method::Delete => Method::DELETE,
    }
}

#[cfg(test)]
mod tests {
    use conferbot::Operation;

    use super::*;

    #[tokio::test]
    async fn an_unreachable_upstream_is_a_502() {
        let upstream = Upstream::new(
            "http://127.0.0.1:9/api/v1",
            &ApiKey::new("sk-test-key").unwrap(),
            None,
            Duration::from_secs(1),
            None,
            1,
        )
        .unwrap();
        let target = Target {
            operation: Operation::GetUsage,
            ids: vec![],
            page: None,
        };
        let (result, _) = upstream.send(&target, None).await;
        assert_eq!(result, Err(BffError::UpstreamUnreachable));
    }

    #[test]
    fn a_key_a_header_cannot_carry_is_refused() {
        let key = ApiKey::new("sk\u{7f}bad").unwrap();
        let err = Upstream::new(
            "http://127.0.0.1:9/api/v1",
            &key,
            None,
            Duration::from_secs(1),
            None,
            1,
        );
        assert!(err.unwrap_err().0.contains("header"));
    }
}
