//! The endpoint table: every operation of the External API, once.
//!
//! The client builds URLs from it, the BFF uses it as its allowlist, and the
//! sandbox routes by it. Correcting a path or a method is a one-line change in
//! [`ENDPOINTS`].

use std::fmt;

use crate::error::Error;
use crate::id::ObjectId;
use crate::pagination::PageRequest;

pub use crate::protocol::api::{API_KEY_HEADER, API_PREFIX, DEFAULT_BASE_URL, EXTERNAL_PREFIX};
pub use crate::protocol::bff::{BFF_MOUNT, CSRF_HEADER, EVENTS_PATH};

/// HTTP methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Reads; idempotent, cacheable, retryable.
    Get,
    /// Creates.
    Post,
    /// Deletes.
    Delete,
}

impl Method {
    /// The method's name (`"GET"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }

    /// Whether sending it twice has the effect of sending it once.
    pub fn is_idempotent(self) -> bool {
        matches!(self, Self::Get | Self::Delete)
    }

    /// The method named `raw` (exact, upper case).
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "GET" => Some(Self::Get),
            "POST" => Some(Self::Post),
            "DELETE" => Some(Self::Delete),
            _ => None,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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

    /// The path under [`EXTERNAL_PREFIX`] with `ids` filled in, in order.
    pub fn path(self, ids: &[&ObjectId]) -> Result<String, Error> {
        if ids.len() != self.id_count() {
            return Err(Error::invalid_request(format!(
                "{} takes {} id(s), got {}",
                self.name(),
                self.id_count(),
                ids.len()
            )));
        }
        let mut ids = ids.iter();
        let mut path = String::new();
        for segment in self.endpoint().segments {
            path.push('/');
            match segment {
                Literal(text) => path.push_str(text),
                Id(_) => {
                    if let Some(id) = ids.next() {
                        push_path_segment(&mut path, id.as_str());
                    }
                }
            }
        }
        Ok(path)
    }

    /// The full URL: `{base}/external/v1{path}` plus `?page=&limit=` for paginated
    /// operations. `base` is the API base (`https://…/api/v1`) or a BFF mount.
    pub fn url(
        self,
        base: &str,
        ids: &[&ObjectId],
        page: Option<PageRequest>,
    ) -> Result<String, Error> {
        let mut url = format!(
            "{}{EXTERNAL_PREFIX}{}",
            base.trim_end_matches('/'),
            self.path(ids)?
        );
        if let (true, Some(page)) = (self.is_paginated(), page) {
            url.push('?');
            url.push_str(&page.to_query());
        }
        Ok(url)
    }

    /// The reads whose cached answers a successful call of this operation makes stale.
    pub fn invalidates(self) -> &'static [Operation] {
        match self {
            Self::CreateWebhook | Self::DeleteWebhook => &[Operation::ListWebhooks],
            _ => &[],
        }
    }
}

/// Appends `raw` as one path segment: everything but unreserved characters
/// (`A-Z a-z 0-9 - _ . ~`) percent-encoded, byte by byte. A parsed
/// [`ObjectId`] is plain hex already; this keeps a deserialized one, which
/// was never checked, from adding a segment. (By hand: the
/// `percent-encoding` crate's 768-byte table is more than this needs.)
fn push_path_segment(path: &mut String, raw: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            path.push(char::from(byte));
        } else {
            path.push('%');
            path.push(char::from(HEX[usize::from(byte >> 4)]));
            path.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
    }
}

/// A request matched to an operation, with its validated ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// The operation.
    pub operation: Operation,
    /// Its ids, in path order.
    pub ids: Vec<ObjectId>,
}

/// Why a request matches no operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// The path tries to escape or disguise itself (`..`, `%2f`, `\`, `//`):
    /// refused as a bad request, never forwarded.
    Hostile(String),
    /// The path has an operation's shape but an id is not 24 hex digits.
    InvalidId(Error),
    /// No operation has this path.
    NotFound,
    /// The path exists, with other methods.
    MethodNotAllowed(Vec<Method>),
}

/// Matches `method` and a raw (still percent-encoded) `path` under
/// [`EXTERNAL_PREFIX`], like `/chatbots/64f8…/responses`, against the table.
///
/// Nothing is decoded: the table's paths are plain ASCII, so any escape, dot
/// segment, backslash or empty segment is refused as hostile.
pub fn match_route(method: &str, path: &str) -> Result<RouteMatch, RouteError> {
    if let Some(reason) = hostile_reason(path) {
        return Err(RouteError::Hostile(reason.to_owned()));
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut allowed = Vec::new();
    let mut bad_id = None;
    for endpoint in &ENDPOINTS {
        match match_segments(endpoint.segments, &segments) {
            Shape::No => {}
            Shape::BadId(err) => bad_id = bad_id.or(Some(err)),
            Shape::Yes(ids) => {
                if endpoint.method.as_str() == method {
                    return Ok(RouteMatch {
                        operation: endpoint.operation,
                        ids,
                    });
                }
                allowed.push(endpoint.method);
            }
        }
    }
    match (allowed.is_empty(), bad_id) {
        (false, _) => Err(RouteError::MethodNotAllowed(allowed)),
        (true, Some(err)) => Err(RouteError::InvalidId(err)),
        (true, None) => Err(RouteError::NotFound),
    }
}

enum Shape {
    No,
    BadId(Error),
    Yes(Vec<ObjectId>),
}

fn match_segments(template: &[Segment], segments: &[&str]) -> Shape {
    if template.len() != segments.len() {
        return Shape::No;
    }
    let mut ids = Vec::new();
    for (expected, actual) in template.iter().zip(segments) {
        match expected {
            Literal(text) if text == actual => {}
            Literal(_) => return Shape::No,
            Id(what) => match ObjectId::parse(actual, what) {
                Ok(id) => ids.push(id),
                Err(err) => return Shape::BadId(err),
            },
        }
    }
    Shape::Yes(ids)
}

/// Why a raw (still percent-encoded) `path` is hostile, if it is: escapes,
/// backslashes, empty or dot segments, a scheme or host, spaces or non-ASCII.
/// [`match_route`] applies it first; it is public so that a server can also
/// refuse such paths outside the table (`/api/conferbot/../x`) as bad requests.
pub fn hostile_reason(path: &str) -> Option<&'static str> {
    if !path.starts_with('/') {
        return Some("path must start with /");
    }
    if path.contains('%') {
        return Some("percent-encoded characters are not allowed in API paths");
    }
    if path.contains('\\') {
        return Some("backslashes are not allowed in API paths");
    }
    if path.contains("//") {
        return Some("empty path segments are not allowed");
    }
    if path.split('/').any(|s| s == "." || s == "..") {
        return Some("dot segments are not allowed in API paths");
    }
    if path.contains(':') || path.contains('@') {
        return Some("API paths cannot name a host or scheme");
    }
    if path.bytes().any(|b| !b.is_ascii_graphic()) {
        return Some("API paths are plain ASCII without spaces or control characters");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(raw: &str) -> ObjectId {
        ObjectId::parse(raw, "id").unwrap()
    }

    const BOT: &str = "64f8a2b3c1d4e5f6a7b8c9d0";

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

    #[test]
    fn builds_urls_from_the_table() {
        let bot = id(BOT);
        let page = PageRequest::new(2, 50).ok();
        assert_eq!(
            Operation::ListChatbots
                .url(DEFAULT_BASE_URL, &[], page)
                .unwrap(),
            "https://api-v2.conferbot.com/api/v1/external/v1/chatbots?page=2&limit=50"
        );
        assert_eq!(
            Operation::ListResponses
                .url("/api/conferbot/", &[&bot], None)
                .unwrap(),
            format!("/api/conferbot/external/v1/chatbots/{BOT}/responses")
        );
        assert_eq!(
            Operation::GetUsage.url("http://x", &[], page).unwrap(),
            "http://x/external/v1/usage"
        );
        assert!(Operation::GetChatbot.url("http://x", &[], None).is_err());
        assert_eq!(
            Operation::ListResponses.path_template(),
            "/chatbots/{id}/responses"
        );
        assert_eq!(Operation::CreateWebhook.endpoint().success_status, 201);
    }

    #[test]
    fn ids_are_percent_encoded_as_one_segment() {
        let mut path = String::new();
        push_path_segment(&mut path, "aZ09-_.~ /?%#é");
        assert_eq!(path, "aZ09-_.~%20%2F%3F%25%23%C3%A9");
        let unchecked: ObjectId = serde_json::from_str(r#""../usage""#).unwrap();
        assert_eq!(
            Operation::GetChatbot.path(&[&unchecked]).unwrap(),
            "/chatbots/..%2Fusage"
        );
    }

    #[test]
    fn the_bff_mount_is_a_base_like_any_other() {
        assert_eq!(
            Operation::GetUsage.url(BFF_MOUNT, &[], None).unwrap(),
            "/api/conferbot/external/v1/usage"
        );
    }

    #[test]
    fn matches_every_row_back() {
        let bot = id(BOT);
        for op in Operation::ALL {
            let ids: Vec<&ObjectId> = std::iter::repeat_n(&bot, op.id_count()).collect();
            let path = op.path(&ids).unwrap();
            let matched = match_route(op.method().as_str(), &path).unwrap();
            assert_eq!(matched.operation, op, "{path}");
            assert_eq!(matched.ids.len(), op.id_count());
        }
    }

    #[test]
    fn tells_not_found_from_wrong_method_from_bad_id() {
        assert_eq!(match_route("GET", "/nope"), Err(RouteError::NotFound));
        assert_eq!(
            match_route("GET", "/chatbots/extra/deep/path"),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            match_route("PUT", "/webhooks"),
            Err(RouteError::MethodNotAllowed(vec![
                Method::Get,
                Method::Post
            ]))
        );
        assert_eq!(
            match_route("DELETE", "/chatbots"),
            Err(RouteError::MethodNotAllowed(vec![Method::Get]))
        );
        assert!(matches!(
            match_route("GET", "/chatbots/123"),
            Err(RouteError::InvalidId(_))
        ));
    }

    #[test]
    fn hostile_reason_names_the_trick_and_passes_plain_paths() {
        assert_eq!(hostile_reason("/chatbots"), None);
        assert_eq!(hostile_reason("/anything/unknown"), None);
        assert_eq!(
            hostile_reason("/a/../b"),
            Some("dot segments are not allowed in API paths")
        );
        assert!(hostile_reason("/a%2fb").is_some());
    }

    #[test]
    fn refuses_path_tricks() {
        for path in [
            "/chatbots/..",
            "/chatbots/../usage",
            "/chatbots/%2e%2e/usage",
            "/chatbots%2fusage",
            "/chatbots/64f8a2b3c1d4e5f6a7b8c9d0%2F..",
            "//evil.example/chatbots",
            "/chatbots\\..\\usage",
            "/http://evil/chatbots",
            "/chatbots/./x",
            "chatbots",
            "/chat bots",
            "/user@host/usage",
        ] {
            assert!(
                matches!(match_route("GET", path), Err(RouteError::Hostile(_))),
                "{path}"
            );
        }
    }
}
