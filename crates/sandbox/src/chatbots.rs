//! The read operations: chatbots, one chatbot, its responses, paginated by
//! the core's rules (`PageRequest::from_query`, `slice`, `total_pages`).

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use conferbot::pagination::total_pages;
use conferbot::{DataEnvelope, ObjectId, Page, PageRequest};

use crate::reply::{self, Refusal};
use crate::state::{lock, SandboxState};

/// `{"error": "Chatbot not found"}`, also for another workspace's chatbot.
pub fn chatbot_not_found() -> Refusal {
    reply::error(
        StatusCode::NOT_FOUND,
        conferbot::protocol::api::CHATBOT_NOT_FOUND_ERROR,
    )
}

/// The page the query asks for; `400` with the core's words if it is not valid.
/// Parameters other than `page` and `limit` are ignored.
pub fn page_request(uri: &Uri) -> Result<PageRequest, Refusal> {
    PageRequest::from_query_string(uri.query()).map_err(|err| reply::bad_request(&err))
}

/// A page of a list of `total` items whose slice for `request` is `data`.
fn page<T>(data: Vec<T>, total: usize, request: PageRequest) -> Page<T> {
    Page {
        data,
        total: Some(total as u64),
        page: Some(request.page()),
        total_pages: Some(total_pages(total as u64, request.limit())),
    }
}

/// `GET /chatbots`.
pub fn list_chatbots(state: &SandboxState, ws: usize, uri: &Uri) -> Response {
    let request = match page_request(uri) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(),
    };
    let world = lock(&state.world);
    let Some(workspace) = world.workspace(ws) else {
        return chatbot_not_found().into_response();
    };
    let total = workspace.chatbot_count();
    let data = workspace.chatbots(request.slice(total));
    reply::json(StatusCode::OK, &page(data, total, request))
}

/// `GET /chatbots/{id}`.
pub fn get_chatbot(state: &SandboxState, ws: usize, id: &ObjectId) -> Response {
    let world = lock(&state.world);
    match world.workspace(ws).and_then(|w| w.chatbot(id.as_str())) {
        Some(chatbot) => reply::json(StatusCode::OK, &DataEnvelope { data: chatbot }),
        None => chatbot_not_found().into_response(),
    }
}

/// `GET /chatbots/{id}/responses`, newest first.
pub fn list_responses(state: &SandboxState, ws: usize, id: &ObjectId, uri: &Uri) -> Response {
    let world = lock(&state.world);
    let Some(responses) = world.workspace(ws).and_then(|w| w.responses(id.as_str())) else {
        return chatbot_not_found().into_response();
    };
    drop(world);
    let request = match page_request(uri) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(),
    };
    let total = responses.len();
    let data = responses
        .get(request.slice(total))
        .unwrap_or_default()
        .to_vec();
    reply::json(StatusCode::OK, &page(data, total, request))
}
