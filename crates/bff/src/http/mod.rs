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
//! - [`quota`]: the quota headers on every answer under the mount.

pub(crate) mod access;
pub(crate) mod api_front;
pub(crate) mod events;
pub(crate) mod health;
pub(crate) mod hygiene;
pub(crate) mod proxy;
pub(crate) mod quota;
pub(crate) mod respond;
pub(crate) mod webhook;

use axum::response::Response;
use conferbot_policy::BffError;

/// The JSON `404` for paths outside every route (when no `--www` is served).
pub(crate) async fn not_found() -> Response {
    respond::error(&BffError::NotFound)
}
