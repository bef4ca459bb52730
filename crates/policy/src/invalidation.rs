//! Which cached reads a change makes stale: a successful write
//! ([`Operation::invalidates`]) or an accepted webhook delivery
//! ([`WebhookEvent::invalidates`](conferbot::WebhookEvent::invalidates),
//! narrowed to the chatbot the delivery names).
//!
//! [`Invalidation::effect`] is where a change meets one cached answer: today
//! it is [`Effect::Stale`] or [`Effect::Unchanged`]. Rules that patch an
//! answer in place instead of dropping it (a new response adds 1 to its
//! chatbot's `responseCount`) belong there, as a new `Effect` variant that
//! every cache backend must then handle.

use conferbot::{ObjectId, Operation, WebhookDelivery};

use crate::route::Target;

/// A set of reads to drop from the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalidation {
    /// The operations whose reads go stale.
    pub operations: &'static [Operation],
    /// When set, reads that name a chatbot go stale only for this one; reads
    /// without ids (`listChatbots`) go stale whatever it is.
    pub chatbot: Option<ObjectId>,
}

/// What a change does to one cached answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The answer still holds.
    Unchanged,
    /// The answer is stale: drop it (and do not store one in flight).
    Stale,
}

impl Invalidation {
    /// What a successful `operation` makes stale.
    pub fn of_write(operation: Operation) -> Self {
        Self {
            operations: operation.invalidates(),
            chatbot: None,
        }
    }

    /// What an accepted delivery makes stale. A chatbot id that is not a valid
    /// object id is ignored (then every chatbot's reads go stale).
    pub fn of_delivery(delivery: &WebhookDelivery) -> Self {
        Self {
            operations: delivery.event.invalidates(),
            chatbot: delivery.bot(),
        }
    }

    /// Whether nothing goes stale.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// Whether the read `target` goes stale (cached or in flight).
    pub fn matches(&self, target: &Target) -> bool {
        if !self.operations.contains(&target.operation) {
            return false;
        }
        match (&self.chatbot, target.ids.first()) {
            (Some(chatbot), Some(id)) => id == chatbot,
            _ => true,
        }
    }

    /// What this change does to the cached answer of `target`, whose body is
    /// `cached` (the seam for patch rules: see the module doc).
    pub fn effect(&self, target: &Target, cached: &[u8]) -> Effect {
        let _ = cached;
        if self.matches(target) {
            Effect::Stale
        } else {
            Effect::Unchanged
        }
    }

    /// Per operation, the prefix of the stale keys of [`crate::cache_key()`]
    /// (how a shared cache finds them without reading every answer).
    pub fn key_prefixes(&self) -> Vec<(Operation, String)> {
        self.operations
            .iter()
            .map(|&op| {
                let prefix = match (&self.chatbot, op.id_count()) {
                    (Some(chatbot), n) if n > 0 => format!("{}:{}:", op.name(), chatbot.as_str()),
                    _ => format!("{}:", op.name()),
                };
                (op, prefix)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use conferbot::{PageRequest, WebhookEvent};

    use super::*;
    use crate::cache_key::cache_key;

    const BOT: &str = "64f8a2b3c1d4e5f6a7b8c9d0";
    const OTHER: &str = "64f8a2b3c1d4e5f6a7b8c9d1";

    fn target(operation: Operation, ids: &[&str]) -> Target {
        Target {
            operation,
            ids: ids
                .iter()
                .map(|id| ObjectId::parse(id, "id").unwrap())
                .collect(),
            page: operation.is_paginated().then(PageRequest::default),
        }
    }

    fn delivery(event: WebhookEvent, chatbot: Option<&str>) -> WebhookDelivery {
        let mut delivery = WebhookDelivery::new(event, "2024-12-15T09:30:00.000Z");
        delivery.bot_id = chatbot.map(str::to_owned);
        delivery
    }

    #[test]
    fn a_new_response_makes_lists_and_its_chatbot_stale_only() {
        let stale = Invalidation::of_delivery(&delivery(WebhookEvent::ResponseCreated, Some(BOT)));
        assert!(stale.matches(&target(Operation::ListChatbots, &[])));
        assert!(stale.matches(&target(Operation::GetChatbot, &[BOT])));
        assert!(stale.matches(&target(Operation::ListResponses, &[BOT])));
        assert!(!stale.matches(&target(Operation::GetChatbot, &[OTHER])));
        assert!(!stale.matches(&target(Operation::GetUsage, &[])));
        assert_eq!(
            stale
                .key_prefixes()
                .iter()
                .map(|(_, p)| p.as_str())
                .collect::<Vec<_>>(),
            vec![
                "listChatbots:".to_owned(),
                format!("getChatbot:{BOT}:"),
                format!("listResponses:{BOT}:")
            ]
        );
        let unscoped = Invalidation::of_delivery(&delivery(WebhookEvent::ResponseUpdated, None));
        assert!(unscoped.matches(&target(Operation::GetChatbot, &[OTHER])));
        let quiet =
            Invalidation::of_delivery(&delivery(WebhookEvent::ConversationStarted, Some(BOT)));
        assert!(quiet.is_empty());
    }

    #[test]
    fn the_effect_on_a_cached_answer_follows_the_match() {
        let stale = Invalidation::of_write(Operation::CreateWebhook);
        let hooks = target(Operation::ListWebhooks, &[]);
        assert_eq!(stale.effect(&hooks, b"{\"data\":[]}"), Effect::Stale);
        let usage = target(Operation::GetUsage, &[]);
        assert_eq!(stale.effect(&usage, b"{}"), Effect::Unchanged);
    }

    #[test]
    fn cache_keys_start_with_their_prefixes() {
        let stale = Invalidation::of_write(Operation::CreateWebhook);
        assert!(cache_key(&target(Operation::ListWebhooks, &[]))
            .starts_with(&stale.key_prefixes()[0].1));
        let scoped = Invalidation::of_delivery(&delivery(WebhookEvent::ResponseCreated, Some(BOT)));
        let key = cache_key(&target(Operation::ListResponses, &[BOT]));
        assert!(scoped
            .key_prefixes()
            .iter()
            .any(|(_, p)| key.starts_with(p)));
        let other = cache_key(&target(Operation::ListResponses, &[OTHER]));
        assert!(!scoped
            .key_prefixes()
            .iter()
            .any(|(_, p)| other.starts_with(p)));
    }
}
