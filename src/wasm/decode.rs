//! Answers into JS values: the engine's own `JSON.parse` reads the body (one
//! parse, in native code), then the core's shape checker ([`crate::shape`])
//! checks the parsed objects and completes them in place (defaults, plan
//! names, unlimited limits). A wrong shape is a `decode` error that names the
//! place, not a surprise later.

use wasm_bindgen::prelude::*;

use js_sys::{Object, Reflect};

use crate::error::{ApiErrorBody, Error};
use crate::live_event::ConferbotEvent;
use crate::shape::{self, Shape, DELIVERY, RESYNC_NOTICE};
use crate::text;
use crate::types::Page;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn json_parse(text: &JsValue) -> Result<JsValue, JsValue>;
}

/// How much of a refused body its error quotes.
const QUOTED_CHARS: usize = 60;

/// What a refused answer is called in its error.
const ANSWER: &str = "the answer";

/// `{"data": T}` → `T` as a plain JS object of `shape`.
pub(crate) fn data(body: &JsValue, shape: &Shape) -> Result<JsValue, Error> {
    checked(body, ANSWER, |tree| shape::data(tree, shape))
}

/// `{"data": [T]}` → a JS array of plain objects of `shape`.
pub(crate) fn data_list(body: &JsValue, shape: &Shape) -> Result<JsValue, Error> {
    checked(body, ANSWER, |tree| shape::data_list(tree, shape))
}

/// A list page: its items as a JS array, and its shape (item count and
/// totals, without the items) for the paginator.
pub(crate) fn page(body: &JsValue, item: &Shape) -> Result<(JsValue, Page<()>), Error> {
    checked(body, ANSWER, |tree| shape::page(tree, item))
}

/// A live event as JS sees it: `{ type, id, timestamp, data }`, where a
/// delivery's `data` is its whole flat body (`event`, `botId`,
/// `responseId`, `chatSessionId`, `visitorId`, `timestamp`, and any field
/// this version does not know) and a resync notice's is `{ reason }`.
pub(crate) fn live_event(event: &ConferbotEvent) -> Result<JsValue, Error> {
    let mut what = String::from("event ");
    what.push_str(&text::quote(&event.id));
    what.push_str(" (");
    what.push_str(event.event.as_str());
    what.push(')');
    let payload = JsValue::from_str(&event.payload);
    let (timestamp, data) = if event.is_resync() {
        let notice = checked(&payload, &what, |tree| {
            shape::object(tree.clone(), &RESYNC_NOTICE)
        })?;
        (JsValue::NULL, notice)
    } else {
        let delivery = checked(&payload, &what, |tree| {
            shape::object(tree.clone(), &DELIVERY)
        })?;
        let timestamp = Reflect::get(&delivery, &JsValue::from_str("timestamp"))
            .ok()
            .filter(|t| !t.is_undefined())
            .unwrap_or(JsValue::NULL);
        (timestamp, delivery)
    };
    let out = Object::new();
    let fields = [
        ("type", JsValue::from_str(event.event.as_str())),
        ("id", JsValue::from_str(&event.id)),
        ("timestamp", timestamp),
        ("data", data),
    ];
    for (name, value) in fields {
        // Setting a field of a new plain object cannot fail.
        let _ = Reflect::set(&out, &JsValue::from_str(name), &value);
    }
    Ok(out.into())
}

/// The documented error body, when an error answer carries one.
pub(crate) fn error_body(body: &JsValue) -> Option<ApiErrorBody> {
    json_parse(body)
        .ok()
        .and_then(|tree| shape::error_body(&tree))
}

/// Parses `body` and runs `check` on it; either failure is a `decode` error
/// that names `what` was refused, says why and quotes the start of the body.
fn checked<T>(
    body: &JsValue,
    what: &str,
    check: impl FnOnce(&JsValue) -> Result<T, Error>,
) -> Result<T, Error> {
    let why = match json_parse(body) {
        Ok(tree) => match check(&tree) {
            Ok(value) => return Ok(value),
            Err(error) => error.message,
        },
        Err(syntax) => js_sys::Reflect::get(&syntax, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_default(),
    };
    let start: String = body
        .as_string()
        .unwrap_or_default()
        .chars()
        .take(QUOTED_CHARS)
        .collect();
    let mut message = String::from(what);
    message.push_str(" is not the documented JSON (");
    message.push_str(&why);
    message.push_str("); it starts with ");
    message.push_str(&text::quote(&start));
    Err(Error::decode(message))
}
