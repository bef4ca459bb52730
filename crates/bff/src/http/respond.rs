//! Answers as responses, and what the handlers read of a request.
//!
//! The policy says what an answer is (status, body, `Retry-After`, `Allow`,
//! `x-cache`); this turns it into an axum [`Response`]. It also reads request
//! bodies up to the policy's limit, and lends the request's headers to the
//! policy without copying them ([`Headers`]).

use std::sync::LazyLock;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use conferbot_policy::headers::{answer_headers, CacheStatus, JSON};
use conferbot_policy::settings::MAX_BODY_BYTES;
use conferbot_policy::{BffError, HeaderLookup};
use http_body::Body as _;
use http_body_util::{BodyExt, Limited};

use crate::answer::UpstreamAnswer;

/// The request's headers, as the policy reads them.
pub(crate) struct Headers<'a>(pub(crate) &'a HeaderMap);

impl HeaderLookup for Headers<'_> {
    fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.0.get_all(name).iter().map(HeaderValue::as_bytes)
    }
}

/// A JSON answer with `status` and the serialized `body`.
pub(crate) fn json(status: u16, body: Vec<u8>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))],
        body,
    )
        .into_response()
}

/// The BFF's own error answer: the API's format, `Allow`, `Retry-After`.
pub(crate) fn error(err: &BffError) -> Response {
    let answer = err.answer();
    let mut response = json(answer.status, answer.body);
    let headers = response.headers_mut();
    if let Some(allow) = answer.allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
        headers.insert(header::ALLOW, allow);
    }
    if let Some(secs) = answer.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// Headers an answer may carry: content type, `x-cache`, `age`,
/// `retry-after`, the eight quota headers, the two always set, `content-length`.
const ANSWER_HEADERS: usize = 16;

/// `x-cache`, checked once rather than on every answer.
static CACHE_HEADER_NAME: LazyLock<HeaderName> =
    LazyLock::new(|| HeaderName::from_static(conferbot::protocol::bff::CACHE_HEADER));

/// `x-quota-queued-ms`, checked once rather than on every answer.
static QUEUED_MS_HEADER_NAME: LazyLock<HeaderName> =
    LazyLock::new(|| HeaderName::from_static(conferbot::protocol::bff::QUEUED_MS_HEADER));

/// The browser's response for an upstream (or cached) answer, `age_ms` old
/// when it came from the cache.
pub(crate) fn answer(
    answer: &UpstreamAnswer,
    cache: Option<CacheStatus>,
    age_ms: Option<u64>,
) -> Response {
    let policy = answer_headers(answer.retry_after, cache, age_ms);
    let mut response = Response::new(Body::from(answer.body.clone()));
    *response.status_mut() = answer.status;
    // Sized once for what the answer gets on its way out (the quota and
    // hygiene headers included), rather than grown on the way.
    *response.headers_mut() = HeaderMap::with_capacity(ANSWER_HEADERS);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(policy.content_type),
    );
    if let Some(secs) = policy.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if let Some(cache) = policy.cache {
        headers.insert(
            CACHE_HEADER_NAME.clone(),
            HeaderValue::from_static(cache.as_str()),
        );
    }
    if let Some(age) = policy.age {
        headers.insert(header::AGE, HeaderValue::from(age));
    }
    // The wait belongs to the call: only those who made or joined it waited.
    let waited = match cache {
        None | Some(CacheStatus::Miss | CacheStatus::Coalesced) => answer.queued_ms,
        Some(CacheStatus::Hit | CacheStatus::Stale) => None,
    };
    if let Some(ms) = waited.filter(|ms| *ms > 0) {
        headers.insert(QUEUED_MS_HEADER_NAME.clone(), HeaderValue::from(ms));
    }
    response
}

/// Reads the whole body, refusing more than the policy's [`MAX_BODY_BYTES`]
/// (a declared `content-length` over the limit is refused before reading),
/// and a body that stops arriving for `--body-timeout` (`408`; the timeout
/// is the connection layer's, `crate::connection::request_limits`).
pub(crate) async fn read_body(body: Body) -> Result<Bytes, BffError> {
    // No body at all (every GET): nothing to limit or to wait for.
    if body.is_end_stream() {
        return Ok(Bytes::new());
    }
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => {
            Err(BffError::PayloadTooLarge(MAX_BODY_BYTES))
        }
        Err(err) if caused_by::<tower_http::timeout::TimeoutError>(err.as_ref()) => {
            Err(BffError::RequestTimeout)
        }
        Err(_) => Err(BffError::BodyUnreadable),
    }
}

/// Whether `err`, or an error it wraps, is an `E`.
fn caused_by<E: std::error::Error + 'static>(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(err) = current {
        if err.is::<E>() {
            return true;
        }
        current = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use conferbot::Method;

    use super::*;

    async fn body_of(response: Response) -> serde_json::Value {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn errors_answer_in_the_api_format_with_allow_and_retry_after() {
        let response = error(&BffError::MethodNotAllowed(vec![Method::Get, Method::Post]));
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()[header::ALLOW], "GET, POST");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let body = body_of(response).await;
        assert_eq!(body["error"], "Method not allowed");
        assert_eq!(body["message"], "this path allows GET, POST");

        let response = error(&BffError::QueueTimeout {
            retry_after: Duration::from_millis(1_200),
        });
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        assert_eq!(body_of(response).await["error"], "Rate limit exceeded");
    }

    #[test]
    fn rebuilds_answers_with_json_type_retry_after_and_x_cache() {
        let upstream = UpstreamAnswer {
            status: StatusCode::TOO_MANY_REQUESTS,
            body: Bytes::from_static(b"{\"error\":\"Rate limit exceeded\"}"),
            retry_after: Some(60),
            queued_ms: Some(1_250),
            date: None,
        };
        let response = answer(&upstream, Some(CacheStatus::Miss), None);
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.headers()["retry-after"], "60");
        assert_eq!(response.headers()["x-cache"], "miss");
        assert_eq!(response.headers()["x-quota-queued-ms"], "1250");
        let held = answer(&upstream, Some(CacheStatus::Stale), Some(90_500));
        assert_eq!(held.headers()["age"], "90");
        assert!(held.headers().get("x-quota-queued-ms").is_none());
    }

    #[tokio::test]
    async fn bodies_over_64_kib_are_refused() {
        let big = Body::from(vec![b'x'; MAX_BODY_BYTES + 1]);
        assert_eq!(
            read_body(big).await,
            Err(BffError::PayloadTooLarge(MAX_BODY_BYTES))
        );
        let fits = Body::from(vec![b'x'; MAX_BODY_BYTES]);
        assert_eq!(read_body(fits).await.unwrap().len(), MAX_BODY_BYTES);
    }

    #[test]
    fn the_policy_reads_every_value_of_a_header() {
        let mut map = HeaderMap::new();
        map.append("origin", HeaderValue::from_static("https://a"));
        map.append("origin", HeaderValue::from_static("https://b"));
        let headers = Headers(&map);
        assert_eq!(headers.values("origin").count(), 2);
        assert_eq!(headers.first_str("origin"), Some("https://a"));
        assert_eq!(headers.first("host"), None);
    }
}
