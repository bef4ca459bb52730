//! The live events' bodies: one delivery shape per documented webhook event
//! (`shared/reference/conferbot-webhooks.md`), the BFF's resync notice, and
//! the loose shape of an event this version does not know.
//!
//! `response.created` and `response.updated` are printed in the reference:
//! their ids and timestamp are required here, and a body without them is a
//! `decode` error. The `conversation.*` bodies are not printed; the
//! reference's notes say to expect the same flat form (`event`,
//! `chatSessionId`, `botId`, `visitorId`, `timestamp`), so those fields are
//! typed but optional. Every delivery keeps the fields it does not name.
//! The per-event shapes check the chatbot first (what a receiver acts on),
//! so a wrong `botId` is what a refusal names before anything else.

use super::{field, Field, FieldType::*, Shape};
use crate::types::WebhookEvent;

/// The body one live event carries, by the event's name.
#[derive(Debug, Clone)]
pub struct EventShape {
    /// The webhook event, or `None` for the BFF's resync notice
    /// ([`crate::RESYNC_EVENT`]).
    pub event: Option<WebhookEvent>,
    /// The TypeScript name of the event object (`ResponseCreatedEvent`).
    pub name: &'static str,
    /// Its documentation.
    pub doc: &'static str,
    /// The shape of its `data`.
    pub data: &'static Shape,
}

const EVENT: Field = field("event", Text, "The event's name as the delivery wrote it.");
const SESSION: Field = field(
    "chatSessionId",
    Text,
    "The chat session (`sess_…`, not an object id).",
);
const RESPONSE: Field = field("responseId", Text, "The response, an object id.");
const BOT: Field = field("botId", Text, "The chatbot, an object id (24 hex digits).");
const VISITOR: Field = field("visitorId", Text, "The visitor (`visitor_…`).");
const TIMESTAMP: Field = field(
    "timestamp",
    Text,
    "When the event was dispatched, ISO 8601 as the sender wrote it.",
);

/// `T` made optional: the same field, left out when absent.
const fn optional(field: Field) -> Field {
    Field {
        ty: OptionalText,
        ..field
    }
}

/// `response.created`, as the reference prints it.
pub const RESPONSE_CREATED: Shape = Shape {
    name: "ResponseCreatedDelivery",
    doc: "The flat body of `response.created`: ids only, never the response's content.",
    fields: &[EVENT, BOT, RESPONSE, SESSION, VISITOR, TIMESTAMP],
    open: true,
};

/// `response.updated`: the same ids without `visitorId`.
pub const RESPONSE_UPDATED: Shape = Shape {
    name: "ResponseUpdatedDelivery",
    doc: "The flat body of `response.updated`: the ids of `response.created` without `visitorId`.",
    fields: &[EVENT, BOT, RESPONSE, SESSION, TIMESTAMP],
    open: true,
};

/// `conversation.started` / `conversation.completed`, as the reference's
/// notes model them (not printed there: every id optional).
pub const CONVERSATION: Shape = Shape {
    name: "ConversationDelivery",
    doc: "The flat body of `conversation.*` (not printed by the reference; its notes expect these fields).",
    fields: &[
        EVENT,
        optional(BOT),
        optional(SESSION),
        optional(VISITOR),
        optional(TIMESTAMP),
    ],
    open: true,
};

/// [`crate::WebhookDelivery`] in general: an event this version does not know.
pub const DELIVERY: Shape = Shape {
    name: "WebhookDelivery",
    doc: "A delivery's flat body in general: the event, the ids it names (each optional), and every field added later.",
    fields: &[
        EVENT,
        optional(SESSION),
        optional(RESPONSE),
        optional(BOT),
        optional(VISITOR),
        optional(TIMESTAMP),
    ],
    open: true,
};

/// The BFF's resync notice (`event: resync`, see [`crate::RESYNC_EVENT`]).
pub const RESYNC_NOTICE: Shape = Shape {
    name: "ResyncNotice",
    doc: "Why events were missed (the BFF no longer keeps them).",
    fields: &[field("reason", TextOrEmpty, "Why (`\"\"` when not said).")],
    open: true,
};

/// The live events the client types, in the order of the TypeScript union.
pub const EVENT_SHAPES: [EventShape; 5] = [
    EventShape {
        event: Some(WebhookEvent::ResponseCreated),
        name: "ResponseCreatedEvent",
        doc: "A visitor submitted a response.",
        data: &RESPONSE_CREATED,
    },
    EventShape {
        event: Some(WebhookEvent::ResponseUpdated),
        name: "ResponseUpdatedEvent",
        doc: "A response record changed.",
        data: &RESPONSE_UPDATED,
    },
    EventShape {
        event: Some(WebhookEvent::ConversationStarted),
        name: "ConversationStartedEvent",
        doc: "A visitor opened a chat session.",
        data: &CONVERSATION,
    },
    EventShape {
        event: Some(WebhookEvent::ConversationCompleted),
        name: "ConversationCompletedEvent",
        doc: "A chat session was marked complete.",
        data: &CONVERSATION,
    },
    EventShape {
        event: None,
        name: "ResyncEvent",
        doc: "Events were missed that the BFF no longer keeps: load what you show again.",
        data: &RESYNC_NOTICE,
    },
];

/// The first field the live event of `delivery` requires (by its
/// [`EVENT_SHAPES`] row) that `delivery` lacks, if any: a server that relays
/// deliveries to the wasm client can refuse what the client's checker would
/// refuse (`response.created` without `visitorId`), instead of ending every
/// subscriber's loop with a `decode` error.
#[cfg(not(target_arch = "wasm32"))]
pub fn missing_required_field(delivery: &crate::WebhookDelivery) -> Option<&'static str> {
    let shape = EVENT_SHAPES
        .iter()
        .find(|shape| shape.event.as_ref() == Some(&delivery.event))?;
    // By the members themselves: a delivery with a number no
    // `serde_json::Value` holds (found by `cargo xtask fuzz`, target
    // `wire_decode`) once could not be converted, and was said to lack
    // nothing.
    shape
        .data
        .fields
        .iter()
        .filter(|field| field.ty == super::FieldType::Text)
        .find(|field| !delivery.has_text(field.name))
        .map(|field| field.name)
}
