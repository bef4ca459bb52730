//! What a sandbox is started with: seed, data size and style, rate, keys,
//! webhook signing and faults. The binary's flags map one to one onto it.

use std::time::Duration;

use conferbot::{Plan, RateSpec};

use crate::faults::FaultSpec;

/// Chatbots seeded in each workspace by default (enough for 7 pages of 20).
pub const DEFAULT_CHATBOTS: usize = 137;
/// The default seed.
pub const DEFAULT_SEED: u64 = 42;
/// Most responses seeded per chatbot by default: several pages at small limits.
pub const DEFAULT_MAX_RESPONSES: u64 = 60;
/// First wait before retrying a failed webhook delivery; it doubles each time.
pub const DEFAULT_DELIVERY_BACKOFF: Duration = Duration::from_secs(1);

/// What the free-text answers of seeded responses look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AnswerStyle {
    /// Names, emails, ratings and short messages, as most forms collect.
    #[default]
    Plain,
    /// Also text that CSV writers must quote and spreadsheets misread: commas,
    /// double quotes, LF and CRLF line breaks, tabs, outer spaces, non-ASCII,
    /// formula-like text and empty strings; answer names with commas and
    /// quotes; answers missing from some responses, `null`, nested objects and
    /// arrays. For exporters' tests (`--tricky-answers`).
    Tricky,
}

/// How a sandbox behaves. `Default` is the upstream's documented behaviour
/// with seed 42 and 137 chatbots per workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxConfig {
    /// Seed of every generated chatbot, response, id and secret.
    pub seed: u64,
    /// Chatbots in each workspace.
    pub chatbots_per_workspace: usize,
    /// Most responses a seeded chatbot has (each has from 0 to this many).
    pub max_responses_per_chatbot: u64,
    /// What seeded answers look like.
    pub answers: AnswerStyle,
    /// The per-key sliding-window limit (`60/60s` upstream).
    pub rate: RateSpec,
    /// Keys beyond the built-in ones, each its own workspace on its plan.
    pub extra_keys: Vec<(String, Plan)>,
    /// Signing secret of every webhook created, instead of a generated
    /// `whsec_…` one, so a receiver started beforehand can verify deliveries.
    pub webhook_secret: Option<String>,
    /// First wait before retrying a failed delivery (then ×2, ×4).
    pub delivery_backoff: Duration,
    /// Faults armed at start, hitting the first API calls.
    pub faults: Vec<FaultSpec>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            seed: DEFAULT_SEED,
            chatbots_per_workspace: DEFAULT_CHATBOTS,
            max_responses_per_chatbot: DEFAULT_MAX_RESPONSES,
            answers: AnswerStyle::Plain,
            rate: RateSpec::UPSTREAM,
            extra_keys: Vec::new(),
            webhook_secret: None,
            delivery_backoff: DEFAULT_DELIVERY_BACKOFF,
            faults: Vec::new(),
        }
    }
}
