//! The quota as data on every answer under the mount: what the BFF knows of
//! the per-minute window and the month ([`quota_headers`]), added to API
//! answers, the BFF's own errors and the event stream alike, so a page reads
//! its quota from whatever it last received, at no cost.

use std::sync::{Arc, LazyLock};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use conferbot::protocol::bff::QUOTA_HEADERS;
use conferbot_policy::quota_headers::{MinuteView, QuotaFacts, QuotaHeaders};
use conferbot_policy::window::default_span;

use super::hygiene;
use crate::context::AppState;

/// Middleware: the minute and month headers (the handler sets
/// `x-quota-queued-ms`, which is the request's own).
pub(crate) async fn add_quota_headers(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    insert_quota_headers(&state, response.headers_mut());
    response
}

/// Middleware, without `--auth-url` (no authorisation step to sit
/// between them): [`add_quota_headers`] and then
/// [`hygiene::retain_allowed`] in one layer, as those two layers would.
pub(crate) async fn add_quota_headers_and_retain_allowed(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    insert_quota_headers(&state, headers);
    hygiene::keep_allowed(headers);
    response
}

/// The minute and month headers, as known now.
fn insert_quota_headers(state: &AppState, headers: &mut HeaderMap) {
    let facts = QuotaFacts {
        minute: minute(state),
        month: state.quota.month(),
        queued_ms: None,
    };
    let (text, fields) = QuotaHeaders::of(&facts).into_parts();
    // The text's own buffer holds every value: each header is a slice of it.
    let text = Bytes::from(text);
    for (name, range) in fields {
        let Some(name) = QUOTA_NAMES.get(name) else {
            continue;
        };
        if let Ok(value) = HeaderValue::from_maybe_shared(text.slice(range)) {
            headers.insert(name.clone(), value);
        }
    }
}

/// [`QUOTA_HEADERS`] as header names, checked once rather than on
/// every answer.
static QUOTA_NAMES: LazyLock<[HeaderName; QUOTA_HEADERS.len()]> =
    LazyLock::new(|| QUOTA_HEADERS.map(HeaderName::from_static));

fn minute(state: &AppState) -> MinuteView {
    let rate = state.rate;
    state.forwarder.window().room().unwrap_or_else(|| {
        let span = u64::try_from(default_span(rate).as_millis()).unwrap_or(u64::MAX);
        state
            .quota
            .shared_minute(rate.max, span)
            .unwrap_or(MinuteView {
                limit: rate.max,
                remaining: rate.max,
                reset_ms: 0,
            })
    })
}
