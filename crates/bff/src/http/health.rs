//! `GET /healthz`: whether this replica can do its job.
//!
//! `200 {"status": "ok"}` without Redis, and `{"status": "ok", "redis": "up"}`
//! with it. While Redis is unreachable: still `200` (the process is alive,
//! serves static files, SSE streams and `/metrics`, and recovers by itself; a
//! load balancer taking every replica out for a shared outage helps nobody),
//! with `{"status": "degraded", "redis": "unreachable"}`, and every request
//! that needs the upstream answered `503` until Redis is back. Monitors
//! should alert on `degraded` or on `conferbot_bff_redis_up 0`.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use conferbot_policy::error::json_bytes;
use serde_json::json;

use super::respond;
use crate::context::AppState;

/// Axum handler for `GET /healthz`.
pub(crate) async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let body = match &state.redis {
        None => json!({"status": "ok"}),
        Some(redis) if redis.is_up() => json!({"status": "ok", "redis": "up"}),
        Some(_) => json!({"status": "degraded", "redis": "unreachable"}),
    };
    respond::json(200, json_bytes(&body))
}
