//! JSON answers and the upstream's error format (`{"error", "message"?}`),
//! built in one place so every route answers alike.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use conferbot::ApiErrorBody;
use serde::Serialize;

/// The status the endpoint table gives a success of `operation` (`201` for
/// `createWebhook`, `200` for the others).
pub fn success(operation: conferbot::Operation) -> StatusCode {
    StatusCode::from_u16(operation.endpoint().success_status).unwrap_or(StatusCode::OK)
}

/// `body` as JSON with `status`.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(err) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("could not encode the answer: {err}"),
        )
        .into_response(),
    }
}

/// A refused request: status, the upstream's error body, and `Retry-After`
/// when waiting helps. Small, so `Result<T, Refusal>` stays cheap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    status: StatusCode,
    body: ApiErrorBody,
    retry_after: Option<u64>,
}

impl Refusal {
    /// The same refusal, telling the client to wait `secs` seconds.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

/// A refusal with only `error`.
pub fn error(status: StatusCode, error: impl Into<String>) -> Refusal {
    body(status, ApiErrorBody::new(error))
}

/// A refusal with `error` and `message`.
pub fn error_with_message(
    status: StatusCode,
    error: impl Into<String>,
    message: impl Into<String>,
) -> Refusal {
    body(status, ApiErrorBody::with_message(error, message))
}

/// A refusal from a ready body.
pub fn body(status: StatusCode, body: ApiErrorBody) -> Refusal {
    Refusal {
        status,
        body,
        retry_after: None,
    }
}

/// `400` with the core's words for bad input.
pub fn bad_request(err: &conferbot::Error) -> Refusal {
    body(StatusCode::BAD_REQUEST, err.to_body())
}

/// `404 {"error": "Not found"}` for paths nothing answers.
pub fn not_found() -> Refusal {
    error(StatusCode::NOT_FOUND, "Not found")
}
