//! What a sandbox is started with: seed, data size, rate, keys, webhook
//! signing and faults. The binary's flags map one to one onto it.

use std::time::Duration;

use conferbot::{Plan, RateSpec};

use crate::faults::FaultSpec;

/// Chatbots seeded in each workspace by default (enough for 7 pages of 20).
pub const DEFAULT_CHATBOTS: usize = 137;
/// The default seed.
pub const DEFAULT_SEED: u64 = 42;
/// First wait before retrying a failed webhook delivery; it doubles each time.
pub const DEFAULT_DELIVERY_BACKOFF: Duration = Duration::from_secs(1);

/// How a sandbox behaves. `Default` is the upstream's documented behaviour
/// with seed 42 and 137 chatbots per workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxConfig {
    /// Seed of every generated chatbot, response, id and secret.
    pub seed: u64,
    /// Chatbots in each workspace.
    pub chatbots_per_workspace: usize,
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
            rate: RateSpec::UPSTREAM,
            extra_keys: Vec::new(),
            webhook_secret: None,
            delivery_backoff: DEFAULT_DELIVERY_BACKOFF,
            faults: Vec::new(),
        }
    }
}
