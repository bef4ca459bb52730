//! The endpoint table: every operation of the External API, once.
//!
//! The client builds URLs from it, the BFF uses it as its allowlist, and the
//! sandbox routes by it. Correcting a path or a method is a one-line change in
//! [`ENDPOINTS`].
//!
//! # Layout
//! - this file: [`Operation`], [`Segment`], [`Endpoint`] and the table.
//! - `method`: [`Method`], the HTTP methods the API uses.
//! - `url`: an operation's path and URL with its ids filled in.
//! - `routing`: [`match_route`], a request's method and path to an operation.
//! - `hostile`: [`hostile_reason`], the path tricks refused before matching.

mod hostile;
mod method;
mod routing;
mod url;

pub use crate::protocol::api::{API_KEY_HEADER, API_PREFIX, DEFAULT_BASE_URL, EXTERNAL_PREFIX};
pub use crate::protocol::bff::{BFF_MOUNT, CSRF_HEADER, EVENTS_PATH};
pub use hostile::hostile_reason;
pub use method::Method;
pub use routing::{match_route, RouteError, RouteMatch};

/// One segment of a path template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// Matched exactly.
    Literal(&'static str),
    /// A 24-hex-digit id; the text names it in errors (`"chatbot id"`).
    Id(&'static str),
}

/// An operation of the External API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `GET /chatbots` (paginated).
    ListChatbots,
    /// `GET /chatbots/{chatbotId}`.
    GetChatbot,
    /// `GET /chatbots/{chatbotId}/responses` (paginated).
    ListResponses,
    /// `GET /usage`.
    GetUsage,
    /// `GET /webhooks`.
    ListWebhooks,
    /// `POST /webhooks` → `201`.
    CreateWebhook,
    /// `DELETE /webhooks/{webhookId}`.
    DeleteWebhook,
}

/// A row of the endpoint table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// Which operation.
    pub operation: Operation,
    /// Its method.
    pub method: Method,
    /// Its path under [`EXTERNAL_PREFIX`], segment by segment.
    pub segments: &'static [Segment],
    /// Whether it takes `page`/`limit` and answers a page.
    pub paginated: bool,
    /// The status of a success answer.
    pub success_status: u16,
    /// The JS method name (`"listChatbots"`), also the BFF's metrics label.
    pub name: &'static str,
}

use Segment::{Id, Literal};

const CHATBOT_ID: Segment = Id("chatbot id");
const WEBHOOK_ID: Segment = Id("webhook id");

/// The endpoint table.
pub const ENDPOINTS: [Endpoint; 7] = [
    row(
        Operation::ListChatbots,
        Method::Get,
        &[Literal("chatbots")],
        true,
        200,
        "listChatbots",
    ),
    row(
        Operation::GetChatbot,
        Method::Get,
        &[Literal("chatbots"), CHATBOT_ID],
        false,
        200,
        "getChatbot",
    ),
    row(
        Operation::ListResponses,
        Method::Get,
        &[Literal("chatbots"), CHATBOT_ID, Literal("responses")],
        true,
        200,
        "listResponses",
    ),
    row(
        Operation::GetUsage,
        Method::Get,
        &[Literal("usage")],
        false,
        200,
        "getUsage",
    ),
    row(
        Operation::ListWebhooks,
        Method::Get,
        &[Literal("webhooks")],
        false,
        200,
        "listWebhooks",
    ),
    row(
        Operation::CreateWebhook,
        Method::Post,
        &[Literal("webhooks")],
        false,
        201,
        "createWebhook",
    ),
    row(
        Operation::DeleteWebhook,
        Method::Delete,
        &[Literal("webhooks"), WEBHOOK_ID],
        false,
        200,
        "deleteWebhook",
    ),
];

const fn row(
    operation: Operation,
    method: Method,
    segments: &'static [Segment],
    paginated: bool,
    success_status: u16,
    name: &'static str,
) -> Endpoint {
    Endpoint {
        operation,
        method,
        segments,
        paginated,
        success_status,
        name,
    }
}

impl Operation {
    /// Every operation, in table order.
    pub const ALL: [Operation; 7] = [
        Operation::ListChatbots,
        Operation::GetChatbot,
        Operation::ListResponses,
        Operation::GetUsage,
        Operation::ListWebhooks,
        Operation::CreateWebhook,
        Operation::DeleteWebhook,
    ];

    /// This operation's row of the table.
    pub fn endpoint(self) -> &'static Endpoint {
        // Every operation has exactly one row (checked by a test); the fallback
        // is only there so that this cannot panic.
        ENDPOINTS
            .iter()
            .find(|e| e.operation == self)
            .unwrap_or(&ENDPOINTS[0])
    }

    /// Its method.
    pub fn method(self) -> Method {
        self.endpoint().method
    }

    /// Whether it answers pages.
    pub fn is_paginated(self) -> bool {
        self.endpoint().paginated
    }

    /// Its JS name / metrics label.
    pub fn name(self) -> &'static str {
        self.endpoint().name
    }

    /// How many ids its path takes.
    pub fn id_count(self) -> usize {
        self.endpoint()
            .segments
            .iter()
            .filter(|s| matches!(s, Id(_)))
            .count()
    }

    /// The path template, `/chatbots/{id}/responses`.
    pub fn path_template(self) -> String {
        self.endpoint()
            .segments
            .iter()
            .map(|s| match s {
                Literal(text) => format!("/{text}"),
                Id(_) => "/{id}".to_owned(),
            })
            .collect()
    }

    /// The reads whose cached answers a successful call of this operation makes stale.
    pub fn invalidates(self) -> &'static [Operation] {
        match self {
            Self::CreateWebhook | Self::DeleteWebhook => &[Operation::ListWebhooks],
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn every_operation_has_exactly_one_row() {
        for op in Operation::ALL {
            assert_eq!(
                ENDPOINTS.iter().filter(|e| e.operation == op).count(),
                1,
                "{op:?}"
            );
        }
    }
}
