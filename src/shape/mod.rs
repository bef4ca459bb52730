//! Wire shapes as data: the fields of each answer's objects, their types and
//! defaults, and one checker that walks an already parsed JSON tree by them.
//!
//! Natively the serde derives of [`crate::types`] decode answers. The wasm
//! client instead lets the engine's own `JSON.parse` read a body (one parse,
//! and no JSON library in the module) and checks the parsed value against
//! these tables in place, filling in the defaults and normalisations the
//! serde types would give (`"enterprise"` → `"Enterprise"`, `"unlimited"` →
//! `null`, an absent `responseCount` → `0`). Fields the tables do not name
//! are left as the server sent them (the serde types drop them): copying
//! every object to leave them out would cost more than the parse. A native
//! test runs both over the same bodies and requires the same results on the
//! documented fields, so the tables cannot drift from the types.
//!
//! The checker is generic over [`JsonTree`]: `JsValue` in the wasm module,
//! `serde_json::Value` in the tests.

#[cfg(test)]
mod agreement_tests;
mod check;

pub use check::{data, data_list, error_body, object, page};

/// What a field must hold, and what it is when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// A string; required.
    Text,
    /// A string; `""` when absent.
    TextOrEmpty,
    /// A string; left out when absent or `null`.
    OptionalText,
    /// A non-negative integer; required.
    Count,
    /// A non-negative integer; `0` when absent.
    CountOrZero,
    /// A boolean; required.
    Flag,
    /// A boolean; `true` when absent.
    FlagOrTrue,
    /// A plan name ([`crate::Plan`]), written back in its documented case; required.
    PlanName,
    /// A monthly limit ([`crate::Limit`]): a number, or `null` when unlimited
    /// (also when absent, negative or `"unlimited"`).
    CallLimit,
    /// An array of event names ([`crate::WebhookEvent`]), unknown ones kept; required.
    EventNames,
    /// Any JSON object, kept as it is; `{}` when absent.
    JsonObject,
}

/// The fields of one wire object, in the order the serde type writes them.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Field names (camelCase, as on the wire) and what each holds.
    pub fields: &'static [(&'static str, FieldType)],
}

use FieldType::*;

/// [`crate::Chatbot`].
pub const CHATBOT: Shape = Shape {
    fields: &[
        ("id", Text),
        ("name", Text),
        ("status", Text),
        ("responseCount", CountOrZero),
        ("createdAt", Text),
        ("updatedAt", Text),
    ],
};

/// [`crate::ChatbotResponse`].
pub const CHATBOT_RESPONSE: Shape = Shape {
    fields: &[
        ("id", Text),
        ("chatbotId", Text),
        ("status", TextOrEmpty),
        ("answers", JsonObject),
        ("createdAt", Text),
        ("updatedAt", TextOrEmpty),
    ],
};

/// [`crate::Usage`].
pub const USAGE: Shape = Shape {
    fields: &[
        ("month", Text),
        ("plan", PlanName),
        ("used", Count),
        ("limit", CallLimit),
        ("remaining", CallLimit),
    ],
};

/// [`crate::Webhook`].
pub const WEBHOOK: Shape = Shape {
    fields: &[
        ("id", Text),
        ("url", Text),
        ("events", EventNames),
        ("active", FlagOrTrue),
        ("secret", OptionalText),
        ("createdAt", TextOrEmpty),
    ],
};

/// [`crate::DeletedWebhook`].
pub const DELETED_WEBHOOK: Shape = Shape {
    fields: &[("id", Text), ("deleted", Flag)],
};

/// [`crate::WebhookDelivery`], the flat body a live event carries: the
/// event, the ids it names, and its ISO 8601 timestamp. Fields it does not
/// name are kept, as the serde type keeps them.
pub const DELIVERY: Shape = Shape {
    fields: &[
        ("event", Text),
        ("chatSessionId", OptionalText),
        ("responseId", OptionalText),
        ("botId", OptionalText),
        ("visitorId", OptionalText),
        ("timestamp", OptionalText),
    ],
};

/// The BFF's resync notice (`event: resync`, see [`crate::RESYNC_EVENT`]).
pub const RESYNC_NOTICE: Shape = Shape {
    fields: &[("reason", TextOrEmpty)],
};

/// A parsed JSON value the checker can read and complete in place.
/// Reads that do not apply (the field of a string) answer `None`.
pub trait JsonTree: Sized {
    /// A field name made ready for lookups, once per shape and answer.
    type Key;

    /// `name` as a [`Self::Key`].
    fn key(name: &'static str) -> Self::Key;
    /// The field `key` of an object; `None` when absent or not an object.
    fn field(&self, key: &Self::Key) -> Option<Self>;
    /// Whether this is `null`.
    fn is_null(&self) -> bool;
    /// Whether this is a string.
    fn is_string(&self) -> bool;
    /// Whether this is an object (not an array, not `null`).
    fn is_object(&self) -> bool;
    /// The number, if this is one.
    fn number(&self) -> Option<f64>;
    /// The boolean, if this is one.
    fn boolean(&self) -> Option<bool>;
    /// A copy of the string, if this is one.
    fn text(&self) -> Option<String>;
    /// The elements, if this is an array.
    fn items(&self) -> Option<Vec<Self>>;
    /// What this is, for messages (`"string"`, `"an array"`, `"null"`).
    fn type_name(&self) -> String;

    /// Sets the field `key` of this object.
    fn set(&mut self, key: &Self::Key, value: Self);
    /// Removes the field `key` of this object.
    fn remove(&mut self, key: &Self::Key);
    /// Gives this array back the elements [`Self::items`] answered, checked:
    /// a value that shares its elements (a JS array) has them already, one
    /// that copies them (`serde_json::Value`) takes them back.
    fn put_items(&mut self, items: Vec<Self>);
    /// A new empty object.
    fn new_object() -> Self;
    /// A string value.
    fn from_text(text: &str) -> Self;
    /// A non-negative integer value.
    fn from_count(n: u64) -> Self;
    /// A boolean value.
    fn from_flag(flag: bool) -> Self;
    /// `null`.
    fn null() -> Self;
}
