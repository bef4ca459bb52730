//! Webhooks: what is registered, what may be registered, and the events.

use serde::{Deserialize, Serialize};

use super::open_enum::open_enum_serde;
use crate::error::Error;
use crate::text;

/// Longest webhook URL accepted.
pub const MAX_WEBHOOK_URL_LEN: usize = 2048;

/// An event a webhook can subscribe to. Unknown events are kept, so a list
/// from a newer server still decodes; they are refused when creating one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WebhookEvent {
    /// `response.created`: a chatbot collected a new response.
    ResponseCreated,
    /// `response.updated`: a response changed.
    ResponseUpdated,
    /// `conversation.started`.
    ConversationStarted,
    /// `conversation.completed`.
    ConversationCompleted,
    /// An event this version does not know, as the server named it.
    Other(String),
}

impl WebhookEvent {
    /// The documented events.
    pub const KNOWN: [WebhookEvent; 4] = [
        WebhookEvent::ResponseCreated,
        WebhookEvent::ResponseUpdated,
        WebhookEvent::ConversationStarted,
        WebhookEvent::ConversationCompleted,
    ];

    /// The event's wire name (`"response.created"`).
    pub fn as_str(&self) -> &str {
        match self {
            Self::ResponseCreated => "response.created",
            Self::ResponseUpdated => "response.updated",
            Self::ConversationStarted => "conversation.started",
            Self::ConversationCompleted => "conversation.completed",
            Self::Other(raw) => raw,
        }
    }

    /// The event named `raw`; unknown names are kept as `Other`.
    pub fn from_name(raw: &str) -> Self {
        Self::KNOWN
            .into_iter()
            .find(|event| event.as_str() == raw)
            .unwrap_or_else(|| Self::Other(raw.to_owned()))
    }

    /// Whether this is one of the documented events.
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Other(_))
    }

    /// The known event named `raw`, or an `invalid_request` error listing the allowed ones.
    pub fn parse_known(raw: &str) -> Result<Self, Error> {
        match Self::from_name(raw) {
            Self::Other(_) => Err(Error::invalid_request(format!(
                "unknown webhook event {}; allowed: {}",
                text::describe(raw),
                Self::known_names()
            ))),
            known => Ok(known),
        }
    }

    fn known_names() -> String {
        let mut names = String::new();
        for event in &Self::KNOWN {
            if !names.is_empty() {
                names.push_str(", ");
            }
            names.push_str(event.as_str());
        }
        names
    }
}

open_enum_serde!(WebhookEvent);

/// A registered webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// 24-hex-digit object id.
    pub id: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// Events delivered.
    pub events: Vec<WebhookEvent>,
    /// Whether deliveries are being made.
    #[serde(default = "enabled")]
    pub active: bool,
    /// The signing secret; the server shows it only in the answer to create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// ISO 8601 creation time.
    #[serde(default)]
    pub created_at: String,
}

fn enabled() -> bool {
    true
}

/// The body of `POST /external/v1/webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewWebhook {
    /// An absolute `http` or `https` URL.
    pub url: String,
    /// One or more documented events, without repeats.
    pub events: Vec<WebhookEvent>,
}

impl NewWebhook {
    /// Checks the URL and the events, saying what is wrong and what is allowed.
    pub fn validate(&self) -> Result<(), Error> {
        validate_webhook_url(&self.url)?;
        if self.events.is_empty() {
            return Err(Error::invalid_request(format!(
                "events must name at least one event; allowed: {}",
                WebhookEvent::known_names()
            )));
        }
        for (i, event) in self.events.iter().enumerate() {
            WebhookEvent::parse_known(event.as_str())?;
            if self.events.iter().take(i).any(|earlier| earlier == event) {
                return Err(Error::invalid_request(format!(
                    "event {} is listed twice",
                    text::quote(event.as_str())
                )));
            }
        }
        Ok(())
    }
}

/// An absolute `http(s)://host[:port][/path]` URL without whitespace, control
/// characters or credentials, at most [`MAX_WEBHOOK_URL_LEN`] bytes.
fn validate_webhook_url(url: &str) -> Result<(), Error> {
    let invalid = |why: &str| Err(Error::invalid_request(format!("url {why}")));
    if url.is_empty() {
        return invalid("is required: an absolute http or https URL");
    }
    if url.len() > MAX_WEBHOOK_URL_LEN {
        return invalid(&format!("is longer than {MAX_WEBHOOK_URL_LEN} characters"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid("must not contain spaces or control characters");
    }
    // Byte searches rather than `split_once("://")` / `contains("..")`: the
    // same result without the substring searcher in the wasm module.
    let scheme_end = url.as_bytes().windows(3).position(|w| w == b"://");
    let rest = match scheme_end.and_then(|at| Some((url.get(..at)?, url.get(at + 3..)?))) {
        Some((scheme, rest))
            if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http") =>
        {
            rest
        }
        _ => return invalid("must start with https:// or http://"),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return invalid("must not carry credentials (user:password@)");
    }
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(host, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) && !host.ends_with(':') {
                host
            } else {
                authority
            }
        });
    if host.is_empty() || host.starts_with('.') || host.as_bytes().windows(2).any(|w| w == b"..") {
        return invalid("must name a host");
    }
    Ok(())
}

/// The answer to `DELETE /external/v1/webhooks/{id}`: `{"data": {"id", "deleted"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedWebhook {
    /// The id that was deleted.
    pub id: String,
    /// Always `true` in a success answer.
    pub deleted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(url: &str, events: &[&str]) -> NewWebhook {
        NewWebhook {
            url: url.into(),
            events: events.iter().map(|e| WebhookEvent::from_name(e)).collect(),
        }
    }

    #[test]
    fn accepts_documented_events_and_absolute_urls() {
        assert!(new("https://example.com/hooks", &["response.created"])
            .validate()
            .is_ok());
        assert!(new(
            "http://127.0.0.1:8787/in",
            &["response.created", "conversation.completed"]
        )
        .validate()
        .is_ok());
        assert!(new("https://[::1]:9000/x", &["response.updated"])
            .validate()
            .is_ok());
    }

    #[test]
    fn rejects_bad_urls_and_events_with_a_reason() {
        let cases = [
            (new("", &["response.created"]), "url is required"),
            (new("ftp://x.com", &["response.created"]), "https://"),
            (new("example.com/x", &["response.created"]), "https://"),
            (new("https://", &["response.created"]), "must name a host"),
            (new("https://a b.com", &["response.created"]), "spaces"),
            (
                new("https://u:p@x.com", &["response.created"]),
                "credentials",
            ),
            (new("https://x.com", &[]), "at least one event"),
            (
                new("https://x.com", &["response.deleted"]),
                "unknown webhook event \"response.deleted\"; allowed: response.created",
            ),
            (
                new("https://x.com", &["response.created", "response.created"]),
                "listed twice",
            ),
        ];
        for (hook, expected) in cases {
            let err = hook.validate().unwrap_err();
            assert!(err.message.contains(expected), "{hook:?}: {}", err.message);
        }
        let long = format!("https://x.com/{}", "a".repeat(MAX_WEBHOOK_URL_LEN));
        assert!(new(&long, &["response.created"]).validate().is_err());
    }

    /// Found with the `request_decision` fuzz target's bound on error
    /// bodies: an unknown event was quoted whole, however long.
    #[test]
    fn an_unknown_events_name_is_shortened_in_the_message() {
        let name = "A".repeat(3_000);
        let err = new("https://example.com/h", &[&name])
            .validate()
            .unwrap_err();
        assert!(err.message.len() < 300, "{}", err.message);
        assert!(err.message.contains("(3000 characters)"), "{}", err.message);
    }

    #[test]
    fn decodes_unknown_events_without_failing() {
        let raw = r#"{"id":"64f8a2b3c1d4e5f6a7b8c9d0","url":"https://x.com","events":["response.created","bot.deleted"],"createdAt":"c"}"#;
        let hook: Webhook = serde_json::from_str(raw).unwrap();
        assert_eq!(
            hook.events,
            vec![
                WebhookEvent::ResponseCreated,
                WebhookEvent::Other("bot.deleted".into())
            ]
        );
        assert!(hook.active);
        assert_eq!(
            serde_json::to_value(&hook).unwrap()["events"][1],
            "bot.deleted"
        );
    }
}
