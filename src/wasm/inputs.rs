//! The arguments of calls from JS values: list params, ids, `NewWebhook`.
//! Each is checked by the core's own rules before anything is sent.

use js_sys::{Array, Object, Reflect, JSON};
use wasm_bindgen::JsValue;

use crate::error::Error;
use crate::id::ObjectId;
use crate::pagination::PageRequest;
use crate::types::{NewWebhook, WebhookEvent};

use super::fields::{type_name, Fields};

/// `{ page?, limit? }` as a validated page request.
pub(crate) fn page_request(params: &JsValue) -> Result<PageRequest, Error> {
    let fields = Fields::of(params, "params")?;
    PageRequest::from_numbers(fields.number("page")?, fields.number("limit")?)
}

/// An id argument; `what` names it in errors (`"chatbot id"`).
pub(crate) fn object_id(value: &JsValue, what: &'static str) -> Result<ObjectId, Error> {
    match value.as_string() {
        Some(raw) => ObjectId::parse(&raw, what),
        None => Err(Error::invalid_request(format!(
            "{what} must be a string, got {}",
            type_name(value)
        ))),
    }
}

/// `{ url, events }`, validated as a `NewWebhook`, as the JSON body of
/// `createWebhook` (a JS string, written by the engine's `JSON.stringify`).
pub(crate) fn new_webhook_body(input: &JsValue) -> Result<JsValue, Error> {
    let hook = new_webhook(input)?;
    let body = Object::new();
    let events: Array = hook
        .events
        .iter()
        .map(|event| JsValue::from_str(event.as_str()))
        .collect();
    let written = Reflect::set(&body, &"url".into(), &hook.url.as_str().into())
        .and_then(|_| Reflect::set(&body, &"events".into(), &events))
        .and_then(|_| JSON::stringify(&body));
    written
        .map(JsValue::from)
        .map_err(|_| Error::invalid_request("the webhook could not be written as JSON"))
}

/// `{ url, events }` as a validated `NewWebhook`.
fn new_webhook(input: &JsValue) -> Result<NewWebhook, Error> {
    let fields = Fields::of(input, "webhook")?;
    let events = match fields.value("events") {
        None => Vec::new(),
        Some(list) if js_sys::Array::is_array(&list) => js_sys::Array::from(&list)
            .iter()
            .map(|event| match event.as_string() {
                Some(name) => Ok(WebhookEvent::from_name(&name)),
                None => Err(Error::invalid_request(format!(
                    "webhook.events must hold strings, got {}",
                    type_name(&event)
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(Error::invalid_request(format!(
                "webhook.events must be an array of event names, got {}",
                type_name(&other)
            )))
        }
    };
    let hook = NewWebhook {
        url: fields.string("url")?.unwrap_or_default(),
        events,
    };
    hook.validate()?;
    Ok(hook)
}
