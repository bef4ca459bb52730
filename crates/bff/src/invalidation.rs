//! Which cached reads a change makes stale: a successful write
//! ([`Operation::invalidates`]) or an accepted webhook delivery
//! ([`WebhookEvent::invalidates`](conferbot::WebhookEvent::invalidates),
//! narrowed to the chatbot the delivery names).

use conferbot::{ObjectId, Operation, WebhookDelivery};

use crate::routing::Target;

/// A set of reads to drop from the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalidation {
    /// The operations whose reads go stale.
    pub operations: &'static [Operation],
    /// When set, reads that name a chatbot go stale only for this one; reads
    /// without ids (`listChatbots`) go stale whatever it is.
    pub chatbot: Option<ObjectId>,
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

    /// Whether the read `target` goes stale.
    pub fn matches(&self, target: &Target) -> bool {
        if !self.operations.contains(&target.operation) {
            return false;
        }
        match (&self.chatbot, target.ids.first()) {
            (Some(chatbot), Some(id)) => id == chatbot,
            _ => true,
        }
    }

    /// Per operation, the prefix of the stale keys of [`cache_key`].
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

/// The shared cache key of a read: `operation:ids:canonical-query`
/// (`listResponses:64f8…:page=1&limit=20`, `getUsage::`).
pub fn cache_key(target: &Target) -> String {
    let ids: Vec<&str> = target.ids.iter().map(ObjectId::as_str).collect();
    let query = target.page.map(|p| p.to_query()).unwrap_or_default();
    format!("{}:{}:{query}", target.operation.name(), ids.join("/"))
}

#[cfg(test)]
mod tests {
    use conferbot::{PageRequest, WebhookEvent};

    use super::*;

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
    fn cache_keys_start_with_their_prefixes() {
        let key = cache_key(&target(Operation::ListResponses, &[BOT]));
        assert_eq!(key, format!("listResponses:{BOT}:page=1&limit=20"));
        assert_eq!(cache_key(&target(Operation::GetUsage, &[])), "getUsage::");
        let stale = Invalidation::of_write(Operation::CreateWebhook);
        assert!(cache_key(&target(Operation::ListWebhooks, &[]))
            .starts_with(&stale.key_prefixes()[0].1));
    }
}
