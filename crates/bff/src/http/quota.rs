//! The quota as data on every answer under the mount: what the BFF knows of
//! the per-minute window and the month ([`quota_headers`]), added to API
//! answers, the BFF's own errors and the event stream alike, so a page reads
//! its quota from whatever it last received, at no cost.

use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use bytes::Bytes;
use conferbot::protocol::bff::QUOTA_HEADERS;
use conferbot_policy::quota_headers::{MinuteView, QuotaFacts, QuotaHeaders};
use conferbot_policy::window::default_span;

use super::hygiene;
use crate::context::AppState;

/// Finishes an answer under the mount (the API and the events): the quota
/// headers, then the hygiene. Called by the handlers themselves rather than
/// by a router layer, which would box and clone every route for every
/// request.
pub(crate) fn under_mount(state: &AppState, response: &mut Response) {
    let headers = response.headers_mut();
    insert_quota_headers(state, headers);
    hygiene::keep_allowed(headers);
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
