//! Chatbots, as listed by `GET /external/v1/chatbots`.

use serde::{Deserialize, Serialize};

/// A chatbot of the workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Chatbot {
    /// 24-hex-digit object id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `"active"`, `"inactive"`, … kept as the server writes it.
    pub status: String,
    /// Number of responses collected.
    #[serde(default)]
    pub response_count: u64,
    /// ISO 8601 creation time.
    pub created_at: String,
    /// ISO 8601 time of the last change.
    pub updated_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Page;

    /// The list example of the upstream guide, verbatim (it has no total/page/totalPages).
    const GUIDE_LIST: &str = "{\n\"data\": [\n{\n\"id\": \"64f8a2b3c1d4e5f6a7b8c9d0\",\n\"name\": \"Customer Support Bot\",\n\"status\": \"active\",\n\"responseCount\": 12847,\n\"createdAt\": \"2024-09-01T10:30:00.000Z\",\n\"updatedAt\": \"2024-12-15T14:22:00.000Z\"\n}\n]\n}";

    #[test]
    fn decodes_the_guides_list_example() {
        let page: Page<Chatbot> = serde_json::from_str(GUIDE_LIST).unwrap();
        assert_eq!(
            page.data,
            vec![Chatbot {
                id: "64f8a2b3c1d4e5f6a7b8c9d0".into(),
                name: "Customer Support Bot".into(),
                status: "active".into(),
                response_count: 12847,
                created_at: "2024-09-01T10:30:00.000Z".into(),
                updated_at: "2024-12-15T14:22:00.000Z".into(),
            }]
        );
        assert_eq!(
            (page.total, page.page, page.total_pages),
            (None, None, None)
        );
    }

    #[test]
    fn ignores_fields_added_later() {
        let raw = r#"{"id":"64f8a2b3c1d4e5f6a7b8c9d0","name":"n","status":"paused","responseCount":1,
            "createdAt":"c","updatedAt":"u","avatar":{"url":"x"},"tags":["a"]}"#;
        let bot: Chatbot = serde_json::from_str(raw).unwrap();
        assert_eq!(bot.status, "paused");
    }

    #[test]
    fn encodes_camel_case() {
        let bot = Chatbot {
            id: "64f8a2b3c1d4e5f6a7b8c9d0".into(),
            name: "n".into(),
            status: "active".into(),
            response_count: 3,
            created_at: "c".into(),
            updated_at: "u".into(),
        };
        let json = serde_json::to_value(&bot).unwrap();
        assert_eq!(json["responseCount"], 3);
        assert_eq!(json["createdAt"], "c");
    }
}
