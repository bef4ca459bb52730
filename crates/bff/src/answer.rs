//! An upstream answer as the BFF shares it: checked by the policy, cheap to
//! clone (the body is reference-counted), the same for the cache, the
//! followers of a coalesced read and the response.

use std::sync::Arc;

use axum::http::StatusCode;
use bytes::Bytes;
use conferbot_policy::cache_table::CachedAnswer;
use conferbot_policy::headers::CacheStatus;
use conferbot_policy::shared_state::wire::WireAnswer;
use conferbot_policy::upstream_answer::{Checked, CheckedBody};
use conferbot_policy::BffError;

/// A checked upstream answer: status, JSON body, and `Retry-After` if sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UpstreamAnswer {
    /// The upstream's status.
    pub(crate) status: StatusCode,
    /// JSON: the upstream's own for successes, the API error format otherwise.
    pub(crate) body: Bytes,
    /// `Retry-After` in seconds, when the upstream sent a number.
    pub(crate) retry_after: Option<u64>,
    /// How long the call waited for the rate window, in ms (for the answer
    /// of the request that made it and of those who joined it; not kept).
    pub(crate) queued_ms: Option<u64>,
    /// The upstream's `Date` header, whose clock turns its month.
    pub(crate) date: Option<String>,
}

/// An answer (shared by everyone who asked), or why there is none.
pub(crate) type Outcome = Result<Arc<UpstreamAnswer>, BffError>;

/// What a read came to: the answer, how it was served, and its age.
#[derive(Debug, Clone)]
pub(crate) struct Served {
    /// The answer, or why there is none.
    pub(crate) outcome: Outcome,
    /// How it was obtained (`x-cache`).
    pub(crate) cache: CacheStatus,
    /// Milliseconds since it was fetched upstream, when it came from the cache.
    pub(crate) age_ms: Option<u64>,
}

impl Served {
    /// What a call made for this request came to.
    pub(crate) fn fetched(result: Result<UpstreamAnswer, BffError>) -> Self {
        Self {
            outcome: result.map(Arc::new),
            cache: CacheStatus::Miss,
            age_ms: None,
        }
    }

    /// An answer from the cache.
    pub(crate) fn held(answer: Arc<UpstreamAnswer>, cache: CacheStatus, age_ms: u64) -> Self {
        Self {
            outcome: Ok(answer),
            cache,
            age_ms: Some(age_ms),
        }
    }
}

impl UpstreamAnswer {
    /// Whether the upstream said 2xx.
    pub(crate) fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// What the policy let through of an answer whose body was `raw`.
    pub(crate) fn checked(status: StatusCode, raw: Bytes, checked: Checked) -> Self {
        Self {
            status,
            body: match checked.body {
                CheckedBody::AsSent => raw,
                CheckedBody::Rewritten(body) => Bytes::from(body),
            },
            retry_after: checked.retry_after,
            queued_ms: None,
            date: None,
        }
    }

    /// `err` as an answer, for followers on other replicas that shared the
    /// call which failed: the same status, body and `Retry-After`.
    pub(crate) fn from_error(err: &BffError) -> Self {
        let answer = err.answer();
        Self {
            status: StatusCode::from_u16(answer.status)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body: Bytes::from(answer.body),
            retry_after: answer.retry_after,
            queued_ms: None,
            date: None,
        }
    }

    /// As written into Redis.
    pub(crate) fn to_wire(&self) -> WireAnswer {
        WireAnswer::new(self.status.as_u16(), self.retry_after, &self.body)
    }

    /// As read back from Redis; `None` when its status is not one.
    pub(crate) fn from_wire(wire: WireAnswer) -> Option<Self> {
        Some(Self {
            status: StatusCode::from_u16(wire.status).ok()?,
            body: Bytes::from(wire.body),
            retry_after: wire.retry_after,
            queued_ms: None,
            date: None,
        })
    }
}

impl CachedAnswer for UpstreamAnswer {
    fn status(&self) -> u16 {
        self.status.as_u16()
    }

    fn body(&self) -> &[u8] {
        &self.body
    }

    fn with_body(&self, body: Vec<u8>) -> Self {
        Self {
            body: Bytes::from(body),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_round_trip_through_redis_and_errors_become_answers() {
        let answer = UpstreamAnswer {
            status: StatusCode::TOO_MANY_REQUESTS,
            body: Bytes::from_static(b"{\"error\":\"Rate limit exceeded\"}"),
            retry_after: Some(7),
            queued_ms: None,
            date: None,
        };
        let text = answer.to_wire().encode();
        let back = WireAnswer::decode(text.as_bytes()).and_then(UpstreamAnswer::from_wire);
        assert_eq!(back, Some(answer));
        let failed = UpstreamAnswer::from_error(&BffError::SharedStateUnavailable);
        assert_eq!((failed.status.as_u16(), failed.retry_after), (503, Some(2)));
    }
}
