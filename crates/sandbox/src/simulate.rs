//! `POST /sandbox/responses`: something happens in a workspace (by default a
//! new response), the data changes as upstream's would, and subscribed
//! webhooks are sent the event's flat body
//! (`{"event","chatSessionId","responseId","botId","visitorId","timestamp"}`,
//! see [`WebhookDelivery`]).
//!
//! The API's response records carry no session or visitor, so the sandbox
//! derives them from the response id (`sess_` and its first 12 hex digits,
//! `visitor_` and its last 6): a `response.updated` names the same session as
//! the `response.created` of that response. Conversations get fresh ids.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use conferbot::{ChatbotResponse, WebhookDelivery, WebhookEvent};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::admin::parse_body;
use crate::chatbots::chatbot_not_found;
use crate::clock::iso_ms;
use crate::reply::Refusal;
use crate::state::{lock, SandboxState, World};
use crate::{delivery, keys, reply, seed};

/// The body: every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimulateEvent {
    /// Whose workspace (default [`keys::STARTER`]).
    pub api_key: Option<String>,
    /// Which chatbot (default the first of the listing).
    pub chatbot_id: Option<String>,
    /// Which event (default `response.created`).
    pub event: Option<String>,
    /// Answers of a new response (default: generated).
    pub answers: Option<Map<String, Value>>,
}

/// Applies the event and starts its deliveries; answers
/// `{"data": record, "delivery": body, "deliveries": n}` (the response record
/// created or updated, or the conversation's ids; the body each webhook is
/// sent), `201` when a response was created.
pub async fn handle(
    State(state): State<Arc<SandboxState>>,
    body: Bytes,
) -> Result<Response, Refusal> {
    let request: SimulateEvent = parse_body(&body)?;
    let key = request.api_key.as_deref().unwrap_or(keys::STARTER);
    let ws = state
        .keys
        .workspace_of(key)
        .ok_or_else(|| reply::error(StatusCode::BAD_REQUEST, "Unknown apiKey"))?;
    let event = request.event.as_deref().unwrap_or("response.created");
    let event = WebhookEvent::parse_known(event).map_err(|err| reply::bad_request(&err))?;
    let (status, data, body) = apply(&state, ws, &event, request)?;
    let deliveries = delivery::dispatch(&state, ws, &body);
    tracing::info!(event = event.as_str(), deliveries, "simulated event");
    Ok(reply::json(
        status,
        &json!({"data": data, "delivery": body, "deliveries": deliveries}),
    ))
}

/// Changes the workspace as the event says; the record it made or changed,
/// and the delivery body that announces it.
fn apply(
    state: &SandboxState,
    ws: usize,
    event: &WebhookEvent,
    request: SimulateEvent,
) -> Result<(StatusCode, Value, WebhookDelivery), Refusal> {
    let mut world = lock(&state.world);
    let World { workspaces, ids } = &mut *world;
    let workspace = workspaces.get_mut(ws).ok_or_else(chatbot_not_found)?;
    let chatbot_id = match request.chatbot_id {
        Some(id) => id.to_ascii_lowercase(),
        None => workspace.first_chatbot_id().ok_or_else(chatbot_not_found)?,
    };
    if workspace.chatbot(&chatbot_id).is_none() {
        return Err(chatbot_not_found());
    }
    let now = state.clock.now_ms();
    let mut body = WebhookDelivery::new(event.clone(), iso_ms(now));
    body.bot_id = Some(chatbot_id.clone());
    let to_value = |v: &ChatbotResponse| serde_json::to_value(v).unwrap_or(Value::Null);
    match event {
        WebhookEvent::ResponseCreated => {
            let response = ChatbotResponse {
                id: seed::object_id(ids, now),
                chatbot_id,
                status: "completed".to_owned(),
                answers: request.answers.unwrap_or_else(|| seed::answers(ids, true)),
                created_at: iso_ms(now),
                updated_at: iso_ms(now),
            };
            let data = to_value(&response);
            name_response(&mut body, &response.id, true);
            workspace
                .add_response(response)
                .ok_or_else(chatbot_not_found)?;
            Ok((StatusCode::CREATED, data, body))
        }
        WebhookEvent::ResponseUpdated => {
            let updated = workspace
                .update_newest_response(&chatbot_id, &iso_ms(now))
                .ok_or_else(|| {
                    reply::error(StatusCode::NOT_FOUND, "Chatbot has no responses to update")
                })?;
            // The reference's `response.updated` example names no visitor.
            name_response(&mut body, &updated.id, false);
            Ok((StatusCode::OK, to_value(&updated), body))
        }
        WebhookEvent::ConversationStarted | WebhookEvent::ConversationCompleted => {
            let fresh = seed::object_id(ids, now);
            body.chat_session_id = Some(session_of(&fresh));
            body.visitor_id = Some(visitor_of(&fresh));
            let data = json!({
                "chatSessionId": body.chat_session_id,
                "botId": body.bot_id,
                "visitorId": body.visitor_id,
            });
            Ok((StatusCode::OK, data, body))
        }
        WebhookEvent::Other(name) => Err(reply::error(
            StatusCode::BAD_REQUEST,
            format!("unknown event {name:?}"),
        )),
    }
}

/// Fills in the ids of a delivery about response `id`.
fn name_response(body: &mut WebhookDelivery, id: &str, with_visitor: bool) {
    body.response_id = Some(id.to_owned());
    body.chat_session_id = Some(session_of(id));
    if with_visitor {
        body.visitor_id = Some(visitor_of(id));
    }
}

/// The session the sandbox gives the record with object id `id`.
fn session_of(id: &str) -> String {
    format!("sess_{}", id.get(..12).unwrap_or(id))
}

/// The visitor the sandbox gives the record with object id `id`.
fn visitor_of(id: &str) -> String {
    format!(
        "visitor_{}",
        id.get(id.len().saturating_sub(6)..).unwrap_or(id)
    )
}
