//! The wire schema: every object of the API's answers and of the live
//! events, its fields, their types, defaults and documentation, written once
//! as data.
//!
//! Everything else on the JS side is generated from these tables by
//! `cargo xtask dist` (and checked current by a test): the TypeScript
//! interfaces of the package (`src/wasm/wire.d.ts`) and the checker that the
//! wasm client runs over a parsed answer, once per answer, in JS
//! (`src/wasm/js/wire.js`): the engine's own `JSON.parse` reads the body,
//! and generated straight-line code checks each object and completes it in
//! place, filling in the defaults and normalisations the serde types of
//! [`crate::types`] give (`"enterprise"` → `"Enterprise"`, `"unlimited"` →
//! `null`, an absent `responseCount` → `0`). Fields a table does not name are
//! left as the server sent them (the serde types drop them): copying every
//! object to leave them out would cost more than the parse.
//!
//! Natively the serde types decode answers (BFF, sandbox). Tests keep the two
//! equal: natively, each table names the fields its serde type writes, in
//! order; in wasm (`tests/wasm_wire_agreement.rs`), the generated checker and
//! serde read the same bodies to the same values, or both refuse them.
//!
//! # Layout
//! - this file: [`FieldType`], [`Field`], [`Shape`], [`Form`] and the tables.
//! - `events`: the live events, one delivery shape per documented event.
//! - `javascript` (with `quota_js`, the quota headers' reader), `typescript`
//!   (native only): the generators.

mod events;
#[cfg(not(target_arch = "wasm32"))]
mod javascript;
#[cfg(not(target_arch = "wasm32"))]
mod quota_js;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod table_tests;
#[cfg(not(target_arch = "wasm32"))]
mod typescript;

#[cfg(not(target_arch = "wasm32"))]
pub use events::missing_required_field;
pub use events::{EventShape, DELIVERY, EVENT_SHAPES, RESYNC_NOTICE};
#[cfg(not(target_arch = "wasm32"))]
pub use javascript::javascript;
#[cfg(not(target_arch = "wasm32"))]
pub use typescript::typescript;

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

/// One field of a wire object.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Its name on the wire (camelCase).
    pub name: &'static str,
    /// What it holds.
    pub ty: FieldType,
    /// Its documentation, for the TypeScript interface.
    pub doc: &'static str,
}

/// The fields of one wire object, in the order the serde type writes them.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// The TypeScript interface's name, also the checker's (`Chatbot`).
    pub name: &'static str,
    /// The interface's documentation.
    pub doc: &'static str,
    /// Its fields.
    pub fields: &'static [Field],
    /// Whether the TypeScript type admits fields it does not name (the
    /// checker keeps them in every shape; only the deliveries promise them).
    pub open: bool,
}

/// How an answer wraps its objects; the checker for a whole answer.
#[derive(Debug, Clone, Copy)]
pub enum Form {
    /// `{"data": {…}}`.
    Data(&'static Shape),
    /// `{"data": [{…}, …]}`.
    DataList(&'static Shape),
    /// A list page: `{"data": [...], "total", "page", "totalPages"}`.
    Page(&'static Shape),
}

impl Form {
    /// Every form a call of the client decodes, in the order of the
    /// generated checker's table (`Form::index`).
    pub const ALL: [Form; 6] = [
        Form::Page(&CHATBOT),
        Form::Data(&CHATBOT),
        Form::Page(&CHATBOT_RESPONSE),
        Form::Data(&USAGE),
        Form::DataList(&WEBHOOK),
        Form::Data(&WEBHOOK),
    ];

    /// Its place in [`Form::ALL`] and in the generated checker's table.
    /// A `const fn`, so that the wasm client passes the number alone
    /// (`const { Form::Page(&CHATBOT).index() }`) and carries no table.
    // Indexing in a `const fn` (no iterators there): every index is below the length the loop checks.
    #[allow(clippy::indexing_slicing)]
    pub const fn index(self) -> u32 {
        let mut i = 0;
        while i < Self::ALL.len() {
            if Self::ALL[i].same(self) {
                return i as u32;
            }
            i += 1;
        }
        u32::MAX
    }

    /// The shape of its objects.
    pub const fn shape(self) -> &'static Shape {
        match self {
            Self::Data(shape) | Self::DataList(shape) | Self::Page(shape) => shape,
        }
    }

    const fn kind(self) -> u8 {
        match self {
            Self::Data(_) => 0,
            Self::DataList(_) => 1,
            Self::Page(_) => 2,
        }
    }

    // Indexing in a `const fn`, below the length the loop checks.
    #[allow(clippy::indexing_slicing)]
    const fn same(self, other: Form) -> bool {
        let (a, b) = (self.shape().name.as_bytes(), other.shape().name.as_bytes());
        if self.kind() != other.kind() || a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }
}

use FieldType::*;

const fn field(name: &'static str, ty: FieldType, doc: &'static str) -> Field {
    Field { name, ty, doc }
}

/// [`crate::Chatbot`].
pub const CHATBOT: Shape = Shape {
    name: "Chatbot",
    doc: "A chatbot of the workspace.",
    fields: &[
        field("id", Text, "24-hex-digit object id."),
        field("name", Text, "Display name."),
        field(
            "status",
            Text,
            "`\"active\"`, `\"inactive\"`, … as the server writes it.",
        ),
        field(
            "responseCount",
            CountOrZero,
            "Responses collected (`0` when the server leaves it out).",
        ),
        field("createdAt", Text, "ISO 8601 creation time."),
        field("updatedAt", Text, "ISO 8601 time of the last change."),
    ],
    open: false,
};

/// [`crate::ChatbotResponse`].
pub const CHATBOT_RESPONSE: Shape = Shape {
    name: "ChatbotResponse",
    doc: "One response (a filled-in conversation) a chatbot collected.",
    fields: &[
        field("id", Text, "24-hex-digit object id."),
        field("chatbotId", Text, "The chatbot that collected it."),
        field(
            "status",
            TextOrEmpty,
            "`\"completed\"`, `\"partial\"`, … as the server writes it (`\"\"` when absent).",
        ),
        field(
            "answers",
            JsonObject,
            "Answers by question, each a JSON value (`{}` when absent).",
        ),
        field("createdAt", Text, "ISO 8601 creation time."),
        field(
            "updatedAt",
            TextOrEmpty,
            "ISO 8601 time of the last change (`\"\"` when absent).",
        ),
    ],
    open: false,
};

/// [`crate::Usage`].
pub const USAGE: Shape = Shape {
    name: "Usage",
    doc: "This month's API usage. `limit` and `remaining` are `null` when unlimited (Enterprise).",
    fields: &[
        field("month", Text, "The month counted, `YYYY-MM`."),
        field(
            "plan",
            PlanName,
            "The workspace's plan, in its documented case.",
        ),
        field("used", Count, "Calls made this month."),
        field(
            "limit",
            CallLimit,
            "Calls allowed this month; `null` when unlimited.",
        ),
        field(
            "remaining",
            CallLimit,
            "Calls left this month; `null` when unlimited.",
        ),
    ],
    open: false,
};

/// [`crate::Webhook`].
pub const WEBHOOK: Shape = Shape {
    name: "Webhook",
    doc: "A registered webhook.",
    fields: &[
        field("id", Text, "24-hex-digit object id."),
        field("url", Text, "Where deliveries are POSTed."),
        field(
            "events",
            EventNames,
            "Events delivered; one added later arrives as its name.",
        ),
        field(
            "active",
            FlagOrTrue,
            "Whether deliveries are being made (`true` when absent).",
        ),
        field(
            "secret",
            OptionalText,
            "The signing secret: only in the answer to `createWebhook`.",
        ),
        field(
            "createdAt",
            TextOrEmpty,
            "ISO 8601 creation time (`\"\"` when absent).",
        ),
    ],
    open: false,
};

/// The documented error body ([`crate::ApiErrorBody`]), read from error
/// answers: `{"error": "...", "message"?: "..."}`.
pub const ERROR_BODY: Shape = Shape {
    name: "ApiErrorBody",
    doc: "The upstream's error body.",
    fields: &[
        field(
            "error",
            Text,
            "Short description (`\"Rate limit exceeded\"`).",
        ),
        field(
            "message",
            OptionalText,
            "Longer explanation, when the server gives one.",
        ),
    ],
    open: true,
};

/// Every shape the generated code declares and checks, in the order it does.
pub const SHAPES: [&Shape; 5] = [&CHATBOT, &CHATBOT_RESPONSE, &USAGE, &WEBHOOK, &ERROR_BODY];
