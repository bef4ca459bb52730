//! Every answer a BFF gives on its own (a refusal, or a failure of the
//! upstream), in the API's own error format (`{"error": "...", "message":
//! "..."}`, i.e. [`ApiErrorBody`]), so a client decodes a BFF error exactly
//! like an upstream one.

use std::time::Duration;

use conferbot::protocol::api::retry_after_secs;
use conferbot::{ApiErrorBody, Method};

/// `Retry-After` of a `503` for unreachable shared state.
pub const SHARED_STATE_RETRY: Duration = Duration::from_secs(2);
/// `Retry-After` of a `503` when the authorisation service did not answer.
pub const AUTH_RETRY: Duration = Duration::from_secs(2);
/// `Retry-After` of a refusal at a capacity limit (`503` overloaded, `429`
/// per-address limits): soon, since a slot frees as soon as anything ends.
pub const CAPACITY_RETRY: Duration = Duration::from_secs(2);

/// Why a BFF answered an error itself (upstream error answers are passed
/// through as answers, not as this type).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.summary())]
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
    /// A request for a host this server does not answer for (403): DNS
    /// rebinding, or a missing `--allow-host`.
    HostNotAllowed(String),
    /// The request body is over the limit, in bytes (413).
    PayloadTooLarge(usize),
    /// The request body could not be read (400).
    BodyUnreadable,
    /// The rate limiter's queue did not admit the request in time (429).
    QueueTimeout {
        /// When a retry may be admitted.
        retry_after: Duration,
    },
    /// The month's calls are spent (429, `Retry-After` reaching the month's
    /// turn): the upstream said so, or the month's use reached the plan's
    /// limit or the `--monthly-budget`, so no call is made that would be
    /// refused (or is over the budget) until the month turns.
    MonthSpent {
        /// Until the month turns.
        retry_after: Duration,
        /// The budget that is spent, when it is the BFF's own cap rather
        /// than the plan's limit.
        budget: Option<u64>,
    },
    /// The upstream did not answer in time (504).
    UpstreamTimeout,
    /// The upstream could not be reached (502).
    UpstreamUnreachable,
    /// The upstream answered something the BFF will not pass on (502).
    BadUpstreamAnswer(&'static str),
    /// The shared state (Redis) that replicas share their limiter and cache
    /// through is unreachable: nothing is sent upstream unshaped (503,
    /// `Retry-After`).
    SharedStateUnavailable,
    /// A webhook delivery without a valid signature or a fresh timestamp (401).
    WebhookUnauthorized(&'static str),
    /// The authorisation step refused the request: 401 or 403, passed back.
    AuthRefused(u16),
    /// The authorisation step did not decide (an error, a timeout, another
    /// status): nobody is let in (503, `Retry-After`).
    AuthUnavailable,
    /// This client has made its `--client-monthly-calls` this month (429,
    /// `Retry-After` until the month turns, in the API's monthly wording, as
    /// [`BffError::MonthSpent`]: it is this client's month that is spent,
    /// not the BFF's).
    ClientMonthSpent {
        /// The cap.
        cap: u64,
        /// Until the month turns.
        retry_after: Duration,
    },
    /// No webhook secret is configured, so no delivery can be verified (503).
    WebhooksDisabled,
    /// The request, or the next part of its body, did not arrive in time (408).
    RequestTimeout,
    /// The BFF is at a capacity limit, named by the text (connections,
    /// requests being answered, event streams): load is shed (503,
    /// `Retry-After`) rather than let everyone time out.
    Overloaded(&'static str),
    /// One client address holds as many of something (connections, event
    /// streams) as one address may (429, `Retry-After`).
    ClientLimit {
        /// What is limited: `connections`, `event streams`.
        what: &'static str,
        /// How many one address may hold.
        limit: usize,
    },
    /// A bug or a lost task inside the BFF (500).
    Internal,
}

/// An error as a whole answer: status, headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorAnswer {
    /// The HTTP status.
    pub status: u16,
    /// `Retry-After` in whole seconds, when the error has one.
    pub retry_after: Option<u64>,
    /// `Allow` (`GET, POST`), for a `405`.
    pub allow: Option<String>,
    /// The body, `{"error": ..., "message": ...}` as JSON.
    pub body: Vec<u8>,
}

impl BffError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            Self::HostilePath(_) | Self::InvalidRequest(_) | Self::BodyUnreadable => 400,
            Self::NotFound => 404,
            Self::MethodNotAllowed(_) => 405,
            Self::Csrf(_) | Self::HostNotAllowed(_) => 403,
            Self::PayloadTooLarge(_) => 413,
            Self::QueueTimeout { .. }
            | Self::MonthSpent { .. }
            | Self::ClientMonthSpent { .. }
            | Self::ClientLimit { .. } => 429,
            Self::AuthRefused(status) => {
                if *status == 401 {
                    401
                } else {
                    403
                }
            }
            Self::RequestTimeout => 408,
            Self::Overloaded(_) => 503,
            Self::UpstreamTimeout => 504,
            Self::UpstreamUnreachable | Self::BadUpstreamAnswer(_) => 502,
            Self::SharedStateUnavailable | Self::WebhooksDisabled | Self::AuthUnavailable => 503,
            Self::WebhookUnauthorized(_) => 401,
            Self::Internal => 500,
        }
    }

    /// `Retry-After` for this error, when it has one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::QueueTimeout { retry_after }
            | Self::MonthSpent { retry_after, .. }
            | Self::ClientMonthSpent { retry_after, .. } => Some(*retry_after),
            Self::SharedStateUnavailable => Some(SHARED_STATE_RETRY),
            Self::AuthUnavailable => Some(AUTH_RETRY),
            Self::Overloaded(_) | Self::ClientLimit { .. } => Some(CAPACITY_RETRY),
            _ => None,
        }
    }

    /// `Allow` for a `405`: the methods the path has.
    pub fn allow(&self) -> Option<String> {
        match self {
            Self::MethodNotAllowed(allowed) => Some(allow_list(allowed)),
            _ => None,
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
            Self::HostNotAllowed(host) => ApiErrorBody::with_message(
                "Host not allowed",
                format!(
                    "this server does not answer for the host {host:?}; if it should, start it with --allow-host {host}"
                ),
            ),
            Self::PayloadTooLarge(max) => ApiErrorBody::with_message(
                "Payload too large",
                format!("request bodies are limited to {max} bytes"),
            ),
            Self::BodyUnreadable => ApiErrorBody::new("Request body could not be read"),
            Self::QueueTimeout { retry_after } => ApiErrorBody::with_message(
                conferbot::protocol::api::RATE_LIMIT_ERROR,
                format!(
                    "the upstream allows a limited rate and the queue is full; retry in {} s",
                    retry_after_secs(*retry_after)
                ),
            ),
            Self::MonthSpent {
                retry_after,
                budget: None,
            } => ApiErrorBody::with_message(
                conferbot::protocol::api::MONTHLY_LIMIT_ERROR,
                format!(
                    "this month's API calls are spent; no call is made before the month turns, in {} s",
                    retry_after_secs(*retry_after)
                ),
            ),
            Self::MonthSpent {
                retry_after,
                budget: Some(budget),
            } => ApiErrorBody::with_message(
                conferbot::protocol::api::MONTHLY_LIMIT_ERROR,
                format!(
                    "this server's monthly budget ({budget} calls this month, --monthly-budget) is spent; no call is made before the month turns, in {} s",
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
            Self::AuthRefused(401) => ApiErrorBody::with_message(
                "Unauthorized",
                "sign in first: the authorisation service did not recognise this request",
            ),
            Self::AuthRefused(_) => ApiErrorBody::with_message(
                "Forbidden",
                "the authorisation service does not allow this request",
            ),
            Self::AuthUnavailable => ApiErrorBody::with_message(
                "Service unavailable",
                "the authorisation service did not answer; requests are refused until it does",
            ),
            Self::ClientMonthSpent { cap, retry_after } => ApiErrorBody::with_message(
                conferbot::protocol::api::MONTHLY_LIMIT_ERROR,
                format!(
                    "this client has made its {cap} calls through this BFF this month (--client-monthly-calls); retry in {} s, when the month turns",
                    retry_after_secs(*retry_after)
                ),
            ),
            Self::WebhooksDisabled => ApiErrorBody::with_message(
                "Webhook receiver not configured",
                "set CONFERBOT_WEBHOOK_SECRET or --webhook-secret-file to receive signed deliveries",
            ),
            Self::RequestTimeout => ApiErrorBody::with_message(
                "Request timeout",
                "the request did not arrive in time; send the head and body without pauses",
            ),
            Self::Overloaded(what) => ApiErrorBody::with_message(
                "Service unavailable",
                format!(
                    "the BFF is at its limit of {what}; retry in {} s",
                    retry_after_secs(CAPACITY_RETRY)
                ),
            ),
            Self::ClientLimit { what, limit } => ApiErrorBody::with_message(
                format!("Too many {what}"),
                format!("at most {limit} {what} may be open from one address; close one, or retry later"),
            ),
            Self::Internal => ApiErrorBody::new("Internal error"),
        }
    }

    /// The whole answer: status, `Retry-After`, `Allow` and the JSON body.
    pub fn answer(&self) -> ErrorAnswer {
        ErrorAnswer {
            status: self.status(),
            retry_after: self.retry_after().map(retry_after_secs),
            allow: self.allow(),
            body: json_bytes(&self.body()),
        }
    }

    /// `error: message`, as `Display` writes it (for logs).
    fn summary(&self) -> String {
        let body = self.body();
        match body.message {
            Some(message) => format!("{}: {message}", body.error),
            None => body.error,
        }
    }
}

/// `body` as JSON. Serializing the plain structs answered here cannot fail;
/// an empty object is the harmless answer if it ever did.
pub fn json_bytes(body: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec())
}

fn allow_list(allowed: &[Method]) -> String {
    allowed
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_in_the_api_format_with_allow_and_retry_after() {
        let answer = BffError::MethodNotAllowed(vec![Method::Get, Method::Post]).answer();
        assert_eq!(answer.status, 405);
        assert_eq!(answer.allow.as_deref(), Some("GET, POST"));
        let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(body["error"], "Method not allowed");
        assert_eq!(body["message"], "this path allows GET, POST");

        let answer = BffError::QueueTimeout {
            retry_after: Duration::from_millis(1_200),
        }
        .answer();
        assert_eq!((answer.status, answer.retry_after), (429, Some(2)));
        let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(body["error"], "Rate limit exceeded");
        assert_eq!(answer.allow, None);

        let answer = BffError::MonthSpent {
            retry_after: Duration::from_secs(86_400),
            budget: Some(500),
        }
        .answer();
        assert_eq!((answer.status, answer.retry_after), (429, Some(86_400)));
        let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(body["error"], "Monthly API limit reached");
        assert!(body["message"].as_str().unwrap().contains("500 calls"));
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
        let answer = BffError::SharedStateUnavailable.answer();
        assert_eq!((answer.status, answer.retry_after), (503, Some(2)));
        assert_eq!(BffError::RequestTimeout.answer().status, 408);
        assert_eq!(BffError::RequestTimeout.answer().retry_after, None);
        let answer = BffError::Overloaded("requests being answered").answer();
        assert_eq!((answer.status, answer.retry_after), (503, Some(2)));
        let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(
            body["message"],
            "the BFF is at its limit of requests being answered; retry in 2 s"
        );
        let answer = BffError::ClientLimit {
            what: "event streams",
            limit: 32,
        }
        .answer();
        assert_eq!((answer.status, answer.retry_after), (429, Some(2)));
        let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(body["error"], "Too many event streams");
    }

    #[test]
    fn display_is_the_error_and_its_message() {
        assert_eq!(
            BffError::Csrf("no header".into()).to_string(),
            "Forbidden: no header"
        );
        assert_eq!(BffError::Internal.to_string(), "Internal error");
    }
}
