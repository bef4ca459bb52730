//! Wire types, camelCase on the wire, forward compatible.
//!
//! Unknown fields are ignored and unknown enum values are kept as raw text
//! (`Plan::Other("Growth")`), so a server that adds a plan, an event or a
//! field does not break clients already deployed.

mod chatbot;
mod delivery;
mod envelope;
mod open_enum;
mod plan;
mod response;
mod usage;
mod webhook;

pub use chatbot::Chatbot;
pub use delivery::WebhookDelivery;
pub use envelope::{DataEnvelope, Page};
pub use plan::Plan;
pub use response::ChatbotResponse;
pub use usage::{Limit, Usage};
pub use webhook::{DeletedWebhook, NewWebhook, Webhook, WebhookEvent, MAX_WEBHOOK_URL_LEN};
