//! The quota as data on every answer under the mount: what the BFF knows of
//! the per-minute window and the month ([`quota_headers`]), added to API
//! answers, the BFF's own errors and the event stream alike, so a page reads
//! its quota from whatever it last received, at no cost.

use std::cell::RefCell;
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
    LAST.with(|last| match last.try_borrow_mut() {
        Ok(mut last) => {
            if !last.as_ref().is_some_and(|(said, _)| *said == facts) {
                let values = values_of(&facts);
                *last = Some((facts, values));
            }
            if let Some((_, values)) = last.as_ref() {
                for (name, value) in values {
                    headers.insert(name.clone(), value.clone());
                }
            }
        }
        // Never borrowed twice (nothing here calls back); built afresh if so.
        Err(_) => {
            for (name, value) in values_of(&facts) {
                headers.insert(name, value);
            }
        }
    });
}

thread_local! {
    /// The quota headers of this thread's last answer, and the facts they
    /// say. Answers in a row mostly say the same (from the cache, the window
    /// and the month do not move): those get the same values again, shared,
    /// instead of writing and checking the numbers and the date anew (a
    /// fifth of an answer from the cache, callgrind). [`QuotaHeaders::of`]
    /// is a function of the facts alone, so equal facts are equal headers.
    static LAST: RefCell<Option<(QuotaFacts, QuotaValues)>> = const { RefCell::new(None) };
}

/// Quota headers, typed.
type QuotaValues = Vec<(HeaderName, HeaderValue)>;

/// The quota headers saying `facts`, as typed headers.
fn values_of(facts: &QuotaFacts) -> QuotaValues {
    let (text, fields) = QuotaHeaders::of(facts).into_parts();
    // The text's own buffer holds every value: each header is a slice of it.
    let text = Bytes::from(text);
    fields
        .filter_map(|(name, range)| {
            let name = QUOTA_NAMES.get(name)?;
            let value = HeaderValue::from_maybe_shared(text.slice(range)).ok()?;
            Some((name.clone(), value))
        })
        .collect()
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
