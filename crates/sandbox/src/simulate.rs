//! `POST /sandbox/responses`: something happens in a workspace (by default a
//! new response), the data changes as upstream's would, and subscribed
//! webhooks are sent the event.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use conferbot::{ChatbotResponse, WebhookEvent};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::admin::parse_body;
use crate::chatbots::chatbot_not_found;
use crate::clock::{iso_ms, now_ms};
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
/// `{"data": payload, "deliveries": n}`, `201` when a response was created.
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
    let (status, data) = apply(&state, ws, &event, request)?;
    let deliveries = delivery::dispatch(&state, ws, &event, data.clone());
    tracing::info!(event = event.as_str(), deliveries, "simulated event");
    Ok(reply::json(
        status,
        &json!({"data": data, "deliveries": deliveries}),
    ))
}

/// Changes the workspace as the event says; the event's `data` payload.
fn apply(
    state: &SandboxState,
    ws: usize,
    event: &WebhookEvent,
    request: SimulateEvent,
) -> Result<(StatusCode, Value), Refusal> {
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
    let now = now_ms();
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
            workspace
                .add_response(response)
                .ok_or_else(chatbot_not_found)?;
            Ok((StatusCode::CREATED, data))
        }
        WebhookEvent::ResponseUpdated => workspace
            .update_newest_response(&chatbot_id, &iso_ms(now))
            .map(|r| (StatusCode::OK, to_value(&r)))
            .ok_or_else(|| {
                reply::error(StatusCode::NOT_FOUND, "Chatbot has no responses to update")
            }),
        WebhookEvent::ConversationStarted | WebhookEvent::ConversationCompleted => {
            let at = if *event == WebhookEvent::ConversationStarted {
                "startedAt"
            } else {
                "completedAt"
            };
            let mut data = Map::new();
            data.insert("conversationId".into(), seed::object_id(ids, now).into());
            data.insert("chatbotId".into(), chatbot_id.into());
            data.insert(at.into(), iso_ms(now).into());
            Ok((StatusCode::OK, Value::Object(data)))
        }
        WebhookEvent::Other(name) => Err(reply::error(
            StatusCode::BAD_REQUEST,
            format!("unknown event {name:?}"),
        )),
    }
}
