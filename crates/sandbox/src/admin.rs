//! Admin routes under `/sandbox`, outside the API (no key): simulate events,
//! read the delivery log and counters, arm faults, set usage, reset.
//!
//! They exist for tests and demos; a real upstream has nothing like them.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::clock::{iso_ms, month_of};
use crate::faults::{FaultKind, FaultSpec};
use crate::reply::Refusal;
use crate::state::{lock, SandboxState};
use crate::{quota, reply, simulate, webhooks};

/// Where the admin routes live.
pub const ADMIN_PREFIX: &str = "/sandbox";

/// The admin routes.
pub fn routes() -> Router<Arc<SandboxState>> {
    Router::new()
        .route("/sandbox/responses", post(simulate::handle))
        .route("/sandbox/deliveries", get(deliveries))
        .route(
            "/sandbox/faults",
            get(list_faults).post(arm_fault).delete(clear_faults),
        )
        .route("/sandbox/usage", post(set_usage))
        .route("/sandbox/clock", get(read_clock).post(set_clock))
        .route("/sandbox/stats", get(stats))
        .route("/sandbox/reset", post(reset))
        .route("/sandbox/keys", get(list_keys))
        .route("/sandbox/webhooks", post(register_webhook))
}

/// Decodes a JSON body; an empty body is `T::default()`. `400` says what is wrong.
pub fn parse_body<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, Refusal> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|err| reply::error(StatusCode::BAD_REQUEST, format!("Invalid body: {err}")))
}

/// `GET /sandbox/deliveries` → `{"data": [attempt…]}`, oldest first.
async fn deliveries(State(state): State<Arc<SandboxState>>) -> Response {
    let data = lock(&state.deliveries).attempts();
    reply::json(StatusCode::OK, &json!({ "data": data }))
}

/// A fault as the admin route writes and reads it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FaultBody {
    kind: FaultKind,
    #[serde(default = "one")]
    count: u32,
    #[serde(default)]
    delay_ms: Option<u64>,
    #[serde(default)]
    status: Option<u16>,
}

fn one() -> u32 {
    1
}

impl From<&FaultSpec> for FaultBody {
    fn from(spec: &FaultSpec) -> Self {
        Self {
            kind: spec.kind,
            count: spec.count,
            delay_ms: (spec.kind == FaultKind::Delay)
                .then(|| u64::try_from(spec.delay.as_millis()).unwrap_or(u64::MAX)),
            status: (spec.kind == FaultKind::Status500).then_some(spec.status),
        }
    }
}

/// `GET /sandbox/faults` → `{"data": [armed fault…]}`.
async fn list_faults(State(state): State<Arc<SandboxState>>) -> Response {
    let data: Vec<FaultBody> = lock(&state.faults).armed().map(FaultBody::from).collect();
    reply::json(StatusCode::OK, &json!({ "data": data }))
}

/// `POST /sandbox/faults` `{"kind", "count"?, "delayMs"?, "status"?}`.
async fn arm_fault(
    State(state): State<Arc<SandboxState>>,
    body: Bytes,
) -> Result<Response, Refusal> {
    let body: FaultBody = serde_json::from_slice(&body).map_err(|err| {
        reply::error(
            StatusCode::BAD_REQUEST,
            format!(
                "Invalid fault: {err}; expected {{\"kind\": \"status500\"|\"nonJson\"|\"truncated\"|\"delay\"|\"drop\", \"count\"?, \"delayMs\"?, \"status\"?}}"
            ),
        )
    })?;
    let mut spec = FaultSpec::new(body.kind, body.count);
    if let Some(ms) = body.delay_ms {
        spec.delay = Duration::from_millis(ms);
    }
    if let Some(status) = body.status {
        spec.status = status;
    }
    spec.validate()
        .map_err(|err| reply::error(StatusCode::BAD_REQUEST, err))?;
    lock(&state.faults).arm(spec);
    tracing::info!(kind = spec.kind.as_str(), count = spec.count, "fault armed");
    Ok(reply::json(
        StatusCode::CREATED,
        &json!({ "data": FaultBody::from(&spec) }),
    ))
}

/// `DELETE /sandbox/faults`: disarms every fault.
async fn clear_faults(State(state): State<Arc<SandboxState>>) -> Response {
    lock(&state.faults).clear();
    reply::json(StatusCode::OK, &json!({ "cleared": true }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SetUsage {
    api_key: Option<String>,
    used: Option<u64>,
}

/// `POST /sandbox/usage` `{"apiKey", "used"}` → `{"data": usage}` for this month.
async fn set_usage(
    State(state): State<Arc<SandboxState>>,
    body: Bytes,
) -> Result<Response, Refusal> {
    let body: SetUsage = parse_body(&body)?;
    let (Some(key), Some(used)) = (body.api_key, body.used) else {
        return Err(reply::error(
            StatusCode::BAD_REQUEST,
            "Missing required fields: apiKey, used",
        ));
    };
    let Some((ws, entry)) = state
        .keys
        .workspace_of(&key)
        .and_then(|ws| Some((ws, state.key_entry(ws)?)))
    else {
        return Err(reply::error(StatusCode::BAD_REQUEST, "Unknown apiKey"));
    };
    let month = month_of(state.clock.now_ms());
    lock(&state.usage).set(ws, &month, used);
    let data = quota::usage(&entry.plan, &month, used);
    Ok(reply::json(StatusCode::OK, &json!({ "data": data })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegisterWebhook {
    api_key: Option<String>,
    secret: Option<String>,
    #[serde(flatten)]
    webhook: serde_json::Map<String, serde_json::Value>,
}

/// `POST /sandbox/webhooks` `{"apiKey"?, "secret", "url", "events"}` → `201
/// {"data": webhook}`: a webhook signed with the given secret (default key
/// the Starter one). Not an API call: it counts toward nothing but the
/// plan's webhook limit.
async fn register_webhook(
    State(state): State<Arc<SandboxState>>,
    body: Bytes,
) -> Result<Response, Refusal> {
    let body: RegisterWebhook = parse_body(&body)?;
    let key = body.api_key.as_deref().unwrap_or(crate::keys::STARTER);
    let Some((ws, entry)) = state
        .keys
        .workspace_of(key)
        .and_then(|ws| Some((ws, state.key_entry(ws)?)))
    else {
        return Err(reply::error(StatusCode::BAD_REQUEST, "Unknown apiKey"));
    };
    let Some(secret) = body.secret.filter(|s| !s.is_empty()) else {
        return Err(reply::error(
            StatusCode::BAD_REQUEST,
            "Missing required field: secret",
        ));
    };
    let plan = entry.plan.clone();
    let webhook = serde_json::to_vec(&body.webhook).unwrap_or_default();
    webhooks::register(&state, ws, &plan, &webhook, secret)
}

/// `POST /sandbox/clock`: `{"now": ISO 8601}` or `{"offsetMs": n}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SetClock {
    now: Option<String>,
    offset_ms: Option<i64>,
}

/// `GET /sandbox/clock` → `{"data": {"now", "offsetMs"}}`.
async fn read_clock(State(state): State<Arc<SandboxState>>) -> Response {
    clock_answer(&state)
}

/// `POST /sandbox/clock` `{"now"}` or `{"offsetMs"}`: moves the sandbox's
/// clock (and runs on from there); `{"offsetMs": 0}` puts it back.
async fn set_clock(
    State(state): State<Arc<SandboxState>>,
    body: Bytes,
) -> Result<Response, Refusal> {
    let body: SetClock = parse_body(&body)?;
    match (body.now, body.offset_ms) {
        (Some(now), None) => {
            let secs = conferbot::timestamp::parse_iso8601_secs(&now).ok_or_else(|| {
                reply::error(
                    StatusCode::BAD_REQUEST,
                    format!("now must be ISO 8601 like 2025-01-31T23:59:50Z, got {now:?}"),
                )
            })?;
            state.clock.set_now(secs.saturating_mul(1_000));
        }
        (None, Some(offset)) => state.clock.set_offset(offset),
        _ => {
            return Err(reply::error(
                StatusCode::BAD_REQUEST,
                "Give one of now (ISO 8601) or offsetMs",
            ))
        }
    }
    tracing::info!(offset_ms = state.clock.offset_ms(), "sandbox clock moved");
    Ok(clock_answer(&state))
}

fn clock_answer(state: &SandboxState) -> Response {
    let data = json!({"now": iso_ms(state.clock.now_ms()), "offsetMs": state.clock.offset_ms()});
    reply::json(StatusCode::OK, &json!({ "data": data }))
}

/// `GET /sandbox/stats` → `{"apiCalls", "byStatus", "rateLimited", "dropped"}`.
async fn stats(State(state): State<Arc<SandboxState>>) -> Response {
    let stats = lock(&state.stats).clone();
    reply::json(StatusCode::OK, &stats)
}

/// `POST /sandbox/reset`: fresh seeded data; no webhooks, usage, faults, stats.
async fn reset(State(state): State<Arc<SandboxState>>) -> Response {
    state.reset();
    tracing::info!("sandbox reset");
    reply::json(StatusCode::OK, &json!({ "reset": true }))
}

/// `GET /sandbox/keys` → `{"data": [{"apiKey", "plan"}…]}`: the sandbox's
/// keys are not secrets, and demos need to know them.
async fn list_keys(State(state): State<Arc<SandboxState>>) -> Response {
    let data: Vec<_> = state
        .keys
        .entries()
        .iter()
        .map(|e| json!({"apiKey": e.key, "plan": e.plan}))
        .collect();
    reply::json(StatusCode::OK, &json!({ "data": data }))
}
