//! The `/api/v1` pipeline, in the order the upstream applies it:
//! fault (if armed) → auth (`401`) → plan (`403` Free) → per-minute window
//! (`429`) → monthly quota (`429`) → route by the core's endpoint table
//! (`404`/`405`/`400`) → operation.
//!
//! Every request under `/api/v1` is counted in the stats, whatever its fate.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use conferbot::endpoint::{match_route, RouteError};
use conferbot::{Operation, RouteMatch, API_KEY_HEADER, API_PREFIX, EXTERNAL_PREFIX};

use crate::clock::{http_date, month_of, ms_until_next_month};
use crate::faults::{self, ConnectionKill, FaultKind};
use crate::quota;
use crate::reply::Refusal;
use crate::state::{lock, SandboxState};
use crate::{chatbots, reply, webhooks};
use conferbot::protocol::api::{
    rate_limit_message, retry_after_secs, INVALID_KEY_ERROR, MONTHLY_LIMIT_ERROR, RATE_LIMIT_ERROR,
};

/// Largest request body read (a webhook create is a few hundred bytes).
const MAX_BODY: usize = 64 * 1024;

/// Answers everything the admin routes do not: `/api/v1/...`, or `404`.
pub async fn handle(State(state): State<Arc<SandboxState>>, request: Request) -> Response {
    let path = request.uri().path();
    if path != API_PREFIX && !path.starts_with(&format!("{API_PREFIX}/")) {
        return reply::not_found().into_response();
    }
    let operation = path
        .strip_prefix(&format!("{API_PREFIX}{EXTERNAL_PREFIX}"))
        .and_then(|rest| match_route(request.method().as_str(), rest).ok())
        .map(|route| route.operation.name());
    {
        let mut stats = lock(&state.stats);
        stats.record_call();
        if let Some(operation) = operation {
            stats.record_operation(operation);
        }
    }
    let fault = lock(&state.faults).take();
    let response = match fault {
        None => answer(&state, request).await,
        Some(fault) => match fault.kind {
            FaultKind::Status500 => faults::server_error(fault.status),
            FaultKind::NonJson => faults::html_page(),
            FaultKind::Truncated => faults::truncate(answer(&state, request).await).await,
            FaultKind::Delay => {
                tokio::time::sleep(fault.delay).await;
                answer(&state, request).await
            }
            FaultKind::Drop => {
                lock(&state.stats).record_drop();
                tracing::info!("fault: dropping the connection");
                let kill = request.extensions().get::<ConnectionKill>().cloned();
                return faults::drop_connection(kill).await;
            }
        },
    };
    lock(&state.stats).record_status(response.status().as_u16());
    let mut response = response;
    // The upstream's clock, as its `Date` says (the month turns by it).
    if let Ok(date) = HeaderValue::from_str(&http_date(state.clock.now_ms())) {
        response.headers_mut().insert(header::DATE, date);
    }
    response
}

/// The real answer to an API request.
async fn answer(state: &Arc<SandboxState>, request: Request) -> Response {
    let external = format!("{API_PREFIX}{EXTERNAL_PREFIX}");
    let rest = match request.uri().path().strip_prefix(&external) {
        Some("") => "/".to_owned(),
        Some(rest) if rest.starts_with('/') => rest.to_owned(),
        _ => return reply::not_found().into_response(),
    };
    let ws = match admit(state, &request) {
        Ok(ws) => ws,
        Err(refusal) => return refusal.into_response(),
    };
    match match_route(request.method().as_str(), &rest) {
        Ok(route) => dispatch(state, ws, route, request).await,
        Err(err) => route_error(err),
    }
}

/// Auth, plan, per-minute window and monthly quota; the caller's workspace,
/// with this call counted, or the refusal.
fn admit(state: &SandboxState, request: &Request) -> Result<usize, Refusal> {
    let key = request
        .headers()
        .get(API_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (ws, entry) = state
        .keys
        .workspace_of(key)
        .and_then(|ws| Some((ws, state.key_entry(ws)?)))
        .ok_or_else(|| reply::error(StatusCode::UNAUTHORIZED, INVALID_KEY_ERROR))?;
    if !entry.plan.has_api_access() {
        return Err(reply::error_with_message(
            StatusCode::FORBIDDEN,
            format!(
                "API access is not available on the {} plan",
                entry.plan.as_str()
            ),
            "Upgrade to the Starter plan or above to use the API.",
        ));
    }
    let admitted = lock(&state.limiter).admit(key, Instant::now());
    if let Err(wait) = admitted {
        let rate = state.config.rate;
        return Err(reply::error_with_message(
            StatusCode::TOO_MANY_REQUESTS,
            RATE_LIMIT_ERROR,
            rate_limit_message(rate),
        )
        .retry_after(retry_after_secs(wait)));
    }
    let now = state.clock.now_ms();
    let counted = lock(&state.usage).count(ws, &month_of(now), &entry.plan);
    if let Err(exhausted) = counted {
        // Waiting helps only once the month turns (rounded up: a retry at
        // Retry-After must find the new month).
        let left = u64::try_from(ms_until_next_month(now)).unwrap_or(0);
        let secs = retry_after_secs(std::time::Duration::from_millis(left));
        return Err(reply::error_with_message(
            StatusCode::TOO_MANY_REQUESTS,
            MONTHLY_LIMIT_ERROR,
            quota::exhausted_message(&entry.plan, exhausted.limit),
        )
        .retry_after(secs));
    }
    Ok(ws)
}

/// Runs the matched operation for workspace `ws`.
async fn dispatch(
    state: &Arc<SandboxState>,
    ws: usize,
    route: RouteMatch,
    request: Request,
) -> Response {
    let uri = request.uri().clone();
    let id = route.ids.first();
    match (route.operation, id) {
        (Operation::ListChatbots, _) => chatbots::list_chatbots(state, ws, &uri),
        (Operation::GetChatbot, Some(id)) => chatbots::get_chatbot(state, ws, id),
        (Operation::ListResponses, Some(id)) => chatbots::list_responses(state, ws, id, &uri),
        (Operation::GetUsage, _) => usage(state, ws),
        (Operation::ListWebhooks, _) => webhooks::list(state, ws),
        (Operation::CreateWebhook, _) => {
            let plan = state
                .key_entry(ws)
                .map(|e| e.plan.clone())
                .unwrap_or(conferbot::Plan::Free);
            let created = match read_body(request.into_body()).await {
                Ok(body) => webhooks::create(state, ws, &plan, &body),
                Err(refusal) => Err(refusal),
            };
            created.unwrap_or_else(IntoResponse::into_response)
        }
        (Operation::DeleteWebhook, Some(id)) => webhooks::delete(state, ws, id),
        // The table guarantees ids for these operations; answer sanely anyway.
        (Operation::GetChatbot | Operation::ListResponses | Operation::DeleteWebhook, None) => {
            reply::not_found().into_response()
        }
    }
}

/// `GET /usage`; `used` includes the call asking.
fn usage(state: &SandboxState, ws: usize) -> Response {
    let Some(entry) = state.key_entry(ws) else {
        return reply::not_found().into_response();
    };
    let month = month_of(state.clock.now_ms());
    let used = lock(&state.usage).used(ws, &month);
    let data = quota::usage(&entry.plan, &month, used);
    reply::json(StatusCode::OK, &conferbot::DataEnvelope { data })
}

async fn read_body(body: Body) -> Result<bytes::Bytes, Refusal> {
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        reply::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Request body larger than {MAX_BODY} bytes"),
        )
    })
}

/// `404`, `405` with `Allow`, or `400` with the core's words.
fn route_error(err: RouteError) -> Response {
    match err {
        RouteError::NotFound => reply::not_found().into_response(),
        RouteError::InvalidId(err) => reply::bad_request(&err).into_response(),
        RouteError::Hostile(reason) => {
            reply::error(StatusCode::BAD_REQUEST, reason).into_response()
        }
        RouteError::MethodNotAllowed(methods) => {
            let allow: Vec<&str> = methods.iter().map(|m| m.as_str()).collect();
            let mut response =
                reply::error(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed").into_response();
            if let Ok(value) = HeaderValue::from_str(&allow.join(", ")) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            response
        }
    }
}
