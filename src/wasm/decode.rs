//! What the generated checker (`js/wire.js`, written from [`crate::shape`])
//! does besides whole answers, which the transport checks itself: live
//! events and error bodies (and whole answers for tests).

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use crate::error::{ApiErrorBody, Error};
use crate::live_event::ConferbotEvent;
use crate::shape::Form;
use crate::text;

use super::fetch::refused_answer;

#[wasm_bindgen(module = "/src/wasm/js/wire.js")]
extern "C" {
    #[wasm_bindgen(js_name = checkAnswer, catch)]
    fn check_answer_js(text: &JsValue, form: u32) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = checkEvent, catch)]
    fn check_event_js(kind: &str, id: &str, text: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = errorBody)]
    fn checked_error_body(text: &JsValue) -> JsValue;
}

/// The answer `text` of `form`, parsed, checked and completed by the
/// generated checker, as the transport checks every 2xx answer (a list page
/// whole); a `decode` error says why not. (For tests: calls check inside
/// `js/calls.js` without this crossing.)
pub fn check_answer(text: &str, form: Form) -> Result<JsValue, Error> {
    let text = JsValue::from_str(text);
    check_answer_js(&text, form.index()).map_err(|why| refused_answer("the answer", &why, &text))
}

/// The documented error body `{ error, message? }` of an error answer, when
/// that is what it carries.
pub fn error_body(text: &JsValue) -> Option<ApiErrorBody> {
    let body = checked_error_body(text);
    let field = |key: &str| {
        Reflect::get(&body, &JsValue::from_str(key))
            .ok()?
            .as_string()
    };
    Some(ApiErrorBody {
        error: field("error")?,
        message: field("message"),
    })
}

/// A live event as JS sees it: `{ type, id, timestamp, data }`, where a
/// delivery's `data` is its whole flat body, checked by its event's shape
/// (`event`, `botId`, `responseId`, `chatSessionId`, `visitorId`,
/// `timestamp`, and any field this version does not know), and a resync
/// notice's is `{ reason }`; an event this version does not know is
/// `{ type: "unknown", name, … }`.
pub fn check_event(event: &ConferbotEvent) -> Result<JsValue, Error> {
    let payload = JsValue::from_str(&event.payload);
    check_event_js(event.event.as_str(), &event.id, &payload).map_err(|reason| {
        let mut what = String::from("event ");
        what.push_str(&text::quote(&event.id));
        what.push_str(" (");
        what.push_str(event.event.as_str());
        what.push(')');
        refused_answer(&what, &reason, &payload)
    })
}
