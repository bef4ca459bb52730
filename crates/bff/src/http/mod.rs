//! The HTTP handlers: each one reads the request, asks the policy, does the
//! I/O the policy cannot (the body, the upstream call, the state), and
//! answers what the policy decided.
//!
//! - [`access`]: who may come in (the host check, the client's identity, the
//!   forward-auth step).
//! - [`proxy`]: the API under the mount.
//! - [`events`]: `GET {mount}/events`, the Server-Sent Events stream.
//! - [`webhook`]: the webhook receiver.
//! - [`health`]: `GET /healthz`.
//! - [`respond`]: answers and errors as responses, the body read with its
//!   limit, the request's headers as the policy reads them.
//! - [`hygiene`]: the response-header allowlist middleware, and CORS.

pub(crate) mod access;
pub(crate) mod events;
pub(crate) mod health;
pub(crate) mod hygiene;
pub(crate) mod proxy;
pub(crate) mod respond;
pub(crate) mod webhook;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use conferbot_policy::BffError;

use crate::metrics::Metrics;

/// `GET /metrics`: the Prometheus text exposition.
pub(crate) fn metrics_text(metrics: &Metrics) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        metrics.render(),
    )
        .into_response()
}

/// The JSON `404` for paths outside every route (when no `--www` is served).
pub(crate) async fn not_found() -> Response {
    respond::error(&BffError::NotFound)
}
