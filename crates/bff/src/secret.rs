//! The API key and the webhook secret, in types that cannot leak them by accident.
//!
//! `Debug` and `Display` print `[redacted]`, so neither can reach a log
//! line, an error message or a panic message through formatting. The only way
//! to the key's text is `ApiKey::header_value` (crate-private), which the upstream client uses to
//! build the `x-api-key` header (marked sensitive, so HTTP tooling skips it too);
//! the webhook secret's bytes only reach the signature check.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};

use axum::http::HeaderValue;
use memchr::memmem::Finder;

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

    /// The key as a header value marked sensitive, or `None` when the key
    /// holds characters a header cannot carry.
    pub(crate) fn header_value(&self) -> Option<HeaderValue> {
        let mut value = HeaderValue::from_str(&self.0).ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    /// A searcher for the key, built once and reused for every answer: the
    /// upstream client refuses to pass on an answer that echoes the key.
    pub(crate) fn scanner(&self) -> KeyScanner {
        KeyScanner(Finder::new(self.0.as_bytes()).into_owned())
    }

    /// A short, stable name for the key that does not reveal it: the first 16
    /// hex digits of an HMAC-SHA256 under a fixed label. Replicas with the same
    /// key share their Redis state under it; other keys get their own.
    pub(crate) fn fingerprint(&self) -> String {
        let mac = conferbot::sign_webhook_body(self.0.as_bytes(), b"conferbot-bff key fingerprint");
        mac.chars().take(16).collect()
    }
}

/// Finds the API key in upstream answers (SIMD substring search). It holds
/// the key's bytes, so, like [`ApiKey`], it never formats them.
#[derive(Clone)]
pub(crate) struct KeyScanner(Finder<'static>);

impl KeyScanner {
    /// Whether `haystack` contains the key (never true for an empty key,
    /// which [`ApiKey::new`] refuses anyway).
    pub(crate) fn occurs_in(&self, haystack: &[u8]) -> bool {
        !self.0.needle().is_empty() && self.0.find(haystack).is_some()
    }
}

impl fmt::Debug for KeyScanner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
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
    pub fn generate() -> Self {
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
        assert!(key.header_value().unwrap().is_sensitive());
        assert_eq!(key.header_value().unwrap(), "sk-live-123");
    }

    #[test]
    fn finds_itself_in_a_body() {
        let scanner = ApiKey::new("sk-live-123").unwrap().scanner();
        assert!(scanner.occurs_in(br#"{"echo":"sk-live-123"}"#));
        assert!(!scanner.occurs_in(br#"{"data":[]}"#));
        assert!(!scanner.occurs_in(b"sk-live-12"));
        assert!(!scanner.occurs_in(b""));
        assert_eq!(format!("{scanner:?}"), "[redacted]");
        assert!(ApiKey::new("  \n").is_none());
    }

    #[test]
    fn fingerprints_and_generated_secrets_reveal_nothing() {
        let key = ApiKey::new("sk-live-123").unwrap();
        let print = key.fingerprint();
        assert_eq!(print.len(), 16);
        assert!(!print.contains("123"));
        assert_eq!(print, ApiKey::new("sk-live-123").unwrap().fingerprint());
        assert_ne!(print, ApiKey::new("sk-live-124").unwrap().fingerprint());
        let (a, b) = (WebhookSecret::generate(), WebhookSecret::generate());
        assert_ne!(a, b);
        assert!(a.expose().starts_with("whsec_") && a.expose().len() == 6 + 64);
        assert_eq!(format!("{a:?}"), "[redacted]");
    }
}
