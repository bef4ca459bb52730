//! Object ids: 24 hexadecimal digits, validated before they go into any path.
//!
//! Because an id is spliced into a URL path, an unvalidated id could add a
//! segment (`../usage`), a query (`?x=`) or a host (`//evil`). Only ids that are
//! exactly 24 ASCII hex digits are accepted, so no id can change the route.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::text;

/// Number of hex digits in an object id.
pub const OBJECT_ID_LEN: usize = 24;

/// A validated Conferbot object id (`64f8a2b3c1d4e5f6a7b8c9d0`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ObjectId(String);

impl ObjectId {
    /// Validates `raw` as an object id; `what` names it in the error ("chatbot
    /// id"). Hex digits are kept in lower case: `64F8…` and `64f8…` name one
    /// object, so they make one URL and one cache key.
    pub fn parse(raw: &str, what: &str) -> Result<Self, Error> {
        if is_object_id(raw) {
            Ok(Self(raw.to_ascii_lowercase()))
        } else {
            Err(Error::invalid_request(format!(
                "{what} must be 24 hexadecimal digits (like 64f8a2b3c1d4e5f6a7b8c9d0), got {}",
                text::describe(raw)
            )))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// True when `raw` is exactly 24 ASCII hex digits.
pub fn is_object_id(raw: &str) -> bool {
    raw.len() == OBJECT_ID_LEN && raw.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_24_hex_digits_in_either_case() {
        assert!(ObjectId::parse("64f8a2b3c1d4e5f6a7b8c9d0", "id").is_ok());
        let upper = ObjectId::parse("64F8A2B3C1D4E5F6A7B8C9D0", "id").unwrap();
        assert_eq!(
            upper.as_str(),
            "64f8a2b3c1d4e5f6a7b8c9d0",
            "canonical: lower case"
        );
        assert_eq!(
            upper,
            ObjectId::parse("64f8A2b3c1d4e5f6a7b8c9d0", "id").unwrap()
        );
    }

    #[test]
    fn rejects_anything_that_could_change_a_path() {
        for bad in [
            "",
            "64f8a2b3c1d4e5f6a7b8c9d",
            "64f8a2b3c1d4e5f6a7b8c9d00",
            "../usage",
            "64f8a2b3c1d4e5f6a7b8c9d/",
            "64f8a2b3c1d4e5f6a7b8c9g0",
            "%2e%2e%2f64f8a2b3c1d4e5f6",
            "64f8a2b3c1d4e5f6a7b8c9d0?x",
            "６４f8a2b3c1d4e5f6a7b8c9d0",
        ] {
            let err = ObjectId::parse(bad, "chatbot id").unwrap_err();
            assert_eq!(err.kind, crate::ErrorKind::InvalidRequest, "{bad}");
            assert!(
                err.message
                    .contains("chatbot id must be 24 hexadecimal digits"),
                "{}",
                err.message
            );
        }
    }

    #[test]
    fn long_rejected_values_are_shortened_in_messages() {
        let long = "x".repeat(500);
        let err = ObjectId::parse(&long, "id").unwrap_err();
        assert!(err.message.len() < 200, "{}", err.message);
        assert!(err.message.contains("500 characters"));
    }
}
