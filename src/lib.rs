//! Typed core of the Conferbot External REST API client.
//!
//! Everything here is pure Rust that compiles and is tested natively, and is
//! shared by the three parts of the project: the wasm client (this crate on
//! `wasm32`), the backend-for-frontend (`crates/bff`) and the sandbox
//! (`crates/sandbox`). One fact lives in one place: the endpoint table, the wire
//! types and the pagination rules are defined here and nowhere else.
//!
//! # Layout
//! - [`types`]: wire types (`Chatbot`, `Usage`, `Plan`, `Webhook`, `Page<T>`, …),
//!   forward compatible with values the server adds later.
//! - [`id`]: [`ObjectId`], the validated 24-hex-digit id that can never change a path.
//! - [`pagination`]: [`PageRequest`] bounds, page math and the [`Paginator`] state machine.
//! - [`endpoint`]: the endpoint table ([`Operation`]), URL building and route matching.
//! - [`error`]: one [`Error`] with an [`ErrorKind`], the status and the upstream's words.
//! - [`retry`]: the pure [`RetryPolicy`]: what to retry, and how long to wait.
//! - [`sse`]: an incremental Server-Sent Events parser (any chunking, every
//!   line ending, comments, `retry:`, the persisting last event id).
//! - [`live_event`]: [`ConferbotEvent`], one event of the BFF's live stream, typed.
//! - [`reconnect`]: [`Reconnect`], when to reopen a dropped event stream.
//! - [`protocol`]: every protocol fact shared by client, servers and sandbox:
//!   header names, the plan table, the upstream's wording, the BFF's headers.
//! - [`rate`]: [`RateSpec`] (`60/60s`), the rate syntax the BFF and the sandbox share.
//! - [`shape`]: the wire types' fields as data, and a checker of parsed JSON by
//!   them (how the wasm client decodes with the engine's `JSON.parse`).
//! - [`signature`]: webhook HMAC-SHA256 signing and constant-time verification.
//! - [`text`]: values quoted and numbers written for error messages.
//! - [`timestamp`] (on the `time` crate): ISO 8601 formatting and the two
//!   `x-webhook-timestamp` styles, for the servers (the client's wasm uses none of it).
//! - `wasm` (wasm32 only): the fetch transport and the `#[wasm_bindgen]` JS surface.

pub mod endpoint;
pub mod error;
pub mod id;
pub mod live_event;
pub mod pagination;
pub mod protocol;
pub mod rate;
pub mod reconnect;
pub mod retry;
pub mod shape;
pub mod signature;
pub mod sse;
pub mod text;
pub mod timestamp;
pub mod types;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use endpoint::{
    Method, Operation, RouteMatch, API_KEY_HEADER, API_PREFIX, BFF_MOUNT, CSRF_HEADER,
    DEFAULT_BASE_URL, EVENTS_PATH, EXTERNAL_PREFIX,
};
pub use error::{ApiErrorBody, Error, ErrorKind};
pub use id::ObjectId;
pub use live_event::{ConferbotEvent, RESYNC_EVENT};
pub use pagination::{PageRequest, Paginator, DEFAULT_LIMIT, MAX_LIMIT};
pub use rate::RateSpec;
pub use reconnect::Reconnect;
pub use retry::{RetryDecision, RetryPolicy};
pub use signature::{sign_webhook_body, signature_mac, verify_webhook_signature};
pub use sse::{SseEvent, SseParser};
pub use types::{
    Chatbot, ChatbotResponse, DataEnvelope, DeletedWebhook, Limit, NewWebhook, Page, Plan, Usage,
    Webhook, WebhookDelivery, WebhookEvent,
};
