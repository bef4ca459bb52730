//! Deterministic data: the same seed and key always give the same chatbots,
//! names, statuses, dates and responses, on every machine.
//!
//! Each workspace draws from its own stream (seed mixed with its key), so a
//! workspace's data does not change when other keys are added.

use conferbot::{Chatbot, ChatbotResponse};
use serde_json::{json, Map, Value};

use crate::clock::iso_ms;
use crate::config::{AnswerStyle, SandboxConfig};
use crate::prng::{fnv1a, SplitMix64};
use crate::tricky;
use crate::workspace::{SeededChatbot, Workspace};

/// 2024-01-01T00:00:00.000Z: seeded chatbots are created during 2024.
const EPOCH_2024_MS: i64 = 1_704_067_200_000;
const DAY_MS: i64 = 86_400_000;

const TOPICS: [&str; 14] = [
    "Customer Support",
    "Lead Qualification",
    "Feedback Survey",
    "Appointment Booking",
    "Product Finder",
    "Order Tracking",
    "Onboarding",
    "HR Helpdesk",
    "Event Registration",
    "Course Enrollment",
    "Restaurant Reservations",
    "Real Estate Inquiry",
    "IT Helpdesk",
    "Newsletter Signup",
];
const KINDS: [&str; 6] = ["Bot", "Assistant", "Form", "Flow", "Chat", "Agent"];
const FIRST_NAMES: [&str; 10] = [
    "Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "Ken", "Radia", "Dennis", "Frances",
];
const MESSAGES: [&str; 6] = [
    "I'd like to know more about pricing.",
    "Where is my order?",
    "Can I book for next Tuesday?",
    "Great service, thanks!",
    "The app crashes on login.",
    "Do you ship internationally?",
];

/// The seeded data of the workspace of `key`, as `config` shapes it.
pub fn workspace(config: &SandboxConfig, key: &str) -> Workspace {
    let mut rng = SplitMix64::new(config.seed ^ fnv1a(key));
    let mut bots: Vec<SeededChatbot> = (0..config.chatbots_per_workspace)
        .map(|_| chatbot(&mut rng, config.max_responses_per_chatbot, config.answers))
        .collect();
    // Newest first, as dashboards list them; ties keep generation order.
    bots.sort_by(|a, b| b.chatbot.created_at.cmp(&a.chatbot.created_at));
    Workspace::new(bots)
}

/// An object id whose first 8 digits are its creation second, like MongoDB's.
pub fn object_id(rng: &mut SplitMix64, created_ms: i64) -> String {
    let secs = u32::try_from(created_ms.div_euclid(1_000)).unwrap_or(u32::MAX);
    format!("{secs:08x}{}", rng.hex(16))
}

fn chatbot(rng: &mut SplitMix64, max_responses: u64, style: AnswerStyle) -> SeededChatbot {
    let created = EPOCH_2024_MS + whole_seconds(rng.below(365 * DAY_MS as u64));
    // At least a day after creation, so every seeded response fits in between.
    let updated = created + DAY_MS + whole_seconds(rng.below(180 * DAY_MS as u64));
    let id = object_id(rng, created);
    let name = format!(
        "{} {}",
        rng.pick(&TOPICS).copied().unwrap_or("Support"),
        rng.pick(&KINDS).copied().unwrap_or("Bot")
    );
    let status = match rng.below(100) {
        0..=79 => "active",
        80..=91 => "inactive",
        _ => "draft",
    };
    let count = if status == "draft" {
        0
    } else {
        rng.below(max_responses.saturating_add(1))
    };
    let responses = ResponseSeed {
        seed: rng.next_u64(),
        count,
        style,
        from: created,
        // A response's update comes at most `MAX_FILL_MS` after its creation.
        to: updated - MAX_FILL_MS,
    };
    SeededChatbot::new(
        Chatbot {
            id,
            name,
            status: status.to_owned(),
            response_count: count,
            created_at: iso_ms(created),
            updated_at: iso_ms(updated),
        },
        responses,
    )
}

fn whole_seconds(ms: u64) -> i64 {
    i64::try_from(ms / 1_000 * 1_000).unwrap_or(0)
}

/// How long a respondent takes to complete a response, at most.
const MAX_FILL_MS: i64 = 600_000;

/// What a chatbot's seeded responses are generated from.
///
/// Responses are generated when read rather than stored: a benchmark sandbox
/// with 10,000 chatbots per workspace would otherwise hold millions of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseSeed {
    seed: u64,
    count: u64,
    style: AnswerStyle,
    from: i64,
    to: i64,
}

impl ResponseSeed {
    /// The responses of chatbot `chatbot_id`, newest first; the same every time.
    pub fn generate(&self, chatbot_id: &str) -> Vec<ChatbotResponse> {
        let mut rng = SplitMix64::new(self.seed);
        let span = u64::try_from(self.to - self.from).unwrap_or(0).max(1);
        let mut responses: Vec<(i64, ChatbotResponse)> = (0..self.count)
            .map(|_| {
                let created = self.from + i64::try_from(rng.below(span)).unwrap_or(0);
                let completed = rng.percent(85);
                let fill = if completed {
                    rng.below(MAX_FILL_MS as u64)
                } else {
                    0
                };
                let updated = created + i64::try_from(fill).unwrap_or(0);
                let response = ChatbotResponse {
                    id: object_id(&mut rng, created),
                    chatbot_id: chatbot_id.to_owned(),
                    status: if completed { "completed" } else { "partial" }.to_owned(),
                    answers: match self.style {
                        AnswerStyle::Plain => answers(&mut rng, completed),
                        AnswerStyle::Tricky => tricky::answers(&mut rng, completed),
                    },
                    created_at: iso_ms(created),
                    updated_at: iso_ms(updated),
                };
                (created, response)
            })
            .collect();
        responses.sort_by_key(|r| std::cmp::Reverse(r.0));
        responses.into_iter().map(|(_, r)| r).collect()
    }
}

/// Answers of a response, with a mix of JSON types like real forms produce.
pub fn answers(rng: &mut SplitMix64, completed: bool) -> Map<String, Value> {
    let name = rng.pick(&FIRST_NAMES).copied().unwrap_or("Ada");
    let mut answers = Map::new();
    answers.insert("name".to_owned(), json!(name));
    answers.insert(
        "email".to_owned(),
        json!(format!("{}@example.com", name.to_ascii_lowercase())),
    );
    if completed {
        answers.insert("rating".to_owned(), json!(1 + rng.below(5)));
        answers.insert(
            "message".to_owned(),
            json!(rng.pick(&MESSAGES).copied().unwrap_or("Hello")),
        );
        answers.insert("subscribed".to_owned(), json!(rng.percent(40)));
    }
    answers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shaped(seed: u64, chatbots: usize) -> SandboxConfig {
        SandboxConfig {
            seed,
            chatbots_per_workspace: chatbots,
            ..SandboxConfig::default()
        }
    }

    #[test]
    fn same_seed_same_data_and_counts_match() {
        let a = workspace(&shaped(42, 30), "k");
        assert_eq!(a, workspace(&shaped(42, 30), "k"));
        assert_ne!(a, workspace(&shaped(43, 30), "k"));
        assert_ne!(a, workspace(&shaped(42, 30), "other"));
        for bot in a.chatbots(0..30) {
            let responses = a.responses(&bot.id).unwrap();
            assert_eq!(bot.response_count, responses.len() as u64);
            assert_eq!(responses, a.responses(&bot.id).unwrap());
            assert!(conferbot::id::is_object_id(&bot.id));
            assert!(bot.updated_at > bot.created_at);
            for r in &responses {
                assert!(r.created_at >= bot.created_at && r.updated_at <= bot.updated_at);
            }
            assert!(responses
                .windows(2)
                .all(|w| w[0].created_at >= w[1].created_at));
        }
    }

    #[test]
    fn max_responses_and_tricky_answers_shape_the_data() {
        let config = SandboxConfig {
            max_responses_per_chatbot: 300,
            answers: AnswerStyle::Tricky,
            ..shaped(42, 40)
        };
        let ws = workspace(&config, "k");
        let bots = ws.chatbots(0..40);
        let responses: Vec<_> = bots
            .iter()
            .flat_map(|b| ws.responses(&b.id).unwrap())
            .collect();
        assert!(bots.iter().all(|b| b.response_count <= 300));
        assert!(
            bots.iter().any(|b| b.response_count > 100),
            "several pages of 100"
        );
        let text: Vec<String> = responses
            .iter()
            .flat_map(|r| r.answers.values().map(Value::to_string))
            .collect();
        for needle in [",", "\\\"", "\\n", "\\r\\n"] {
            assert!(
                text.iter().any(|t| t.contains(needle)),
                "an answer with {needle}"
            );
        }
        // The same chatbots (ids, names) as the plain data: only answers differ.
        let plain = workspace(&shaped(42, 40), "k");
        assert_eq!(
            bots.iter().map(|b| &b.name).collect::<Vec<_>>(),
            plain
                .chatbots(0..40)
                .iter()
                .map(|b| &b.name)
                .collect::<Vec<_>>()
        );
    }
}
