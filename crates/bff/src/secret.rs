//! The API key, in a type that cannot leak it by accident.
//!
//! `Debug` and `Display` print `[redacted]`, so the key cannot reach a log
//! line, an error message or a panic message through formatting. The only way
//! to the text is `ApiKey::header_value` (crate-private), which the upstream client uses to
//! build the `x-api-key` header (marked sensitive, so HTTP tooling skips it too).

use std::fmt;

use axum::http::HeaderValue;

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

    /// Whether `haystack` contains the key: the upstream client refuses to
    /// pass on an answer that echoes it.
    pub(crate) fn occurs_in(&self, haystack: &[u8]) -> bool {
        let needle = self.0.as_bytes();
        !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
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
        let key = ApiKey::new("sk-live-123").unwrap();
        assert!(key.occurs_in(br#"{"echo":"sk-live-123"}"#));
        assert!(!key.occurs_in(br#"{"data":[]}"#));
        assert!(ApiKey::new("  \n").is_none());
    }
}
