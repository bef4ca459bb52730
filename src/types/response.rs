//! Responses a chatbot collected (`GET /external/v1/chatbots/{id}/responses`).

use serde::{Deserialize, Serialize};

/// One response (a filled-in conversation) of a chatbot.
///
/// Modelled on the API's conventions; the guide does not print this shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatbotResponse {
    /// 24-hex-digit object id.
    pub id: String,
    /// The chatbot that collected it.
    pub chatbot_id: String,
    /// `"completed"`, `"partial"`, … kept as the server writes it.
    #[serde(default)]
    pub status: String,
    /// Answers by question, as the server sent them.
    #[serde(default)]
    pub answers: serde_json::Map<String, serde_json::Value>,
    /// ISO 8601 creation time.
    pub created_at: String,
    /// ISO 8601 time of the last change.
    #[serde(default)]
    pub updated_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_with_answers_of_any_json_type() {
        let raw = r#"{"id":"64f8a2b3c1d4e5f6a7b8c9d1","chatbotId":"64f8a2b3c1d4e5f6a7b8c9d0",
            "status":"completed","answers":{"name":"Ada","rating":5},"createdAt":"c","updatedAt":"u"}"#;
        let r: ChatbotResponse = serde_json::from_str(raw).unwrap();
        assert_eq!(r.answers["rating"], 5);
        assert_eq!(r.chatbot_id, "64f8a2b3c1d4e5f6a7b8c9d0");
    }
}
