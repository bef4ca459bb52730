//! Webhook registration: list, create (validated by the core, limited by the
//! plan), delete — each only within the caller's workspace.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use conferbot::{DataEnvelope, DeletedWebhook, NewWebhook, ObjectId, Operation, Plan, Webhook};
use serde_json::Value;

use crate::clock::iso_ms;
use crate::reply::{self, Refusal};
use crate::state::{lock, SandboxState};

/// Fields a create body must carry.
const REQUIRED: [&str; 2] = ["url", "events"];

/// `GET /webhooks`: secrets are shown only when a webhook is created.
pub fn list(state: &SandboxState, ws: usize) -> Response {
    let world = lock(&state.world);
    let data: Vec<Webhook> = world
        .workspace(ws)
        .map(|w| w.webhooks())
        .unwrap_or_default()
        .iter()
        .map(|w| Webhook {
            secret: None,
            ..w.clone()
        })
        .collect();
    reply::json(StatusCode::OK, &DataEnvelope { data })
}

/// `POST /webhooks` → `201 {"data": webhook-with-secret}`.
pub fn create(
    state: &SandboxState,
    ws: usize,
    plan: &Plan,
    body: &[u8],
) -> Result<Response, Refusal> {
    add(state, ws, plan, body, None)
}

/// `POST /sandbox/webhooks` (admin): a webhook created as with the API, but
/// signed with `secret`, as when the secret is set in Conferbot's own
/// dashboard, so a receiver configured beforehand can verify its deliveries
/// without the secret ever passing through an API answer.
pub fn register(
    state: &SandboxState,
    ws: usize,
    plan: &Plan,
    body: &[u8],
    secret: String,
) -> Result<Response, Refusal> {
    add(state, ws, plan, body, Some(secret))
}

fn add(
    state: &SandboxState,
    ws: usize,
    plan: &Plan,
    body: &[u8],
    chosen_secret: Option<String>,
) -> Result<Response, Refusal> {
    let new = decode(body)?;
    new.validate().map_err(|err| reply::bad_request(&err))?;
    let mut world = lock(&state.world);
    let count = world.workspace(ws).map_or(0, |w| w.webhooks().len());
    if let Some(limit) = plan.webhook_limit() {
        if count >= limit as usize {
            return Err(reply::error_with_message(
                StatusCode::FORBIDDEN,
                format!(
                    "Webhook limit reached: the {} plan allows {limit} webhooks",
                    plan.as_str()
                ),
                "Delete a webhook or upgrade your plan to add another.",
            ));
        }
    }
    let id = world.ids.hex(24);
    let secret = match (chosen_secret, &state.config.webhook_secret) {
        (Some(chosen), _) => chosen,
        (None, Some(fixed)) => fixed.clone(),
        (None, None) => format!("whsec_{}", world.ids.hex(32)),
    };
    let webhook = Webhook {
        id,
        url: new.url,
        events: new.events,
        active: true,
        secret: Some(secret),
        created_at: iso_ms(state.clock.now_ms()),
    };
    match world.workspace_mut(ws) {
        Some(workspace) => workspace.add_webhook(webhook.clone()),
        None => return Err(webhook_not_found()),
    }
    tracing::info!(id = %webhook.id, url = %webhook.url, "webhook created");
    Ok(reply::json(
        reply::success(Operation::CreateWebhook),
        &DataEnvelope { data: webhook },
    ))
}

/// `DELETE /webhooks/{id}` → `{"data": {"id", "deleted": true}}`.
pub fn delete(state: &SandboxState, ws: usize, id: &ObjectId) -> Response {
    let mut world = lock(&state.world);
    let removed = world
        .workspace_mut(ws)
        .is_some_and(|w| w.remove_webhook(id.as_str()));
    if !removed {
        return webhook_not_found().into_response();
    }
    let data = DeletedWebhook {
        id: id.as_str().to_owned(),
        deleted: true,
    };
    reply::json(StatusCode::OK, &DataEnvelope { data })
}

fn webhook_not_found() -> Refusal {
    reply::error(
        StatusCode::NOT_FOUND,
        conferbot::protocol::api::WEBHOOK_NOT_FOUND_ERROR,
    )
}

/// The create body, or `400` naming the missing fields or what is malformed.
fn decode(body: &[u8]) -> Result<NewWebhook, Refusal> {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let missing: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|field| value.get(field).filter(|v| !v.is_null()).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(reply::error_with_message(
            StatusCode::BAD_REQUEST,
            format!("Missing required fields: {}", missing.join(", ")),
            r#"The body must be JSON like {"url": "https://example.com/hook", "events": ["response.created"]}."#,
        ));
    }
    serde_json::from_value(value).map_err(|err| {
        reply::error(
            StatusCode::BAD_REQUEST,
            format!("Invalid webhook: {err} (url is a string, events a list of event names)"),
        )
    })
}
