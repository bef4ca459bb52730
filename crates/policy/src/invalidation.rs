//! Which cached reads a change touches, and what it does to each: a
//! successful write ([`Operation::invalidates`]) makes what it changed stale;
//! an accepted webhook delivery is applied by the patch rules of
//! [`crate::patch`] (a new response adds 1 to its chatbot's `responseCount`
//! in every cached page and record; its chatbot's responses pages go stale),
//! or, with patching off (`--cache-events drop`), makes every read about
//! responses stale as before patches existed.
//!
//! [`Invalidation::effect`] is where a change meets one cached answer; every
//! cache backend applies what it says ([`Effect`]).

use conferbot::{ObjectId, Operation, WebhookDelivery};

pub use crate::patch::Effect;
use crate::patch::{self, DeliveryFacts};
use crate::route::Target;

/// A change to apply to the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalidation {
    /// The operations whose reads it may touch.
    pub operations: &'static [Operation],
    /// When set, reads that name a chatbot are touched only for this one;
    /// reads without ids (`listChatbots`) are touched whatever it is.
    pub chatbot: Option<ObjectId>,
    /// What it does to a touched read.
    pub rule: Rule,
}

/// What a change does to the reads it touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// They are stale, by a write through this server: the writer expects
    /// to see it, so they are read again at once (never paced by the
    /// refresh budget, [`crate::refresh_budget`]).
    Written,
    /// They are stale, by a delivery (patching off): read again at the
    /// refresh budget's pace.
    Stale,
    /// The delivery's patch rules ([`patch::effect`]).
    Delivery(DeliveryFacts),
}

impl Invalidation {
    /// What a successful `operation` makes stale.
    pub fn of_write(operation: Operation) -> Self {
        Self {
            operations: operation.invalidates(),
            chatbot: None,
            rule: Rule::Written,
        }
    }

    /// What an accepted delivery does, by the patch rules. A chatbot id that
    /// is not a valid object id is ignored (then every chatbot's reads that
    /// the event touches are stale).
    pub fn of_delivery(delivery: &WebhookDelivery) -> Self {
        let facts = DeliveryFacts::of(delivery);
        Self {
            operations: patch::touched(&facts.event),
            chatbot: facts.bot.clone(),
            rule: Rule::Delivery(facts),
        }
    }

    /// What an accepted delivery does with patching off: every read about
    /// responses (of its chatbot) is stale.
    pub fn dropping(delivery: &WebhookDelivery) -> Self {
        Self {
            operations: patch::dropped(&delivery.event),
            chatbot: delivery.bot(),
            rule: Rule::Stale,
        }
    }

    /// Whether what it makes stale is read again at once by the next
    /// reader (a write's), rather than at the refresh budget's pace (an
    /// event's: the BFF's own initiative).
    pub fn urgent(&self) -> bool {
        self.rule == Rule::Written
    }

    /// Whether nothing is touched.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// Whether the read `target` is touched (a read in flight that is
    /// touched must not be stored: its answer may predate the change).
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
    /// `cached`.
    pub fn effect(&self, target: &Target, cached: &[u8]) -> Effect {
        if !self.matches(target) {
            return Effect::Unchanged;
        }
        match &self.rule {
            Rule::Written | Rule::Stale => Effect::Stale,
            Rule::Delivery(facts) => patch::effect(facts, target, cached),
        }
    }

    /// Per operation, the prefix of the touched keys of [`crate::cache_key()`]
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
    fn a_new_response_touches_lists_and_its_chatbot_only() {
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
        assert!(unscoped.matches(&target(Operation::ListResponses, &[OTHER])));
        assert!(!unscoped.matches(&target(Operation::ListChatbots, &[])));
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
    fn without_patches_a_delivery_makes_every_read_about_responses_stale() {
        let created = delivery(WebhookEvent::ResponseCreated, Some(BOT));
        let dropping = Invalidation::dropping(&created);
        let page = br#"{"data":[{"id":"64f8a2b3c1d4e5f6a7b8c9d0","responseCount":1}]}"#;
        let list = target(Operation::ListChatbots, &[]);
        assert_eq!(dropping.effect(&list, page), Effect::Stale);
        assert!(matches!(
            Invalidation::of_delivery(&created).effect(&list, page),
            Effect::Patched(_)
        ));
        let updated = Invalidation::dropping(&delivery(WebhookEvent::ResponseUpdated, Some(BOT)));
        assert_eq!(
            updated.effect(&target(Operation::GetChatbot, &[BOT]), b"{}"),
            Effect::Stale
        );
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
