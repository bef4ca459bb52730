//! What a webhook delivery does to one cached answer: the patch rules, as
//! pure functions (a delivery and a cached answer in; the answer unchanged,
//! patched, or stale out), so that every server of this project applies the
//! same rules: `conferbot-bff` to its in-process table and to the answers
//! replicas share in Redis, the npm server half to its own.
//!
//! | event | `listChatbots` | `getChatbot` X | `listResponses` X | `getUsage`, `listWebhooks`, other chatbots |
//! | --- | --- | --- | --- | --- |
//! | `response.created` (bot X) | X's row, if on the page: `responseCount` + 1 | `responseCount` + 1 | stale | unchanged |
//! | `response.updated` (bot X, response R) | unchanged | unchanged | stale if the page holds R | unchanged |
//! | `conversation.started`, `conversation.completed` | unchanged | unchanged | unchanged | unchanged |
//!
//! Why these:
//! - A new response is one more in its chatbot's count, and nothing else a
//!   chatbot record says depends on it by the reference; its content is not
//!   in the delivery (ids only), so the pages listing X's responses cannot be
//!   patched: they are stale (the next read fetches them, one call for all).
//!   A page of chatbots without X is unchanged (the list is in creation
//!   order, which a response does not move).
//! - `response.updated` changes one response record (more data captured): its
//!   chatbot's count is the same, and the pages that do not hold it show
//!   nothing that changed. The pages that hold R are stale; without a valid
//!   `responseId`, every page of X's responses is.
//! - Conversations are not responses: no read of the API shows them.
//! - `getUsage` counts API calls, not responses: no event changes it.
//!
//! A delivery without a valid `botId` cannot be narrowed: every read its
//! event would touch is stale. A cached answer that is not the shape a rule
//! expects (not JSON, no `responseCount` number) is stale rather than
//! guessed at. Patches change only the number; every other byte of the
//! answer is written back as it was (member order and value text kept,
//! [`crate::raw_object`]). `updatedAt` is left alone: the delivery does not
//! say what the record's new value is (it follows at the next revalidation).

use conferbot::{ObjectId, Operation, WebhookDelivery, WebhookEvent};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::raw_object::RawObject;
use crate::route::Target;

/// What a change does to one cached answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The answer still holds.
    Unchanged,
    /// The answer with the change applied: keep this body instead.
    Patched(Vec<u8>),
    /// The answer no longer holds: it must be read again before it is
    /// served as current (servers may still serve it, marked stale, when
    /// they cannot call the upstream).
    Stale,
}

/// What a delivery tells the cache: its event and the ids it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFacts {
    /// The event.
    pub event: WebhookEvent,
    /// `botId`, when it is a valid object id.
    pub bot: Option<ObjectId>,
    /// `responseId`, when it is a valid object id.
    pub response: Option<ObjectId>,
}

impl DeliveryFacts {
    /// The facts of `delivery`.
    pub fn of(delivery: &WebhookDelivery) -> Self {
        Self {
            event: delivery.event.clone(),
            bot: delivery.bot(),
            response: delivery.response(),
        }
    }
}

/// The reads an event may change when patched ([`effect`] says how).
pub fn touched(event: &WebhookEvent) -> &'static [Operation] {
    match event {
        WebhookEvent::ResponseCreated => &[
            Operation::ListChatbots,
            Operation::GetChatbot,
            Operation::ListResponses,
        ],
        WebhookEvent::ResponseUpdated => &[Operation::ListResponses],
        WebhookEvent::ConversationStarted
        | WebhookEvent::ConversationCompleted
        | WebhookEvent::Other(_) => &[],
    }
}

/// The reads an event makes stale when patching is off (`--cache-events
/// drop`): every read about responses, as before patches existed.
pub fn dropped(event: &WebhookEvent) -> &'static [Operation] {
    match event {
        WebhookEvent::ResponseCreated | WebhookEvent::ResponseUpdated => &[
            Operation::ListChatbots,
            Operation::GetChatbot,
            Operation::ListResponses,
        ],
        WebhookEvent::ConversationStarted
        | WebhookEvent::ConversationCompleted
        | WebhookEvent::Other(_) => &[],
    }
}

/// What the delivery `facts` does to the cached answer of `target`, whose
/// body is `cached`.
pub fn effect(facts: &DeliveryFacts, target: &Target, cached: &[u8]) -> Effect {
    if !touched(&facts.event).contains(&target.operation) {
        return Effect::Unchanged;
    }
    let Some(bot) = &facts.bot else {
        return Effect::Stale;
    };
    let about_bot = target.ids.first() == Some(bot);
    match (&facts.event, target.operation) {
        (WebhookEvent::ResponseCreated, Operation::ListChatbots) => {
            or_stale(count_in_list(cached, bot))
        }
        (WebhookEvent::ResponseCreated, Operation::GetChatbot) if about_bot => {
            or_stale(count_in_record(cached, bot).map(Some))
        }
        (WebhookEvent::ResponseCreated, Operation::ListResponses) if about_bot => Effect::Stale,
        (WebhookEvent::ResponseUpdated, Operation::ListResponses) if about_bot => {
            match &facts.response {
                Some(response) if page_lacks(cached, response) => Effect::Unchanged,
                _ => Effect::Stale,
            }
        }
        _ => Effect::Unchanged,
    }
}

/// `None`: the answer is not the shape the rule expects. `Some(None)`: the
/// rule does not apply to it. `Some(Some(body))`: the patched answer.
fn or_stale(patched: Option<Option<Vec<u8>>>) -> Effect {
    match patched {
        None => Effect::Stale,
        Some(None) => Effect::Unchanged,
        Some(Some(body)) => Effect::Patched(body),
    }
}

/// A page of chatbots with `bot`'s `responseCount` one higher, if it is on it.
fn count_in_list(cached: &[u8], bot: &ObjectId) -> Option<Option<Vec<u8>>> {
    let mut page = RawObject::parse(std::str::from_utf8(cached).ok()?)?;
    let items: Vec<Box<RawValue>> = serde_json::from_str(page.get("data")?.get()).ok()?;
    let mut found = false;
    let mut patched = Vec::with_capacity(items.len());
    for item in items {
        let mut record = RawObject::parse(item.get())?;
        if !found && record.get_str("id").is_some_and(|id| id == bot.as_str()) {
            found = true;
            add_one(&mut record)?;
            patched.push(record.to_raw()?);
        } else {
            patched.push(item);
        }
    }
    if !found {
        return Some(None);
    }
    let data = RawValue::from_string(serde_json::to_string(&patched).ok()?).ok()?;
    page.set("data", data)?;
    Some(Some(page.to_raw()?.get().as_bytes().to_vec()))
}

/// `{"data": chatbot}` with its `responseCount` one higher; `None` when the
/// record is not `bot`'s or has no count.
fn count_in_record(cached: &[u8], bot: &ObjectId) -> Option<Vec<u8>> {
    let mut answer = RawObject::parse(std::str::from_utf8(cached).ok()?)?;
    let mut record = RawObject::parse(answer.get("data")?.get())?;
    if record.get_str("id")? != bot.as_str() {
        return None;
    }
    add_one(&mut record)?;
    answer.set("data", record.to_raw()?)?;
    Some(answer.to_raw()?.get().as_bytes().to_vec())
}

/// Adds 1 to the record's `responseCount` (a whole number).
fn add_one(record: &mut RawObject) -> Option<()> {
    let count: u64 = serde_json::from_str(record.get("responseCount")?.get()).ok()?;
    let next = RawValue::from_string(count.checked_add(1)?.to_string()).ok()?;
    record.set("responseCount", next)
}

/// Whether a readable page of responses does not hold `response`.
fn page_lacks(cached: &[u8], response: &ObjectId) -> bool {
    #[derive(Deserialize)]
    struct Item {
        id: String,
    }
    #[derive(Deserialize)]
    struct Page {
        data: Vec<Item>,
    }
    serde_json::from_slice::<Page>(cached)
        .is_ok_and(|page| page.data.iter().all(|item| item.id != response.as_str()))
}

#[cfg(test)]
#[path = "patch_tests.rs"]
mod tests;
