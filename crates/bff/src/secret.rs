//! The API key and the webhook secret, in types that cannot leak them by accident.
//!
//! `Debug` and `Display` print `[redacted]`, so neither can reach a log
//! line, an error message or a panic message through formatting. The key's
//! text goes only into the upstream request headers (the one marked
//! sensitive, so HTTP tooling skips it too), the key scan and the Redis
//! fingerprint; the webhook secret's bytes only reach the signature check.

use std::fmt;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use conferbot::API_KEY_HEADER;
use conferbot_policy::headers::upstream_headers;
use conferbot_policy::secret_scan::SecretScanner;
use conferbot_policy::shared_state;

/// The upstream API key. Never printed, never compared in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps `raw`, trimmed of surrounding whitespace (a key file usually ends
    /// with a newline). `None` when nothing is left.
    pub fn new(raw: impl Into<String>) -> Option<Self> {
        let raw = raw.into();
        let trimmed = raw.trim();
        (!trimmed.is_empty()).then(|| Self(trimmed.to_owned()))
    }

    /// Every header of an upstream request, as the policy lists them, the
    /// key's marked sensitive; `None` when the key holds characters a header
    /// cannot carry.
    pub(crate) fn upstream_headers(&self, with_body: bool) -> Option<HeaderMap> {
        let mut headers = HeaderMap::new();
        for (name, value) in upstream_headers(&self.0, with_body) {
            let mut value = HeaderValue::from_str(value).ok()?;
            value.set_sensitive(name == API_KEY_HEADER);
            headers.insert(HeaderName::from_static(name), value);
        }
        Some(headers)
    }

    /// A searcher for the key and the webhook secret (when there is one),
    /// built once and reused for every answer: the upstream client refuses to
    /// pass on an answer that repeats either, in any spelling.
    pub(crate) fn scanner(&self, webhook: Option<&WebhookSecret>) -> SecretScanner {
        SecretScanner::new(std::iter::once(self.0.as_str()).chain(webhook.map(|w| w.0.as_str())))
    }

    /// The prefix of this key's shared state in Redis (a keyed hash of the
    /// key, never the key).
    pub(crate) fn shared_prefix(&self) -> String {
        shared_state::prefix(&self.0)
    }
}

/// The secret webhook deliveries are signed with (`CONFERBOT_WEBHOOK_SECRET`).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// Wraps `raw`, trimmed of surrounding whitespace; `None` when nothing is left.
    pub fn new(raw: impl Into<String>) -> Option<Self> {
        let raw = raw.into();
        let trimmed = raw.trim();
        (!trimmed.is_empty()).then(|| Self(trimmed.to_owned()))
    }

    /// A fresh `whsec_…` secret of 256 random bits, for the embedded sandbox.
    /// The bits come from the standard library's per-process random hasher
    /// keys (seeded by the operating system), so no extra crate is needed.
    #[cfg(feature = "sandbox")]
    pub fn generate() -> Self {
        use std::collections::hash_map::RandomState;
        use std::hash::{BuildHasher, Hasher};

        let mut hex = String::from("whsec_");
        for round in 0..4_u64 {
            let mut hasher = RandomState::new().build_hasher();
            hasher.write_u64(round);
            hex.push_str(&format!("{:016x}", hasher.finish()));
        }
        Self(hex)
    }

    /// The secret's bytes, for the HMAC check only.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The secret's text, for configuring the embedded sandbox only.
    #[cfg(feature = "sandbox")]
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_formats_the_key() {
        let key = ApiKey::new(" sk-live-123\n").unwrap();
        assert_eq!(format!("{key}"), "[redacted]");
        assert_eq!(format!("{key:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(&key)), "Some([redacted])");
        let headers = key.upstream_headers(false).unwrap();
        assert!(headers[API_KEY_HEADER].is_sensitive());
        assert_eq!(headers[API_KEY_HEADER], "sk-live-123");
        assert!(!headers["accept"].is_sensitive());
        assert!(!format!("{headers:?}").contains("sk-live-123"));
        assert_eq!(
            key.upstream_headers(true).unwrap()["content-type"],
            "application/json"
        );
        assert!(ApiKey::new("sk\nx")
            .unwrap()
            .upstream_headers(false)
            .is_none());
    }

    #[test]
    fn finds_itself_in_a_body() {
        let secret = WebhookSecret::new("whsec_live_456").unwrap();
        let scanner = ApiKey::new("sk-live-123").unwrap().scanner(Some(&secret));
        assert!(scanner.occurs_in_answer(br#"{"echo":"sk-live-123"}"#));
        assert!(scanner.occurs_in_answer(br#"{"echo":"sk\u002dlive-123"}"#));
        assert!(scanner.occurs_in_answer(br#"{"secret":"whsec_live_456"}"#));
        assert!(!scanner.occurs_in_answer(br#"{"data":[]}"#));
        assert_eq!(format!("{scanner:?}"), "[redacted]");
        assert!(ApiKey::new("  \n").is_none());
    }

    #[test]
    fn shared_prefixes_reveal_nothing() {
        let key = ApiKey::new("sk-live-123").unwrap();
        let prefix = key.shared_prefix();
        assert!(prefix.starts_with("conferbot-bff:{") && !prefix.contains("123"));
        assert_eq!(prefix, ApiKey::new("sk-live-123").unwrap().shared_prefix());
        assert_ne!(prefix, ApiKey::new("sk-live-124").unwrap().shared_prefix());
    }

    #[cfg(feature = "sandbox")]
    #[test]
    fn generated_secrets_differ_and_reveal_nothing() {
        let (a, b) = (WebhookSecret::generate(), WebhookSecret::generate());
        assert_ne!(a, b);
        assert!(a.expose().starts_with("whsec_") && a.expose().len() == 6 + 64);
        assert_eq!(format!("{a:?}"), "[redacted]");
    }
}
