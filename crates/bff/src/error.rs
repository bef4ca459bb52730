//! Every refusal and failure of the BFF, answered in the API's own error
//! format (`{"error": "...", "message": "..."}`, i.e. [`ApiErrorBody`]), so a
//! client decodes a BFF error exactly like an upstream one.

use std::fmt;
use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use conferbot::{ApiErrorBody, Method};

/// Why the BFF answered an error itself (upstream error answers are passed
/// through as answers, not as this type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BffError {
    /// The path tries to escape or disguise itself (400); never forwarded.
    HostilePath(String),
    /// A bad id, query parameter or body (400), with the core's explanation.
    InvalidRequest(String),
    /// No operation of the endpoint table has this path (404).
    NotFound,
    /// The path exists with other methods (405, with `Allow`).
    MethodNotAllowed(Vec<Method>),
    /// A write without the CSRF header, or from a foreign origin (403).
    Csrf(String),
    /// The request body is over the limit, in bytes (413).
    PayloadTooLarge(usize),
    /// The request body could not be read (400).
    BodyUnreadable,
    /// The rate limiter's queue did not admit the request in time (429).
    QueueTimeout {
        /// When a retry may be admitted.
        retry_after: Duration,
    },
    /// The upstream did not answer in time (504).
    UpstreamTimeout,
    /// The upstream could not be reached (502).
    UpstreamUnreachable,
    /// The upstream answered something the BFF will not pass on (502).
    BadUpstreamAnswer(&'static str),
    /// Redis, which replicas share their limiter and cache through, is
    /// unreachable: nothing is sent upstream unshaped (503, `Retry-After`).
    SharedStateUnavailable,
    /// A webhook delivery without a valid signature or a fresh timestamp (401).
    WebhookUnauthorized(&'static str),
    /// No webhook secret is configured, so no delivery can be verified (503).
    WebhooksDisabled,
    /// A bug or a lost task inside the BFF (500).
    Internal,
}

/// `Retry-After` of a `503` for unreachable shared state.
const SHARED_STATE_RETRY: Duration = Duration::from_secs(2);

impl BffError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::HostilePath(_) | Self::InvalidRequest(_) | Self::BodyUnreadable => {
                StatusCode::BAD_REQUEST
            }
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Csrf(_) => StatusCode::FORBIDDEN,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::QueueTimeout { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            Self::UpstreamUnreachable | Self::BadUpstreamAnswer(_) => StatusCode::BAD_GATEWAY,
            Self::SharedStateUnavailable | Self::WebhooksDisabled => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::WebhookUnauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// `Retry-After` for this error, when it has one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::QueueTimeout { retry_after } => Some(*retry_after),
            Self::SharedStateUnavailable => Some(SHARED_STATE_RETRY),
            _ => None,
        }
    }

    /// This error as an answer, for followers on other replicas that shared
    /// the call which failed: the same status, body and `Retry-After`.
    pub(crate) fn as_answer(&self) -> crate::upstream::UpstreamAnswer {
        let body = serde_json::to_vec(&self.body()).unwrap_or_else(|_| b"{}".to_vec());
        crate::upstream::UpstreamAnswer {
            status: self.status(),
            body: bytes::Bytes::from(body),
            retry_after: self.retry_after().map(retry_after_secs),
        }
    }

    /// The body, in the API's format.
    pub fn body(&self) -> ApiErrorBody {
        match self {
            Self::HostilePath(why) => ApiErrorBody::with_message("Invalid path", why.as_str()),
            Self::InvalidRequest(why) => {
                ApiErrorBody::with_message("Invalid request", why.as_str())
            }
            Self::NotFound => ApiErrorBody::with_message(
                "Not found",
                "no operation of the Conferbot External API has this path",
            ),
            Self::MethodNotAllowed(allowed) => ApiErrorBody::with_message(
                "Method not allowed",
                format!("this path allows {}", allow_list(allowed)),
            ),
            Self::Csrf(why) => ApiErrorBody::with_message("Forbidden", why.as_str()),
            Self::PayloadTooLarge(max) => ApiErrorBody::with_message(
                "Payload too large",
                format!("request bodies are limited to {max} bytes"),
            ),
            Self::BodyUnreadable => ApiErrorBody::new("Request body could not be read"),
            Self::QueueTimeout { retry_after } => ApiErrorBody::with_message(
                "Rate limit exceeded",
                format!(
                    "the upstream allows a limited rate and the queue is full; retry in {} s",
                    retry_after_secs(*retry_after)
                ),
            ),
            Self::UpstreamTimeout => ApiErrorBody::with_message(
                "Gateway timeout",
                "the Conferbot API did not answer in time",
            ),
            Self::UpstreamUnreachable => {
                ApiErrorBody::with_message("Bad gateway", "the Conferbot API could not be reached")
            }
            Self::BadUpstreamAnswer(why) => ApiErrorBody::with_message("Bad gateway", *why),
            Self::SharedStateUnavailable => ApiErrorBody::with_message(
                "Service unavailable",
                "the BFF's shared state (Redis) is unreachable; calls to the Conferbot API are refused until it returns",
            ),
            Self::WebhookUnauthorized(why) => {
                ApiErrorBody::with_message("Invalid webhook signature", *why)
            }
            Self::WebhooksDisabled => ApiErrorBody::with_message(
                "Webhook receiver not configured",
                "set CONFERBOT_WEBHOOK_SECRET or --webhook-secret-file to receive signed deliveries",
            ),
            Self::Internal => ApiErrorBody::new("Internal error"),
        }
    }
}

impl fmt::Display for BffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body = self.body();
        match body.message {
            Some(message) => write!(f, "{}: {message}", body.error),
            None => f.write_str(&body.error),
        }
    }
}

impl std::error::Error for BffError {}

impl IntoResponse for BffError {
    fn into_response(self) -> Response {
        let mut response = json_response(self.status(), &self.body());
        let headers = response.headers_mut();
        if let Self::MethodNotAllowed(allowed) = &self {
            if let Ok(value) = HeaderValue::from_str(&allow_list(allowed)) {
                headers.insert(header::ALLOW, value);
            }
        }
        if let Some(wait) = self.retry_after() {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_secs(wait)),
            );
        }
        response
    }
}

/// A JSON answer with `status` and a serialized `body`.
pub(crate) fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response {
    // Serializing these plain structs cannot fail; an empty object is the
    // harmless answer if it ever did.
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response()
}

fn allow_list(allowed: &[Method]) -> String {
    allowed
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `Retry-After` rounding is the core's protocol fact.
pub(crate) use conferbot::protocol::api::retry_after_secs;

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(response: Response) -> serde_json::Value {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn answers_in_the_api_format_with_allow_and_retry_after() {
        let response = BffError::MethodNotAllowed(vec![Method::Get, Method::Post]).into_response();
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()[header::ALLOW], "GET, POST");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let body = body_of(response).await;
        assert_eq!(body["error"], "Method not allowed");
        assert_eq!(body["message"], "this path allows GET, POST");

        let response = BffError::QueueTimeout {
            retry_after: Duration::from_millis(1_200),
        }
        .into_response();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        assert_eq!(body_of(response).await["error"], "Rate limit exceeded");
    }

    #[test]
    fn statuses() {
        assert_eq!(BffError::HostilePath("x".into()).status(), 400);
        assert_eq!(BffError::NotFound.status(), 404);
        assert_eq!(BffError::Csrf("x".into()).status(), 403);
        assert_eq!(BffError::PayloadTooLarge(1).status(), 413);
        assert_eq!(BffError::UpstreamTimeout.status(), 504);
        assert_eq!(BffError::UpstreamUnreachable.status(), 502);
        assert_eq!(BffError::SharedStateUnavailable.status(), 503);
        assert_eq!(BffError::WebhookUnauthorized("x").status(), 401);
        assert_eq!(BffError::WebhooksDisabled.status(), 503);
        let answer = BffError::SharedStateUnavailable.as_answer();
        assert_eq!((answer.status.as_u16(), answer.retry_after), (503, Some(2)));
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
    }
}
