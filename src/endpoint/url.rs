//! An operation's path and full URL, its ids filled in as single segments.

use super::{Operation, Segment::Id, Segment::Literal, EXTERNAL_PREFIX};
use crate::error::Error;
use crate::id::ObjectId;
use crate::pagination::PageRequest;

impl Operation {
    /// The path under [`EXTERNAL_PREFIX`] with `ids` filled in, in order.
    pub fn path(self, ids: &[&ObjectId]) -> Result<String, Error> {
        let mut path = String::new();
        self.push_path(&mut path, ids)?;
        Ok(path)
    }

    /// Appends [`Operation::path`] to `out`, so that a whole URL is written
    /// into one buffer (a request's URL is built on every upstream call).
    fn push_path(self, out: &mut String, ids: &[&ObjectId]) -> Result<(), Error> {
        if ids.len() != self.id_count() {
            return Err(Error::invalid_request(format!(
                "{} takes {} id(s), got {}",
                self.name(),
                self.id_count(),
                ids.len()
            )));
        }
        let mut ids = ids.iter();
        for segment in self.endpoint().segments {
            out.push('/');
            match segment {
                Literal(text) => out.push_str(text),
                Id(_) => {
                    if let Some(id) = ids.next() {
                        push_path_segment(out, id.as_str());
                    }
                }
            }
        }
        Ok(())
    }

    /// The full URL: `{base}/external/v1{path}` plus `?page=&limit=` for paginated
    /// operations. `base` is the API base (`https://…/api/v1`) or a BFF mount.
    pub fn url(
        self,
        base: &str,
        ids: &[&ObjectId],
        page: Option<PageRequest>,
    ) -> Result<String, Error> {
        let base = base.trim_end_matches('/');
        // Room for the table's longest path and a query: one allocation.
        let mut url = String::with_capacity(base.len() + EXTERNAL_PREFIX.len() + 96);
        url.push_str(base);
        url.push_str(EXTERNAL_PREFIX);
        self.push_path(&mut url, ids)?;
        if let (true, Some(page)) = (self.is_paginated(), page) {
            url.push('?');
            url.push_str(&page.to_query());
        }
        Ok(url)
    }
}

/// Appends `raw` as one path segment: everything but unreserved characters
/// (`A-Z a-z 0-9 - _ . ~`) percent-encoded, byte by byte. A parsed
/// [`ObjectId`] is plain hex already; this keeps a deserialized one, which
/// was never checked, from adding a segment. (By hand: the
/// `percent-encoding` crate's 768-byte table is more than this needs.)
fn push_path_segment(path: &mut String, raw: &str) {
    // A nibble is below 16, so `from_digit` always has its digit.
    let hex = |nibble: u8| {
        char::from_digit(u32::from(nibble), 16)
            .unwrap_or('0')
            .to_ascii_uppercase()
    };
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            path.push(char::from(byte));
        } else {
            path.push('%');
            path.push(hex(byte >> 4));
            path.push(hex(byte & 0xf));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::{BFF_MOUNT, DEFAULT_BASE_URL};

    fn id(raw: &str) -> ObjectId {
        ObjectId::parse(raw, "id").unwrap()
    }

    const BOT: &str = "64f8a2b3c1d4e5f6a7b8c9d0";

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
}
